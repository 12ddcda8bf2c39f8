"""The application's JSON input files: read, validate against a pydantic model, one-line errors.

Every error is a :class:`UserError` of one line naming the file and, for a bad value, the field
(``m.json: workloads.x.metrics: expected an object``). Validators raise
:class:`pydantic_core.PydanticCustomError` for messages of their own; pydantic's built-in errors
are worded as short ``expected ...`` messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from sim.util.errors import UserError

M = TypeVar("M", bound=BaseModel)

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


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('workloads', 'x', 'metrics')`` -> ``workloads.x.metrics``; list indices as ``[i]``; dict-key
    markers dropped (the key itself is already in the path)."""
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


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
    where = field_path(err["loc"])
    return f"{path}: {where}: {msg}" if where else f"{path}: {msg}"


def read_json(path: Path, *, not_found: str = "no such file or directory") -> Any:
    """The parsed JSON of ``path``; UserError ``PATH: not_found`` or ``PATH: not valid JSON (...)``."""
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise UserError(f"{path}: {not_found}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc


def load_model(path: Path, model: type[M], *, not_found: str = "no such file or directory") -> M:
    """``path`` read and validated as ``model``; UserError naming the file and the first bad field."""
    doc = read_json(path, not_found=not_found)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise UserError(error_line(path, exc.errors()[0])) from None
