"""Reading the JSON files the tools take, with every error as one line naming the file.

:func:`load_json` parses a file. :func:`check` validates a parsed document against the pydantic
schema of its format (a :class:`~pydantic.TypeAdapter` of TypedDicts) and turns the first error,
in document order, into ``UserError("<file>: <where>: <what was expected>")``. Each format words
its expectations itself (an :data:`Explain` function), so a message names the record to edit and
reads the same whether the schema or a later semantic check found the problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from sim.util.errors import UserError

Loc = tuple[str | int, ...]
# (error location, document) -> (location to name, expectation text), or None for pydantic's own wording
Explain = Callable[[Loc, Any], tuple[Loc, str] | None]


def load_json(path: Path) -> Any:
    """json.load with a one-line UserError naming the file on failure."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        trunc = " (file truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise UserError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{trunc}") \
            from None


def where(loc: Loc) -> str:
    """A location as the messages name it: ``aicore_tasks[3]``, ``metadata.clock_freq_hz``, ``top level``."""
    out = ""
    for k in loc:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out or "top level"


def value_at(doc: Any, loc: Loc) -> Any:
    """The document's value at ``loc`` (None where a key or an index is missing)."""
    for k in loc:
        if isinstance(doc, dict):
            doc = doc.get(k)
        elif isinstance(doc, list) and isinstance(k, int) and -len(doc) <= k < len(doc):
            doc = doc[k]
        else:
            return None
    return doc


def short(x: Any) -> str:
    """``x`` as JSON, cut to 60 characters."""
    s = json.dumps(x)
    return s if len(s) <= 60 else s[:57] + "..."


def check(adapter: TypeAdapter[Any], doc: Any, path: str, explain: Explain, *, strict: bool = True) -> Any:
    """``doc`` validated against ``adapter`` (the validated value); raises UserError naming ``path`` and
    the first bad location, worded by ``explain``."""
    try:
        return adapter.validate_python(doc, strict=strict)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(err["loc"])
        told = explain(loc, doc)
        if told is None:
            raise UserError(f"{path}: {where(loc)}: {err['msg']}, got {short(value_at(doc, loc))}") from None
        raise UserError(f"{path}: {where(told[0])}: {told[1]}") from None
