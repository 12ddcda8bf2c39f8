"""The chip config model: :class:`ChipConfig` (one die of an a2a3 chip) and its validation from a dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hwmodels.chip.sections import (
    SECTIONS,
    AicBuffers,
    AivBuffers,
    CoreModel,
    CoreRates,
    CubeModel,
    DmaModel,
    FixpipeModel,
    L2Model,
    MeasuredDma,
    Mte1Model,
    RuntimeParams,
    SocPreset,
    VectorModel,
    is_descriptive,
)
from hwmodels.chip.tomlwriter import preset_toml
from sim.util.errors import UserError
from sim.util.fileio import write_text_atomic


class ChipConfig(BaseModel):
    """One die of an a2a3 chip: topology, per-core cost-model parameters and runtime timings."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field("910C", description="unit: - | status: CHOICE | source: preset name")
    soc: SocPreset = Field(default_factory=SocPreset)
    aic_buffers: AicBuffers = Field(default_factory=AicBuffers)
    aiv_buffers: AivBuffers = Field(default_factory=AivBuffers)
    rates: CoreRates = Field(default_factory=CoreRates)
    cube: CubeModel = Field(default_factory=CubeModel)
    mte1: Mte1Model = Field(default_factory=Mte1Model)
    fixpipe: FixpipeModel = Field(default_factory=FixpipeModel)
    vector: VectorModel = Field(default_factory=VectorModel)
    l2: L2Model = Field(default_factory=L2Model)
    dma: DmaModel = Field(default_factory=DmaModel)
    core: CoreModel = Field(default_factory=CoreModel)
    runtime: RuntimeParams = Field(default_factory=RuntimeParams)
    measured: MeasuredDma = Field(default_factory=MeasuredDma)
    provenance: dict[str, str] = Field(
        default_factory=dict,
        description="dotted field -> where a calibrated value came from (e.g. 'fitted on X, validated on Y')",
    )

    # --- derived -------------------------------------------------------------------------------
    @property
    def aic_count(self) -> int:
        """AIC (cube) cores of the die (count)."""
        return self.soc.clusters * self.soc.aic_per_cluster

    @property
    def aiv_count(self) -> int:
        """AIV (vector) cores of the die (count)."""
        return self.soc.clusters * self.soc.aiv_per_cluster

    @property
    def num_cores(self) -> int:
        """AIC + AIV cores of the die (count)."""
        return self.aic_count + self.aiv_count

    @property
    def core_freq_hz(self) -> float:
        """AIC (cube) clock in Hz."""
        return self.soc.cube_freq_mhz * 1e6

    @property
    def vec_freq_hz(self) -> float:
        """AIV (vector) clock in Hz."""
        return self.soc.vec_freq_mhz * 1e6

    def cycles_to_ns(self, cycles: float, vector: bool = False) -> float:
        """Core cycles -> ns at the cube (or vector) clock."""
        return cycles * 1000.0 / (self.soc.vec_freq_mhz if vector else self.soc.cube_freq_mhz)

    @property
    def l2_capacity_bytes(self) -> int:
        """L2 cache capacity (bytes)."""
        return int(self.soc.l2_size_mib * 1024 * 1024)

    # --- serialisation -------------------------------------------------------------------------
    def to_json(self) -> str:
        """JSON text of every field, provenance included."""
        return self.model_dump_json(indent=1) + "\n"

    def to_toml(self) -> str:
        """TOML text with one comment line (unit | status | source) above each field."""
        data: dict[str, Any] = {"name": self.name}
        comments: dict[str, str] = {}
        for sec_name in SECTIONS:
            sec = getattr(self, sec_name)
            data[sec_name] = {fname: getattr(sec, fname) for fname in type(sec).model_fields}
            for fname, finfo in type(sec).model_fields.items():
                if finfo.description:
                    note = " | descriptive: not read by the timing model" if is_descriptive(finfo) else ""
                    comments[f"{sec_name}.{fname}"] = finfo.description + note
        return preset_toml(data, [f"swimsim chip config {self.name} ({self.soc.soc_version})"], comments)

    def write(self, path: str | Path) -> None:
        """Write as TOML (``.toml``) or JSON (anything else), via temp file + rename."""
        path = Path(path)
        write_text_atomic(path, self.to_toml() if path.suffix == ".toml" else self.to_json())


def _validation_message(exc: ValidationError, origin: str) -> str:
    """One line naming the first bad field of ``exc`` (and how many more there are)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"]
    extra = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if err["type"] == "extra_forbidden":
        return f"{origin}: unknown field '{loc}'{extra}"
    got = err.get("input")
    got_s = "" if isinstance(got, dict) else f", got {got!r}"
    return f"{origin}: field '{loc}': {msg}{got_s}{extra}"


def chip_from_dict(data: dict[str, Any], origin: str = "chip config") -> ChipConfig:
    """Validate a nested dict; a bad field raises a one-line UserError naming it."""
    try:
        return ChipConfig.model_validate(data)
    except ValidationError as exc:
        raise UserError(_validation_message(exc, origin)) from None
