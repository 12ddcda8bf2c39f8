"""``sim.ir`` objects built without validation: the recording makes many thousands of Regions and Ops
whose fields it has already checked, and pydantic validation would dominate the build time."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sim.ir import Op, Region


def _slot_setter(name: str) -> Any:
    """Setter of one of BaseModel's slots (the member descriptor's ``__set__``, a bit faster than
    ``object.__setattr__``)."""
    d = BaseModel.__dict__.get(name)
    if d is not None and hasattr(d, "__set__"):
        return d.__set__
    return lambda m, v: object.__setattr__(m, name, v)


_SET_FS = _slot_setter("__pydantic_fields_set__")
_SET_EX = _slot_setter("__pydantic_extra__")
_SET_PR = _slot_setter("__pydantic_private__")
_SET_DICT = _slot_setter("__dict__")


def model_factory(cls: Any) -> Any:
    """``make(data)``: a ``cls`` instance from a dict holding every field of ``cls``, already valid
    (no validation; the instance keeps ``data`` as its ``__dict__``)."""
    fields = set(cls.model_fields)

    def make(data: dict[str, Any], _new: Any = object.__new__, _cls: Any = cls, _d: Any = _SET_DICT,
             _fset: set[str] = fields, _fs: Any = _SET_FS, _ex: Any = _SET_EX, _pr: Any = _SET_PR) -> Any:
        m = _new(_cls)
        _d(m, data)
        _fs(m, _fset)  # shared: every field is always set
        _ex(m, None)
        _pr(m, None)
        return m

    return make


_new_region = model_factory(Region)
make_op = model_factory(Op)  # an Op from a dict holding every field (no validation)


def make_region(tensor: int, offset: list[int], shape: list[int]) -> Region:
    """A :class:`Region` (``offset``/``shape`` in elements) built without validation; takes the lists."""
    return _new_region({"tensor": tensor, "offset": offset, "shape": shape})
