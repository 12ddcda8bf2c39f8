"""``import kernels.language as pl``: the recording stand-in for ``pypto.language``.

Running a ``@pl.jit`` entry through :func:`record` (or ``kernels.registry.build_graph``) executes
orchestration code as Python and records the task graph the PTO runtime would see, with each
block's in-core op list (see ``kernels/dsl/``). Names that the recorder does not implement raise
a one-line error naming the op.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kernels.dsl.kernel_scopes import (  # noqa: F401
    Array,
    TensorSpec,
    array,
    at,
    get_block_idx,
    get_block_num,
    jit,
    manual_scope,
    parallel,
    pipeline,
    record,
    scope,
    split_aiv,
    spmd,
    task_dummy,
    unroll,
)
from kernels.dsl.kernel_scopes import range_ as range  # noqa: A004,F401
from kernels.dsl.ops_vector import *  # noqa: F401,F403
from kernels.dsl.ops_vector import (
    arange,
    assemble,
    cast,
    create_l1,
    create_tensor,
    create_tile,
    fillpad,
    full,
    gather,
    gather_row,
    load,
    matmul,
    matmul_acc,
    read,
    reshape,
    set_validshape,
    store,
    write,
)
from kernels.dsl.ops_vector import slice as _slice
from kernels.dsl.tasks import TaskHandle, TensorView  # noqa: F401
from kernels.dsl.tiles import (  # noqa: F401
    Tile,
    record_cube,
    record_gather_row,
    record_load,
    record_scalar,
    record_store,
    record_vec_op,
)
from kernels.dsl.types import (  # noqa: F401
    BF16,
    BOOL,
    FP16,
    FP32,
    INDEX,
    INT8,
    INT16,
    INT32,
    INT64,
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


def split(mode: Any = None, slot_num: int | None = None) -> tuple[str, Any, Any]:
    """``pl.split(mode)`` optimisation marker (recorded as a no-op)."""
    return ("split", mode, slot_num)


def cross_core_slot(slot_num: int = 2) -> tuple[str, int]:
    """``pl.cross_core_slot(slot_num=N)`` optimisation marker (recorded as a no-op)."""
    return ("cross_core_slot", slot_num)


def no_dep(t: Any) -> Any:
    return t


def _tile_ns() -> SimpleNamespace:
    import kernels.dsl.ops_vector as o

    names = {n: getattr(o, n) for n in o.__all__}
    names.update(get_block_idx=get_block_idx, get_block_num=get_block_num, MaskPattern=MaskPattern,
                 load=load, store=store, create_tile=create_tile, full=full, slice=_slice)
    return SimpleNamespace(**names)


tile = _tile_ns()
tensor = _tile_ns()
system = SimpleNamespace(task_dummy=task_dummy, available_cluster_count=lambda: 24,
                         available_aiv_count=lambda: 48)
inline = jit.inline

_ = (arange, assemble, cast, create_l1, create_tensor, fillpad, gather, gather_row, matmul, matmul_acc,
     read, reshape, set_validshape, write)


class UnsupportedOp(UserError, AttributeError):
    """A ``pl`` name the recorder does not implement."""


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise UnsupportedOp(f"pl.{name} is not supported by the swimsim recording DSL")


from kernels.dsl.ops_memory import *  # noqa: F401,F403,E402
from kernels.dsl.submit import *  # noqa: F401,F403,E402
