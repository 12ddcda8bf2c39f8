"""Dtypes, annotations, enums and the cast-hop table of the recording ``pl``.

Sizes are bytes per element. Nothing here records anything; it is the vocabulary the recorder and
kernel files share (pypto ``docs/en/user/language/00-types.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sim.util.errors import UserError


@dataclass(frozen=True)
class DataType:
    """An element format: ``name`` as in the IR ("BF16", ...), ``size`` in bytes."""

    name: str
    size: int

    def __repr__(self) -> str:
        return f"pl.{self.name}"


BF16 = DataType("BF16", 2)
FP16 = DataType("FP16", 2)
FP32 = DataType("FP32", 4)
INT8 = DataType("INT8", 1)
UINT8 = DataType("UINT8", 1)
INT16 = DataType("INT16", 2)
INT32 = DataType("INT32", 4)
INT64 = DataType("INT64", 8)
UINT32 = DataType("UINT32", 4)
INDEX = DataType("INDEX", 8)
TASK_ID = DataType("TASK_ID", 8)
BOOL = DataType("BOOL", 1)

DTYPES: dict[str, DataType] = {
    d.name: d for d in (BF16, FP16, FP32, INT8, UINT8, INT16, INT32, INT64, UINT32, INDEX, TASK_ID, BOOL)
}

# Cast hop counts on a2a3: (from, to) -> tcvt instructions (pypto docs/en/dev/passes/14-legalize_tile_cast.md,
# the Ascend910B table).
_NATIVE = {
    "BF16": {"FP32", "INT32"},
    "FP16": {"FP32", "INT16", "INT32", "INT8", "UINT8"},
    "FP32": {"BF16", "FP16", "INT16", "INT32", "INT64"},
    "INT16": {"FP16", "FP32"},
    "INT32": {"FP16", "FP32", "INT16", "INT64"},
    "INT64": {"FP32", "INT32"},
    "INT8": {"FP16"},
    "UINT8": {"FP16"},
}
_CHAINS = {
    ("BF16", "FP16"): 2, ("BF16", "INT16"): 2, ("BF16", "INT8"): 3, ("BF16", "UINT8"): 3,
    ("FP16", "BF16"): 2,
    ("FP32", "INT8"): 2, ("FP32", "UINT8"): 2,
    ("INT16", "BF16"): 2, ("INT16", "INT8"): 2, ("INT16", "UINT8"): 2,
    ("INT32", "BF16"): 2, ("INT32", "INT8"): 2, ("INT32", "UINT8"): 2,
    ("INT64", "BF16"): 2, ("INT64", "FP16"): 2, ("INT64", "INT16"): 2, ("INT64", "INT8"): 3,
    ("INT64", "UINT8"): 3,
    ("INT8", "UINT8"): 2, ("UINT8", "INT8"): 2,
}


def cast_hops(src: DataType, dst: DataType) -> int | None:
    """tcvt instructions for a tile cast ``src -> dst`` (0 = same type; None = not legal)."""
    if src.name == dst.name:
        return 0
    if dst.name in _NATIVE.get(src.name, set()):
        return 1
    return _CHAINS.get((src.name, dst.name))


class Dyn:
    """A dynamic dimension symbol (``pl.dynamic("T")``); bound to an int per recording."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"pl.dynamic({self.name!r})"


def dynamic(name: str) -> Dyn:
    """Declare a dynamic shape symbol."""
    return Dyn(name)


@dataclass(frozen=True)
class TensorType:
    """A ``pl.Tensor[[dims], dtype]`` annotation (dims are ints or :class:`Dyn`)."""

    shape: tuple[Any, ...] | None
    dtype: DataType | None
    direction: str = "In"  # In | Out | InOut


class _Layout:
    """A tensor layout marker (``pl.DN``); rejected on annotations, as pypto's parser does
    (``python/pypto/language/parser/type_resolver.py``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"pl.{self.name}"


DN = _Layout("DN")


class _Runtime:
    """``pl.RUNTIME``: default of a ``pl.Scalar`` parameter that stays unspecialised (a value is
    required when recording)."""

    def __repr__(self) -> str:
        return "pl.RUNTIME"


RUNTIME = _Runtime()


class _TensorMeta(type):
    def __getitem__(cls, item: Any) -> TensorType:
        if isinstance(item, tuple) and any(isinstance(x, _Layout) for x in item):
            raise UserError("pl.Tensor[...]: layout marker pl.DN is not supported on a Tensor annotation; "
                            "use b_trans=True on pl.matmul or pl.transpose instead")
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError("pl.Tensor[[dims...], dtype] expects a shape list and a dtype")
        shape, dtype = item
        return TensorType(tuple(shape), dtype)


class Tensor(metaclass=_TensorMeta):
    """Annotation ``pl.Tensor[[d0, d1], pl.BF16]`` (bare ``pl.Tensor`` = shape from the argument)."""


class _DirMeta(type):
    direction = "In"

    def __getitem__(cls, item: Any) -> TensorType:
        if isinstance(item, TensorType):
            return TensorType(item.shape, item.dtype, cls.direction)
        if item is Tensor:
            return TensorType(None, None, cls.direction)
        raise TypeError(f"pl.{cls.__name__}[...] expects a pl.Tensor annotation")


class Out(metaclass=_DirMeta):
    """Parameter direction: written, not read."""

    direction = "Out"


class InOut(metaclass=_DirMeta):
    """Parameter direction: read and written."""

    direction = "InOut"


class _ScalarMeta(type):
    def __getitem__(cls, item: Any) -> Any:
        return ("Scalar", item)


class Scalar(metaclass=_ScalarMeta):
    """Annotation ``pl.Scalar[pl.INT32]`` for by-value parameters."""


TaskId = Scalar[TASK_ID]


class Level(Enum):
    HOST = "HOST"
    CHIP = "CHIP"
    CLUSTER = "CLUSTER"
    CORE_GROUP = "CORE_GROUP"


class MemorySpace(Enum):
    DDR = "DDR"
    Vec = "Vec"
    Mat = "Mat"
    Left = "Left"
    Right = "Right"
    Acc = "Acc"
    Bias = "Bias"


Mem = MemorySpace


class PadValue(Enum):
    null = "null"
    zero = "zero"
    max = "max"
    min = "min"


class AtomicType(Enum):
    None_ = "None"
    Add = "Add"


class SplitMode(Enum):
    NONE = "NONE"
    UP_DOWN = "UP_DOWN"
    LEFT_RIGHT = "LEFT_RIGHT"


class MaskPattern(Enum):
    P0101 = 1
    P1010 = 2
    P0001 = 3
    P0010 = 4
    P0100 = 5
    P1000 = 6
    P1111 = 7
