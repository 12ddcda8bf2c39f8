"""``deps.json`` (formats.md §2) and the name map (§3) for a simulated TaskGraph.

``sim.depsjson`` (the project's deps.json writer) is used when it is importable; this module's
private writer is the fallback so traces can be written without it.
"""

from __future__ import annotations

from typing import Any

from sim.ir import ArgDir, TaskGraph, TaskKind

_DTYPES = {"FP32": "FLOAT32", "FP16": "FLOAT16", "BF16": "BFLOAT16", "INT8": "INT8", "INT32": "INT32",
           "INT64": "INT64", "UINT32": "UINT32"}
_DT_BYTES = {"FP32": 4, "FP16": 2, "BF16": 2, "INT8": 1, "INT32": 4, "INT64": 8, "UINT32": 4}
_BUF_BASE = 0x6C8000000  # synthetic GM address of the first buffer (bytes)


def _fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _strides(shape: list[int]) -> list[int]:
    out = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        out[i] = out[i + 1] * shape[i + 1]
    return out


def deps_dict(graph: TaskGraph) -> dict[str, Any]:
    """The deps.json object for ``graph`` (alloc tasks omitted from ``tasks``; 64-bit ids as strings)."""
    try:  # prefer the project's writer when it exists
        from sim.depsjson import to_deps_json
    except ImportError:
        return _private_deps_dict(graph)
    return to_deps_json(graph)


def deps_text(doc: dict[str, Any]) -> str:
    """deps.json file text: ``json.dumps(doc, indent=1)`` + newline (as ``sim.depsjson.dumps``), fast."""
    from traces.jsontext import Encoder

    return Encoder(1, ensure_ascii=True).encode(doc) + "\n"


def _private_deps_dict(graph: TaskGraph) -> dict[str, Any]:
    tensors = {t.id: t for t in graph.tensors}
    addr: dict[int, int] = {}
    tid_of: dict[int, str] = {}
    nxt = _BUF_BASE
    for t in graph.tensors:
        addr[t.id] = nxt
        numel = 1
        for d in t.shape:
            numel *= d
        nbytes = t.nbytes or numel * _DT_BYTES.get(t.dtype, 4)
        nxt += (nbytes + 511) // 512 * 512
        tid_of[t.id] = str(_fnv1a64(f"{addr[t.id]}:0".encode()))

    def slice_of(region: Any) -> dict[str, Any]:
        t = tensors.get(region.tensor)
        shp = t.shape if t else region.shape
        st = _strides(shp)
        off = sum(o * s for o, s in zip(region.offset, st, strict=False))
        return {"dtype": _DTYPES.get(t.dtype if t else "FP32", "FLOAT32"), "shape": list(region.shape),
                "start_offset": str(off), "strides": st}

    by_idx = {t.idx: t for t in graph.tasks}
    tasks_out = []
    for t in graph.tasks:
        if t.kind == TaskKind.ALLOC:
            continue
        args = []
        for a in t.args:
            if a.dir == ArgDir.NODEP:
                continue
            d: dict[str, Any] = {"idx": a.idx, "type": a.dir.value}
            if a.dir != ArgDir.OUTPUT:
                s = slice_of(a.region)
                d.update({"tensor_id": tid_of.get(a.region.tensor, "0"), **s})
            args.append(d)
        kids = [-1, -1, -1] if t.kind == TaskKind.DUMMY else list(t.kernel_ids)
        tasks_out.append({"task_id": str(t.task_id), "scope": t.scope, "kernel_ids": kids,
                          "block_num": t.block_num, "args": args})
    tens_out = []
    for t in graph.tensors:
        numel = 1
        for d in t.shape:
            numel *= d
        tens_out.append({"tensor_id": tid_of[t.id], "buffer_addr": str(addr[t.id]), "version": 0,
                         "dtype": _DTYPES.get(t.dtype, t.dtype), "buffer_numel": str(numel)})
    edges_out = []
    for e in graph.edges:
        pred, succ = by_idx[e.pred], by_idx[e.succ]
        d = {"pred": str(pred.task_id), "succ": str(succ.task_id), "arg": e.arg, "source": e.source}
        if e.source == "tensormap":
            d["overlap"] = e.overlap or "other"
        if e.source != "explicit":
            carg = next((a for a in succ.args if a.idx == e.arg), None)
            ten = e.tensor if e.tensor is not None else (carg.region.tensor if carg else None)
            if ten is not None:
                d["tensor_id"] = tid_of.get(ten, "0")
            if carg is not None:
                s = slice_of(carg.region)
                d.update({"consumer_dtype": s["dtype"], "consumer_shape": s["shape"],
                          "consumer_start_offset": s["start_offset"], "consumer_strides": s["strides"]})
            if e.source == "tensormap":
                parg = next((a for a in pred.args if a.region.tensor == ten
                             and a.dir in (ArgDir.OUTPUT, ArgDir.INOUT, ArgDir.OUTPUT_EXISTING)), None)
                if parg is not None:
                    s = slice_of(parg.region)
                    d.update({"producer_shape": s["shape"], "producer_start_offset": s["start_offset"],
                              "producer_strides": s["strides"]})
        edges_out.append(d)
    return {"tasks": tasks_out, "tensors": tens_out, "edges": edges_out}


def name_map_dict(graph: TaskGraph) -> dict[str, Any]:
    """The name map object: func_id (string keys, ascending) -> function name."""
    names = {str(k): v for k, v in sorted(graph.func_names.items())}
    return {"level": 2, "orchestrator_name": None, "callable_id_to_name": names}
