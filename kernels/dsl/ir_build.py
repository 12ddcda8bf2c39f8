"""``sim.ir`` objects built without validation: the recording makes many thousands of Regions and Ops
whose fields it has already checked, and pydantic validation would dominate the build time."""

from __future__ import annotations

from sim.ir import Op, Region
from sim.util.unvalidated import model_factory

_new_region = model_factory(Region)
make_op = model_factory(Op)  # an Op from a dict holding every field (no validation)


def make_region(tensor: int, offset: list[int], shape: list[int]) -> Region:
    """A :class:`Region` (``offset``/``shape`` in elements) built without validation; takes the lists."""
    return _new_region({"tensor": tensor, "offset": offset, "shape": shape})
