"""Matplotlib pictures: the swimlane (one row per core with rows, bars start→end in µs coloured by
function) and the comparison, placement, fidelity, calibration-profile and band charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.util.fileio import write_atomic
from traces.perf import PerfData
from traces.stats import delta_pct, error_pct

# 48 function colours: tab10 without its grey (kept for rows without a function), then a greedy
# farthest-point extension in CIELAB over an sRGB grid (L* 35..85, chroma <= 70, away from white and
# black). Each colour is as far as possible from all before it, so any first n of the list are well
# apart (min ΔE76 ~24 up to 36 colours); functions take them in order of first start, so tasks that
# run near each other get clearly different colours. Fixed here so pictures do not depend on numerics.
FUNC_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#335c33", "#f5b87a", "#0aebb8", "#ad0a52", "#a3c28f", "#7a660a", "#a399ad",
    "#f57a7a", "#990a85", "#0a6670", "#99470a", "#0a70e0", "#d69914", "#0a9966", "#853d66",
    "#a3e070", "#a3adf5", "#47700a", "#f5adb8", "#5c5266", "#7a7a66", "#a3d6f5", "#f5b8f5",
    "#a33333", "#0ab8f5", "#e0d67a", "#f58552", "#ccb8a3", "#85e0cc", "#5c3dad", "#f55299",
    "#47d67a", "#cc708f", "#529985", "#8f9947", "#52528f", "#ad7a47", "#7aa31f", "#d685f5",
)
TASK_COLOR = "#7f7f7f"  # rows without a function id
LEGEND_TOP = 15  # swimlane legend: the functions with the largest total exec time
ERR_CLIP_PCT = 40.0  # error charts: bars and whiskers beyond ±this are cut, with the true value written


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (imported on first use)."""
    import matplotlib  # lazy: start-up time

    matplotlib.use("Agg")
    matplotlib.rcParams["axes.formatter.useoffset"] = False  # tick labels as values, never "+1.054e1"
    import matplotlib.pyplot as plt  # lazy: start-up time

    return plt


def _text_px(text: str, size: float, dpi: float) -> float:
    """Rendered width of ``text`` in pixels (DejaVu Sans metrics, no drawing)."""
    from matplotlib.font_manager import FontProperties  # lazy: start-up time
    from matplotlib.textpath import text_to_path  # lazy: start-up time

    w, _, _ = text_to_path.get_text_width_height_descent(text, FontProperties(size=size), ismath=False)
    return w / 72.0 * dpi


def _ink(rgb: tuple[float, float, float]) -> str:
    """Black or white, whichever reads better on a face of colour ``rgb``."""
    r, g, b = rgb
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"


