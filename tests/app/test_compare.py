"""`swimsim compare` on run directories: before/after table and markdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.app.cli import main
from traces import run_metrics, write_run_dir
from traces.compare import compare_rows, format_compare, mean_metrics
from traces.synthetic import sized_run, tiny_run


def test_compare_dirs_text_and_md(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_run_dir(tiny_run(0), a)
    write_run_dir(tiny_run(1), b)
    assert main(["compare", str(a), str(b), "--md"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "| metric | before | after | delta % |"
    ma, mb = run_metrics(tiny_run(0)), run_metrics(tiny_run(1))
    wall = f"| swimlane wall (us) | {ma['swimlane_wall']:.2f} | {mb['swimlane_wall']:.2f} | " \
           f"{(mb['swimlane_wall'] - ma['swimlane_wall']) / ma['swimlane_wall'] * 100:+.1f}% |"
    assert out[2] == wall
    assert any(line.startswith("| softmax Avg Exec (us) |") for line in out)
    assert any(line.startswith("| qk_matmul span (us) |") for line in out)
    assert main(["compare", str(a), str(b)]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["metric", "before", "after", "delta", "%"]


def test_compare_plot_is_a_deterministic_png(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_run_dir(tiny_run(0), a)
    write_run_dir(tiny_run(1), b)
    pngs = []
    for name in ("one.png", "two.png"):
        assert main(["compare", str(a), str(b), "--plot", str(tmp_path / name)]) == 0
        assert capsys.readouterr().err.rstrip().endswith(f"wrote {tmp_path / name}")
        pngs.append((tmp_path / name).read_bytes())
    assert pngs[0][:8] == b"\x89PNG\r\n\x1a\n" and len(pngs[0]) > 10000
    assert pngs[0] == pngs[1]


def test_missing_function_and_mean() -> None:
    m1, m2 = run_metrics(tiny_run()), run_metrics(sized_run(30))
    rows = compare_rows(m1, m2)
    assert ("softmax Avg Exec (us)", m1["funcs"]["softmax"]["avg_exec"], None) in rows
    assert " - " in format_compare(m1, m2, md=True)
    avg = mean_metrics([run_metrics(tiny_run(0)), run_metrics(tiny_run(1))])
    assert avg["swimlane_wall"] == pytest.approx((run_metrics(tiny_run(0))["swimlane_wall"]
                                                  + run_metrics(tiny_run(1))["swimlane_wall"]) / 2)


def test_compare_kernel_specs_average_over_seeds(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    """On-the-spot form: build_graph/load_chip/simulate are called per spec, seeds 0..N-1 averaged."""
    from sim.app import onthespot

    calls: list[tuple[str, int]] = []

    def fake_build(spec: str, mode: str):
        assert mode == "prefill"
        return tiny_run().graph.model_copy(update={"variant": spec})

    def fake_sim(graph, chip, options):
        calls.append((graph.variant, options.seed))
        run = tiny_run(options.seed if graph.variant.endswith("a") else options.seed + 10)
        return run

    monkeypatch.setattr(onthespot, "build_graph", fake_build)
    monkeypatch.setattr(onthespot, "load_chip", lambda name=None, overrides=(): object())
    monkeypatch.setattr(onthespot, "simulate", fake_sim)
    assert main(["compare", "k:a", "k:b", "--mode", "prefill", "--runs", "3", "--md"]) == 0
    assert calls == [("k:a", 0), ("k:a", 1), ("k:a", 2), ("k:b", 0), ("k:b", 1), ("k:b", 2)]
    out = capsys.readouterr().out
    before = mean_metrics([run_metrics(tiny_run(s)) for s in range(3)])
    assert f"| Total Test Time (us) | {before['total_test_time']:.2f} |" in out


def test_per_seed_column_gives_the_range_of_the_paired_changes(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture) -> None:
    from sim.app import onthespot
    from traces.compare import seed_deltas, with_seeds
    from traces.stats import delta_pct

    def fake_sim(graph, chip, options):
        return tiny_run(options.seed if graph.variant.endswith("a") else options.seed + 10)

    monkeypatch.setattr(onthespot, "build_graph",
                        lambda spec, mode: tiny_run().graph.model_copy(update={"variant": spec}))
    monkeypatch.setattr(onthespot, "load_chip", lambda name=None, overrides=(): object())
    monkeypatch.setattr(onthespot, "simulate", fake_sim)
    assert main(["compare", "k:a", "k:b", "--runs", "3"]) == 0
    out = capsys.readouterr().out
    walls = [delta_pct(run_metrics(tiny_run(s))["swimlane_wall"], run_metrics(tiny_run(s + 10))["swimlane_wall"])
             for s in range(3)]
    assert "per seed" in out.splitlines()[0]
    wall_line = next(line for line in out.splitlines() if line.startswith("swimlane wall"))
    lo, hi = min(walls), max(walls)
    assert wall_line.endswith(f"{lo:+.1f} .. {hi:+.1f}%")
    assert "over the 3 seeded runs" in out
    assert all(not line.endswith(" ") for line in out.splitlines())
    # task rows carry no range; one run, or unpaired runs, no column
    task_lines = [line for line in out.splitlines() if " tasks  " in line]
    assert task_lines and not any(".." in line for line in task_lines)
    assert main(["compare", "k:a", "k:b"]) == 0
    assert "per seed" not in capsys.readouterr().out
    two = with_seeds([run_metrics(tiny_run(s)) for s in range(2)])
    three = with_seeds([run_metrics(tiny_run(s)) for s in range(3)])
    assert seed_deltas(two, three) == {} and seed_deltas(two, run_metrics(tiny_run())) == {}
    assert seed_deltas(two, two)["swimlane wall (us)"] == (0.0, 0.0)
