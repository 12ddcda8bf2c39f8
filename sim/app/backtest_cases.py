"""The validation case file: measured before/after pairs from pypto-lib's history (a pydantic model).

Each case names a repository, the two measured commits, the entry file run at both (its folder's
siblings are what it imports), the run's arguments, environment and swimlane capture level, the
measured metrics and the set it belongs to: ``fit`` (parameters may be fitted on it) or
``validation`` (held out). A schema error is one line naming the file, the case id and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.engine.options import Launch
from sim.util.errors import UserError

DEFAULT_CASES = Path(__file__).parent / "validation" / "validation_cases.json"
SETS = ("fit", "validation")


class _Model(BaseModel):
    # fields swimsim does not read (descriptions a case file may add) are ignored; the ones it reads are checked
    model_config = ConfigDict(extra="ignore")


class Measured(_Model):
    """One measured metric: its value at the before and after commit (None: not measured there)."""

    before: float | None
    after: float | None
    unit: str = Field(default="us", min_length=1)  # us, count or % (ns, ms and s are read as us)
    note: str | None = None
    approx: bool = False
    min_before: float | None = None
    max_before: float | None = None
    min_after: float | None = None
    max_after: float | None = None

    @model_validator(mode="after")
    def _in_us(self) -> Measured:
        """Times given in ns, ms or s become µs, the unit swimsim computes them in."""
        f = TIME_UNITS.get(self.unit)
        if f is not None:
            for k in ("before", "after", "min_before", "max_before", "min_after", "max_after"):
                v = getattr(self, k)
                if v is not None:
                    object.__setattr__(self, k, v * f)
            object.__setattr__(self, "unit", "us")
        return self


TIME_UNITS = {"ns": 1e-3, "ms": 1e3, "s": 1e6}  # factor to µs
UNITS = ("us", "count", "%")  # the units of the metrics swimsim computes


class Case(_Model):
    """One measured change: what to run at the two commits and what was measured."""

    id: str = Field(min_length=1)
    set: Literal["fit", "validation"] = "validation"  # a case not declared fit is never fitted on
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    before_commit: str = Field(pattern=r"^[0-9a-f]{7,40}$")
    after_commit: str = Field(pattern=r"^[0-9a-f]{7,40}$")
    entry_file: str | None = None
    entry_file_before: str | None = None
    entry_file_after: str | None = None
    entry_function: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    dynamic_dims: dict[str, int] = Field(default_factory=dict)
    callee_dynamic_vars: list[str] = Field(default_factory=list)
    capture_level: int = Field(ge=0, le=4)
    measurement: str = "l2_swimlane"  # l2_swimlane (trace / converter table) or pypto_bench (PYPTO_BENCH medians)
    measured: dict[str, Measured] = Field(min_length=1)
    # descriptive
    pr: int | None = None
    pr_url: str | None = None
    title: str = ""
    platform: str = "a2a3"
    mode: str | None = None
    shape: dict[str, int] = Field(default_factory=dict)
    capture_note: str = ""
    runs: str = ""
    noise_note: str = ""
    notes: str = ""
    confidence: str = "medium"
    changed_local_modules: list[str] = Field(default_factory=list)

    @field_validator("entry_file", "entry_file_before", "entry_file_after")
    @classmethod
    def _py_file(cls, v: str | None) -> str | None:
        if v is not None and (not v.endswith(".py") or v.startswith("/") or ".." in Path(v).parts):
            raise ValueError(f"{v!r}: expected a relative path to a .py file inside the repository")
        return v

    @model_validator(mode="after")
    def _entry_files(self) -> Case:
        if self.entry_file is None and (self.entry_file_before is None or self.entry_file_after is None):
            raise ValueError("entry_file: expected entry_file, or both entry_file_before and entry_file_after")
        return self

    @property
    def file_before(self) -> str:
        """The entry file at the before commit."""
        return self.entry_file_before or str(self.entry_file)

    @property
    def file_after(self) -> str:
        """The entry file at the after commit."""
        return self.entry_file_after or str(self.entry_file)

    @property
    def launch(self) -> Launch:
        """Which launch the measurement times: a PYPTO_BENCH median is over rounds after warm-up launches on
        the same AICore stream (``repeat``); a swimlane capture is the process's single launch (``first``)."""
        return "repeat" if self.measurement == "pypto_bench" else "first"

    @property
    def family(self) -> str:
        """The kernel family: the entry file's stem at the after commit (e.g. ``decode_sparse_attn``)."""
        return Path(self.file_after).stem


class CaseFile(_Model):
    """The whole file: a description, the meaning of each field, the cases."""

    about: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    cases: list[Case] = Field(min_length=1)


def _where(path: str, raw: object, loc: tuple[int | str, ...]) -> str:
    """``FILE: case ID: FIELD`` for a pydantic error location."""
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        cid = f"#{loc[1]}"
        if isinstance(raw, dict) and isinstance(raw.get("cases"), list) and loc[1] < len(raw["cases"]):
            c = raw["cases"][loc[1]]
            if isinstance(c, dict) and isinstance(c.get("id"), str):
                cid = c["id"]
        fld = ".".join(str(p) for p in loc[2:]) or "(case)"
        return f"{path}: case {cid}: {fld}"
    return f"{path}: {'.'.join(str(p) for p in loc) or '(top level)'}"


def parse_cases(raw: object, path: str) -> CaseFile:
    """Validate the parsed JSON ``raw`` of ``path``; one-line :class:`UserError` on the first problem."""
    try:
        cf = CaseFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        shown = f" (got {json.dumps(value)[:60]})" if not isinstance(value, dict | list) else ""
        raise UserError(f"{_where(path, raw, tuple(err['loc']))}: {msg}{shown}") from None
    seen: set[str] = set()
    for c in cf.cases:
        if c.id in seen:
            raise UserError(f"{path}: case {c.id}: id: appears twice")
        seen.add(c.id)
    return cf


def load_cases(path: str | Path | None = None) -> tuple[CaseFile, str]:
    """(cases, shown name) of ``path``, or of the bundled file when None. One-line :class:`UserError`
    for a missing file, bad JSON or a schema error."""
    p = DEFAULT_CASES if path is None else Path(path)
    shown = p.name if path is None else str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{shown}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    return parse_cases(raw, shown), shown
