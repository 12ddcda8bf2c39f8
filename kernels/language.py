"""``import kernels.language as pl``: the recording stand-in for ``pypto.language``.

Running a ``@pl.jit`` entry through :func:`record` (or ``kernels.registry.build_graph``) executes
orchestration code as Python and records the task graph the PTO runtime would see, with each
block's in-core op list (see ``kernels/dsl/``). This module only gathers the names; names that the
recorder does not implement raise a one-line error naming the op.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kernels.dsl.control import cond, manual_scope, parallel, pipeline, scope, split_aiv, unroll, while_, yield_
from kernels.dsl.control import range_ as range  # pl.range, pl.slice, pl.abs, pl.min, pl.max: pypto names
from kernels.dsl.cube import record_cube, record_gather_row
from kernels.dsl.dynamic_dims import bind_dynamic  # also installs Tensor.bind_dynamic
from kernels.dsl.explicit_deps import Array, array, task_dummy
from kernels.dsl.jit import TensorSpec, jit, record
from kernels.dsl.kernel_scopes import at, auto_incore, get_block_idx, get_block_num, incore, spmd
from kernels.dsl.legacy import auto_chunk, chunked_loop_optimizer
from kernels.dsl.markers import cross_core_slot, dump_tag, no_dep, split, syncall
from kernels.dsl.ops_cube import aic_gather, aiv_shard, create_l1, gather_row, matmul, matmul_acc, move
from kernels.dsl.ops_memory import (
    assemble,
    create_tensor,
    create_tile,
    load_into,
    reshape,
    set_validshape,
    slice,
    store,
    transpose_view,
    view,
)
from kernels.dsl.ops_memory import load as _load
from kernels.dsl.ops_prefetch import async_prefetch, make_context
from kernels.dsl.ops_scalar import check_divisible, const, dim, error, max, min, read, set_data, write
from kernels.dsl.ops_vector import (
    abs,
    add,
    arange,
    cast,
    col_expand,
    col_expand_add,
    col_expand_div,
    col_expand_expdif,
    col_expand_mul,
    col_expand_sub,
    col_max,
    col_min,
    col_sum,
    concat,
    div,
    exp,
    fillpad,
    full,
    gather,
    log,
    maximum,
    minimum,
    mrgsort,
    mul,
    neg,
    recip,
    relu,
    row_argmax,
    row_argmin,
    row_expand,
    row_expand_add,
    row_expand_div,
    row_expand_mul,
    row_expand_sub,
    row_max,
    row_min,
    row_sum,
    rsqrt,
    scatter,
    sort32,
    sqrt,
    sub,
    transpose,
)
from kernels.dsl.programs import FunctionType, function, program
from kernels.dsl.submit import spmd_submit, submit
from kernels.dsl.tasks import TaskHandle
from kernels.dsl.tensors import Predicate, TensorView
from kernels.dsl.tiles import Tile, record_load, record_scalar, record_store, record_vec_op
from kernels.dsl.types import (
    BF16,
    BOOL,
    DN,
    FP16,
    FP32,
    INDEX,
    INT8,
    INT16,
    INT32,
    INT64,
    RUNTIME,
    TASK_ID,
    UINT8,
    UINT32,
    AtomicType,
    DataType,
    InOut,
    Level,
    MaskPattern,
    Mem,
    MemorySpace,
    Out,
    PadValue,
    Scalar,
    SplitMode,
    TaskId,
    Tensor,
    dynamic,
)
from sim.util.errors import UserError


def load(x: TensorView, offsets: list[int], shapes: list[int], valid_shape: list[int] | None = None,
         target_memory: Any = MemorySpace.Vec, *, valid_shapes: list[int] | None = None,
         transpose: bool = False) -> Tile:
    """``pl.load``: GM -> on-chip tile of ``shapes`` elements; ``valid_shapes`` (pypto's spelling) is
    ``valid_shape``. ``transpose=True`` gives the window's tile with its last two dims swapped, as
    :func:`transpose_view` of the plain load (a DN load: its rows need no ND -> NZ conversion)."""
    if valid_shapes is not None and valid_shape is not None:
        raise UserError("pl.load: give valid_shape or valid_shapes, not both")
    t = _load(x, offsets, shapes, valid_shapes if valid_shapes is not None else valid_shape, target_memory)
    return transpose_view(t) if transpose else t


# ``pl.tile`` / ``pl.tensor``: the tile and tensor ops under their pypto namespaces
_TILE_OPS = (
    add, sub, mul, div, maximum, minimum, neg, abs, exp, log, sqrt, rsqrt, recip, relu, cast, full, arange,
    fillpad, row_sum, row_max, row_min, row_argmax, row_argmin, col_sum, col_max, col_min, row_expand, row_expand_mul,
    row_expand_div,
    row_expand_sub, row_expand_add, col_expand_mul, col_expand_add, col_expand_sub, col_expand_div, col_expand,
    gather, scatter, transpose, concat, sort32, mrgsort, col_expand_expdif, matmul, matmul_acc, create_tensor,
    create_tile, create_l1, gather_row, move, slice,
    view, reshape, transpose_view, set_validshape, load, store, assemble, read, write, min, max, dim, set_data, error,
    check_divisible, get_block_idx, get_block_num,
)
class UnsupportedOp(UserError, AttributeError):
    """A ``pl`` name the recorder does not implement."""


class _Namespace(SimpleNamespace):
    """``pl.tile`` / ``pl.tensor`` / ``pl.system``: a name it lacks is an :class:`UnsupportedOp`."""

    def __init__(self, prefix: str, **names: Any) -> None:
        super().__init__(**names)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise UnsupportedOp(f"pl.{self._prefix}.{name} is not supported by the swimsim recording DSL")


_TILE_NS = {f.__name__: f for f in _TILE_OPS} | {"INDEX": INDEX, "MaskPattern": MaskPattern, "ci": arange}
tile = _Namespace("tile", **_TILE_NS, create=create_tile)
tensor = _Namespace("tensor", **_TILE_NS, create=create_tensor)
system = _Namespace("system", task_dummy=task_dummy, syncall=syncall, available_cluster_count=lambda: 24,
                    available_aiv_count=lambda: 48)
inline = jit.inline
prefetch = _Namespace("prefetch", make_context=make_context, async_prefetch=async_prefetch)


# pypto names met in pypto-lib files that the recorder rejects on purpose, with what they are
REJECTED = {
    "distributed": "multi-device programs; swimsim simulates one device",
}


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name in REJECTED:
        raise UnsupportedOp(f"pl.{name} ({REJECTED[name]}) is not supported by the swimsim recording DSL")
    raise UnsupportedOp(f"pl.{name} is not supported by the swimsim recording DSL")


__all__ = [
    # types, annotations, enums
    "BF16", "BOOL", "DN", "FP16", "FP32", "INDEX", "INT8", "INT16", "INT32", "INT64", "RUNTIME", "TASK_ID",
    "UINT8", "UINT32", "AtomicType", "DataType", "InOut", "Level", "MaskPattern", "Mem", "MemorySpace", "Out",
    "PadValue", "Scalar", "SplitMode", "TaskId", "Tensor", "dynamic",
    # values
    "Array", "Predicate", "TaskHandle", "TensorSpec", "TensorView", "Tile", "UnsupportedOp",
    # entries, scopes, control flow, submission
    "jit", "inline", "program", "function", "FunctionType",
    "record", "at", "spmd", "get_block_idx", "get_block_num", "manual_scope",
    "scope", "range", "parallel", "pipeline", "unroll", "split_aiv", "while_", "yield_", "cond", "array", "task_dummy",
    "submit", "spmd_submit", "system", "prefetch", "split", "cross_core_slot", "no_dep", "chunked_loop_optimizer",
    "auto_chunk", "incore", "auto_incore", "dump_tag",
    # operations
    "add", "sub", "mul", "div", "maximum", "minimum", "neg", "abs", "exp", "log", "sqrt", "rsqrt", "recip",
    "relu", "cast", "full", "arange", "fillpad", "row_sum", "row_max", "row_min", "col_sum", "col_max",
    "col_min", "row_expand", "row_expand_mul", "row_expand_div", "row_expand_sub", "row_expand_add", "col_expand_mul",
    "col_expand_add", "col_expand_sub", "col_expand_div", "col_expand", "col_expand_expdif", "gather", "scatter",
    "row_argmax", "row_argmin",
    "transpose", "concat", "sort32", "mrgsort", "matmul", "matmul_acc", "create_l1", "gather_row",
    "aiv_shard", "aic_gather", "move", "create_tensor", "create_tile", "slice", "view", "reshape", "transpose_view",
    "set_validshape",
    "load", "store", "assemble", "load_into", "read", "write", "min", "max", "dim", "set_data", "error",
    "check_divisible", "const", "tile", "tensor", "bind_dynamic",
    # recorder API for new ops
    "record_load", "record_store", "record_vec_op", "record_scalar", "record_cube", "record_gather_row",
]
