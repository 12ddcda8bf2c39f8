"""``deps.json`` (the runtime's dep_gen layout, simpler ``docs/dfx/dep_gen.md``) and the name map
(simpler ``docs/dfx/profiling-name-map.md``): writer, reader and schema checker.

All 64-bit values (task ids, tensor ids, buffer addresses, offsets, numels) are JSON strings.
Alloc tasks are not listed in ``tasks[]``; they appear only as ``pred`` of creator edges.

Simulated buffers get deterministic addresses: tensors are laid out in id order from
``BUFFER_BASE``, each aligned to ``BUFFER_ALIGN`` bytes; ``tensor_id`` = 64-bit FNV-1a of the
16 little-endian bytes ``buffer_addr (u64) | version (u64)`` (version is always 0 here).

The reader (:func:`parse_deps`, :func:`parse_name_map`) takes the parts the tools use, checked against
pydantic schemas that accept string or integer ids (hardware captures write either);
:func:`validate_deps_json` checks a whole document against the dep_gen layout and lists every problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.ir import ArgDir, Edge, Region, Task, TaskGraph, TaskKind
from sim.ir.deps import regions_overlap
from sim.util.fileio import write_text_atomic
from sim.util.jsonfile import Loc, check
from traces.jsontext import Encoder
from traces.perf import DepsInfo

BUFFER_BASE = 0x12C0000000
BUFFER_ALIGN = 512
DTYPE_NAMES = {"BF16": "BFLOAT16", "FP16": "FLOAT16", "FP32": "FLOAT32", "INT8": "INT8", "INT16": "INT16",
               "INT32": "INT32", "INT64": "INT64", "UINT32": "UINT32", "UINT8": "UINT8"}
ARG_TYPES = {"INPUT", "OUTPUT", "INOUT", "OUTPUT_EXISTING", "NODEP"}
EDGE_SOURCES = {"explicit", "creator", "tensormap"}

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def fnv1a64(data: bytes) -> int:
    h = _FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def _strides(shape: list[int]) -> list[int]:
    out = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        out[i] = out[i + 1] * shape[i + 1]
    return out


class _Layout:
    def __init__(self, graph: TaskGraph) -> None:
        self.addr: dict[int, int] = {}
        self.tid: dict[int, int] = {}
        self.shape: dict[int, list[int]] = {}
        self.dtype: dict[int, str] = {}
        self.numel: dict[int, int] = {}
        a = BUFFER_BASE
        for t in sorted(graph.tensors, key=lambda t: t.id):
            self.addr[t.id] = a
            self.tid[t.id] = fnv1a64(a.to_bytes(8, "little") + (0).to_bytes(8, "little"))
            self.shape[t.id] = list(t.shape)
            self.dtype[t.id] = DTYPE_NAMES.get(t.dtype, t.dtype)
            n = 1
            for d in t.shape:
                n *= d
            self.numel[t.id] = n
            size = max(t.nbytes, 1)
            a += (size + BUFFER_ALIGN - 1) // BUFFER_ALIGN * BUFFER_ALIGN

    def slice_fields(self, region: Region, prefix: str) -> dict[str, Any]:
        st = _strides(self.shape[region.tensor])
        start = sum(o * s for o, s in zip(region.offset, st, strict=False))
        return {f"{prefix}shape": list(region.shape), f"{prefix}start_offset": str(start),
                f"{prefix}strides": st}


def _arg_json(lay: _Layout, idx: int, d: ArgDir, region: Region) -> dict[str, Any]:
    if d == ArgDir.OUTPUT:
        return {"idx": idx, "type": "OUTPUT"}
    out: dict[str, Any] = {"idx": idx, "type": d.value, "tensor_id": str(lay.tid[region.tensor]),
                           "dtype": lay.dtype[region.tensor]}
    out.update(lay.slice_fields(region, ""))
    return out


def _producer_region(task: Task, consumer: Region) -> Region | None:
    for a in task.args:
        if a.dir in (ArgDir.INOUT, ArgDir.OUTPUT_EXISTING) and regions_overlap(a.region, consumer):
            return a.region
    return None


def to_deps_json(graph: TaskGraph) -> dict[str, Any]:
    """The deps.json document of ``graph`` (plain dict, deterministic order)."""
    lay = _Layout(graph)
    by_idx = {t.idx: t for t in graph.tasks}
    tasks = []
    used: set[int] = set()
    for t in graph.tasks:
        if t.kind == TaskKind.ALLOC:
            continue
        args = [_arg_json(lay, a.idx, a.dir, a.region) for a in t.args]
        used.update(a.region.tensor for a in t.args)
        tasks.append({"task_id": str(t.task_id), "scope": t.scope, "kernel_ids": list(t.kernel_ids),
                      "block_num": t.block_num, "args": args})
    tensors = [{"tensor_id": str(lay.tid[i]), "buffer_addr": str(lay.addr[i]), "version": 0,
                "dtype": lay.dtype[i], "buffer_numel": str(lay.numel[i])} for i in sorted(used)]
    edges = [_edge_json(lay, by_idx, e) for e in graph.edges]
    return {"tasks": tasks, "tensors": tensors, "edges": edges}


def _edge_json(lay: _Layout, by_idx: dict[int, Task], e: Edge) -> dict[str, Any]:
    out: dict[str, Any] = {"pred": str(by_idx[e.pred].task_id), "succ": str(by_idx[e.succ].task_id),
                           "arg": e.arg, "source": e.source}
    if e.source == "explicit":
        return out
    succ = by_idx[e.succ]
    creg = succ.args[e.arg].region
    if e.source == "tensormap":
        out["overlap"] = e.overlap or "other"
    out["tensor_id"] = str(lay.tid[creg.tensor])
    out["consumer_dtype"] = lay.dtype[creg.tensor]
    out.update(lay.slice_fields(creg, "consumer_"))
    if e.source == "tensormap":
        preg = _producer_region(by_idx[e.pred], creg) or creg
        out.update(lay.slice_fields(preg, "producer_"))
    return out


_DEPS_ENC = Encoder(1, ensure_ascii=True)


def dumps(doc: dict[str, Any]) -> str:
    """deps.json file text: the bytes of ``json.dumps(doc, indent=1)`` + newline, several times faster."""
    return _DEPS_ENC.encode(doc) + "\n"


def write_deps_json(graph: TaskGraph, path: str | Path) -> None:
    """Write ``graph``'s deps.json to ``path`` (atomically)."""
    write_text_atomic(path, dumps(to_deps_json(graph)))


