"""What-if hardware sweeps: metric selection, the sweep table, its JSON document and plot (µs).

A sweep document is a plain JSON-able dict (see :func:`sweep_doc`)::

    {"chip", "mode", "l2", "runs", "jitter", "overrides", "vary": [{"field", "values"}], "specs",
     "metrics": {spec: [metric key]}, "points": [{"params": {field: value}, "results": {spec: metrics}}]}

where ``metrics`` is the dict of :func:`traces.run_metrics` (averaged over the runs). Metric keys are
``wall`` (swimlane wall), ``total_test_time``, ``aicore_span`` or ``FUNC.FIELD`` with FIELD one of
:data:`FUNC_FIELDS`. All values are µs except ``FUNC.count``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sim.util.errors import UserError
from traces.plot import pyplot, save_png_atomic
from traces.stats import FUNC_FIELDS, LEVEL1_NA, RUN_ALIASES, RUN_FIELDS, fmt_us, metric_value

RUN_METRICS = (*RUN_ALIASES, *RUN_FIELDS)  # what --metric accepts besides FUNC.FIELD
DEFAULT_TOP_FUNCS = 3


def check_metric(key: str, funcs_by_spec: dict[str, list[str]]) -> str:
    """Validate metric ``key`` against the functions of the swept specs; returns the key.

    A ``FUNC.FIELD`` key is accepted when FUNC exists in at least one spec (the others show ``-``).
    """
    if key in RUN_METRICS:
        return key
    func, dot, field = key.rpartition(".")
    if not dot or not func or field not in FUNC_FIELDS:
        raise UserError(f"--metric {key}: unknown metric (expected one of {', '.join(RUN_METRICS)} or "
                        f"FUNC.FIELD with FIELD in {', '.join(FUNC_FIELDS)})")
    known = list(dict.fromkeys(f for fs in funcs_by_spec.values() for f in fs))
    if func not in known:
        raise UserError(f"--metric {key}: unknown function '{func}' (functions: {', '.join(known)})")
    return key


def default_metrics(metrics: dict[str, Any], top: int = DEFAULT_TOP_FUNCS) -> list[str]:
    """wall, total_test_time and the Avg Exec of the ``top`` functions with the largest total exec
    (count × avg_exec; ties by name) in ``metrics``."""
    funcs = metrics["funcs"]
    ranked = sorted(funcs, key=lambda f: (-funcs[f]["count"] * funcs[f]["avg_exec"], f))[:top]
    return ["wall", "total_test_time"] + [f"{f}.avg_exec" for f in ranked]


def sweep_doc(*, chip: str, mode: str, l2: str, runs: int, jitter: float, overrides: list[str],
              vary: list[tuple[str, list[Any]]], specs: list[str], metrics: dict[str, list[str]],
              points: list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]) -> dict[str, Any]:
    """Assemble the sweep document; ``points`` are (params, {spec: metrics}) in sweep order."""
    return {
        "chip": chip,
        "mode": mode,
        "l2": l2,
        "runs": runs,
        "jitter": jitter,
        "overrides": list(overrides),
        "vary": [{"field": f, "values": list(vs)} for f, vs in vary],
        "specs": list(specs),
        "metrics": {s: list(metrics[s]) for s in specs},
        "points": [{"params": dict(p), "results": {s: r[s] for s in specs}} for p, r in points],
    }


def sweep_json(doc: dict[str, Any]) -> str:
    """The document as JSON text (stable key order, trailing newline)."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def _fmt_param(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _fmt_value(key: str, v: float | None) -> str:
    if v is None:
        return LEVEL1_NA if key == "total_test_time" else "-"
    return f"{v:.0f}" if key.endswith(".count") else fmt_us(v)


def _fmt_delta(v: float | None, base: float | None) -> str:
    if v is None or base is None or base == 0:
        return ""
    pct = (v - base) / base * 100
    return f"({0.0 if abs(pct) < 0.05 else pct:+.1f}%)"


