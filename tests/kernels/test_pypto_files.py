"""Unmodified pypto kernel files: the import stand-ins, their exact removal, the recording of each
``run_jit`` call, and one-line errors at the kernel file's line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from kernels.pypto_files import torch_standin as torch
from kernels.pypto_files.imports import pypto_imports
from kernels.pypto_files.loader import is_pypto_file, level_of, record_entry, run_harness
from sim.util.errors import InputWarning, UserError

STYLE = Path(__file__).resolve().parent / "pypto_style"
KERNEL = STYLE / "row_scale.py"


def _counts(graph) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for t in graph.kernel_tasks():
        n, b = out.get(t.name, (0, 0))
        out[t.name] = (n + 1, b + t.block_num)
    return out


def test_detects_pypto_files(tmp_path: Path) -> None:
    assert is_pypto_file(KERNEL)
    assert not is_pypto_file(STYLE / "config.py")
    driver = tmp_path / "driver.py"  # a harness file importing only pypto-lib's golden (its kernels elsewhere)
    driver.write_text("from golden import TensorSpec, run_jit\n")
    assert is_pypto_file(driver)


def test_harness_records_each_run_jit_call_with_data_dependent_tasks() -> None:
    recs = run_harness(KERNEL, ["--enable-l2-swimlane", "--twice"])
    assert [r.name for r in recs] == ["row_scale_test", "row_scale_test"]
    assert [r.level for r in recs] == [4, 4]
    assert recs[0].site.startswith(f"{KERNEL}:")
    # counts [1, 3, 0, 2] -> 6 scale tasks; the row count is 4 * 4 * 16 = 256 -> 16 sum blocks
    assert _counts(recs[0].graph) == {"scale_tile": (6, 6), "sum_tiles": (1, 16)}
    assert _counts(recs[1].graph) == {"scale_tile": (4, 4), "sum_tiles": (1, 8)}


def test_entry_filter_and_swimlane_flag() -> None:
    assert run_harness(KERNEL, ["--batch", "2"], entry="other") == []
    (rec,) = run_harness(KERNEL, ["--batch", "2"], entry="row_scale_test")
    assert rec.level is None
    assert level_of({"enable_l2_swimlane": True}) == 4
    assert level_of({"enable_l2_swimlane": 2}) == 2
    assert level_of({}) is None


def test_annotation_mode_binds_dynamic_dims_and_scalars() -> None:
    rec = record_entry(KERNEL, "row_scale_test", {"T_DYN": "128", "B_DYN": "2"}, {"scale": "0.5"})
    assert _counts(rec.graph) == {"sum_tiles": (1, 8)}  # counts carry no data: no scale tasks
    with pytest.raises(UserError, match="no @pl.jit function 'nope' .*row_scale_test"):
        record_entry(KERNEL, "nope")


def test_sys_modules_and_path_are_restored_exactly() -> None:
    run_harness(KERNEL, [])  # the first run may cache submodules of packages loaded before
    modules, path, argv, meta = dict(sys.modules), list(sys.path), list(sys.argv), list(sys.meta_path)
    run_harness(KERNEL, ["--twice"])
    record_entry(KERNEL, "row_scale_test", {"T_DYN": "64", "B_DYN": "1"}, {"scale": "1"})
    assert sys.modules.keys() == modules.keys()
    assert all(sys.modules[k] is v for k, v in modules.items())
    assert (sys.path, sys.argv, sys.meta_path) == (path, argv, meta)
    for name in ("pypto", "pypto.language", "golden", "config"):
        assert name not in sys.modules


def test_file_errors_restore_too(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import pypto.language as pl\nimport torch\nimport torch.nn.functional as F\nF.conv2d\n")
    modules = dict(sys.modules)
    with pytest.raises(UserError) as err:
        run_harness(bad, [])
    assert sys.modules.keys() == modules.keys()
    if "torch" not in modules:
        assert str(err.value) == (f"{bad}:4: torch.nn.functional.conv2d is not available without torch "
                                  "(pip install 'swimsim[pypto]')")


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "config.py").write_text("N = 64\n")
    path = tmp_path / "k.py"
    path.write_text("import pypto.language as pl\nfrom config import N\n\n" + body)
    return path


HARNESS = """
if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit
    run_jit(fn=entry, specs=[TensorSpec("x", [N, N], torch.float32)])
