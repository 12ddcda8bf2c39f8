"""Pausing the cyclic garbage collector around work that only adds objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (a simulation or a trace write only adds
    objects, and each collection would scan all of them again), restored on exit; reference counting
    still frees everything acyclic. No ``gc.freeze()``: unfreezing would undo a caller's own freeze."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