def plot_swimlane(pd: PerfData, out: Path, title: str = "") -> Path:
    """Render the Worker View of ``pd`` to a PNG at ``out`` (Agg backend). Returns ``out``.

    Functions are coloured in order of their first start (:data:`FUNC_COLORS`); the legend, right of
    the chart, lists them by total exec time, the :data:`LEGEND_TOP` largest first in a larger font;
    bars wide enough carry their function's name (once per few rows of a column of like bars)."""
    plt = pyplot()
    from matplotlib.collections import PolyCollection  # lazy: start-up time
    from matplotlib.colors import to_rgb  # lazy: start-up time

    def fname(fid: int) -> str:
        return pd.func_name(fid) if fid >= 0 else "task"

    cores = sorted({r.core_id for r in pd.rows})
    ypos = {c: i for i, c in enumerate(cores)}
    first: dict[str, tuple[float, int]] = {}
    total: dict[str, float] = {}
    for r in pd.rows:
        n = fname(r.func_id)
        first[n] = min(first.get(n, (r.start, r.func_id)), (r.start, r.func_id))
        total[n] = total.get(n, 0.0) + (r.end - r.start)
    funcs = sorted(first, key=lambda n: (first[n], n))
    palette = iter(FUNC_COLORS * (1 + len(funcs) // len(FUNC_COLORS)))
    color = {f: to_rgb(TASK_COLOR if f == "task" else next(palette)) for f in funcs}
    edge = {f: tuple(0.55 * v for v in c) for f, c in color.items()}  # a thin bar still shows its hue

    dpi, width = 110, 14.0
    height = max(3.0, 0.22 * len(cores) + 1.6)
    fig, ax = plt.subplots(figsize=(width, height), dpi=dpi)
    bars = [(ypos[r.core_id], r.start, r.end, fname(r.func_id)) for r in pd.rows]
    ax.add_collection(PolyCollection(
        [((s, y - 0.4), (s, y + 0.4), (e, y + 0.4), (e, y - 0.4)) for y, s, e, _ in bars],
        facecolors=[color[f] for *_, f in bars], edgecolors=[edge[f] for *_, f in bars], linewidths=0.4))
    x0 = min((s for _, s, _, _ in bars), default=0.0)
    x1 = max((e for _, _, e, _ in bars), default=1.0)
    pad = max(x1 - x0, 1e-3) * 0.01
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_yticks(range(len(cores)))
    ax.set_yticklabels([f"{'AIC' if pd.core_types[c] == 'aic' else 'AIV'}_{c}" if c < len(pd.core_types)
                        else str(c) for c in cores], fontsize=7 if len(cores) > 30 else 9)
    ax.set_ylim(len(cores) - 0.5, -0.5)
    ax.set_xlabel("time (µs from first record)")
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.set_title(title or "swimlane (Worker View)")
    _swimlane_legend(ax, sorted(funcs, key=lambda f: (-total[f], f)), total, color, edge, height * dpi)
    fig.tight_layout()
    _label_bars(ax, bars, color, width * ax.get_position().width * dpi / (x1 - x0 + 2 * pad), dpi)
    return save_png_atomic(fig, out)


def _swimlane_legend(ax: Any, funcs: list[str], total: dict[str, float], color: dict[str, Any],
                     edge: dict[str, Any], height_px: float) -> None:
    """Legend right of the swimlane, functions by total exec time (µs): the :data:`LEGEND_TOP` largest,
    then the smaller ones in a smaller font, as many as the figure's height holds."""
    from matplotlib.patches import Patch  # lazy: start-up time

    fits = max(LEGEND_TOP, int((height_px - 90) / 14))  # legend rows of ~14 px (8 pt at 110 dpi)
    top, rest = funcs[:LEGEND_TOP], funcs[LEGEND_TOP:]
    shown = rest if len(rest) <= fits - len(top) - 1 else rest[: max(0, fits - len(top) - 2)]
    handles = [Patch(facecolor=color[f], edgecolor=edge[f], label=f"{f}  {total[f]:,.0f}") for f in top]
    if rest:
        handles.append(Patch(facecolor="none", edgecolor="none", label="smaller:"))
        handles += [Patch(facecolor=color[f], edgecolor=edge[f], label=f"{f}  {total[f]:,.1f}") for f in shown]
        if len(shown) < len(rest):
            handles.append(Patch(facecolor="none", edgecolor="none", label=f"… {len(rest) - len(shown)} more"))
    title = f"{len(funcs)} functions by total\nexec time (µs), largest first"
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False,
                    title=title, title_fontsize=8, alignment="left")
    for t in leg.get_texts()[len(top):]:
        t.set_fontsize(7)
        t.set_color("0.25")


def _label_bars(ax: Any, bars: list[tuple[int, float, float, str]], color: dict[str, Any], px_per_us: float,
                dpi: float, size: float = 6.5, near_rows: int = 5, cap: int = 600) -> None:
    """Write each function's name inside its bars that are wide enough, widest first; a bar whose
    function is already named on an overlapping bar within ``near_rows`` rows stays blank."""
    need = {f: _text_px(f, size, dpi) + 6 for f in {b[3] for b in bars}}
    placed: dict[str, list[tuple[int, float, float]]] = {}
    n = 0
    for y, s, e, f in sorted(bars, key=lambda b: (b[1] - b[2], b[0], b[1], b[3])):
        if n >= cap or (e - s) * px_per_us < need[f]:
            continue
        if any(abs(y - y2) <= near_rows and s < e2 and s2 < e for y2, s2, e2 in placed.get(f, ())):
            continue
        placed.setdefault(f, []).append((y, s, e))
        ax.text(s + 3 / px_per_us, y, f, ha="left", va="center", fontsize=size, color=_ink(color[f]),
                clip_on=True)
        n += 1


def save_png_atomic(fig: Any, out: Path) -> Path:
    """Save a matplotlib figure as PNG via a temp file + rename (no version stamp: deterministic)."""
    import matplotlib.pyplot as plt  # lazy: start-up time

    try:
        return write_atomic(out, lambda tmp: fig.savefig(tmp, format="png", metadata={"Software": None}))
    finally:
        plt.close(fig)


def _metric_label(wname: str, mname: str) -> str:
    """Short axis label of a workload's metric (``qkv q_head avg``)."""
    short = wname.split("_")[0]
    return f"{short} {mname.replace('.avg_exec', ' avg').replace('.span', ' span')}".replace(
        "q_head_rms_nope_rope", "q_head")


def _err_xlim(values: list[float], band: float, limit: float = ERR_CLIP_PCT) -> tuple[float, float]:
    """x-range of an error chart (%): every value and the ±``band`` band, cut at ±``limit``, with room
    beyond a cut for the note of the true value (:func:`_clip_note`)."""
    lo, hi = max(min([-band, *values]), -limit), min(max([band, *values]), limit)
    span = hi - lo
    return (lo - span * (0.12 if lo <= -limit else 0.05), hi + span * (0.12 if hi >= limit else 0.05))


def _cut_note(values: list[float], limit: float = ERR_CLIP_PCT) -> str:
    """Axis-label tail when some of ``values`` lie beyond ±``limit``."""
    return f"; cut at ±{limit:g} % (▸ true value)" if any(abs(v) > limit for v in values) else ""


def _cut(v: float, limit: float = ERR_CLIP_PCT) -> float:
    return max(-limit, min(limit, v))


def _clip_note(axis: Any, v: float, y: float, limit: float = ERR_CLIP_PCT, extra: str = "") -> None:
    """A value beyond ±``limit``: an arrowhead at the cut and the true value (and ``extra``) beyond it."""
    side = 1 if v > 0 else -1
    axis.plot([side * limit], [y], marker=">" if side > 0 else "<", color="black", markersize=5, zorder=4)
    axis.annotate(f"{v:+.0f}%{extra}", (side * limit, y), xytext=(5 * side, 0), textcoords="offset points",
                  ha="left" if side > 0 else "right", va="center", fontsize=7, linespacing=1.0)


def plot_fidelity(doc: dict[str, Any], spread: dict[str, Any], out: Path, title: str = "") -> Path:
    """PNG of a ``fidelity.json`` document: left, each metric's error % per variant (bar = mean of the
    seeded runs, whisker = min..max run) against the ±5 % (fitted) and ±10 % (predicted) bands, the
    mean written in a column right of the panel (red when outside its band), bars and whiskers beyond
    ±:data:`ERR_CLIP_PCT` cut with the true value at the cut; right, the measured and simulated change
    baseline → precompute (%). ``spread`` is ``run_spread.json``'s ``workloads`` object (µs)."""
    plt = pyplot()
    from matplotlib.lines import Line2D  # lazy: start-up time
    from matplotlib.patches import Patch  # lazy: start-up time

    rows: list[tuple[str, str, dict[str, Any]]] = []  # (label, variant, cell) for the error panel
    deltas: list[tuple[str, float | None, float | None]] = []  # (label, measured Δ%, simulated Δ%)
    for wname, w in doc["workloads"].items():
        for mname, m in w["metrics"].items():
            label = _metric_label(wname, mname)
            for var in ("baseline", "precompute"):
                cell = m.get(var)
                if cell and cell.get("error_pct") is not None:
                    lo_hi = spread.get(wname, {}).get(mname, {}).get(var)
                    meas = cell["measured"]
                    whisk = None if not lo_hi else ((lo_hi[0] - meas) / meas * 100, (lo_hi[2] - meas) / meas * 100)
                    rows.append((label, var, {**cell, "whisker": whisk}))
            d = m.get("delta_pct")
            if d and d.get("measured") is not None:
                deltas.append((label, d["measured"], d.get("simulated")))
    colors = {"fitted": "tab:blue", "predicted": "tab:orange"}
    bands = {"fitted": 5.0, "predicted": 10.0}
    height = max(4.0, 0.32 * max(len(rows), 2 * len(deltas)) + 2.2)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, height), dpi=100, gridspec_kw={"width_ratios": [3, 2]})
    ys = list(range(len(rows)))[::-1]
    col = ax.get_yaxis_transform()  # x in axes fraction, y in data: the column right of the panel
    values = [v for _, _, c in rows for v in (c["error_pct"], *(c["whisker"] or ()))]
    for y, (_label, var, cell) in zip(ys, rows, strict=True):
        e = cell["error_pct"]
        ax.barh(y, _cut(e), height=0.7, color=colors[cell["role"]], hatch="//" if var == "precompute" else None,
                edgecolor="black", linewidth=0.4, zorder=2)
        cut = [v for v in (e, *(cell["whisker"] or ())) if abs(v) > ERR_CLIP_PCT]
        if cell["whisker"]:
            lo, hi = cell["whisker"]
            ax.plot([_cut(lo), _cut(hi)], [y, y], color="black", linewidth=1.0, zorder=3)
            caps = [v for v in (lo, hi) if abs(v) <= ERR_CLIP_PCT]  # the ends that are not cut
            ax.plot(caps, [y] * len(caps), linestyle="", marker="|", color="black", markersize=6, zorder=3)
        for side in (-1, 1):  # the farthest value beyond each cut
            far = [v for v in cut if v * side > 0]
            if far:
                _clip_note(ax, max(far, key=abs), y)
        out_of_band = abs(e) > bands[cell["role"]]
        ax.text(1.015, y, f"{e:+.1f}%", transform=col, ha="left", va="center", fontsize=8,
                color="tab:red" if out_of_band else "black", fontweight="bold" if out_of_band else "normal")
    ax.text(1.015, 1.0, "mean\nerror", transform=ax.transAxes, ha="left", va="bottom", fontsize=7)
    ax.axvspan(-10, 10, color="tab:orange", alpha=0.08, zorder=0)
    ax.axvspan(-5, 5, color="tab:blue", alpha=0.10, zorder=0)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlim(*_err_xlim(values, 10.0))
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{label} ({var[:4]})" for label, var, _ in rows], fontsize=8)
    ax.set_xlabel("simulated vs measured (%); whisker = min..max over the seeded runs" + _cut_note(values),
                  fontsize=9)
    ax.set_title("error per metric (mean right: red = outside its band)", fontsize=10, pad=24)
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.legend(handles=[Patch(facecolor=colors["fitted"], label="fitted (band ±5 %)"),
                       Patch(facecolor=colors["predicted"], label="predicted (band ±10 %)"),
                       Patch(facecolor="white", edgecolor="black", hatch="//", label="precompute variant"),
                       Line2D([], [], color="black", marker="|", markersize=6, label="min..max of the runs")],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize=7, frameon=False,
              handlelength=1.6, columnspacing=1.2)
    _paired_barh(bx, deltas, ("0.55", "tab:green"), notes=False, values="{:+.1f}%")
    bx.axvline(0, color="black", linewidth=0.6)
    bx.set_yticklabels([label for label, _, _ in deltas], fontsize=8)
    bx.set_xlabel("change baseline → precompute (%)", fontsize=9)
    bx.set_title("what the change does", fontsize=10, pad=24)
    bx.grid(axis="x", linestyle=":", linewidth=0.5)
    bx.set_axisbelow(True)
    bx.margins(x=0.16)
    bx.legend(handles=[Patch(facecolor="0.55", label="measured"), Patch(facecolor="tab:green", label="simulated")],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=7, frameon=False)
    fig.suptitle(title or "fidelity", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return save_png_atomic(fig, out)


def plot_compare(rows: list[tuple[str, float | None, float | None]], labels: tuple[str, str], out: Path,
                 title: str = "") -> Path:
    """PNG of a before/after comparison (:func:`traces.compare.compare_rows`, µs): two panels, whole run
    (wall, Total Test Time) and per function (Avg Exec, span), paired bars with the change in %."""
    plt = pyplot()
    from matplotlib.patches import Patch  # lazy: start-up time

    whole = [r for r in rows if not r[0].endswith((" Avg Exec (us)", " span (us)"))]
    funcs = [r for r in rows if r[0].endswith(" Avg Exec (us)")]
    spans = {r[0][: -len(" span (us)")]: r for r in rows if r[0].endswith(" span (us)")}
    height = max(3.5, 0.42 * len(funcs) + 2.0)
    n = max(len(funcs), len(whole) + 1)  # one row scale in both panels: the whole run's rows at the top left
    fig = plt.figure(figsize=(14, height), dpi=100)
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 3], height_ratios=[len(whole) or 1, n - len(whole)])
    ax, bx = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[:, 1])

    def bars(axis: Any, items: list[tuple[str, float | None, float | None]]) -> None:
        _paired_barh(axis, items, ("0.6", "tab:blue"), notes=True)
        axis.set_yticklabels([n.replace(" (us)", "") for n, _, _ in items], fontsize=8)
        axis.set_xlabel("µs", fontsize=9)
        axis.grid(axis="x", linestyle=":", linewidth=0.5)
        axis.set_axisbelow(True)
        axis.margins(x=0.18)

    bars(ax, whole)
    ax.margins(x=0.3)
    ax.set_title("whole run", fontsize=10, pad=22)
    bars(bx, funcs)
    bx.set_title("Avg Exec per function (span in the labels)", fontsize=10, pad=22)
    ax.set_ylim(-0.6, len(whole) - 0.4)
    bx.set_ylim(-0.6, len(funcs) - 0.4)
    labels_f = []
    for name, _, _ in funcs:
        f = name[: -len(" Avg Exec (us)")]
        s = spans.get(f)
        span_txt = "" if s is None else f"  [span {'-' if s[1] is None else f'{s[1]:.1f}'} → " \
                                        f"{'-' if s[2] is None else f'{s[2]:.1f}'}]"
        labels_f.append(f + span_txt)
    bx.set_yticklabels(labels_f, fontsize=8)
    bx.legend(handles=[Patch(facecolor="0.6", label=labels[0]), Patch(facecolor="tab:blue", label=labels[1])],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title or f"{labels[0]} vs {labels[1]}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return save_png_atomic(fig, out)


def plot_placement(funcs: list[Any], out: Path, title: str = "") -> Path:
    """PNG of :func:`traces.placement.placement` rows: per function, Avg Exec (µs) of the rows on reused
    cores above that of the rows on first-use cores, each bar with its value, the first-use one also
    with its difference from the reused one in %."""
    plt = pyplot()
    from matplotlib.patches import Patch  # lazy: start-up time

    items = [(f.name, f.avg_reused, f.avg_first_use) for f in funcs]
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.5 * len(items) + 1.9)), dpi=100)
    _paired_barh(ax, items, ("0.6", "tab:orange"), notes=False)
    axes_px = 0.68 * fig.get_figwidth() * fig.dpi  # about the axes' width once the labels are laid out
    xmax = 0.0
    for y, (_name, reused, first) in zip(range(len(items))[::-1], items, strict=True):
        for dy, v, what in ((0.2, reused, "reused"), (-0.2, first, "first-use")):
            if v is None:
                ax.annotate(f"no rows on {what} cores", (0, y + dy), xytext=(4, 0), textcoords="offset points",
                            ha="left", va="center", fontsize=7, color="0.4", style="italic")
                continue
            txt = f"{v:.2f}"
            if dy < 0 and reused:
                txt += f"   ({_pct(v, reused)} vs reused)"
            ax.annotate(txt, (v, y + dy), xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                        fontsize=8, fontweight="bold" if dy < 0 and reused else "normal")
            # the x-range that keeps this label inside the axes: v + label px * (xmax / axes px) <= xmax
            xmax = max(xmax, v / max(0.2, 1 - (1.1 * _text_px(txt, 8, fig.dpi) + 10) / axes_px))
    ax.set_yticklabels([f"{f.name}  ({len(f.first_use)} of {f.rows} first-use)" for f in funcs], fontsize=8)
    ax.set_xlabel("Avg Exec, µs", fontsize=9)
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.set_xlim(0, xmax * 1.02 or 1.0)
    ax.set_ylim(-0.6, len(items) - 0.4)
    ax.legend(handles=[Patch(facecolor="0.6", label="rows on reused cores"),
                       Patch(facecolor="tab:orange", label="rows on first-use cores")],
              loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title or "Avg Exec on first-use vs reused cores", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return save_png_atomic(fig, out)


def _paired_barh(axis: Any, items: list[tuple[str, float | None, float | None]], colors: tuple[str, str],
                 notes: bool, values: str | None = None) -> None:
    """One row per (label, first, second): the first value's bar above the second's, top row first;
    with ``notes``, the change first -> second in % (or new / gone) right of the longer bar; with
    ``values`` (a format), each bar's value beside its end (outside the bar, on the side it points to)."""
    ys = list(range(len(items)))[::-1]
    for y, (_label, b, a) in zip(ys, items, strict=True):
        for dy, v, c in ((0.2, b, colors[0]), (-0.2, a, colors[1])):
            if v is None:
                continue
            axis.barh(y + dy, v, height=0.38, color=c, edgecolor="black", linewidth=0.4)
            if values:
                axis.annotate(values.format(v), (v, y + dy), xytext=(3 if v >= 0 else -3, 0),
                              textcoords="offset points", ha="left" if v >= 0 else "right", va="center", fontsize=7)
        if notes:
            note = _pct(a, b) if a is not None and b else "new" if b is None else "gone"
            axis.text(max(a or 0.0, b or 0.0), y, f"  {note}", va="center", fontsize=8)
    axis.set_yticks(ys)


def _pct(after: float, before: float) -> str:
    """The change before -> after in %, signed ("0.0%" when it rounds to nothing, never "-0.0%")."""
    p = (after - before) / before * 100
    return "0.0%" if abs(p) < 0.05 else f"{p:+.1f}%"


def plot_profile(field: str, values: list[float], errors: dict[str, list[float]], out: Path,
                 title: str = "") -> Path:
    """PNG of a fit-loss profile: per fit target, the error % of the best fit with ``field`` held at
    each value (the other free parameters re-fitted), and their rms."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    for name, errs in errors.items():
        ax.plot(values, errs, marker="o", markersize=3, linewidth=1, label=name)
    n = max(1, len(errors))
    rms = [(sum(e[i] ** 2 for e in errors.values()) / n) ** 0.5 for i in range(len(values))]
    ax.plot(values, rms, color="black", linewidth=2, marker="s", markersize=4, label="rms")
    ax.axhline(0.0, color="0.5", linewidth=0.6)
    ax.set_xlabel(field, fontsize=9)
    ax.set_ylabel("fit-target error, %", fontsize=9)
    ax.grid(linestyle=":", linewidth=0.5)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title or f"calibration profile along {field}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_png_atomic(fig, out)


def plot_band(doc: dict[str, Any], out: Path, title: str = "") -> Path:
    """PNG of a ``band.json`` document: left, per metric and variant the error band (% vs measured,
    min..max over the profile points and the run's preset) with the run's own error as a dot, against
    the ±10 % band, cut at ±:data:`ERR_CLIP_PCT` with the true value at the cut; right, the band of
    the change baseline → precompute with the measured change."""
    plt = pyplot()
    from matplotlib.lines import Line2D  # lazy: start-up time
    from matplotlib.patches import Patch  # lazy: start-up time

    errs: list[tuple[str, float, float, float | None]] = []  # (label, lo %, hi %, run %)
    deltas: list[tuple[str, float, float, float | None]] = []  # (label, lo, hi, measured Δ %)
    for wname, w in doc["workloads"].items():
        for mname, m in w.items():
            label = _metric_label(wname, mname)
            meas: dict[str, float | None] = {}
            for var in ("baseline", "precompute"):
                c = m.get(var)
                if not c:
                    continue
                meas[var] = c.get("measured")
                if c.get("measured"):
                    ref = c["measured"]
                    errs.append((f"{label} ({var[:4]})", error_pct(c["lo"], ref), error_pct(c["hi"], ref),
                                 error_pct(c.get("simulated"), ref)))
            d = m.get("delta_pct")
            if d:
                deltas.append((label, d["lo"], d["hi"], delta_pct(meas.get("baseline"), meas.get("precompute"))))
    height = max(4.0, 0.32 * max(len(errs), len(deltas)) + 2.2)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, height), dpi=100, gridspec_kw={"width_ratios": [3, 2]})
    for axis, items, color in ((ax, errs, "tab:orange"), (bx, deltas, "tab:green")):
        clip = axis is ax
        ys = list(range(len(items)))[::-1]
        for y, (_label, lo, hi, dot) in zip(ys, items, strict=True):
            a, b = (_cut(lo), _cut(hi)) if clip else (lo, hi)
            axis.barh(y, max(b - a, 0.2), left=a, height=0.6, color=color, alpha=0.45, edgecolor="black",
                      linewidth=0.4, zorder=2)
            dot_cut = clip and dot is not None and abs(dot) > ERR_CLIP_PCT  # written at the cut instead
            if dot is not None and not dot_cut:
                axis.plot([dot], [y], marker="o" if clip else "D", color="black", markersize=4, zorder=3)
            if clip:
                for side in (-1, 1):
                    far = [v for v in (lo, hi) if v * side > ERR_CLIP_PCT]
                    on_side = dot_cut and dot * side > 0
                    if far or on_side:
                        _clip_note(axis, max(far or [dot], key=abs), y,
                                   extra=f"\ndot {dot:+.0f}%" if on_side and far else " (dot)" if on_side else "")
        axis.set_yticks(ys)
        axis.set_yticklabels([it[0] for it in items], fontsize=8)
        axis.set_ylim(-0.6, len(items) - 0.4)
        axis.axvline(0, color="black", linewidth=0.6)
        axis.grid(axis="x", linestyle=":", linewidth=0.5)
        axis.set_axisbelow(True)
    ax.axvspan(-10, 10, color="tab:orange", alpha=0.08, zorder=0)
    values = [v for _, lo, hi, dot in errs for v in (lo, hi, dot) if v is not None]
    ax.set_xlim(*_err_xlim(values, 10.0))
    bx.margins(x=0.05)
    ax.set_xlabel("simulated vs measured (%), shaded: ±10 %\nbar = band over equally good fits, dot = this run's "
                  "preset" + _cut_note(values), fontsize=9)
    ax.set_title("error band per metric", fontsize=10, pad=22)
    bx.set_xlabel("change baseline → precompute (%)\nbar = simulated band, diamond = measured", fontsize=9)
    bx.set_title("band of the change", fontsize=10, pad=22)
    ax.legend(handles=[Patch(facecolor="tab:orange", alpha=0.45, edgecolor="black", label="band over the fits"),
                       Line2D([], [], marker="o", color="black", linestyle="", label="this run's preset")],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=7, frameon=False)
    bx.legend(handles=[Patch(facecolor="tab:green", alpha=0.45, edgecolor="black", label="simulated band"),
                       Line2D([], [], marker="D", color="black", linestyle="", label="measured")],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=7, frameon=False)
    pts = ", ".join(f"{v:g}" for v in doc.get("points", []))
    fig.suptitle(title or f"calibration band: {doc.get('field', '')} = {pts} (±{doc.get('tolerance_pct', 0):g} %)",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return save_png_atomic(fig, out)