"""


def test_unsupported_dsl_name_is_one_line_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "@pl.jit\ndef entry(x: pl.Tensor[[N, N], pl.FP32]):\n"
                            "    with pl.at(level=pl.Level.CORE_GROUP):\n"
                            "        pl.frobnicate(x)\n" + HARNESS)
    with pytest.raises(UserError) as err:
        run_harness(path, [])
    assert str(err.value) == f"{path}:7: pl.frobnicate is not supported by the swimsim recording DSL"


def test_unsupported_pypto_module_names_itself(tmp_path: Path) -> None:
    path = _write(tmp_path, "from pypto.ir.distributed_compiled_program import DistributedConfig\n")
    with pytest.raises(UserError, match=r"k\.py:4: pypto\.ir\.distributed_compiled_program\.DistributedConfig "
                                        r"\(multi-device programs and communication\) is not supported by swimsim"):
        run_harness(path, [])


def test_zero_tasks_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "@pl.jit\ndef entry(x: pl.Tensor[[N, N], pl.FP32]):\n    return x\n" + HARNESS)
    with pytest.raises(UserError, match=r"k\.py:\d+: recording entry yields no tasks"):
        run_harness(path, [])


def test_torch_standin_covers_input_creation() -> None:
    torch.manual_seed(1)
    a = torch.randn(4, 8)
    b = torch.randn(4, 8)
    torch.manual_seed(1)
    assert np.array_equal(torch.randn(4, 8).numpy(), a.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())
    q = (a * 100).round().clamp(-127, 127).to(torch.int8)
    assert q.dtype is torch.int8 and q.numpy().dtype == np.int8
    assert a.abs().amax(dim=0).shape == (8,)
    x = torch.empty([2, 3], dtype=torch.bfloat16).uniform_(-1, 1)
    assert x.dtype is torch.bfloat16 and (x.numpy().view(np.uint32) & 0xFFFF == 0).all()
    assert torch.arange(6).reshape(2, 3).view(-1).tolist() == list(range(6))
    assert torch.tensor([1, 2], dtype=torch.int32).numpy().dtype == np.int32
    with pytest.raises(UserError, match=r"^torch\.Tensor\.logsumexp is not available without torch"):
        a.logsumexp(0)


def test_imports_without_a_file_run() -> None:
    with pypto_imports(STYLE, ["x"]):
        import pypto.language as pl  # noqa: PLC0415

        assert pl.FP32 is not None and sys.argv == ["x"]
        assert pl.tensor.mrgsort is pl.mrgsort and pl.tile.sort32 is pl.sort32
        def f() -> None:
            return None

        assert pl.jit.inline(f)._func is f
    assert "pypto" not in sys.modules


def test_run_config_harness_and_pypto_spellings(tmp_path: Path) -> None:
    path = _write(tmp_path, """
D_DYN = pl.dynamic("D_DYN")


@pl.inline
def body(x, y):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="copy"):
        t = pl.load(x, [0, 0], [N, 16], valid_shapes=[N, 8])
        pl.store(t, [0, 0], y)


@pl.jit
def entry(x: pl.Tensor[[N, D_DYN], pl.FP32], y: pl.Out[pl.Tensor[[N, D_DYN], pl.FP32]]):
    x.bind_dynamic(1, D_DYN)
    y.bind_dynamic(1, D_DYN)
    body._func(x, y)


if __name__ == "__main__":
    import torch
    from golden import RunConfig, TensorSpec, run_jit
    specs = [TensorSpec("x", [N, 16], torch.float32), TensorSpec("y", [N, 16], torch.float32, is_output=True)]
    run_jit(fn=entry, specs=specs, config=RunConfig(runtime=dict(enable_l2_swimlane=3)))
""")
    (rec,) = run_harness(path, [])
    assert rec.level == 3 and _counts(rec.graph) == {"copy": (1, 1)}
    assert rec.graph.params["D_DYN"] == 16  # bound by bind_dynamic


def test_bind_dynamic_and_load_errors_name_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, """
A = pl.dynamic("A")


@pl.jit
def entry(x: pl.Tensor[[N, N], pl.FP32]):
    x.bind_dynamic(0, A)
    x.bind_dynamic(1, A)
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="touch"):
        x[0:8, 0:32] = pl.add(x[0:8, 0:32], 1.0)
