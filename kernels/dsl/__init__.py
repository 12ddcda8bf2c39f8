"""The recording ``pypto.language`` stand-in (import it as ``import kernels.language as pl``).

Layers, each importing only the ones below it (the import-linter contract in pyproject.toml):

1. ``types`` (dtypes, annotations, enums, cast hops); ``context`` (the active recording, errors);
   ``ir_build`` (``sim.ir`` Regions and Ops built without validation).
2. ``values`` (value mode: the numpy semantics of each op, a table keyed by op name; GM backing arrays);
   ``tensors``: GM buffers and views (``pl.Tensor`` values), view geometry, dispatch predicates.
3. ``tasks``: task records, runtime scopes, the ``Recorder`` and its TaskGraph assembly.
4. In-core recording: ``sites`` (call-site ids, the ``file:line`` of an error), ``lowering`` (a
   block's nodes -> ``sim.ir.Op``), ``tiles`` (tiles, the open kernel scope, the recorder API),
   ``cube`` (cube-side recorder API).
5. ``pl`` operations: ``ops_vector``, ``ops_cube``, ``ops_memory``, ``ops_scalar``; ``markers``.
6. Scopes: ``explicit_deps`` (``deps=``, ``pl.array``, ``task_dummy``), ``legacy``
   (``chunked_loop_optimizer``), ``with_body``, ``control`` (loops, ``while_``/``cond``, runtime
   scopes), ``kernel_scopes`` (``pl.at``, ``pl.spmd``), ``jit`` (``pl.jit``, ``pl.record``),
   ``submit`` (``pl.submit``/``pl.spmd_submit``).
7. ``kernels.language``: the ``pl`` namespace (it only gathers names).

Running a kernel::

    graph = pl.record(entry, kernel="name", variant="v", mode="decode", dyn={"T": 8},
                      params={...}, data={"param": ndarray}, args={"variant": "v"})

Recorder API for new ops (``kernels.dsl.tiles`` and ``kernels.dsl.cube``; all must be called inside a
kernel scope):

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
* value mode: a new op computes its result with ``kernels.dsl.values.put(tile, "name", *operands,
  **attrs)`` on the tile it returns (an entry of ``values.TABLE``); without one its value is unknown,
  and a read that needs it stops with one line naming the op.
* ``new_l1_tile(shape, dtype)``, ``as_tile(value)``, ``kernel_scope()`` (raises the "misplaced op"
  error outside a kernel), ``current().error(msg)`` (one-line UserError naming kernel/scope/block).

Errors: a UserError raised while ``pl.record`` runs a kernel is re-raised with the kernel's
``file:line`` in front (:func:`kernels.dsl.sites.locate`, the innermost frame outside swimsim's
``kernels`` package, whose built-in models count as kernel code): raise it, don't locate it.

Semantics (pypto ``docs/en/dev/passes/21-expand_mixed_kernel.md``; docs/model.md §1, §3.6): a cube
op and a vector op in one scope make a MIX task; every cube<->vector crossing becomes a push/pop
hand-off pair (kind "handoff", ring depth 2) and AIV lane 1 replays the hand-offs with 0 bytes.
Op.deps are RAW (values) plus WAR on per-call-site buffer slots (``pl.pipeline(stage=s)`` gives
``s`` replicas per site, nested pipelines multiply; a plain ``pl.range`` shares its enclosing
iteration's replica; docs/model.md §3.7). Blocks of one task whose recorded programs are equal (up to GM offsets)
share their region-free Op objects: treat ops as read-only.

Known limits: integer indexing keeps the dimension (``x[3, 0:64]`` is ``[1, 64]``); orchestration
``pl.transpose``/``pl.assemble`` and ``pl.range(init_values=...)`` carrying are not supported;
``pl.split``/``split_aiv`` halving is not modelled (lane 0 does all vector work); the FIXPIPE
cast folding of a matmul result (pypto ``docs/en/dev/passes/14-legalize_tile_cast.md``) is not
applied; ``predicate=`` is evaluated from the computed element in value mode (a false one makes the
scheduler retire the task unrun) and assumed to pass shapes-only; ``chunked_loop_optimizer`` scopes are
plain ``pl.at`` tasks unless they hold a ``pl.parallel(n, chunk=C)`` loop (then one task per chunk,
[INFERRED]); ``aiv_shard``/``aic_gather`` only check and name the crossing (the hand-off is recorded
where the value is consumed).
"""
