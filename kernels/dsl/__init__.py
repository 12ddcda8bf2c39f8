"""The recording ``pypto.language`` stand-in (import it as ``import kernels.language as pl``).

Modules: ``types`` (dtypes, annotations, enums), ``recorder`` (GM tensors, tasks, TaskGraph),
``block`` (tiles, per-block nodes, lowering to ``sim.ir.Op``; the ``record_*`` API for new ops),
``scopes`` (jit, at, spmd, loops, handles), ``ops`` (tile/tensor ops), ``ops_extra`` (ops added
for further kernels).
"""