""" + HARNESS.replace("[N, N]", "[N, 32]"))
    with pytest.warns(InputWarning, match=r"k\.py:11: bind_dynamic: A is bound to 64, but axis 1 of x is 32: A "
                                          r"stays 64"):
        (rec,) = run_harness(path, [])
    assert rec.graph.params["A"] == 64


@pytest.mark.parametrize("cfg, level", [
    ({"enable_l2_swimlane": True}, 4), ({"enable_l2_swimlane": 1}, 1), ({"enable_l2_swimlane": False}, None),
    ({"enable_chip_swimlane": 2}, 2), ({"enable_chip_swimlane": 0}, None), ({}, None),
])
def test_level_of_reads_both_swimlane_flag_names(cfg: dict, level: int | None) -> None:
    assert level_of(cfg) == level


# ------------------------------------------------------------------------------------------------
# gated_rows.py: manual scope, auto_scope=False helper, pl.Array and DistributedTensor annotations,
# a tile that outlives its scope (assembled in orchestration, then an operand of a later scope)
# ------------------------------------------------------------------------------------------------
GATED = STYLE / "gated_rows.py"


def _check_gated(graph) -> None:
    # counts [1, 3, 0, 2] -> 6 chained gate tasks in the manual scope
    assert _counts(graph) == {"gate_tile": (6, 6), "peak": (1, 1), "normalize": (1, 1)}
    gates = [t for t in graph.tasks if t.name == "gate_tile"]
    assert {t.scope for t in gates} == {"manual"}
    assert [t.explicit_deps for t in gates] == [[], [0], [1], [2], [3], [4]]
    by_name = {t.name: t for t in graph.tasks}
    peak, norm = by_name["peak"], by_name["normalize"]
    assert [o.name for o in peak.blocks[0].ops] == ["load", "row_max", "store"]
    row_peak = next(x.id for x in graph.tensors if x.name == "row_peak")
    assert any(a.region.tensor == row_peak for a in peak.args)  # the exit store writes the assembled window
    assert any(a.region.tensor == row_peak and a.dir.value == "INPUT" for a in norm.args)
    assert (peak.idx, norm.idx) in {(e.pred, e.succ) for e in graph.edges}


def test_gated_rows_through_the_cli(cli, tmp_path: Path) -> None:
    rc, stdout, err = cli(["run", str(GATED), "-o", str(tmp_path / "run"), "--", "--enable-l2-swimlane"])
    assert rc == 0, err
    assert "gated_rows_test:default" in stdout and "level=4" in stdout
    assert "gate_tile                        6      6" in stdout
    assert "normalize                        1      1" in stdout
    assert (tmp_path / "run" / "run_records.json").is_file()


def test_gated_rows_with_the_torch_standin_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernels.pypto_files import imports  # noqa: PLC0415

    monkeypatch.setattr(imports, "torch_installed", lambda: False)
    real = sys.modules.get("torch")
    (rec,) = run_harness(GATED, ["--enable-l2-swimlane"])
    _check_gated(rec.graph)
    assert sys.modules.get("torch") is real  # the stand-in is gone again


def test_gated_rows_with_real_torch() -> None:
    pytest.importorskip("torch")
    (rec,) = run_harness(GATED, ["--enable-l2-swimlane"])
    _check_gated(rec.graph)


# ------------------------------------------------------------------------------------------------
# a fixture laid out like pypto-lib's qkv_proj_rope.py records the built-in qkv_proj_rope model's graph
# ------------------------------------------------------------------------------------------------
QKV = STYLE / "qkv" / "qkv_proj_rope.py"


def _graph_summary(g) -> tuple:
    tasks = [(t.name, t.kind.value, t.shape.value, t.block_num, tuple(len(b.ops) for b in t.blocks))
             for t in g.tasks]
    ops = sorted((t.name, o.name, o.pipe.value) for t in g.tasks for b in t.blocks for o in b.ops)
    edges = sorted((e.pred, e.succ, e.source) for e in g.edges)
    return tasks, ops, edges


@pytest.mark.parametrize("variant", ["baseline", "precompute"])
def test_qkv_fixture_file_matches_the_built_in_model(variant: str) -> None:
    from kernels.registry import build_graph  # noqa: PLC0415

    (rec,) = run_harness(QKV, ["--variant", variant, "--mode", "decode", "--enable-l2-swimlane"])
    got, ref = _graph_summary(rec.graph), _graph_summary(build_graph(f"qkv_proj_rope:{variant}", "decode"))
    assert got[0] == ref[0]
    assert got[1] == ref[1]
    assert got[2] == ref[2]
    assert len(got[0]) == (11 if variant == "baseline" else 12)


# ------------------------------------------------------------------------------------------------
# pypto.language.distributed, pl.jit.<other>, golden comparators
# ------------------------------------------------------------------------------------------------
def test_distributed_communication_is_one_line_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, """import pypto.language.distributed as pld


