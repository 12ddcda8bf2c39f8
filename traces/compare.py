"""Before/after comparison table (wall, Total Test Time, per-function tasks, Avg Exec and span; µs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.ir.records import RunResult
from traces.merged import events_wall
from traces.rundir import load_path, perf_from_result
from traces.stats import LEVEL1_NA, delta_pct, fmt_us, metrics

TTT_ROW = "Total Test Time (us)"
TASKS_SUFFIX = " tasks"


def metrics_of_path(path: Path) -> dict[str, Any]:
    """Metrics dict (as :func:`traces.run_metrics`) of a run directory or trace/records file."""
    ld = load_path(path)
    return with_tasks(metrics(ld.pd, ld.wall), task_counts(ld.pd.rows, ld.pd.func_name))


def metrics_of_result(result: RunResult, level: int = 4) -> dict[str, Any]:
    """Metrics dict (as :func:`traces.run_metrics`) of a simulated run, with its task counts."""
    pd = perf_from_result(result, level)[0]
    return with_tasks(metrics(pd, events_wall(pd)), task_counts(pd.rows, pd.func_name))


def task_counts(rows: list[Any], func_name: Callable[[int], str]) -> dict[str, int]:
    """Tasks per function name (as the statistics table names them: a mixed task's halves are two
    functions): the distinct task ids of its rows."""
    ids: dict[str, set[int]] = {}
    for r in rows:
        ids.setdefault(func_name(r.func_id), set()).add(r.task_id)
    return {f: len(s) for f, s in ids.items()}


def with_tasks(m: dict[str, Any], tasks: dict[str, int]) -> dict[str, Any]:
    """``m`` with its per-function task counts under ``tasks``."""
    return {**m, "tasks": dict(tasks)}


def mean_metrics(ms: list[dict[str, Any]]) -> dict[str, Any]:
    """Element-wise mean of metrics dicts (functions missing in a run are averaged over the others;
    a value no run has, e.g. Total Test Time at level 1, stays None)."""
    if len(ms) == 1:
        return ms[0]
    out: dict[str, Any] = {k: _mean_known([m[k] for m in ms]) for k in ("total_test_time", "swimlane_wall",
                                                                        "aicore_span")}
    funcs: dict[str, dict[str, list[float]]] = {}
    for m in ms:
        for f, d in m["funcs"].items():
            acc = funcs.setdefault(f, {})
            for k, v in d.items():
                acc.setdefault(k, []).append(v)
    out["funcs"] = {f: {k: _mean_known(v) for k, v in d.items()} for f, d in funcs.items()}
    if "tasks" in ms[0]:
        out["tasks"] = ms[0]["tasks"]  # one graph: the same tasks in every run
    return out


SEEDS = "per_seed"  # the key under which with_seeds keeps each seeded run's metrics


def with_seeds(ms: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`mean_metrics` of the seeded runs ``ms`` (seed i at index i), with the runs' own metrics
    under :data:`SEEDS` when there are several, so a comparison can pair the seeds."""
    mean = mean_metrics(ms)
    return {**mean, SEEDS: ms} if len(ms) > 1 else mean


