"""Matplotlib swimlane: one row per core with rows, bars (start→end, µs) coloured by function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.util.fileio import write_atomic
from traces.perf import PerfData
from traces.stats import delta_pct, error_pct


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (imported on first use)."""
    import matplotlib  # lazy: start-up time

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: start-up time

    return plt


def plot_swimlane(pd: PerfData, out: Path, title: str = "") -> Path:
    """Render the Worker View of ``pd`` to a PNG at ``out`` (Agg backend). Returns ``out``."""
    plt = pyplot()
    from matplotlib.patches import Patch  # lazy: start-up time

    cores = sorted({r.core_id for r in pd.rows})
    ypos = {c: i for i, c in enumerate(cores)}
    funcs: list[str] = []
    for r in sorted(pd.rows, key=lambda r: r.func_id):
        n = pd.func_name(r.func_id) if r.func_id >= 0 else "task"
        if n not in funcs:
            funcs.append(n)
    if len(funcs) <= 10:
        palette = list(plt.get_cmap("tab10").colors)
    else:  # up to 60 distinct colours: strong tab20 hues first, then the tab20b/tab20c families
        palette = [c for name in ("tab20", "tab20b", "tab20c") for c in plt.get_cmap(name).colors]
    color = {f: palette[i % len(palette)] for i, f in enumerate(funcs)}
    height = max(3.0, 0.22 * len(cores) + 1.6)
    fig, ax = plt.subplots(figsize=(14, height), dpi=110)
    by_func: dict[str, list[tuple[int, float, float]]] = {}
    for r in pd.rows:
        n = pd.func_name(r.func_id) if r.func_id >= 0 else "task"
        by_func.setdefault(n, []).append((ypos[r.core_id], r.start, r.end - r.start))
    for f in funcs:
        items = by_func.get(f, [])
        ax.barh([y for y, _, _ in items], [d for _, _, d in items], left=[s for _, s, _ in items], height=0.8,
                color=color[f], edgecolor="black", linewidth=0.3)
    ax.set_yticks(range(len(cores)))
    ax.set_yticklabels([f"{'AIC' if pd.core_types[c] == 'aic' else 'AIV'}_{c}" if c < len(pd.core_types)
                        else str(c) for c in cores], fontsize=7 if len(cores) > 30 else 9)
    ax.invert_yaxis()
    ax.set_ylim(len(cores) - 0.5, -0.5)
    ax.set_xlabel("time (µs from first record)")
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.set_title(title or "swimlane (Worker View)")
    handles = [Patch(facecolor=color[f], edgecolor="black", label=f) for f in funcs]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False,
              ncol=1 if len(funcs) <= 40 else 2)
    fig.tight_layout()
    return save_png_atomic(fig, out)


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


