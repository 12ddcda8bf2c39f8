"""`swimsim plot` and the other pictures: PNGs that are deterministic and readable (distinct function
colours, legends outside the data, labels that do not collide, far error whiskers cut)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sim.app.cli import main
from traces import plot, write_run_dir
from traces.rundir import load_path
from traces.synthetic import sized_run, tiny_run


def test_plot_writes_png(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_run_dir(tiny_run(), tmp_path / "run")
    out = tmp_path / "swimlane.png"
    assert main(["plot", str(tmp_path / "run"), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert capsys.readouterr().out.strip() == str(out)


def test_plot_bad_dir_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["plot", str(tmp_path), "-o", str(tmp_path / "x.png")]) == 2
    assert str(tmp_path) in capsys.readouterr().err


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The figures the plot functions would save, drawn and kept open for inspection."""
    import matplotlib.pyplot as plt

    kept: list[Any] = []

    def keep(fig: Any, out: Path) -> Path:
        fig.canvas.draw()
        kept.append(fig)
        return out

    monkeypatch.setattr(plot, "save_png_atomic", keep)
    yield kept
    for fig in kept:
        plt.close(fig)


def _extents(fig: Any, texts: list[Any]) -> list[Any]:
    r = fig.canvas.get_renderer()
    return [t.get_window_extent(r) for t in texts if t.get_visible() and t.get_text()]


def _assert_apart(boxes: list[Any]) -> None:
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)


def test_swimlane_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_run_dir(sized_run(), tmp_path / "run")
    pngs = []
    for name in ("one.png", "two.png"):
        assert main(["plot", str(tmp_path / "run"), "-o", str(tmp_path / name)]) == 0
        pngs.append((tmp_path / name).read_bytes())
    assert pngs[0][:8] == b"\x89PNG\r\n\x1a\n" and pngs[0] == pngs[1]
    assert len(pngs[0]) < 3_000_000


def test_swimlane_keeps_many_functions_apart(tmp_path: Path, figures: list[Any]) -> None:
    from matplotlib.colors import to_hex

    write_run_dir(sized_run(), tmp_path / "run")
    pd = load_path(tmp_path / "run").pd
    plot.plot_swimlane(pd, tmp_path / "s.png")
    (fig,) = figures
    ax = fig.axes[0]
    names = {r.func_id: pd.func_name(r.func_id) for r in pd.rows}
    assert len(names) > 30
    first = sorted(names.values(), key=lambda n: min((r.start, r.func_id) for r in pd.rows
                                                     if pd.func_name(r.func_id) == n))
    faces = [to_hex(c) for c in ax.collections[0].get_facecolors()]
    by_func = {}
    for r, c in zip(pd.rows, faces, strict=True):
        assert by_func.setdefault(pd.func_name(r.func_id), c) == c  # one colour per function
    assert [by_func[n] for n in first] == list(plot.FUNC_COLORS[:len(first)])  # by first start, all distinct
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1  # right of the data
    shown = [t.get_text().split()[0] for t in legend.get_texts()]
    total = {n: sum(r.end - r.start for r in pd.rows if pd.func_name(r.func_id) == n) for n in first}
    top = sorted(first, key=lambda n: (-total[n], n))[:plot.LEGEND_TOP]
    assert shown[:plot.LEGEND_TOP] == top  # the largest functions first
    labels = [t for t in ax.texts if t.get_text() in total]
    assert labels  # direct labels on the bars wide enough for them
    _assert_apart(_extents(fig, labels))


def test_palette_is_distinct() -> None:
    from matplotlib.colors import to_rgb

    cols = [to_rgb(c) for c in plot.FUNC_COLORS]
    assert len(set(plot.FUNC_COLORS)) == len(cols) >= 40 and plot.TASK_COLOR not in plot.FUNC_COLORS
    gap = min(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5
              for i, a in enumerate(cols) for b in cols[i + 1:])
    assert gap > 0.12  # in RGB; the list is spaced in CIELAB


def _fidelity_inputs() -> tuple[dict[str, Any], dict[str, Any]]:
    def cell(err: float, role: str) -> dict[str, Any]:
        return {"measured": 10.0, "simulated": 10.0 * (1 + err / 100), "error_pct": err, "role": role}

    metrics = {
        "total_test_time": {"baseline": cell(-0.7, "fitted"), "precompute": cell(-5.2, "predicted"),
                            "delta_pct": {"measured": 0.3, "simulated": -4.2}},
        "q_head_rms_nope_rope.span": {"baseline": cell(6.7, "predicted"), "precompute": cell(62.0, "predicted"),
                                      "delta_pct": {"measured": -11.8, "simulated": -12.1}},
    }
    spread = {"total_test_time": {"baseline": [9.0, 9.9, 10.2], "precompute": [8.8, 9.5, 10.0]},
              "q_head_rms_nope_rope.span": {"baseline": [9.3, 10.7, 21.0], "precompute": [2.0, 16.0, 17.0]}}
    return {"workloads": {"decode_attention_hca": {"metrics": metrics}}}, {"decode_attention_hca": spread}