def name_map(graph: TaskGraph, orchestrator_name: str | None = None) -> dict[str, Any]:
    """The pypto name map: func_id (string) -> kernel name."""
    return {"level": 2, "orchestrator_name": orchestrator_name,
            "callable_id_to_name": {str(k): v for k, v in sorted(graph.func_names.items())}}


def write_name_map(graph: TaskGraph, path: str | Path, orchestrator_name: str | None = None) -> None:
    """Write ``graph``'s name map to ``path`` (atomically, indent 2)."""
    write_text_atomic(path, json.dumps(name_map(graph, orchestrator_name), indent=2) + "\n")


# ------------------------------------------------------------------------------------------------
# Reader: the parts the tools use
# ------------------------------------------------------------------------------------------------
def _explain_deps(loc: Loc, doc: Any) -> tuple[Loc, str] | None:
    """The expectation at a schema error's location, as :func:`parse_deps` words it."""
    match loc:
        case () | ("tasks",):
            return (), "expected an object with a 'tasks' array"
        case ("tasks", int(), *_):
            return loc[:2], "expected task_id and kernel_ids"
        case ("edges",):
            return loc, "expected an array"
        case ("edges", int(), *_):
            return loc[:2], "expected pred and succ task ids"
    return None


def _explain_name_map(loc: Loc, doc: Any) -> tuple[Loc, str] | None:
    """The expectation at a schema error's location, as :func:`parse_name_map` words it."""
    match loc:
        case ():
            return loc, "expected an object"
        case ("callable_id_to_name",):
            return loc, "expected an object"
        case ("callable_id_to_name", str() as k, *_):
            return (f"callable_id_to_name[{k!r}]",), "expected an integer key"
    return None


def parse_deps(obj: Any, path: str = "deps.json") -> DepsInfo:
    """Read the parts of ``deps.json`` the tools use (string or integer ids accepted)."""
    from traces import schemas  # lazy: start-up time

    doc = check(schemas.adapter(schemas.DepsRead), obj, path, _explain_deps, strict=False)
    info = DepsInfo()
    for t in doc["tasks"]:
        tid = t["task_id"]
        info.kernel_ids[tid] = (t.get("kernel_ids", [-1, -1, -1]) + [-1, -1, -1])[:3]
        info.block_num[tid] = t.get("block_num", 1)
    seen: set[tuple[int, int]] = set()
    for e in doc.get("edges", []):
        pr = (e["pred"], e["succ"])
        if pr not in seen:
            seen.add(pr)
            info.pairs.append(pr)
    return info


def parse_name_map(obj: Any, path: str = "name_map.json") -> tuple[dict[int, str], str | None]:
    """(func_id -> name, orchestrator_name) from a name map object."""
    from traces import schemas  # lazy: start-up time

    doc = check(schemas.adapter(schemas.NameMapRead), obj, path, _explain_name_map, strict=False)
    out = {k: str(v) for k, v in doc.get("callable_id_to_name", {}).items()}
    on = doc.get("orchestrator_name")
    return out, on if isinstance(on, str) else None


# ------------------------------------------------------------------------------------------------
# Schema checker
# ------------------------------------------------------------------------------------------------
def _is_u64str(v: Any) -> bool:
    return isinstance(v, str) and v.isdigit() and int(v) < 2**64


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int_list(v: Any) -> bool:
    return isinstance(v, list) and all(_is_int(x) for x in v)


