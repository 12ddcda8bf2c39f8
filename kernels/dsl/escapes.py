"""Tiles that outlive their kernel scope, and ``pl.assemble`` in orchestration code.

A tile computed in a ``pl.at`` scope may be used after the scope closes. What the runtime runs:

* **Used later as a GM tensor** (an operand in a later kernel scope): the compiler gives the
  producing kernel an extra ``Out`` parameter and a store of the tile at its exit (pypto
  ``docs/en/dev/passes/10-convert_tensor_to_tile_ops.md``). swimsim appends that store (MTE3, or
  FIXPIPE from a matmul accumulator) to the producer's block, allocates the output tensor in the
  producer's runtime scope (an orchestration intermediate, like ``pl.create_tensor``), and the
  later scope loads it (MTE2), so the dependency edge comes from the tensor map as for any tensor.
* **``X = pl.assemble(X, tile, offset)`` in orchestration code**: the assemble itself emits no
  task and no copy. The output aliases ``X``'s window: the producing kernel's exit store writes
  straight into ``X[offset ...]`` (one store of the tile's valid region in the producer), and its
  output argument is that window; later operand uses of the tile load that window. ``atomic=`` is
  rejected there, as pypto rejects it.

Only one-block ``pl.at`` results can outlive a scope: a tile of a ``pl.spmd`` scope (one per block)
or of an earlier block of the same scope stops with one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernels.dsl.context import current
from kernels.dsl.lowering import Node, lower
from kernels.dsl.tasks import TaskRec
from kernels.dsl.tensors import TensorView, prod
from sim.ir import ArgDir, CoreShape, TaskKind


def owner(rec: Any, node: Node) -> TaskRec | None:
    """The closed task whose last block computed ``node`` (None if no task did)."""
    for t in reversed(rec.tasks):
        tail = t.tail_nodes
        if tail is not None and node.idx < len(tail) and tail[node.idx] is node:
            return t
    return None


def _producer(rec: Any, node: Node, use: str) -> TaskRec:
    """The one-block task that computed ``node``, or a one-line error saying why it cannot outlive its scope."""
    ks = rec.kernel
    if ks is not None and ks.task.tail_nodes is not None and node.idx < len(ks.task.tail_nodes) \
            and ks.task.tail_nodes[node.idx] is node:
        rec.error(f"{use}: a tile computed in an earlier block of the same scope is used in block "
                  f"{ks.block_idx}; each block must compute its own tiles")
    t = owner(rec, node)
    if t is None:
        rec.error(f"{use}: a tile is used outside the kernel scope that computed it and no closed pl.at "
                  "scope computed it")
    if t.block_num != 1:
        rec.error(f"{use}: a tile computed in pl.spmd scope {t.name} ({t.block_num} blocks) is used after "
                  "the scope; only a one-block pl.at result can outlive its scope")
    return t


def _rfind(tasks: list[TaskRec], task: TaskRec, end: int) -> int:
    """Position of ``task`` in ``tasks[:end]``, or -1, searched backwards in growing windows: the
    tasks looked for are mostly among the last recorded, and a graph can hold 10^5 tasks."""
    lo, width = end, 64
    while lo > 0:
        hi, lo = lo, max(0, lo - width)
        try:
            return tasks.index(task, lo, hi)
        except ValueError:
            width *= 4
    return -1


def _alloc_for(rec: Any, producer: TaskRec) -> TaskRec:
    """The alloc task of the producer's runtime scope (created just before the producer if none)."""
    scope = producer.rt_scope
    alloc = scope.alloc if scope is not None else None
    tasks = rec.tasks
    pos = _rfind(tasks, producer, len(tasks))
    if alloc is None or _rfind(tasks, alloc, pos) < 0:
        alloc = TaskRec(TaskKind.ALLOC, "alloc_tensors", producer.ring, shape=CoreShape.DUMMY)
        alloc.scope = producer.scope
        tasks.insert(pos, alloc)
        if scope is not None and scope.alloc is None:
            scope.alloc = alloc
    return alloc


