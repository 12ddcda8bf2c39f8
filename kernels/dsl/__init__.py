"""The recording ``pypto.language`` stand-in (import it as ``import kernels.language as pl``).

Modules: ``types`` (dtypes, annotations, enums, cast hops), ``tasks`` (GM tensors/views, runtime
scopes, task records, TaskGraph assembly), ``tiles`` (tiles, per-block nodes, lowering to
``sim.ir.Op``), ``kernel_scopes`` (jit, at, spmd, loops, arrays, task_dummy, ``record``), ``ops_vector``
(tile/tensor ops), ``ops_memory`` (ops added for further kernels), ``submit`` (``submit``/``spmd_submit``
of kernel functions, ``while_``/``cond``, ``sort32``/``mrgsort``, ``col_expand_expdif``,
``aiv_shard``/``aic_gather``, ``RUNTIME``, the rejected ``DN``, legacy ``chunked_loop_optimizer``).

Running a kernel::

    graph = pl.record(entry, kernel="name", variant="v", mode="decode", dyn={"T": 8},
                      params={...}, data={"param": ndarray}, args={"variant": "v"})

Recorder API for new ops (``kernels.dsl.tiles``; all must be called inside a kernel scope):

* ``record_load(view, tile_shape=None, valid_shape=None, space=None) -> Tile`` - GM -> UB/L1 (the
  side is decided at block end: L1 if a matmul consumes it; ``space="Mat"`` forces L1).
* ``record_store(tile, view, atomic=False)`` - FIXPIPE from a matmul result, MTE3 otherwise.
* ``record_vec_op(name, out_shape, dtype, inputs, *, valid_shape=None, work_shape=None, hops=1,
  in_dtype=None) -> Tile`` - one VECTOR op on AIV lane 0; ``work_shape`` = region iterated
  (default: output valid region); inputs may be tiles, GM views (loaded whole) or Python scalars.
* ``record_cube(name, a, b, *, acc=None, out_dtype=None, a_trans=False, b_trans=False) -> Tile`` -
  "matmul"/"matmul_acc" with L1->L0 moves; operand dtype mismatch is a user error.
* ``record_scalar(name, view, index, write=False)`` - a SCALAR-pipe GM access (lane: that of the
  next tile op in the block).
* ``record_gather_row(l1_tile, view, dst_offset, valid_shape=None) -> Tile`` - GM -> L1 row DMA.
* ``new_l1_tile(shape, dtype)``, ``as_tile(value)``, ``kernel_scope()`` (raises the "misplaced op"
  error outside a kernel), ``current().error(msg)`` (one-line UserError naming kernel/scope/block).

Semantics (dsl-surface.md §2, §18): a cube op and a vector op in one scope make a MIX task; every
cube<->vector crossing becomes a push/pop hand-off pair (kind "handoff", ring depth 2) and AIV
lane 1 replays the hand-offs with 0 bytes. Op.deps are RAW (values) plus WAR on per-call-site
buffer slots (``pl.pipeline(stage=s)`` gives ``s`` slots, 1 otherwise). Blocks of one task whose
recorded programs are equal (up to GM offsets) share their region-free Op objects: treat ops
as read-only.

Known limits: integer indexing keeps the dimension (``x[3, 0:64]`` is ``[1, 64]``); orchestration
``pl.transpose``/``pl.assemble`` and ``pl.range(init_values=...)`` carrying are not supported;
``pl.split``/``split_aiv`` halving is not modelled (lane 0 does all vector work); the FIXPIPE
cast folding of a matmul result (§7) is not applied; ``predicate=`` is validated and kept on the task
record with the policy "true" (the IR has no field for it); ``chunked_loop_optimizer`` scopes are
plain ``pl.at`` tasks unless they hold a ``pl.parallel(n, chunk=C)`` loop (then one task per chunk,
[INFERRED]); ``aiv_shard``/``aic_gather`` only check and name the crossing (the hand-off is recorded
where the value is consumed).
"""
