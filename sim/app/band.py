"""Calibration band: the predictions of every fit the standalone baseline cannot tell apart.

`swimsim calibrate --profile` writes one preset per held value of a free parameter, with each
point's fit-target errors. Points whose every fit target is within the measurement noise fit the
baseline as well as the best fit does, so the spread of their predictions is the part of each
prediction the calibration does not determine. `swimsim reproduce --band DIR` runs them all and
reports, per metric, the band (min..max over the points and the run's own preset) next to that
preset's value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from sim.app.fidelity import MetricRow
from sim.app.measurements import VARIANTS
from sim.util.errors import UserError
from sim.util.jsonfile import custom_error, load_model
from sim.util.tables import render_table
from traces.stats import delta_pct, error_pct

# Noise of a measured 3-run mean: the kernel's authors report "roughly ±4 %" run-to-run noise on
# the standalone kernel (measurement file, noise_note); a mean of 3 runs has ±4 %/√3 ≈ ±2.3 %.
BAND_TOL_PCT = 2.3


@dataclass
class ProfilePreset:
    """One profile point: its preset file and its fit-target errors (%)."""

    value: float
    preset: Path
    error_pct: dict[str, float]

    @property
    def worst_pct(self) -> float:
        """Largest |error| over the fit targets, % (inf when one is missing)."""
        vals = [abs(e) for e in self.error_pct.values()]
        return max(vals) if vals and not any(math.isnan(v) for v in vals) else math.inf


class ProfileEntry(BaseModel):
    """One point of ``profile.json``: the held value, its preset file (relative to the directory)
    and its fit-target errors (%)."""

    model_config = ConfigDict(extra="allow")

    value: float
    preset: str
    error_pct: dict[str, float]


class ProfileFile(BaseModel):
    """``profile.json`` as `swimsim calibrate --profile` writes it (only what the band reads)."""

    model_config = ConfigDict(extra="allow")

    field: str = "?"
    points: list[ProfileEntry]

    @model_validator(mode="before")
    @classmethod
    def _has_points(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("points"), list) or not data["points"]:
            raise custom_error("expected a non-empty 'points' list")
        return data


def load_profile(directory: Path) -> tuple[str, list[ProfilePreset]]:
    """(held field, points) of ``DIR/profile.json``; UserError naming the file and field on bad input."""
    p = directory / "profile.json"
    doc = load_model(p, ProfileFile, not_found="no such file or directory (expected a directory written by "
                                               "`swimsim calibrate --profile`)")
    out: list[ProfilePreset] = []
    for i, pt in enumerate(doc.points):
        preset = directory / pt.preset
        if not preset.is_file():
            raise UserError(f"{p}: points[{i}].preset: {preset}: no such file or directory")
        out.append(ProfilePreset(pt.value, preset, dict(pt.error_pct)))
    return doc.field, out


def select(points: list[ProfilePreset], tol_pct: float) -> list[ProfilePreset]:
    """The points whose every fit target is within ±``tol_pct`` %."""
    return [p for p in points if p.worst_pct <= tol_pct]


@dataclass
class BandRow:
    """One metric of one workload: the run's value and the band over it and the profile points (µs, %)."""

    workload: str
    metric: str
    measured: dict[str, float | None]
    simulated: dict[str, float | None]
    lo: dict[str, float] = field(default_factory=dict)
    hi: dict[str, float] = field(default_factory=dict)
    delta_lo: float | None = None
    delta_hi: float | None = None

    def inside(self, var: str) -> bool | None:
        """Whether the measured value lies within the band (None without both)."""
        m = self.measured.get(var)
        if m is None or var not in self.lo:
            return None
        return self.lo[var] <= m <= self.hi[var]


def band_rows(main: list[MetricRow], per_point: list[list[MetricRow]]) -> list[BandRow]:
    """Per metric of ``main``, min..max of the simulated value and of its Δ % over ``main`` (the run's
    own preset) and ``per_point`` (rows in the same order)."""
    out: list[BandRow] = []
    per_point = [main, *per_point]
    for i, r in enumerate(main):
        b = BandRow(r.workload, r.metric, dict(r.measured), dict(r.simulated))
        for var in VARIANTS:
            vals = [rows[i].simulated.get(var) for rows in per_point]
            vals = [v for v in vals if v is not None]
            if vals:
                b.lo[var], b.hi[var] = min(vals), max(vals)
        ds = [rows[i].change("simulated") for rows in per_point]
        ds = [d for d in ds if d is not None]
        if ds:
            b.delta_lo, b.delta_hi = min(ds), max(ds)
        out.append(b)
    return out


def _pct(x: float, ref: float | None) -> str:
    e = error_pct(x, ref)
    return "" if e is None else f"{e:+.1f}%"


def format_band(rows: list[BandRow], *, markdown: bool = False) -> str:
    """Table: per metric and variant, measured, the run's simulated value, the band and its error band."""
    head = ["workload", "metric", "variant", "measured", "sim", "band min..max", "error band", "measured in band"]
    body = []
    for r in rows:
        for var in VARIANTS:
            if var not in r.lo:
                continue
            m, s = r.measured.get(var), r.simulated.get(var)
            inside = r.inside(var)
            body.append([r.workload, r.metric, var, "-" if m is None else f"{m:.3f}", "-" if s is None else f"{s:.3f}",
                         f"{r.lo[var]:.3f}..{r.hi[var]:.3f}",
                         f"{_pct(r.lo[var], m)}..{_pct(r.hi[var], m)}" if m else "-",
                         "-" if inside is None else ("yes" if inside else "no")])
        if r.delta_lo is not None and r.delta_hi is not None:
            dm = delta_pct(r.measured.get("baseline"), r.measured.get("precompute"))
            ds = delta_pct(r.simulated.get("baseline"), r.simulated.get("precompute"))
            body.append([r.workload, r.metric, "Δ %", "-" if dm is None else f"{dm:+.1f}",
                         "-" if ds is None else f"{ds:+.1f}", f"{r.delta_lo:+.1f}..{r.delta_hi:+.1f}", "",
                         "-" if dm is None else ("yes" if r.delta_lo <= dm <= r.delta_hi else "no")])
    return render_table(head, body, markdown=markdown, left=(0, 1, 2))


def band_json(field_name: str, tol_pct: float, used: list[ProfilePreset], rows: list[BandRow]) -> dict:
    """``{"field", "tolerance_pct", "points": [values], "workloads": {W: {M: {V: {measured, simulated, lo, hi}}}}}``."""
    doc: dict = {"field": field_name, "tolerance_pct": tol_pct, "points": [p.value for p in used], "workloads": {}}
    for r in rows:
        m = doc["workloads"].setdefault(r.workload, {}).setdefault(r.metric, {})
        for var in VARIANTS:
            if var in r.lo:
                m[var] = {"measured": r.measured.get(var), "simulated": r.simulated.get(var),
                          "lo": round(r.lo[var], 3), "hi": round(r.hi[var], 3), "measured_in_band": r.inside(var)}
        if r.delta_lo is not None and r.delta_hi is not None:
            m["delta_pct"] = {"lo": round(r.delta_lo, 2), "hi": round(r.delta_hi, 2)}
    return doc