def _exit_store(producer: TaskRec, node: Node, view: TensorView, valid: list[int], direction: ArgDir) -> None:
    """Append the exit store of ``node`` into ``view`` to the producer's block and re-lower it."""
    tail = producer.tail_nodes
    dtype = view.base.dtype
    n = Node(len(tail), "store", "store", [node], list(valid), dtype, "follow", ("exit_store", len(tail)), 0)
    n.region = view.region([0] * len(valid), list(valid))
    n.base_shape = view.base.shape
    n.nbytes = prod(valid) * dtype.size
    tail.append(n)
    ops, sides, _ = lower(tail)
    producer.blocks[-1] = ops
    producer.lanes |= sides
    lanes = producer.lanes
    producer.shape = CoreShape.MIX if {"cube", "vec"} <= lanes else (
        CoreShape.AIC if "cube" in lanes else CoreShape.AIV)
    producer.arg_dirs.append((view, direction))


def materialize(rec: Any, node: Node, use: str) -> TensorView:
    """The GM tensor holding the value of ``node`` (a tile of a closed ``pl.at`` scope): its
    producer gets an ``Out`` tensor and an exit store, once per node."""
    hit = rec.escaped.get(id(node))
    if hit is not None:
        return hit
    producer = _producer(rec, node, use)
    shape = [int(s) for s in node.shape]
    alloc = _alloc_for(rec, producer)
    view = rec.new_tensor(f"{producer.name}_out_{len(rec.escaped)}", tuple(shape), node.dtype, "alloc")
    view.base.creator = alloc
    alloc.allocates.append(view.base)
    _exit_store(producer, node, view, shape, ArgDir.OUTPUT_EXISTING)
    rec.escaped[id(node)] = view
    return view


def localize(ks: Any, inputs: list[Node], load: Callable[[TensorView], Any]) -> list[Node]:
    """``inputs`` with every node of another block replaced by a load (``load(view)``, the in-core
    recorder's GM load) of its materialized tensor."""
    rec = current()
    nodes = ks.nodes
    out = []
    for x in inputs:
        if x.idx < len(nodes) and nodes[x.idx] is x:
            out.append(x)
            continue
        if ks.chunk is not None and id(x) in ks.chunk.stale:  # legacy chunking keeps its own rule
            ks.chunk.check_node(x)
        loaded = ks.cache.get(("escaped", id(x), ks.block_idx))
        if loaded is None:
            view = materialize(rec, x, "tile operand")
            loaded = load(view).node
            ks.cache[("escaped", id(x), ks.block_idx)] = loaded
        out.append(loaded)
    return out


def assemble_direction(rec: Any, x: TensorView) -> ArgDir:
    """The direction of an orchestration-level assemble's output window into ``x``, as for a kernel's
    write (INOUT under an orchestration loop with R-seq, after an earlier write, or for an InOut
    parameter; else OUTPUT_EXISTING); records the write in the current runtime scope."""
    scope = rec.scopes[-1]
    root = x.base
    r_seq = any(s.kind == "loop" and s.loop_kind not in ("parallel",) for s in rec.scopes)
    direction = ArgDir.INOUT if (r_seq or root.id in scope.written or root.declared == "InOut") \
        else ArgDir.OUTPUT_EXISTING
    scope.written.add(root.id)
    return direction


def alias_exit_store(rec: Any, node: Node, window: TensorView, valid: list[int]) -> None:
    """The producer of ``node`` (a tile of a closed ``pl.at`` scope) writes it straight into ``window``."""
    producer = _producer(rec, node, "pl.assemble in orchestration code")
    _exit_store(producer, node, window, valid, assemble_direction(rec, window))
    rec.escaped.setdefault(id(node), window)  # later operand uses of the tile read the aliased window
