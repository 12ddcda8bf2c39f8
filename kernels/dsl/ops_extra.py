"""Extra ops for further kernels (owned by the decode_attention_hca helper).

Define new ops with the recorder API of :mod:`kernels.dsl.block` (``record_vec_op``,
``record_load``, ``record_store``, ``record_cube``, ``record_scalar``, ``record_gather_row``)
and list their names in ``__all__``; ``kernels.language`` re-exports them last.
"""

from __future__ import annotations

__all__: list[str] = []
