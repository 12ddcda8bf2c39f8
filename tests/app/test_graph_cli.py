"""``swimsim graph``: summary/json/deps output, -o, and one-line user errors (exit 2)."""

from __future__ import annotations

import json

import pytest

import kernels.language as pl
from kernels import registry
from sim.app.cli import main
from sim.ir import TaskGraph
from traces.depsjson import validate_deps_json


def run(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_summary_precompute(capsys):
    rc, out, err = run(["graph", "qkv_proj_rope:precompute", "--mode", "decode"], capsys)
    assert rc == 0 and err == ""
    assert "11 tasks / 118 blocks" in out
    row = next(ln for ln in out.splitlines() if " q_head_rms_nope_rope " in ln)
    assert "vec=98" in row and "load=35" in row and "q_rope_cs" in row and "qproj_dequant" in row


def test_summary_baseline(capsys):
    rc, out, _ = run(["graph", "qkv_proj_rope:baseline"], capsys)
    assert rc == 0 and "10 tasks / 117 blocks" in out
    row = next(ln for ln in out.splitlines() if " q_head_rms_nope_rope " in ln)
    assert "vec=120" in row and "q_rope_cs" not in out


def test_json_and_deps_formats(capsys, tmp_path):
    rc, out, _ = run(["graph", "qkv_proj_rope", "--format", "json"], capsys)
    assert rc == 0
    assert TaskGraph.from_json(out).to_json() == out
    dest = tmp_path / "sub" / "deps.json"
    rc, out, _ = run(["graph", "qkv_proj_rope:precompute", "--format", "deps", "-o", str(dest)], capsys)
    assert rc == 0 and out == f"wrote {dest}\n"
    doc = json.loads(dest.read_text())
    assert validate_deps_json(doc) == [] and len(doc["tasks"]) == 11
    assert not [p for p in dest.parent.iterdir() if p.name != "deps.json"]  # no temp files left


def _one_line_error(rc, err, *parts):
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("swimsim: error: ")
    for p in parts:
        assert p in lines[0], (p, lines[0])


def test_unknown_kernel_and_variant(capsys):
    rc, _, err = run(["graph", "nosuch"], capsys)
    _one_line_error(rc, err, "unknown kernel 'nosuch'", "qkv_proj_rope")
    rc, _, err = run(["graph", "qkv_proj_rope:fast"], capsys)
    _one_line_error(rc, err, "qkv_proj_rope", "unknown variant 'fast'", "precompute")
    rc, _, err = run(["graph", "qkv_proj_rope", "--mode", "train"], capsys)
    _one_line_error(rc, err, "unknown mode 'train'")


def test_shape_not_dividing_tile(capsys):
    rc, _, err = run(["graph", "qkv_proj_rope", "--param", "T=12"], capsys)
    _one_line_error(rc, err, "qkv_proj_rope", "scope qr_rms_norm_quant", "T=12", "8")
    rc, _, err = run(["graph", "qkv_proj_rope", "--param", "T=x"], capsys)
    _one_line_error(rc, err, "T=x")


@pl.jit
def _oob(a: pl.Tensor[[8, 64], pl.FP32]):
    for _b in pl.spmd(1, name_hint="edge_scope"):
        pl.exp(a[0:8, 64:72])


@pl.jit
def _mm_mismatch(a: pl.Tensor[[16, 64], pl.FP16], w: pl.Tensor[[64, 64], pl.BF16]):
    for _b in pl.spmd(2, name_hint="mm_scope"):
        pl.matmul(a[0:16, :], w[0:64, :])


@pytest.fixture
def bad_kernels():
    registry.register("bad_kernel", lambda v, m, **o: pl.record(
        _oob if v == "oob" else _mm_mismatch, kernel="bad_kernel", variant=v, mode=m), ["oob", "mm"], ["decode"])
    yield
    registry._REGISTRY.pop("bad_kernel", None)


def test_slice_out_of_bounds(capsys, bad_kernels):
    rc, _, err = run(["graph", "bad_kernel:oob"], capsys)
    _one_line_error(rc, err, "bad_kernel", "scope edge_scope", "slice [64:72]", "a [8, 64]")


def test_matmul_dtype_mismatch(capsys, bad_kernels):
    rc, _, err = run(["graph", "bad_kernel:mm"], capsys)
    _one_line_error(rc, err, "bad_kernel", "scope mm_scope", "dtype mismatch FP16 x BF16")


def test_available():
    assert registry.available()["qkv_proj_rope"] == ["baseline", "precompute"]
