"""The recording in progress: the stack of active recordings and what every layer asks of one.

``pl.record`` makes a :class:`Recording` (the recorder of :mod:`kernels.dsl.tasks` is one) current
for the time an entry runs. Tensors, tiles and ops reach it through :func:`current` / :func:`active`
(or ``ACTIVE`` on hot paths) without importing the recorder. A recording's ``kernel`` is the open
kernel scope (:class:`kernels.dsl.tiles.KernelScope`) or None in orchestration code; indexing a GM
tensor inside a kernel scope records through that object's ``load(view)`` / ``store(value, view)``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from sim.util.errors import UserError


class ValueNotComputed(UserError):
    """Value mode met a data-dependent decision (a ``pl.read``, a predicate, a read tile element) whose
    value swimsim does not compute: the file can still be recorded without values."""


class Recording:
    """A recording in progress: the kernel's name and its open kernel scope; the current one while entered."""

    def __init__(self, kernel_name: str) -> None:
        self.kernel_name = kernel_name
        self.kernel: Any = None  # the open kernel scope, or None in orchestration code

    def __enter__(self) -> Recording:
        ACTIVE.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        ACTIVE.remove(self)

    def where(self) -> str:
        """``kernel[: scope S[: block B]]``: where the recording is, for error messages."""
        parts = [self.kernel_name]
        if self.kernel is not None:
            parts.append(f"scope {self.kernel.task.name}")
            if self.kernel.block_idx is not None:
                parts.append(f"block {self.kernel.block_idx}")
        return ": ".join(parts)

    def error(self, msg: str) -> NoReturn:
        """Raise a one-line UserError naming kernel, scope and the offending value (``pl.record`` puts
        the kernel's ``file:line`` in front)."""
        raise UserError(f"{self.where()}: {msg}")

    def value_error(self, msg: str) -> NoReturn:
        """As :meth:`error`, raised as :class:`ValueNotComputed` (a value mode limit, not bad input)."""
        raise ValueNotComputed(f"{self.where()}: {msg}")


ACTIVE: list[Any] = []  # the recordings in progress, innermost last (read-only outside this module)


def current() -> Any:
    """The active recording (a :class:`kernels.dsl.tasks.Recorder`; a UserError outside a recording)."""
    if not ACTIVE:
        raise UserError("pl: no active recording (call a @pl.jit function through kernels.registry or pl.record)")
    return ACTIVE[-1]


def active() -> Any:
    """The active recording, or None outside a recording."""
    return ACTIVE[-1] if ACTIVE else None


def in_kernel() -> bool:
    """True inside an open kernel scope of the active recording."""
    rec = active()
    return rec is not None and rec.kernel is not None