def seed_deltas(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Per compared metric (µs rows, not task counts): the lowest and highest change in % over the
    paired seeds (before seed i against after seed i); empty unless both sides carry the same number
    of seeded runs (:func:`with_seeds`)."""
    bs, as_ = before.get(SEEDS), after.get(SEEDS)
    if not bs or not as_ or len(bs) != len(as_):
        return {}
    acc: dict[str, list[float]] = {}
    for b, a in zip(bs, as_, strict=True):
        for metric, vb, va in compare_rows(b, a):
            d = None if metric.endswith(TASKS_SUFFIX) else delta_pct(vb, va)
            if d is not None:
                acc.setdefault(metric, []).append(d)
    return {m: (min(ds), max(ds)) for m, ds in acc.items() if len(ds) == len(bs)}


def _mean_known(vs: list[Any]) -> Any:
    """Mean of the values that are not None (None when all are, e.g. no reused-core rows in any run)."""
    known = [v for v in vs if v is not None]
    return sum(known) / len(known) if known else None


def compare_rows(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """(metric, before, after) rows: wall, Total Test Time, then per function its task count (when
    both sides know their tasks), Avg Exec and span.

    None is a value the run does not have: a function not in it, or Total Test Time at level 1."""
    rows: list[tuple[str, float | None, float | None]] = [
        ("swimlane wall (us)", before["swimlane_wall"], after["swimlane_wall"]),
        (TTT_ROW, before["total_test_time"], after["total_test_time"]),
    ]
    counted = "tasks" in before and "tasks" in after
    for f in function_names(before, after):
        b, a = before["funcs"].get(f), after["funcs"].get(f)
        if counted:
            rows.append((f"{f}{TASKS_SUFFIX}", before["tasks"].get(f) if b else None,
                         after["tasks"].get(f) if a else None))
        rows.append((f"{f} Avg Exec (us)", b["avg_exec"] if b else None, a["avg_exec"] if a else None))
        rows.append((f"{f} span (us)", b["span"] if b else None, a["span"] if a else None))
    return rows


def function_names(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The functions of both runs: those of ``before`` in order, then those only ``after`` has."""
    return list(before["funcs"]) + [f for f in after["funcs"] if f not in before["funcs"]]


def task_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per function whose presence or task count differs: ``NAME: added (N tasks)``,
    ``NAME: removed (N tasks)`` or ``NAME: N -> M tasks (+K)``."""
    out = []
    tb, ta = before.get("tasks", {}), after.get("tasks", {})
    for f in function_names(before, after):
        b, a = f in before["funcs"], f in after["funcs"]
        if b and not a:
            out.append(f"{f}: removed ({_tasks(tb.get(f))})")
        elif a and not b:
            out.append(f"{f}: added ({_tasks(ta.get(f))})")
        elif f in tb and f in ta and tb[f] != ta[f]:
            out.append(f"{f}: {tb[f]} -> {ta[f]} tasks ({ta[f] - tb[f]:+d})")
    return out


def _tasks(n: int | None) -> str:
    if n is None:
        return "? tasks"
    return f"{n} task" if n == 1 else f"{n} tasks"


def plot_rows(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """The rows of :func:`compare_rows` that can be drawn (µs): no task counts, and Total Test Time
    only when both runs have it (a level-1 side has none, and a bar "gone" or "new" would be wrong)."""
    return [r for r in compare_rows(before, after)
            if not r[0].endswith(TASKS_SUFFIX) and (r[0] != TTT_ROW or (r[1] is not None and r[2] is not None))]


def _fmt(metric: str, x: float | None) -> str:
    if x is None:
        return LEVEL1_NA if metric == TTT_ROW else "-"
    return str(int(x)) if metric.endswith(TASKS_SUFFIX) else fmt_us(x)


def _delta(metric: str, b: float | None, a: float | None) -> str:
    if metric != TTT_ROW and (b is None) != (a is None):
        return "added" if b is None else "removed"
    if metric.endswith(TASKS_SUFFIX) and b is not None and a is not None:
        return f"{int(a - b):+d}" if a != b else "0"
    d = delta_pct(b, a)
    return "-" if d is None else f"{d:+.1f}%"


def _spread(lo_hi: tuple[float, float] | None) -> str:
    if lo_hi is None:
        return ""
    lo, hi = (0.0 if abs(x) < 0.05 else x for x in lo_hi)  # no "-0.0"
    return f"{lo:+.1f} .. {hi:+.1f}%"


def format_compare(before: dict[str, Any], after: dict[str, Any], labels: tuple[str, str] = ("before", "after"),
                   md: bool = False) -> str:
    """The table as aligned text, or markdown with ``md``. With several seeded runs on both sides a
    last column gives the lowest and highest change over the paired seeds."""
    spread = seed_deltas(before, after)
    rows = [(m, _fmt(m, b), _fmt(m, a), _delta(m, b, a)) for m, b, a in compare_rows(before, after)]
    head: tuple[str, ...] = ("metric", labels[0], labels[1], "delta %")
    if spread:
        head += ("per seed",)
        rows = [(*r, _spread(spread.get(r[0]))) for r in rows]
    n = len(head)
    if md:
        lines = [f"| {' | '.join(head)} |", "|---|" + "---:|" * (n - 1)]
        lines += [f"| {' | '.join(r)} |" for r in rows]
    else:
        w = [max(len(x[i]) for x in [head, *rows]) for i in range(n)]

        def line(r: tuple[str, ...]) -> str:
            return "  ".join([f"{r[0]:<{w[0]}}", *(f"{c:>{w[i]}}" for i, c in enumerate(r) if i)]).rstrip()

        lines = [line(head), "  ".join("-" * x for x in w), *(line(r) for r in rows)]
    if spread:
        k = len(before[SEEDS])
        lines += ["", f"per seed: the lowest .. highest change over the {k} seeded runs, before seed i against "
                      "after seed i"]
    changes = task_changes(before, after)
    if changes:
        bullet = "- " if md else "  "
        lines += ["", "tasks added/removed per function:", *(f"{bullet}{c}" for c in changes)]
    return "\n".join(lines) + "\n"