def metric_label(key: str) -> str:
    """Short column header of a metric key (``FUNC.avg_exec`` -> ``FUNC avg``)."""
    if key in RUN_METRICS:
        return key
    func, _, field = key.rpartition(".")
    return f"{func} {'avg' if field == 'avg_exec' else field}"


def table_columns(doc: dict[str, Any]) -> list[tuple[str, str, list[str], bool]]:
    """The table as columns (group, header, cells, right-aligned): the varied parameters, then per
    spec and metric its value with the change relative to the first point, e.g. ``238.90 (-4.2%)``."""
    points = doc["points"]
    short = _short_specs(doc["specs"])
    cols: list[tuple[str, str, list[str], bool]] = []
    for v in doc["vary"]:
        f = v["field"]
        cols.append(("", f, [_fmt_param(p["params"][f]) for p in points], False))
    for spec in doc["specs"]:
        for key in doc["metrics"][spec]:
            vals = [metric_value(p["results"][spec], key) for p in points]
            texts = [_fmt_value(key, x) for x in vals]
            deltas = [""] + [_fmt_delta(x, vals[0]) for x in vals[1:]]
            wv = max(len(t) for t in texts)
            wd = max(len(d) for d in deltas)
            cells = [f"{t:>{wv}}" + (f" {d:>{wd}}" if wd else "") for t, d in zip(texts, deltas, strict=True)]
            cols.append((short[spec], metric_label(key), cells, True))
    return cols


