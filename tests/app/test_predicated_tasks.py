"""Dispatch predicates (``predicate=(cnt[e] > 0)``) in value mode: the scheduler evaluates the element
when the task is ready; a false one retires the task inline (no block reaches a core, a
``predicated_skip`` phase on scheduler T0, nothing written), a true one runs; the simulated task list
follows the data. Unknown elements stop with one line; shapes-only runs record the predicate as
assumed (the task runs). The element compare follows the runtime's sign-extended integer rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kernels.language as pl
from kernels.dsl.types import INT8, INT32, UINT8
from kernels.dsl.values import predicate_passes
from sim.util.errors import UserError

if TYPE_CHECKING:
    from conftest import CliRunner

KERNEL = Path(__file__).resolve().parents[1] / "kernels" / "pypto_style" / "predicated_experts.py"
ROUTES = {"default": [0, 2, 2, 3, 0, 3, 3, 0], "one": [2, 2, 2, 2, 2, 2, 2, 2]}


@pytest.mark.parametrize("routes", sorted(ROUTES))
def test_predicate_follows_the_routed_counts(cli: CliRunner, tmp_path: Path, routes: str) -> None:
    rc, stdout, err = cli(["run", str(KERNEL), "-o", str(tmp_path), "--check-golden", "--", "--routes", routes])
    assert rc == 0, err
    assert "golden check cnt: match" in stdout and "golden check y: match" in stdout
    rec = json.loads((tmp_path / "run_records.json").read_text())
    experts = [t for t in rec["graph"]["tasks"] if t["name"] == "expert_tile"]
    want = ["pass" if e in ROUTES[routes] else "fail" for e in range(4)]
    assert [t["predicate"] for t in experts] == want
    ran = {s["task"] for s in rec["subtasks"]}
    passing = {t["idx"] for t, w in zip(experts, want, strict=True) if w == "pass"}
    assert {t["idx"] for t in experts if t["idx"] in ran} == passing
    skips = [p for p in rec["phases"] if p["kind"] == "predicated_skip"]
    assert len(skips) == want.count("fail") and {p["thread"] for p in skips} <= {0}


def test_shapes_only_assumes_the_predicate_passes(cli: CliRunner, tmp_path: Path) -> None:
    rc, _, err = cli(["run", str(KERNEL), "-o", str(tmp_path), "--no-values"])
    assert rc == 0, err
    rec = json.loads((tmp_path / "run_records.json").read_text())
    experts = [t for t in rec["graph"]["tasks"] if t["name"] == "expert_tile"]
    assert [t["predicate"] for t in experts] == ["assumed"] * 4
    assert {t["idx"] for t in experts} <= {s["task"] for s in rec["subtasks"]}
    assert not [p for p in rec["phases"] if p["kind"] == "predicated_skip"]


def _count(cnt: pl.Out[pl.Tensor[[4, 1], pl.INT32]]):
    pl.write(cnt, [0, 0], 1)


def test_unknown_predicate_element_stops_with_one_line() -> None:
    @pl.jit
    def prog(x: pl.Tensor[[16, 64], pl.FP32], cnt: pl.Tensor[[4, 1], pl.INT32],
             y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        with pl.spmd(1, predicate=(cnt[2, 0] > 0)):
            y[:, :] = pl.exp(x[:, :])

    x = np.zeros((16, 64), np.float32)
    with pytest.raises(UserError) as e:
        pl.record(prog, values=True, data={"x": x})
    msg = str(e.value)
    assert "\n" not in msg and "predicate on cnt[2, 0] needs a value that is not computed: input cnt has no data" in msg
    g = pl.record(prog, values=True, data={"x": x, "cnt": np.array([[0], [0], [5], [0]], np.int32)})
    assert g.kernel_tasks()[0].predicate == "pass"


def test_skipped_task_writes_nothing() -> None:
    @pl.jit
    def prog(x: pl.Tensor[[16, 64], pl.FP32], cnt: pl.Out[pl.Tensor[[4, 1], pl.INT32]],
             y: pl.Out[pl.Tensor[[16, 64], pl.FP32]]):
        c = pl.submit(_count, cnt)
        with pl.spmd(1, deps=[c], predicate=(cnt[0, 0] > 1)):
            y[:, :] = pl.exp(x[:, :])
        with pl.spmd(1, deps=[c], predicate=(cnt[0, 0] >= 1)):
            y[0:8, :] = pl.mul(x[0:8, :], 3.0)

    x = np.ones((16, 64), np.float32)
    y = np.zeros((16, 64), np.float32)
    g = pl.record(prog, values=True, data={"x": x, "y": y, "cnt": np.zeros((4, 1), np.int32)})
    assert [t.predicate for t in g.kernel_tasks()] == [None, "fail", "pass"]
    np.testing.assert_array_equal(y[:8], 3.0)  # the passing task's store (data arrays update in place)
    np.testing.assert_array_equal(y[8:], 0.0)  # the failing task's exp is never written


@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**40), 2**40),
       st.sampled_from([">", ">=", "<", "<=", "==", "!="]))
def test_int32_compare_is_the_plain_integer_compare(v: int, lit: int, op: str) -> None:
    ref = {">": v > lit, ">=": v >= lit, "<": v < lit, "<=": v <= lit, "==": v == lit, "!=": v != lit}[op]
    assert predicate_passes(_View(INT32, v), op, lit) == ref


@given(st.integers(0, 255))
def test_unsigned_bytes_are_sign_extended_like_the_runtime(v: int) -> None:
    signed = v - 256 if v >= 128 else v
    assert predicate_passes(_View(UINT8, v), ">", 0) == (signed > 0)
    assert predicate_passes(_View(INT8, signed), "==", signed)


class _Base:
    def __init__(self, dtype, v: int) -> None:
        self.dtype, self.shape, self.name, self.kind = dtype, [1], "p", "param"
        self.data = np.array([v], dtype=np.dtype(dtype.name.lower()))


class _View:
    """A one-element GM view standing in for ``cnt[e]``."""

    def __init__(self, dtype, v: int) -> None:
        self.base = _Base(dtype, v)
        self.dtype, self.shape, self.name = dtype, (1,), "p"

    def to_base(self, off, shp):
        return list(off), list(shp)
