"""Pydantic models built without validation, for objects made by the thousand from values already checked.

The recorder makes many thousands of IR ``Op``/``Region`` objects and the engine about three records
per task; pydantic validation would cost more than the work itself. :func:`model_factory` makes an
instance straight from a dict holding every field, each value already of its field's type (floats as
``float``, fresh lists and dicts the instance owns); the instance keeps the dict as its ``__dict__``.
Pydantic keeps, on every instance, the set of field names given at construction (for
``exclude_unset``, which no swimsim output uses); these instances share one class-wide set holding
every field name instead of a 0.5-0.7 KiB set each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["model_factory"]

M = TypeVar("M", bound=BaseModel)


def _slot_setter(name: str) -> Any:
    """Setter of one of BaseModel's slots (the member descriptor's ``__set__``, faster than
    ``object.__setattr__``)."""
    d = BaseModel.__dict__.get(name)
    if d is not None and hasattr(d, "__set__"):
        return d.__set__
    return lambda m, v: object.__setattr__(m, name, v)


_SET_DICT = _slot_setter("__dict__")
_SET_FS = _slot_setter("__pydantic_fields_set__")
_SET_EX = _slot_setter("__pydantic_extra__")
_SET_PR = _slot_setter("__pydantic_private__")


def model_factory(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """``make(values)``: a ``cls`` instance from a dict holding every field of ``cls`` (no validation)."""
    fields = set(cls.model_fields)

    def make(values: dict[str, Any], _new: Any = object.__new__, _cls: Any = cls, _d: Any = _SET_DICT,
             _fset: set[str] = fields, _fs: Any = _SET_FS, _ex: Any = _SET_EX, _pr: Any = _SET_PR) -> Any:
        m = _new(_cls)
        _d(m, values)
        _fs(m, _fset)  # shared: every field is always set
        _ex(m, None)
        _pr(m, None)
        return m

    return make