def format_table(doc: dict[str, Any], markdown: bool = False) -> str:
    """The sweep table as aligned text (spec labels on a group header line) or markdown."""
    cols = table_columns(doc)
    n = len(doc["points"])
    if markdown:
        heads = [f"{g} {h}" if g else h for g, h, _, _ in cols]
        lines = ["| " + " | ".join(heads) + " |",
                 "|" + "|".join("---:" if right else "---" for _, _, _, right in cols) + "|"]
        lines += ["| " + " | ".join(" ".join(c[2][i].split()) for c in cols) + " |" for i in range(n)]
        return "\n".join(lines) + "\n"
    widths = [max(len(h), *(len(x) for x in cells)) if cells else len(h) for _, h, cells, _ in cols]
    groups: list[tuple[str, int, int]] = []  # (label, first col, last col)
    for i, (g, _, _, _) in enumerate(cols):
        if groups and groups[-1][0] == g:
            groups[-1] = (g, groups[-1][1], i)
        else:
            groups.append((g, i, i))
    sep_in, sep_group = "  ", "  |  "
    for g, a, b in groups:  # widen a group's last column so its label fits
        span = sum(widths[a:b + 1]) + len(sep_in) * (b - a)
        if len(g) > span:
            widths[b] += len(g) - span
    rights = [c[3] for c in cols]

    def row(cells: list[str]) -> str:
        return sep_group.join(
            sep_in.join(cells[i].rjust(widths[i]) if rights[i] else cells[i].ljust(widths[i]) for i in range(a, b + 1))
            for _, a, b in groups).rstrip()

    group_line = sep_group.join(g.ljust(sum(widths[a:b + 1]) + len(sep_in) * (b - a)) for g, a, b in groups)
    rule = sep_group.join(sep_in.join("-" * widths[i] for i in range(a, b + 1)) for _, a, b in groups)
    lines = [group_line.rstrip(), row([h for _, h, _, _ in cols]), rule]
    lines += [row([c[2][i] for c in cols]) for i in range(n)]
    return "\n".join(lines) + "\n"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def plot_sweep(doc: dict[str, Any], out: Path) -> Path:
    """PNG of every selected metric (µs) vs the first varied parameter: one subplot per metric, one
    line per spec × combination of the other varied parameters (Agg backend, temp file + rename)."""
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter  # lazy: start-up time

    xfield = doc["vary"][0]["field"]
    xvals = doc["vary"][0]["values"]
    numeric = all(_is_number(v) for v in xvals)
    xs_of = {json.dumps(v): (float(v) if numeric else i) for i, v in enumerate(xvals)}
    keys = list(dict.fromkeys(k for s in doc["specs"] for k in doc["metrics"][s]))
    others = [v["field"] for v in doc["vary"][1:]]
    short = _short_specs(doc["specs"])
    # line label -> metric -> [(x, y)]
    lines: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for p in doc["points"]:
        rest = ", ".join(f"{f.split('.')[-1]}={_fmt_param(p['params'][f])}" for f in others)
        x = xs_of[json.dumps(p["params"][xfield])]
        for spec in doc["specs"]:
            label = short[spec] + (f" [{rest}]" if rest else "")
            for key in doc["metrics"][spec]:
                y = metric_value(p["results"][spec], key)
                if y is not None:
                    lines.setdefault(label, {}).setdefault(key, []).append((x, y))
    ncols = 1 if len(keys) == 1 else 2 if len(keys) <= 4 else 3
    nrows = math.ceil(len(keys) / ncols)
    spare = nrows * ncols > len(keys) and len(lines) <= 14  # legend goes into an unused subplot slot
    longest = max((len(lab) for lab in lines), default=10)
    legend_cols = 1 if len(lines) <= 24 else 2
    margin_in = 0.0 if spare else 0.7 + 0.075 * longest * legend_cols  # right margin for the legend (inches)
    width_in = 5.2 * ncols + margin_in
    fig, axes = plt.subplots(nrows, ncols, figsize=(width_in, 3.6 * nrows), dpi=100, squeeze=False)
    log_x = numeric and min(xs_of.values()) > 0 and max(xs_of.values()) / min(xs_of.values()) >= 4
    cmap = plt.get_cmap("tab10" if len(lines) <= 10 else "tab20")
    markers = "os^Dvx+*"
    for k, key in enumerate(keys):
        ax = axes[k // ncols][k % ncols]
        for j, (label, per_key) in enumerate(lines.items()):
            pts = sorted(per_key.get(key, []))
            if pts:
                ax.plot([a for a, _ in pts], [b for _, b in pts], marker=markers[j % len(markers)], markersize=4,
                        linewidth=1.4, color=cmap(j % cmap.N), label=label)
        if log_x:
            ax.set_xscale("log", base=2)
        ax.minorticks_off()
        order = sorted(xvals, key=lambda v: xs_of[json.dumps(v)])
        step = 1 if len(order) <= 12 else math.ceil(len(order) / 10)  # at most ~10 labelled ticks
        if numeric and step > 1:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
            ax.tick_params(axis="x", labelsize=8)
        else:
            ax.set_xticks([xs_of[json.dumps(v)] for v in order[::step]])
            ax.set_xticklabels([_fmt_param(v) for v in order[::step]], fontsize=8)
        ax.set_title(key, fontsize=10)
        ax.set_xlabel(xfield, fontsize=9)
        ax.set_ylabel("count" if key.endswith(".count") else "µs", fontsize=9)
        ax.grid(linestyle=":", linewidth=0.5)
    for k in range(len(keys), nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    right = 1.0 - margin_in / width_in
    if spare:
        axes[-1][-1].legend(handles, labels, loc="center", fontsize=8, frameon=False)
    else:
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(right, 0.92), fontsize=8, frameon=False,
                   ncol=legend_cols)
    fig.suptitle(f"sweep of {xfield} — chip {doc['chip']}, mode {doc['mode']}, L2 {doc['l2']}, "
                 f"runs {doc['runs']}", fontsize=11)
    fig.tight_layout(rect=(0, 0, right, 0.96))
    return save_png_atomic(fig, out)


def _short_specs(specs: list[str]) -> dict[str, str]:
    """Spec labels for legends: the variant alone when every spec shares one kernel."""
    kernels = {s.partition(":")[0] for s in specs}
    if len(specs) > 1 and len(kernels) == 1 and all(":" in s for s in specs):
        return {s: s.partition(":")[2] for s in specs}
    return {s: s for s in specs}
