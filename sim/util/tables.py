"""Plain-text and markdown tables for the command-line reports."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def render_table(head: Sequence[str], body: Sequence[Sequence[str]], *, markdown: bool = False,
                 left: Collection[int] = (0, 1)) -> str:
    """``head`` and ``body`` rows as an aligned text table (columns in ``left`` left-aligned, the rest
    right-aligned, two spaces apart, a dashed rule under the header) or as a markdown table."""
    if markdown:
        rule = "|".join("---" if i in left else "---:" for i in range(len(head)))
        lines = ["| " + " | ".join(head) + " |", "|" + rule + "|"]
        lines += ["| " + " | ".join(c) + " |" for c in body]
        return "\n".join(lines) + "\n"
    widths = [max(len(h), *(len(c[i]) for c in body)) for i, h in enumerate(head)]

    def row(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    lines = [row(head), "  ".join("-" * w for w in widths)]
    lines += [row(c) for c in body]
    return "\n".join(lines) + "\n"
