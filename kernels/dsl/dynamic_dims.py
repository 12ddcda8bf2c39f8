"""``Tensor.bind_dynamic(axis, dim)``: an entry parameter states that its size along ``axis`` is the
dynamic dimension ``dim`` (``pl.dynamic``). The recording binds ``dim`` to that size (read by
``pl.record``'s parameters, e.g. block-count expressions). Binding a bound name to another size keeps
the first size, with one ``swimsim: warning:`` line (a tensor sized for more rows than the dim, as
pypto-lib's qwen3 ``prefill_fwd.py`` passes ``out``).
"""

from __future__ import annotations

import warnings

from kernels.dsl.context import current
from kernels.dsl.tensors import TensorView
from kernels.dsl.types import Dyn
from kernels.dsl.values import kernel_line
from sim.util.errors import InputWarning, UserError


def bind_dynamic(view: TensorView, axis: int, dim: Dyn) -> TensorView:
    """Bind the dynamic dim ``dim`` to ``view.shape[axis]`` (elements); returns ``view``."""
    if not isinstance(dim, Dyn):
        raise UserError(f"bind_dynamic: {dim!r} is not a pl.dynamic dimension")
    rank = len(view.shape)
    if not -rank <= int(axis) < rank:
        raise UserError(f"bind_dynamic: axis {axis} is out of range for a rank-{rank} tensor")
    size = int(view.shape[int(axis)])
    rec = current()
    bound = rec.dyn.get(dim.name)
    if bound is not None and int(bound) != size:
        warnings.warn(f"{kernel_line()}: bind_dynamic: {dim.name} is bound to {bound}, but axis {axis} of "
                      f"{view.name} is {size}: {dim.name} stays {bound}", InputWarning, stacklevel=2)
        return view
    rec.dyn[dim.name] = size
    return view


TensorView.bind_dynamic = bind_dynamic  # type: ignore[attr-defined]
