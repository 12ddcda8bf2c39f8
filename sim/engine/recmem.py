"""Smaller run records: one shared "fields set" per record class instead of one set per record.

Pydantic keeps, on every model instance, the set of field names given at construction (for
``exclude_unset``, which no swimsim output uses). For a 5-12 field record that set is 0.5-0.7 KiB,
more than the record's values; a run of 100 000 tasks makes about three records per task. The
records are still built (and validated, so every value is coerced exactly as before); only that
set is replaced by a class-wide one holding every field name (adding a name to it is a no-op).
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

__all__ = ["shared_fields_set"]

M = TypeVar("M", bound=BaseModel)
_SETS: dict[type, set[str]] = {}


def shared_fields_set(rec: M) -> M:
    """``rec`` with its class's shared fields set (all field names); returns ``rec``."""
    cls = type(rec)
    s = _SETS.get(cls)
    if s is None:
        s = _SETS[cls] = set(cls.model_fields)
    object.__setattr__(rec, "__pydantic_fields_set__", s)
    return rec