def _check_slice(obj: dict[str, Any], prefix: str, where: str, errs: list[str]) -> None:
    shape, start, strides = obj.get(f"{prefix}shape"), obj.get(f"{prefix}start_offset"), obj.get(f"{prefix}strides")
    if not _int_list(shape):
        errs.append(f"{where}: {prefix}shape must be a list of ints")
    if not _is_u64str(start):
        errs.append(f"{where}: {prefix}start_offset must be a decimal string")
    if not _int_list(strides):
        errs.append(f"{where}: {prefix}strides must be a list of ints")
    elif _int_list(shape) and len(strides) != len(shape):
        errs.append(f"{where}: {prefix}strides has {len(strides)} entries for a {len(shape)}-d shape")


def validate_deps_json(doc: Any) -> list[str]:
    """Check a deps.json document against the dep_gen layout; returns the problems (empty = valid)."""
    errs: list[str] = []
    if not isinstance(doc, dict):
        return ["top level must be an object"]
    for key in ("tasks", "tensors", "edges"):
        if not isinstance(doc.get(key), list):
            errs.append(f"missing or non-list '{key}'")
    if errs:
        return errs
    task_ids: set[str] = set()
    tensor_ids: set[str] = set()
    for i, t in enumerate(doc["tensors"]):
        w = f"tensors[{i}]"
        if not isinstance(t, dict):
            errs.append(f"{w}: not an object")
            continue
        for k in ("tensor_id", "buffer_addr", "buffer_numel"):
            if not _is_u64str(t.get(k)):
                errs.append(f"{w}: {k} must be a decimal string")
        if not _is_int(t.get("version")):
            errs.append(f"{w}: version must be an int")
        if not isinstance(t.get("dtype"), str):
            errs.append(f"{w}: dtype must be a string")
        tensor_ids.add(str(t.get("tensor_id")))
    for i, t in enumerate(doc["tasks"]):
        w = f"tasks[{i}]"
        if not isinstance(t, dict):
            errs.append(f"{w}: not an object")
            continue
        tid = t.get("task_id")
        if not _is_u64str(tid):
            errs.append(f"{w}: task_id must be a decimal string")
        elif tid in task_ids:
            errs.append(f"{w}: duplicate task_id {tid}")
        task_ids.add(str(tid))
        if t.get("scope") not in ("auto", "manual"):
            errs.append(f"{w}: scope must be 'auto' or 'manual', got {t.get('scope')!r}")
        k = t.get("kernel_ids")
        if not (_int_list(k) and len(k) == 3 and all(x >= -1 for x in k)):
            errs.append(f"{w}: kernel_ids must be 3 ints >= -1")
        if not (_is_int(t.get("block_num")) and t["block_num"] >= 1):
            errs.append(f"{w}: block_num must be an int >= 1")
        args = t.get("args")
        if not isinstance(args, list):
            errs.append(f"{w}: args must be a list")
            continue
        for j, a in enumerate(args):
            wa = f"{w}.args[{j}]"
            if not isinstance(a, dict) or not _is_int(a.get("idx")):
                errs.append(f"{wa}: needs an int idx")
                continue
            if a.get("type") not in ARG_TYPES:
                errs.append(f"{wa}: type {a.get('type')!r} not in {sorted(ARG_TYPES)}")
                continue
            if a["type"] == "OUTPUT":
                continue
            if not _is_u64str(a.get("tensor_id")):
                errs.append(f"{wa}: tensor_id must be a decimal string")
            elif a["tensor_id"] not in tensor_ids:
                errs.append(f"{wa}: tensor_id {a['tensor_id']} not listed in tensors[]")
            if not isinstance(a.get("dtype"), str):
                errs.append(f"{wa}: dtype must be a string")
            _check_slice(a, "", wa, errs)
    for i, e in enumerate(doc["edges"]):
        w = f"edges[{i}]"
        if not isinstance(e, dict):
            errs.append(f"{w}: not an object")
            continue
        for k in ("pred", "succ"):
            if not _is_u64str(e.get(k)):
                errs.append(f"{w}: {k} must be a decimal string")
        if e.get("succ") not in task_ids:
            errs.append(f"{w}: succ {e.get('succ')} is not a listed task")
        src = e.get("source")
        if src not in EDGE_SOURCES:
            errs.append(f"{w}: source {src!r} not in {sorted(EDGE_SOURCES)}")
            continue
        if not _is_int(e.get("arg")):
            errs.append(f"{w}: arg must be an int")
        if src == "explicit":
            if e.get("arg") != -1:
                errs.append(f"{w}: explicit edges have arg -1")
            if e.get("pred") not in task_ids:
                errs.append(f"{w}: explicit pred {e.get('pred')} is not a listed task")
            continue
        if src == "tensormap":
            if e.get("overlap") not in ("covered", "other"):
                errs.append(f"{w}: tensormap edges need overlap 'covered' or 'other'")
            if e.get("pred") not in task_ids:
                errs.append(f"{w}: tensormap pred {e.get('pred')} is not a listed task")
            _check_slice(e, "producer_", w, errs)
        if not _is_u64str(e.get("tensor_id")):
            errs.append(f"{w}: tensor_id must be a decimal string")
        if not isinstance(e.get("consumer_dtype"), str):
            errs.append(f"{w}: consumer_dtype must be a string")
        _check_slice(e, "consumer_", w, errs)
    return errs