def plot_fidelity(doc: dict[str, Any], spread: dict[str, Any], out: Path, title: str = "") -> Path:
    """PNG of a ``fidelity.json`` document: left, each metric's error % per variant (bar = mean of the
    seeded runs, whisker = min..max run) against the ±5 % (fitted) and ±10 % (predicted) bands; right,
    the measured and simulated change baseline → precompute (%). ``spread`` is ``run_spread.json``'s
    ``workloads`` object (µs)."""
    plt = pyplot()
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
    height = max(4.0, 0.32 * max(len(rows), 2 * len(deltas)) + 1.6)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, height), dpi=100, gridspec_kw={"width_ratios": [3, 2]})
    ys = list(range(len(rows)))[::-1]
    for y, (_label, var, cell) in zip(ys, rows, strict=True):
        e = cell["error_pct"]
        ax.barh(y, e, height=0.7, color=colors[cell["role"]], hatch="//" if var == "precompute" else None,
                edgecolor="black", linewidth=0.4)
        if cell["whisker"]:
            lo, hi = cell["whisker"]
            ax.plot([lo, hi], [y, y], color="black", linewidth=1.0)
        ax.text(e + (1 if e >= 0 else -1), y, f"{e:+.1f}%", va="center", ha="left" if e >= 0 else "right",
                fontsize=7)
    ax.axvspan(-10, 10, color="tab:orange", alpha=0.08)
    ax.axvspan(-5, 5, color="tab:blue", alpha=0.10)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{label} ({var[:4]})" for label, var, _ in rows], fontsize=8)
    ax.set_xlabel("simulated vs measured (%); whisker = min..max over the seeded runs", fontsize=9)
    ax.set_title("error per metric", fontsize=10)
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.legend(handles=[Patch(facecolor=colors["fitted"], label="fitted (band ±5 %)"),
                       Patch(facecolor=colors["predicted"], label="predicted (band ±10 %)"),
                       Patch(facecolor="white", edgecolor="black", hatch="//", label="precompute variant")],
              loc="lower right", fontsize=7, frameon=False)
    _paired_barh(bx, deltas, ("0.55", "tab:green"), notes=False)
    bx.axvline(0, color="black", linewidth=0.6)
    bx.set_yticklabels([label for label, _, _ in deltas], fontsize=8)
    bx.set_xlabel("change baseline → precompute (%)", fontsize=9)
    bx.set_title("what the change does", fontsize=10)
    bx.grid(axis="x", linestyle=":", linewidth=0.5)
    bx.legend(handles=[Patch(facecolor="0.55", label="measured"), Patch(facecolor="tab:green", label="simulated")],
              loc="lower right", fontsize=7, frameon=False)
    fig.suptitle(title or "fidelity", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return save_png_atomic(fig, out)


def plot_compare(rows: list[tuple[str, float | None, float | None]], labels: tuple[str, str], out: Path,
                 title: str = "") -> Path:
    """PNG of a before/after comparison (:func:`traces.compare.compare_rows`, µs): two panels, whole run
    (wall, Total Test Time) and per function (Avg Exec, span), paired bars with the change in %."""
    plt = pyplot()

    whole = [r for r in rows if not r[0].endswith((" Avg Exec (us)", " span (us)"))]
    funcs = [r for r in rows if r[0].endswith(" Avg Exec (us)")]
    spans = {r[0][: -len(" span (us)")]: r for r in rows if r[0].endswith(" span (us)")}
    height = max(3.5, 0.42 * len(funcs) + 1.8)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, height), dpi=100, gridspec_kw={"width_ratios": [1, 3]})

    def bars(axis: Any, items: list[tuple[str, float | None, float | None]]) -> None:
        _paired_barh(axis, items, ("0.6", "tab:blue"), notes=True)
        axis.set_yticklabels([n.replace(" (us)", "") for n, _, _ in items], fontsize=8)
        axis.set_xlabel("µs", fontsize=9)
        axis.grid(axis="x", linestyle=":", linewidth=0.5)
        axis.margins(x=0.18)

    bars(ax, whole)
    ax.set_title("whole run", fontsize=10)
    bars(bx, funcs)
    bx.set_title("Avg Exec per function (span in the labels)", fontsize=10)
    labels_f = []
    for name, _, _ in funcs:
        f = name[: -len(" Avg Exec (us)")]
        s = spans.get(f)
        span_txt = "" if s is None else f"  [span {'-' if s[1] is None else f'{s[1]:.1f}'} → " \
                                        f"{'-' if s[2] is None else f'{s[2]:.1f}'}]"
        labels_f.append(f + span_txt)
    bx.set_yticklabels(labels_f, fontsize=8)
    from matplotlib.patches import Patch  # lazy: start-up time

    bx.legend(handles=[Patch(facecolor="0.6", label=labels[0]), Patch(facecolor="tab:blue", label=labels[1])],
              loc="lower right", fontsize=8, frameon=False)
    fig.suptitle(title or f"{labels[0]} vs {labels[1]}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_png_atomic(fig, out)


def plot_placement(funcs: list[Any], out: Path, title: str = "") -> Path:
    """PNG of :func:`traces.placement.placement` rows: per function, Avg Exec (µs) of the rows on reused
    cores above that of the rows on first-use cores, with the difference in %."""
    plt = pyplot()
    from matplotlib.patches import Patch  # lazy: start-up time

    items = [(f.name, f.avg_reused, f.avg_first_use) for f in funcs]
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.42 * len(items) + 1.6)), dpi=100)
    _paired_barh(ax, items, ("0.6", "tab:orange"), notes=False)
    for y, (_name, reused, first) in zip(range(len(items))[::-1], items, strict=True):
        if reused and first is not None:
            ax.text(max(reused, first), y, f"  {(first - reused) / reused * 100:+.1f}%", va="center", fontsize=8)
    ax.set_yticklabels([f"{f.name}  ({len(f.first_use)} of {f.rows} first-use)" for f in funcs], fontsize=8)
    ax.set_xlabel("Avg Exec, µs", fontsize=9)
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.margins(x=0.18)
    ax.legend(handles=[Patch(facecolor="0.6", label="rows on reused cores"),
                       Patch(facecolor="tab:orange", label="rows on first-use cores")],
              loc="lower right", fontsize=8, frameon=False)
    fig.suptitle(title or "Avg Exec on first-use vs reused cores", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_png_atomic(fig, out)


def _paired_barh(axis: Any, items: list[tuple[str, float | None, float | None]], colors: tuple[str, str],
                 notes: bool) -> None:
    """One row per (label, first, second): the first value's bar above the second's, top row first;
    with ``notes``, the change first -> second in % (or new / gone) right of the longer bar."""
    ys = list(range(len(items)))[::-1]
    for y, (_label, b, a) in zip(ys, items, strict=True):
        if b is not None:
            axis.barh(y + 0.2, b, height=0.38, color=colors[0], edgecolor="black", linewidth=0.4)
        if a is not None:
            axis.barh(y - 0.2, a, height=0.38, color=colors[1], edgecolor="black", linewidth=0.4)
        if notes:
            note = f"{(a - b) / b * 100:+.1f}%" if a is not None and b else "new" if b is None else "gone"
            axis.text(max(a or 0.0, b or 0.0), y, f"  {note}", va="center", fontsize=8)
    axis.set_yticks(ys)


def plot_profile(field: str, values: list[float], errors: dict[str, list[float]], out: Path,
                 title: str = "") -> Path:
    """PNG of a fit-loss profile: per fit target, the error % of the best fit with ``field`` held at
    each value (the other free parameters re-fitted), and their rms."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for name, errs in errors.items():
        ax.plot(values, errs, marker="o", markersize=3, linewidth=1, label=name)
    n = max(1, len(errors))
    rms = [(sum(e[i] ** 2 for e in errors.values()) / n) ** 0.5 for i in range(len(values))]
    ax.plot(values, rms, color="black", linewidth=2, marker="s", markersize=4, label="rms")
    ax.axhline(0.0, color="0.5", linewidth=0.6)
    ax.set_xlabel(field, fontsize=9)
    ax.set_ylabel("fit-target error, %", fontsize=9)
    ax.grid(linestyle=":", linewidth=0.5)
    ax.legend(fontsize=7, frameon=False)
    fig.suptitle(title or f"calibration profile along {field}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_png_atomic(fig, out)


def plot_band(doc: dict[str, Any], out: Path, title: str = "") -> Path:
    """PNG of a ``band.json`` document: left, per metric and variant the error band (% vs measured,
    min..max over the profile points and the run's preset) with the run's own error as a dot, against
    the ±10 % band; right, the band of the change baseline → precompute with the measured change."""
    plt = pyplot()
    from matplotlib.lines import Line2D  # lazy: start-up time

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
    height = max(4.0, 0.32 * max(len(errs), len(deltas)) + 1.6)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, height), dpi=100, gridspec_kw={"width_ratios": [3, 2]})
    for axis, items, color in ((ax, errs, "tab:orange"), (bx, deltas, "tab:green")):
        ys = list(range(len(items)))[::-1]
        for y, (_label, lo, hi, dot) in zip(ys, items, strict=True):
            axis.barh(y, max(hi - lo, 0.2), left=lo, height=0.6, color=color, alpha=0.45, edgecolor="black",
                      linewidth=0.4)
            if dot is not None:
                axis.plot([dot], [y], marker="o" if axis is ax else "D", color="black", markersize=4)
        axis.set_yticks(ys)
        axis.set_yticklabels([it[0] for it in items], fontsize=8)
        axis.axvline(0, color="black", linewidth=0.6)
        axis.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.axvspan(-10, 10, color="tab:orange", alpha=0.08)
    ax.set_xlabel("simulated vs measured (%)\nbar = band over equally good fits, dot = this run's preset", fontsize=9)
    ax.set_title("error band per metric", fontsize=10)
    bx.set_xlabel("change baseline → precompute (%)\nbar = simulated band, diamond = measured", fontsize=9)
    bx.set_title("band of the change", fontsize=10)
    ax.legend(handles=[Line2D([], [], marker="o", color="black", linestyle="", label="this run's preset")],
              loc="lower right", fontsize=7, frameon=False)
    pts = ", ".join(f"{v:g}" for v in doc.get("points", []))
    fig.suptitle(title or f"calibration band: {doc.get('field', '')} = {pts} (±{doc.get('tolerance_pct', 0):g} %)",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return save_png_atomic(fig, out)
