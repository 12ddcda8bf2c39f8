"""Descriptive chip fields (``timing=False``): the timing model must not read them, every other
field must be read somewhere, and the CLI tells users when they sweep or set one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import hwmodels
from hwmodels.chip import SECTIONS, chip_from_dict, descriptive_fields
from kernels.registry import build_graph
from sim.engine import RunOptions, simulate
from sim.util.errors import UserError

if TYPE_CHECKING:
    from conftest import CliRunner

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIRS = ("sim", "hwmodels", "traces", "kernels")



def _candidates(v: Any) -> list[Any]:
    if isinstance(v, bool):
        return [not v]
    if isinstance(v, int):
        return [v * 2, v + 1, v - 1]
    if isinstance(v, float):
        return [v * 2 + 1.0, v / 2]
    if isinstance(v, str):
        return [v + "x"]
    if isinstance(v, list):
        return [[x * 2 for x in v]]
    return []


def _perturbed(data: dict[str, Any], dotted: str) -> dict[str, Any] | None:
    """``data`` with ``dotted`` changed to some other valid value (None if the field admits one value)."""
    sec, fname = dotted.split(".")
    for cand in _candidates(data[sec][fname]):
        new = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
        new[sec][fname] = cand
        try:
            chip_from_dict(new)
        except UserError:
            continue
        return new
    return None


def _fingerprint(chip: hwmodels.ChipConfig) -> list[tuple]:
    g = build_graph("qkv_proj_rope:precompute", mode="decode")
    res = simulate(g, chip, RunOptions(seed=0, jitter=0.03, swimlane_level=4))
    return [(s.func, s.block, s.core_id, s.dispatch, s.receive, s.start, s.end, s.finish) for s in res.subtasks]


def test_the_marked_fields_are_the_expected_kinds() -> None:
    desc = descriptive_fields()
    assert "runtime.rings" in desc and "aiv_buffers.ub_bytes" in desc and "measured.gather_row_us" in desc
    assert "vector.op_fixed_ns" not in desc and "runtime.orch_submit_us" not in desc
    assert len(desc) == len(set(desc))


def test_changing_a_descriptive_field_changes_no_timestamp() -> None:
    base_chip = hwmodels.load_chip("910C")
    base = base_chip.model_dump()
    ref = _fingerprint(base_chip)
    data, changed = base, []
    for dotted in descriptive_fields():  # all at once (one simulation); named one by one on a failure
        new = _perturbed(data, dotted)
        if new is not None:  # None: pinned by its bounds (e.g. soc.aic_per_cluster = 1)
            data = new
            changed.append(dotted)
    assert len(changed) >= len(descriptive_fields()) - 2
    if _fingerprint(chip_from_dict(data)) != ref:
        culprits = [d for d in changed if _fingerprint(chip_from_dict(_perturbed(base, d) or base)) != ref]
        pytest.fail(f"marked descriptive but they change the timing: {culprits}")


def test_every_timing_field_is_read_by_the_model() -> None:
    """A field without ``timing=False`` must be referenced by the model code (else it is a dead knob)."""
    chip_pkg = ROOT / "hwmodels" / "chip"  # declares the fields and their metadata
    text = "\n".join(p.read_text() for d in MODEL_DIRS for p in (ROOT / d).rglob("*.py")
                     if chip_pkg not in p.parents)
    desc = set(descriptive_fields())
    unread = [f"{sec}.{fname}" for sec, model in SECTIONS.items() for fname in model.model_fields
              if f"{sec}.{fname}" not in desc and not re.search(rf"\b{fname}\b", text)]
    assert unread == [], f"fields no model code reads; mark them timing=False or use them: {unread}"


def test_sweep_refuses_a_descriptive_field(cli: CliRunner) -> None:
    rc, out, err = cli(["sweep", "qkv_proj_rope:baseline", "--vary", "rings=1,2"])
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--vary runtime.rings: descriptive field" in lines[0]


@pytest.mark.parametrize("key, noted", [("runtime.rings=2", True), ("vector.op_fixed_ns=150", False)])
def test_set_of_a_descriptive_field_is_noted(cli: CliRunner, tmp_path: Path, key: str, noted: bool) -> None:
    rc, _, err = cli(["run", "qkv_proj_rope:baseline", "-o", str(tmp_path / "r"), "--set", key])
    assert rc == 0
    assert ("note: --set runtime.rings: descriptive field" in err) is noted


def test_chip_toml_marks_descriptive_fields() -> None:
    toml = hwmodels.load_chip("910C").to_toml().splitlines()
    i = toml.index("rings = 4")
    assert toml[i - 1].endswith("| descriptive: not read by the timing model")
    j = next(k for k, ln in enumerate(toml) if ln.startswith("op_fixed_ns = "))
    assert "descriptive" not in toml[j - 1]
