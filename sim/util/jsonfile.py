"""Reading the JSON files swimsim takes, with every error as one line naming the file and the field.

:func:`load_json` parses a file. :func:`check` validates a parsed document against the pydantic
schema of its format (a :class:`~pydantic.TypeAdapter` of TypedDicts) and turns the first error,
in document order, into ``UserError("<file>: <where>: <what was expected>")``; each format may word
its expectations itself (an :data:`Explain` function), so a message names the record to edit and
reads the same whether the schema or a later semantic check found the problem. :func:`load_model`
reads and validates a file against a pydantic model (the application's input files), wording
pydantic's common errors as short ``expected ...`` messages; validators raise :func:`custom_error`
for messages of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from sim.util.errors import UserError

Loc = tuple[str | int, ...]
# (error location, document) -> (location to name, expectation text), or None for pydantic's own wording
Explain = Callable[[Loc, Any], tuple[Loc, str] | None]


M = TypeVar("M", bound=BaseModel)


def load_json(path: Path, *, not_found: str = "no such file or directory") -> Any:
    """json.load with a one-line UserError naming the file on failure (``not_found``: the message for a
    missing file)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UserError(f"{path}: {not_found}") from None
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
        if k == "[key]":  # pydantic's dict-key marker: the key itself is already in the path
            continue
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


# pydantic error type -> what the field expects, for the built-in errors a file most often hits
_EXPECTED = {
    "missing": "a value (field missing)",
    "dict_type": "an object",
    "model_type": "an object",
    "list_type": "a list",
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "bool_type": "true or false",
    "too_short": "a non-empty list",
}


def custom_error(message: str) -> PydanticCustomError:
    """A validation error whose message is ``message`` verbatim (no pydantic wording added)."""
    return PydanticCustomError("swimsim", message)  # no context: braces stay as written


def error_line(path: Path, err: ErrorDetails) -> str:
    """One line for one pydantic error: ``FILE: FIELD: message``."""
    if err["type"] == "swimsim":
        msg = err["msg"]
    elif err["type"] in _EXPECTED:
        msg = f"expected {_EXPECTED[err['type']]}"
        if err["type"] != "missing":
            msg = f"{err['input']!r} ({msg})"
    else:
        msg = err["msg"]
    return f"{path}: {where(err['loc'])}: {msg}" if err["loc"] else f"{path}: {msg}"


def load_model(path: Path, model: type[M], *, not_found: str = "no such file or directory") -> M:
    """``path`` read and validated as ``model``; UserError naming the file and the first bad field."""
    doc = load_json(path, not_found=not_found)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise UserError(error_line(path, exc.errors()[0])) from None
