"""The measurement file: its layout (pydantic models), loading it, and the numbers the fit may see.

The file (``sim/app/validation/pr648_measurements.json`` by default, same layout as
``shared/data/pr648_measurements.json``) names workloads, their capture level and per-metric
measured values per variant. Metric names are ``total_test_time``, ``swimlane_wall`` or
``<function>.<field>`` (``avg_exec``, ``span``, ...); all values in µs. Other keys (notes,
definitions, commands) are allowed and ignored.

Which numbers are *fitted* is decided by :data:`FIT_WORKLOAD` / :data:`FIT_VARIANT` (the
calibration protocol: only the standalone baseline is used for fitting); everything else is a
prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sim.util.jsonfile import custom_error, load_model
from traces.stats import FUNC_FIELDS, RUN_FIELDS

DEFAULT_MEASUREMENTS = Path(__file__).parent / "validation" / "pr648_measurements.json"

# The calibration protocol: free parameters are fitted only on these numbers.
FIT_WORKLOAD = "qkv_proj_rope_decode"
FIT_VARIANT = "baseline"

# Workload name in the measurement file -> (kernel spec without variant, mode).
WORKLOADS: dict[str, tuple[str, str]] = {
    "qkv_proj_rope_decode": ("qkv_proj_rope", "decode"),
    "decode_attention_hca": ("decode_attention_hca", "decode"),
}
VARIANTS = ("baseline", "precompute")

# Metric names a measurement file may use: run-wide ones, and FUNCTION.<field> per function. The
# reused / first-use Avg Exec split is what `swimsim placement` reports on a hardware capture; a
# standalone-baseline value of it becomes one more fit target (it separates the per-op cost from
# the cold-core cost, which the four run-level targets cannot).
FUNC_METRICS = tuple(f for f in FUNC_FIELDS if f != "count")


def metric_name_error(name: str) -> str | None:
    """Why ``name`` is not a metric name (None when it is one)."""
    if "." in name:
        func, what = name.rsplit(".", 1)
        if func and what in FUNC_METRICS:
            return None
        return f"expected FUNCTION.<{'|'.join(FUNC_METRICS)}>"
    return None if name in RUN_FIELDS else f"expected one of {', '.join(RUN_FIELDS)} or FUNCTION.<field>"


# --- the file's layout -------------------------------------------------------------------------


def _workload_name(name: str) -> str:
    if name not in WORKLOADS:
        raise custom_error(f"unknown workload (expected one of {sorted(WORKLOADS)})")
    return name


def _metric_name(name: str) -> str:
    why = metric_name_error(name)
    if why is not None:
        raise custom_error(f"unknown metric ({why})")
    return name


def _object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise custom_error("expected an object")
    return value


def _level(value: Any) -> Any:
    if value not in (1, 2, 3, 4):
        raise custom_error(f"{value!r} (expected 1..4)")
    return value


def _number(value: Any) -> float | None:
    if value is not None and not isinstance(value, int | float):
        raise custom_error(f"{value!r} (expected a number)")
    return None if value is None else float(value)


WorkloadName = Annotated[str, AfterValidator(_workload_name)]
MetricName = Annotated[str, AfterValidator(_metric_name)]
Microseconds = Annotated[float | None, BeforeValidator(_number)]


class VariantValues(BaseModel):
    """One metric's measured value per variant (µs; absent or null = not applicable). The fields
    are :data:`VARIANTS`."""

    model_config = ConfigDict(extra="allow")

    baseline: Microseconds = None
    precompute: Microseconds = None

    @model_validator(mode="before")
    @classmethod
    def _is_object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise custom_error("expected an object of per-variant values")
        return data


class WorkloadMeasurements(BaseModel):
    """One workload: the swimlane level of its capture (1..4) and its metrics."""

    model_config = ConfigDict(extra="allow")

    swimlane_level: Annotated[int, BeforeValidator(_level)] = 4
    metrics: Annotated[dict[MetricName, VariantValues], BeforeValidator(_object)] = Field(
        default=None, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _is_object(cls, data: Any) -> Any:
        return _object(data)

    @model_validator(mode="after")
    def _no_level1_total_test_time(self) -> WorkloadMeasurements:
        if self.swimlane_level < 2 and "total_test_time" in self.metrics:
            raise custom_error("metrics.total_test_time: not measured at swimlane level 1 (the capture has no "
                               "AICPU dispatch/finish; the June converter prints 0.00 us); compare swimlane_wall")
        return self


class MeasurementFile(BaseModel):
    """The whole file: ``{"workloads": {WORKLOAD: {...}}, ...}``."""

    model_config = ConfigDict(extra="allow")

    workloads: dict[WorkloadName, WorkloadMeasurements]

    @model_validator(mode="before")
    @classmethod
    def _has_workloads(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("workloads"), dict):
            raise custom_error("expected an object with a 'workloads' object")
        return data


assert tuple(VariantValues.model_fields) == VARIANTS


# --- loaded --------------------------------------------------------------------------------------


@dataclass
class Measurements:
    """Parsed measurement file: workload -> metric -> variant -> µs (None = not applicable)."""

    path: Path
    levels: dict[str, int]
    values: dict[str, dict[str, dict[str, float | None]]]


def load_measurements(path: Path | str | None = None) -> Measurements:
    """Read and check a measurement file (default: the bundled one); UserError naming the field on
    bad input."""
    p = Path(path) if path else DEFAULT_MEASUREMENTS
    doc = load_model(p, MeasurementFile)
    levels = {w: m.swimlane_level for w, m in doc.workloads.items()}
    values = {w: {name: {var: getattr(per_var, var) for var in VARIANTS} for name, per_var in m.metrics.items()}
              for w, m in doc.workloads.items()}
    return Measurements(path=p, levels=levels, values=values)


def fit_targets(meas: Measurements) -> dict[str, float]:
    """The only measured numbers the calibration may see: standalone baseline metrics (µs)."""
    out: dict[str, float] = {}
    for mname, per_var in meas.values.get(FIT_WORKLOAD, {}).items():
        v = per_var.get(FIT_VARIANT)
        if v is not None:
            out[mname] = v
    return out
