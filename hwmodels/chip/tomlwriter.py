r"""TOML text of a chip preset: ``tomli_w`` output with one-line arrays, ASCII strings and comment lines.

``tomli_w`` writes the keys, values and ``[table]`` headers; small steps keep the preset files'
layout: an array goes on one line (``[2048, 1024]``, where ``tomli_w`` writes one item per line), a
string's tab and non-ASCII characters are escaped (``\t``, ``\u00b5``: the text is ASCII apart from
comments), and a comment line may precede a key (the ``unit | status | source`` notes of
``swimsim chips NAME --show``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import tomli_w

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _escape(m: re.Match[str]) -> str:
    """TOML escape of one non-ASCII character."""
    c = ord(m.group())
    return f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}"


def preset_toml(fields: Mapping[str, Any], header: Sequence[str] = (),
                comments: Mapping[str, str] | None = None) -> str:
    """TOML text of a nested preset dict, e.g. ``{"name": "X", "provenance": {...}, "vector": {...}}``.

    Top-level values come first, then one ``[table]`` per nested dict, in dict order, a blank line
    before each table. ``header`` lines are written first as ``# line``; ``comments`` maps a dotted
    key (``section.field``, or ``field`` at top level; bare keys only) to a ``# text`` line written
    above that key.
    """
    notes = comments or {}
    out = [f"# {line}" for line in header]
    table = ""
    arrays: list[tuple[str, list[str]]] = []  # open arrays: (text before "[", items so far)
    text = _NON_ASCII.sub(_escape, tomli_w.dumps(fields, indent=0).replace("\t", "\\t"))  # only strings hold them
    for line in text.split("\n")[:-1]:
        if line.endswith("["):  # an array opens (a string value would end in a quote)
            arrays.append((line[:-1], []))
            continue
        if arrays:  # one item per line, each ending in "," but the outermost "]"
            item = line.removesuffix(",")
            if item == "]":
                before, items = arrays.pop()
                item = f"{before}[{', '.join(items)}]"
            if arrays:
                arrays[-1][1].append(item)
                continue
            line = item
        if line.startswith("["):
            table = line[1:-1]
        elif line:
            key = line.partition(" = ")[0]
            note = notes.get(f"{table}.{key}" if table else key)
            if note is not None:
                out.append(f"# {note}")
        out.append(line)
    return "\n".join(out) + "\n"

