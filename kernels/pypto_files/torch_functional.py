"""The ``torch.nn.functional`` names of the torch stand-in (:mod:`kernels.pypto_files.torch_standin`)
that kernel goldens use; any other name raises :class:`TorchUnavailable` naming it."""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.pypto_files.torch_standin import relu, sigmoid, softmax  # noqa: F401 - the names it provides
from kernels.pypto_files.torch_tensor import _HINT, Tensor, TorchUnavailable


def silu(t: Tensor, inplace: bool = False) -> Tensor:  # noqa: FBT001 - torch's signature
    """x · sigmoid(x), in the tensor's dtype."""
    return Tensor(t.a / (1.0 + np.exp(-t.a)), t.dtype)


def softplus(t: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta · x)) / beta, and x itself where beta · x > threshold, in the tensor's dtype."""
    a = t.a
    bx = a * beta
    return Tensor(np.where(bx > threshold, a, np.logaddexp(0.0, bx) / beta).astype(a.dtype, copy=False), t.dtype)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise TorchUnavailable(f"torch.nn.functional.{name} {_HINT}")