@pl.jit
def entry(x: pl.Tensor[[N, N], pl.FP32]):
    pld.system.notify(target=x, peer=1, offsets=[0, 0], value=1)
""" + HARNESS)
    with pytest.raises(UserError) as err:
        run_harness(path, [])
    assert str(err.value) == (f"{path}:9: pypto.language.distributed.system.notify (multi-device programs and "
                              "communication) is not supported by swimsim, which simulates one device")


def test_distributed_tensor_is_an_annotation() -> None:
    with pypto_imports(STYLE, ["x"]):
        import pypto.language as pl  # noqa: PLC0415
        import pypto.language.distributed as pld  # noqa: PLC0415

        assert pld.DistributedTensor[[4, 8], pl.BF16] == pl.Tensor[[4, 8], pl.BF16]
        with pytest.raises(UserError, match=r"^pypto\.language\.distributed\.world_size \(multi-device"):
            pld.world_size()


def test_other_jit_decorators_are_rejected_by_name_where_used(tmp_path: Path) -> None:
    """A ``pl.jit.host`` entry stops with one line where the harness runs it; a file that only defines one
    beside the device entry it runs records."""
    path = _write(tmp_path, "@pl.jit.host\ndef entry(x: pl.Tensor[[N, N], pl.FP32]):\n    return x\n" + HARNESS)
    with pytest.raises(UserError, match=r"k\.py:11: pl\.jit\.host entry is not supported by the swimsim "
                                        r"recording DSL \(a multi-device host program"):
        run_harness(path, [])
    path = _write(tmp_path, """
@pl.jit
def entry(x: pl.Tensor[[N, N], pl.FP32]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="touch"):
        x[0:8, :] = pl.add(x[0:8, :], 1.0)


@pl.jit.host
def serve(x: pl.Tensor[[N, N], pl.FP32]):
    return entry(x)
