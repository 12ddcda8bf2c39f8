"""``pl.prefetch``: an L2 warm of GM data by the SDMA engine, issued from a kernel.

``ctx = pl.prefetch.make_context()`` opens one SDMA stream; ``pl.prefetch.async_prefetch(tensor, ctx)``
queues a warm of ``tensor`` on it. The warm is a cache hint with no destination: no value changes,
and the kernel does not wait for it. swimsim records each call as its issue, one SCALAR op of the
kernel (``core.scalar_access_cycles``); the SDMA stream itself, its HBM traffic and the lines it
fills are not modelled (the L2 state of a run's inputs is chosen with ``--l2``), which one
``swimsim: warning:`` line per kernel line says.
"""

from __future__ import annotations

import warnings
from typing import Any

from kernels.dsl.context import current
from kernels.dsl.tensors import TensorView
from kernels.dsl.tiles import kernel_scope
from kernels.dsl.values import kernel_line
from sim.util.errors import InputWarning


class PrefetchContext:
    """One SDMA prefetch stream (``pl.prefetch.make_context()``); counts the warms queued on it."""

    def __init__(self) -> None:
        self.queued = 0


def make_context() -> PrefetchContext:
    """``pl.prefetch.make_context()`` inside a kernel scope."""
    kernel_scope()
    return PrefetchContext()


def async_prefetch(view: Any, ctx: Any = None) -> None:
    """``pl.prefetch.async_prefetch(tensor, ctx)``: one SCALAR issue op; the warm is not modelled."""
    ks = kernel_scope()
    if not isinstance(view, TensorView):
        current().error(f"pl.prefetch.async_prefetch: expects a GM tensor, got {type(view).__name__}")
    if ctx is not None and not isinstance(ctx, PrefetchContext):
        current().error("pl.prefetch.async_prefetch: the context must come from pl.prefetch.make_context()")
    n = ks.add("scalar", "prefetch", [], [1], view.dtype, "shared")
    n.nbytes = 0
    if isinstance(ctx, PrefetchContext):
        ctx.queued += 1
    warnings.warn(f"{kernel_line()}: scope {ks.task.name}: pl.prefetch.async_prefetch of {view.name} "
                  "is recorded as its issue only (the SDMA warm of L2 is not modelled; --l2 sets the inputs' "
                  "L2 state)", InputWarning, stacklevel=2)