def test_fidelity_cuts_far_whiskers_and_keeps_labels_clear(tmp_path: Path, figures: list[Any]) -> None:
    doc, spread = _fidelity_inputs()
    plot.plot_fidelity(doc, spread, tmp_path / "f.png")
    (fig,) = figures
    ax, bx = fig.axes
    lo, hi = ax.get_xlim()
    assert -60 < lo < -10 and 10 < hi < 60  # the +110 % whisker and the +62 % bar do not set the range
    texts = [t.get_text() for t in ax.texts]
    assert {"+110%", "-80%", "+70%", "+62.0%"} <= set(texts)  # true values at the cuts; the mean in its column
    assert "+62%" not in texts  # one note per side of a row: its farthest value (whisker +70 % beyond bar +62 %)
    ax_right = ax.get_window_extent().x1
    means = [t for t in ax.texts if t.get_text().endswith("%") and t.get_transform() is not ax.transData
             and "." in t.get_text()]
    assert len(means) == 4 and all(b.x0 > ax_right for b in _extents(fig, means))  # a column beside the panel
    _assert_apart(_extents(fig, ax.texts))
    for axis in (ax, bx):
        assert axis.get_legend().get_window_extent().y0 >= axis.get_window_extent().y1 - 1  # above the data
    _assert_apart(_extents(fig, bx.texts))


def test_fidelity_png_is_deterministic(tmp_path: Path) -> None:
    doc, spread = _fidelity_inputs()
    a = plot.plot_fidelity(doc, spread, tmp_path / "a.png").read_bytes()
    assert a == plot.plot_fidelity(doc, spread, tmp_path / "b.png").read_bytes() and a[:4] == b"\x89PNG"


def test_band_cuts_far_values(tmp_path: Path, figures: list[Any]) -> None:
    def c(lo: float, hi: float, sim: float) -> dict[str, Any]:
        return {"measured": 10.0, "simulated": sim, "lo": lo, "hi": hi}

    doc = {"field": "vector.op_fixed_ns", "points": [90, 98], "tolerance_pct": 2.3, "workloads": {
        "qkv_proj_rope_decode": {"swimlane_wall": {"baseline": c(9.8, 10.1, 10.0), "precompute": c(9.5, 9.9, 9.6),
                                                   "delta_pct": {"lo": -3.0, "hi": -1.0}}},
        "decode_attention_hca": {"q_head_rms_nope_rope.span": {"baseline": c(9.5, 21.0, 11.0),
                                                               "precompute": c(4.0, 9.0, 8.0),
                                                               "delta_pct": {"lo": -20.0, "hi": -12.0}}}}}
    plot.plot_band(doc, tmp_path / "b.png")
    (fig,) = figures
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert -60 < lo and hi < 60
    assert {"+110%", "-60%"} <= {t.get_text() for t in ax.texts}
    _assert_apart(_extents(fig, ax.texts))


def test_placement_labels_clear_of_each_other_and_the_legend(tmp_path: Path, figures: list[Any]) -> None:
    funcs = [SimpleNamespace(name="qproj_dequant", avg_reused=12.07, avg_first_use=28.45, first_use=[0] * 45,
                             rows=48),
             SimpleNamespace(name="q_head_rms_nope_rope", avg_reused=14.88, avg_first_use=31.56,
                             first_use=[0] * 40, rows=96),
             SimpleNamespace(name="qr_rms_norm_quant", avg_reused=None, avg_first_use=71.2, first_use=[0] * 3,
                             rows=3)]
    plot.plot_placement(funcs, tmp_path / "p.png")
    (fig,) = figures
    ax = fig.axes[0]
    frame = ax.get_window_extent()
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= frame.y1 - 1  # above the bars
    boxes = _extents(fig, ax.texts)
    assert len(boxes) == 6 and all(b.x1 <= frame.x1 for b in boxes)  # every label inside the frame
    _assert_apart([*boxes, legend])
    assert "+135.7% vs reused" in " ".join(t.get_text() for t in ax.texts)
    assert any("no rows on reused cores" in t.get_text() for t in ax.texts)


def test_compare_labels_and_legend_apart(tmp_path: Path, figures: list[Any]) -> None:
    rows = [("swimlane wall (us)", 258.6, 245.1), ("Total Test Time (us)", 221.0, 200.1),
            ("a Avg Exec (us)", 10.0, 10.0), ("a span (us)", 20.0, 20.0),
            ("b Avg Exec (us)", 73.5, 55.3), ("c Avg Exec (us)", None, 3.9)]
    plot.plot_compare(rows, ("before", "after"), tmp_path / "c.png")
    (fig,) = figures
    whole, funcs = fig.axes
    assert [t.get_text().strip() for t in funcs.texts] == ["0.0%", "-24.8%", "new"]
    assert funcs.get_legend().get_window_extent().y0 >= funcs.get_window_extent().y1 - 1
    for axis in (whole, funcs):
        _assert_apart(_extents(fig, axis.texts))
        assert all(b.x1 <= axis.get_window_extent().x1 for b in _extents(fig, axis.texts))
