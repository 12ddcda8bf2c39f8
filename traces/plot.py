"""Matplotlib swimlane: one row per core with rows, bars (start→end, µs) coloured by function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traces.perf import PerfData


def plot_swimlane(pd: PerfData, out: Path, title: str = "") -> Path:
    """Render the Worker View of ``pd`` to a PNG at ``out`` (Agg backend). Returns ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

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
    import matplotlib.pyplot as plt

    from sim.fileio import write_atomic

    try:
        return write_atomic(out, lambda tmp: fig.savefig(tmp, format="png", metadata={"Software": None}))
    finally:
        plt.close(fig)
