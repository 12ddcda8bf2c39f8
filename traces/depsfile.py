"""``deps.json`` (formats.md §2) and the name map (§3) for a simulated TaskGraph.

The documents come from ``traces.depsjson`` (the project's dependency replay); this module only
adds a fast text encoder producing exactly ``traces.depsjson.dumps``'s bytes.
"""

from __future__ import annotations

from typing import Any

from sim.ir import TaskGraph
from traces.depsjson import name_map, to_deps_json


def deps_dict(graph: TaskGraph) -> dict[str, Any]:
    """The deps.json object for ``graph`` (alloc tasks omitted from ``tasks``; 64-bit ids as strings)."""
    return to_deps_json(graph)


def deps_text(doc: dict[str, Any]) -> str:
    """deps.json file text: ``json.dumps(doc, indent=1)`` + newline (as ``traces.depsjson.dumps``), fast."""
    from traces.jsontext import Encoder

    return Encoder(1, ensure_ascii=True).encode(doc) + "\n"


def name_map_dict(graph: TaskGraph) -> dict[str, Any]:
    """The name map object: func_id (string keys, ascending) -> function name."""
    return name_map(graph)
