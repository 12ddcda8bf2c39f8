"""``pypto.language.distributed`` as a pypto kernel file sees it while swimsim runs the file.

swimsim simulates one device. Only the pure annotation is supported: ``DistributedTensor[[dims],
dtype]`` on a parameter is a ``pl.Tensor`` annotation (the window buffer is a GM tensor of this
device), so helpers that take one load and record unchanged as long as they do no communication.
Every other name (windows, ``put``/``remote_store``, ``notify``/``wait``, ``world_size``, the
enums) is cross-device communication and stops with one line naming it; the loader puts the
kernel's ``file:line`` in front.
"""

from __future__ import annotations

from typing import Any

from kernels.dsl.types import Tensor, TensorType
from sim.util.errors import UserError

_HINT = "(multi-device programs and communication) is not supported by swimsim, which simulates one device"


class UnsupportedDistributed(UserError, AttributeError):
    """A ``pypto.language.distributed`` name other than the annotation."""


class _DistributedMeta(type):
    def __getitem__(cls, item: Any) -> TensorType:
        return Tensor[item]


class DistributedTensor(metaclass=_DistributedMeta):
    """Annotation ``pld.DistributedTensor[[d0, d1], pl.BF16]``: recorded as ``pl.Tensor[...]``."""


class _Rejecting:
    """A sub-namespace (``pld.system``, ``pld.tensor``, ``pld.tile``): every name stops."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise UnsupportedDistributed(f"pypto.language.distributed.{self._prefix}.{name} {_HINT}")


system = _Rejecting("system")
tensor = _Rejecting("tensor")
tile = _Rejecting("tile")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise UnsupportedDistributed(f"pypto.language.distributed.{name} {_HINT}")
