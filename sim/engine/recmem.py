"""Smaller run records: one shared "fields set" per record class instead of one set per record.

Pydantic keeps, on every model instance, the set of field names given at construction (for
``exclude_unset``, which no swimsim output uses). For a 5-12 field record that set is 0.5-0.7 KiB,
more than the record's values; a run of 100 000 tasks makes about three records per task. The
records are still built (and validated, so every value is coerced exactly as before); only that
set is replaced by a class-wide one holding every field name (adding a name to it is a no-op).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel

__all__ = ["make_record", "shared_fields_set"]

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


def _checker(ann: Any) -> Callable[[Any], Any] | None:
    """For a field annotation: a function giving the value exactly as validation stores it (a fresh
    container, the same scalars), or raising ``_Slow`` when the value is not already of that exact
    type; None for an annotation it does not cover."""
    if ann is int or ann is str or ann is float:
        def scalar(v: Any, t: type = ann) -> Any:
            if type(v) is not t:
                raise _Slow
            return v
        return scalar
    origin, args = get_origin(ann), get_args(ann)
    if origin is Literal and all(type(a) is str for a in args):
        allowed = frozenset(args)

        def literal(v: Any) -> Any:
            if type(v) is not str or v not in allowed:
                raise _Slow
            return v
        return literal
    if origin is list and args == (int,):
        def ints(v: Any) -> Any:
            if type(v) is not list or any(type(x) is not int for x in v):
                raise _Slow
            return list(v)
        return ints
    if origin is dict and args == (str, float):
        def floats(v: Any) -> Any:
            if type(v) is not dict or any(type(k) is not str or type(x) is not float for k, x in v.items()):
                raise _Slow
            return dict(v)
        return floats
    if origin is list and len(args) == 1 and get_origin(args[0]) is tuple and get_args(args[0]) == (float, float):
        def pairs(v: Any) -> Any:
            if type(v) is not list or any(type(x) is not tuple or len(x) != 2 or type(x[0]) is not float
                                          or type(x[1]) is not float for x in v):
                raise _Slow
            return list(v)
        return pairs
    return None


def _const(v: Any) -> Any:
    return v


class _Slow(Exception):
    """A value needs pydantic's validation (coercion or an error message)."""


_PLANS: dict[type, list[tuple[str, Callable[[Any], Any], Callable[[], Any] | None]] | None] = {}
_SET = object.__setattr__


def _plan(cls: type[BaseModel]) -> list[tuple[str, Callable[[Any], Any], Callable[[], Any] | None]] | None:
    plan = []
    for name, f in cls.model_fields.items():
        chk = _checker(f.annotation)
        if (chk is None or f.alias is not None or f.validation_alias is not None
                or getattr(f, "default_factory_takes_data", False)):
            return None
        if f.is_required():
            default = None
        elif f.default_factory is not None:
            default = f.default_factory
        else:
            default = partial(_const, f.default)
        plan.append((name, chk, default))
    if cls.model_config.get("extra") != "forbid" or cls.__pydantic_post_init__ or cls.__pydantic_root_model__:
        return None
    return plan


def make_record(cls: type[M], **values: Any) -> M:
    """``shared_fields_set(cls(**values))``, without pydantic's validation pass when every value already
    has its field's exact type (ints, floats, strings, lists of ints, str -> float dicts, float pairs):
    the record is then what validation would build (same values, fresh containers, fields in
    declaration order). Any other value, a missing or an unknown field goes through validation."""
    plan = _PLANS.get(cls, False)
    if plan is False:
        plan = _PLANS[cls] = _plan(cls)
    if plan is not None and len(values) <= len(plan):
        d: dict[str, Any] = {}
        used = 0
        try:
            for name, chk, default in plan:
                if name in values:
                    d[name] = chk(values[name])
                    used += 1
                elif default is None:
                    raise _Slow
                else:
                    d[name] = default()
        except _Slow:
            pass
        else:
            if used == len(values):
                rec = cls.__new__(cls)
                _SET(rec, "__dict__", d)
                _SET(rec, "__pydantic_extra__", None)
                _SET(rec, "__pydantic_private__", None)
                return shared_fields_set(rec)
    return shared_fields_set(cls(**values))