""" + HARNESS)
    (rec,) = run_harness(path, [])
    assert [t.name for t in rec.graph.kernel_tasks()] == ["touch"]


def test_golden_comparators_accept() -> None:
    from kernels.pypto_files import golden_standin as golden  # noqa: PLC0415

    cmp = golden.mapped_pool_ratio_allclose("table", mapping_shape=(4,), block_size=16)
    assert cmp(np.zeros(2), np.ones(2)) is True
    assert golden.error_distribution()(np.zeros(2), np.ones(2)) is True


def test_torch_standin_gaps() -> None:
    x = torch.tensor([1.0, -2.5, 3.140625], dtype=torch.float32)
    bits = x.view(torch.int32)
    assert bits.dtype is torch.int32 and bits.numpy().tolist() == x.numpy().view(np.int32).tolist()
    rounded = ((bits + 0x8000) & -0x10000).view(torch.float32).to(torch.bfloat16)
    assert rounded.numpy().tolist() == [1.0, -2.5, 3.140625]
    b = torch.tensor([1.0, -2.0], dtype=torch.bfloat16)
    assert b.view(torch.int16).numpy().tolist() == [0x3F80, -0x4000]  # bfloat16 bit patterns
    assert torch.zeros(2, 4, dtype=torch.bfloat16).view(torch.float32).shape == (2, 2)
    assert torch.exp2(torch.tensor([3.0])).item() == 8.0 and torch.log2(torch.tensor([8.0])).item() == 3.0
    f = torch.full_like(torch.zeros(2, 3, dtype=torch.int32), 7)
    assert f.dtype is torch.int32 and f.numpy().tolist() == [[7, 7, 7], [7, 7, 7]]
    assert torch.bucketize(torch.tensor([0, 1, 5, 9]), torch.tensor([1, 4, 8])).numpy().tolist() == [0, 0, 2, 3]
    assert torch.tensor([1, 2]).repeat_interleave(2).numpy().tolist() == [1, 1, 2, 2]
    y = torch.tensor([1.0, -2.0, 3.0])
    y.clamp_(min=0).mul_(2)
    assert y.numpy().tolist() == [2.0, 0.0, 6.0]
    assert torch.tensor([300.0]).to(torch.float8_e4m3fn).item() == 300.0
    assert torch.tensor([1000.0]).to(torch.float8_e4m3fn).item() == 448.0
    assert abs(torch.tensor([1.0, 3.0]).std().item() - 2 ** 0.5) < 1e-6
    m = torch.tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1)
    assert m.values.numpy().tolist() == [5.0, 7.0] and m.indices.numpy().tolist() == [1, 0]


def test_torch_standin_nn_functional_in_a_kernel_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kernels.pypto_files import imports  # noqa: PLC0415

    monkeypatch.setattr(imports, "torch_installed", lambda: False)
    with pypto_imports(tmp_path, ["x"]):
        import torch.nn.functional as F  # noqa: N812, PLC0415 - the spelling kernel goldens use

        x = F.silu(sys.modules["torch"].tensor([0.0, 1.0, -2.0]))
        assert np.allclose(x.numpy(), [0.0, 1 / (1 + np.exp(-1.0)), -2 / (1 + np.exp(2.0))])
        assert F.relu(sys.modules["torch"].tensor([-1.0, 2.0])).numpy().tolist() == [0.0, 2.0]
        sp = F.softplus(sys.modules["torch"].tensor([-30.0, 0.0, 3.0, 25.0]))
        assert np.allclose(sp.numpy(), [np.exp(-30.0), np.log(2.0), np.log1p(np.exp(3.0)), 25.0], rtol=1e-6)
        assert np.allclose(F.softplus(sys.modules["torch"].tensor([1.0]), beta=2.0).numpy(), [np.log1p(np.e ** 2) / 2])
        with pytest.raises(UserError, match=r"^torch\.nn\.functional\.conv2d is not available without torch"):
            _ = F.conv2d
    assert "torch.nn.functional" not in sys.modules or sys.modules["torch.nn.functional"] is not F


def test_golden_check_applies_the_harness_ratio_allclose_rule() -> None:
    from kernels.pypto_files import golden_standin as golden  # noqa: PLC0415
    from kernels.pypto_files.golden_check import compare, summary_lines  # noqa: PLC0415

    want = np.ones(1000)
    got = want.copy()
    got[:3] += 0.5  # 3 of 1000 elements outside any tight tolerance
    strict = compare("o", got, want, 1e-3, 1e-3)
    assert strict["result"] == "mismatch" and strict["mismatches"] == 3
    loose = compare("o", got, want, 1e-3, 1e-3, golden.ratio_allclose(atol=1e-4, rtol=1 / 128, max_error_ratio=0.005))
    assert loose["result"] == "match" and loose["allowed"] == 5 and loose["outside"] == 3
    tight = compare("o", got, want, 1e-3, 1e-3, golden.ratio_allclose(max_error_ratio=0.002))
    assert tight["result"] == "mismatch" and tight["allowed"] == 2
    wide = compare("o", got, want, 1e-3, 1e-3, golden.ratio_allclose(atol=1.0, max_error_ratio=0.0))
    assert wide["result"] == "match" and wide["outside"] == 0  # the comparator's own atol wins
    other = compare("o", got, want, 1e-3, 1e-3, golden.mapped_pool_ratio_allclose("t", block_size=16))
    assert other["result"] == "mismatch" and "not modelled" in other["comparator"]
    line = summary_lines({"golden": "ran", "rtol": 1e-3, "atol": 1e-3, "outputs": [loose]})[0]
    assert "ratio_allclose, up to 5 outside; 3 outside" in line
    with pytest.raises(UserError, match=r"max_error_ratio 2 \(expected a value in \[0, 1\]\)"):
        golden.ratio_allclose(max_error_ratio=2)


def test_golden_check_applies_ratio_reldiff_and_topk_pair_rules() -> None:
    from kernels.pypto_files import golden_standin as golden  # noqa: PLC0415
    from kernels.pypto_files.golden_check import compare  # noqa: PLC0415

    want = np.full(100, 2.0)
    got = want.copy()
    got[:4] = 2.1  # relative difference 0.0476 > 0.01 on 4 of 100 elements
    assert compare("y", got, want, 0, 0, golden.ratio_reldiff(diff_thd=0.01, pct_thd=0.05))["result"] == "match"
    assert compare("y", got, want, 0, 0, golden.ratio_reldiff(diff_thd=0.01, pct_thd=0.03))["result"] == "mismatch"
    assert compare("y", got, want, 0, 0, golden.ratio_reldiff(diff_thd=0.01, pct_thd=0.05,
                                                              max_diff_hd=0.04))["result"] == "mismatch"
    small = np.full(10, 1e-3)
    assert compare("y", small * 3, small, 0, 0, golden.ratio_reldiff(diff_thd=0.01, pct_thd=0))["result"] == "match"
    # top-k indices: a swap of two equal scores passes, a swap that breaks the score order does not
    scores = np.array([[9.0, 7.0, 7.0, 1.0]])
    want_idx = np.array([[4, 2, 3, 0]])
    tie = compare("idx", np.array([[4, 3, 2, 0]]), want_idx, 0, 0, golden.topk_pair_compare("vals"), {"vals": scores})
    assert tie["result"] == "match" and tie["tie_swaps"] == 2
    broken = compare("idx", np.array([[4, 3, 2, 0]]), want_idx, 0, 0, golden.topk_pair_compare("vals"),
                     {"vals": np.array([[9.0, 7.0, 8.0, 1.0]])})
    assert broken["result"] == "mismatch" and broken["index"] == [0, 1]
    with pytest.raises(UserError, match=r"golden\.ratio_reldiff: diff_thd 0"):
        golden.ratio_reldiff(diff_thd=0)


def test_golden_check_runs_a_comparator_function_of_the_file() -> None:
    from types import SimpleNamespace  # noqa: PLC0415

    from kernels.pypto_files import golden_standin as golden  # noqa: PLC0415
    from kernels.pypto_files.golden_check import golden_check  # noqa: PLC0415

    specs = [SimpleNamespace(name="x", shape=[4], dtype=torch.float32),
             SimpleNamespace(name="y", shape=[4], dtype=torch.float32, is_output=True)]

    def gold(t):
        t["y"][:] = t["x"] * 2

    inputs = {"x": np.arange(4.0, dtype=np.float32), "y": np.zeros(4, np.float32)}
    got = {"y": np.array([0.0, 2.0, 4.0, 7.0], np.float32)}  # one element off by 1

    def lenient(actual, expected, *, actual_outputs, expected_outputs, inputs, rtol, atol):
        return golden.ratio_allclose(atol=0.0, rtol=0.0, max_error_ratio=0.25)(actual, expected, rtol=rtol, atol=atol)

    def strict(actual, expected, **_kw):
        return False, "    values differ"

    def broken(actual, expected, **_kw):
        raise ValueError("no such output")

    def check(rule):
        monkey = {"torch": sys.modules.get("torch")}
        sys.modules["torch"] = torch  # the stand-in, as a harness run without torch has it
        try:
            res = golden_check(gold, specs, inputs, got, {}, 1e-3, 1e-3, {"y": rule})
        finally:
            if monkey["torch"] is None:
                del sys.modules["torch"]
            else:
                sys.modules["torch"] = monkey["torch"]
        assert res["golden"] == "ran", res
        return res["outputs"][0]

    ok = check(lenient)
    assert ok["result"] == "match" and ok["comparator"] == "lenient (the file's own)" and ok["outside"] == 1
    bad = check(strict)
    assert bad["result"] == "mismatch" and bad["index"] == [3] and bad["swimsim"] == 7.0 and bad["golden"] == 6.0
    fallback = check(broken)
    assert fallback["result"] == "mismatch" and "cannot run: ValueError: no such output" in fallback["comparator"]


def test_run_jit_result_answers_what_harnesses_read(tmp_path: Path) -> None:
    """``passed``, ``error`` and ``bench_stats`` (None: a simulation has no benchmark rounds)."""
    path = _write(tmp_path, """
@pl.jit
def entry(x: pl.Tensor[[N, N], pl.FP32]):
    with pl.at(level=pl.Level.CORE_GROUP, name_hint="touch"):
        x[0:8, :] = pl.add(x[0:8, :], 1.0)


if __name__ == "__main__":
    import torch
    from golden import TensorSpec, run_jit
    result = run_jit(fn=entry, specs=[TensorSpec("x", [N, N], torch.float32)], benchmark=dict(rounds=100))
    if result.bench_stats is not None or not result.passed or result.error:
        raise SystemExit(3)
""")
    (rec,) = run_harness(path, [])
    assert rec.name == "entry"
