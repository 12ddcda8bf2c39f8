"""The ten acceptance checks of the founding comparison (PR #648, docs/calibration.md §3).

Each check reads the fidelity rows (:class:`sim.app.fidelity.MetricRow`) of ``reproduce``: fitted values
within ±5 %, predicted values within ±10 %, the new single-block task within ±15 %, and the measured
changes within a band in percentage points (or of the same sign). A measurement file without the
founding comparison's workloads and metrics gets no checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.app.fidelity import MetricRow
from sim.util.tables import render_table

QKV = "qkv_proj_rope_decode"
HCA = "decode_attention_hca"
_QH = "q_head_rms_nope_rope"
_FOUR = ("total_test_time", "swimlane_wall", f"{_QH}.avg_exec", f"{_QH}.span")
_BOTH = ("baseline", "precompute")


@dataclass(frozen=True)
class Spec:
    """One check: ``kind`` "values" (every listed value's error within ±tol %), "change" (simulated change
    within ±tol points of the measured one) or "sign" (simulated change of the measured change's sign)."""

    name: str
    kind: str
    workload: str
    metrics: tuple[str, ...]
    variants: tuple[str, ...] = _BOTH
    tol: float = 0.0


SPECS: tuple[Spec, ...] = (
    Spec("fitted metrics", "values", QKV, _FOUR, ("baseline",), 5.0),
    Spec("standalone precompute predictions", "values", QKV, _FOUR, ("precompute",), 10.0),
    Spec("standalone q-head change", "change", QKV, (f"{_QH}.avg_exec",), tol=5.0),
    Spec("standalone wall change", "change", QKV, ("swimlane_wall",), tol=2.0),
    Spec("standalone q_rope_cs", "values", QKV, ("q_rope_cs.avg_exec",), ("precompute",), 15.0),
    Spec("HCA walls", "values", HCA, ("swimlane_wall",), _BOTH, 10.0),
    Spec("HCA wall change", "sign", HCA, ("swimlane_wall",)),
    Spec("HCA q-head Avg Exec and span, both variants", "values", HCA, (f"{_QH}.avg_exec", f"{_QH}.span"),
         _BOTH, 10.0),
    Spec("HCA q-head change", "change", HCA, (f"{_QH}.avg_exec",), tol=5.0),
    Spec("HCA q_rope_cs", "values", HCA, ("q_rope_cs.avg_exec",), ("precompute",), 15.0),
)


@dataclass(frozen=True)
class Check:
    """A check's outcome: its band and result as printed, and whether it is met."""

    name: str
    band: str
    result: str
    met: bool


def _evaluate(spec: Spec, rows: dict[tuple[str, str], MetricRow]) -> Check | None:
    try:
        picked = [rows[(spec.workload, m)] for m in spec.metrics]
    except KeyError:
        return None
    if spec.kind == "values":
        errs = [r.err(v) for r in picked for v in spec.variants]
        known = [e for e in errs if e is not None]
        if len(known) < len(errs):
            return None
        lo, hi = min(known), max(known)
        result = f"{lo:+.1f} %" if len(known) == 1 else f"{lo:+.1f} .. {hi:+.1f} %"
        return Check(spec.name, f"±{spec.tol:g} %", result, all(abs(e) <= spec.tol for e in known))
    dm, ds = picked[0].change("measured"), picked[0].change("simulated")
    if dm is None or ds is None:
        return None
    if spec.kind == "change":
        return Check(spec.name, f"{dm:+.1f} % ± {spec.tol:g} points", f"{ds:+.1f} %", abs(ds - dm) <= spec.tol)
    return Check(spec.name, f"sign of {dm:+.1f} %", f"{ds:+.1f} %", (ds < 0) == (dm < 0) and ds != 0)


def seed_checks(rows: Sequence[MetricRow]) -> list[Check]:
    """The founding comparison's checks that the rows allow (all ten for the bundled PR #648 file)."""
    by = {(r.workload, r.metric): r for r in rows}
    return [c for c in (_evaluate(s, by) for s in SPECS) if c is not None]


def format_seed_checks(checks: Sequence[Check], *, markdown: bool = False) -> str:
    """Header line (``N of M met``) and one row per check."""
    met = sum(c.met for c in checks)
    head = f"seed checks (docs/calibration.md §3): {met} of {len(checks)} met\n"
    body = [[c.name, c.band, c.result, "met" if c.met else "MISSED"] for c in checks]
    return head + render_table(["check", "band", "simulated", ""], body, markdown=markdown)


def seed_checks_json(checks: Sequence[Check]) -> list[dict]:
    """The checks as JSON records (name, band, result, met)."""
    return [{"name": c.name, "band": c.band, "result": c.result, "met": c.met} for c in checks]


__all__ = ["Check", "SPECS", "format_seed_checks", "seed_checks", "seed_checks_json"]
