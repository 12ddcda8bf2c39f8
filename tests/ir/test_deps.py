"""Dependency inference (sim.ir.deps) and deps.json writing/validation (traces.depsjson)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.ir import ArgDir, Region, Task, TaskArg, TaskGraph, TaskKind, Tensor
from sim.ir.deps import TensorMap, infer_edges, region_covers, regions_overlap
from traces.depsjson import fnv1a64, name_map, to_deps_json, validate_deps_json, write_deps_json


def R(t: int, off: list[int], shp: list[int]) -> Region:
    return Region(tensor=t, offset=off, shape=shp)


def graph(tasks: list[tuple[list[tuple[ArgDir, Region]], str, list[int]]], creators=None, manual=()) -> TaskGraph:
    creators = creators or {}
    tensors = [Tensor(id=i, name=f"t{i}", shape=[64, 64], dtype="FP32", creator=creators.get(i),
                      manual_dep=i in manual) for i in range(4)]
    ts = []
    for i, (args, scope, explicit) in enumerate(tasks):
        kind = TaskKind.ALLOC if scope == "alloc" else TaskKind.KERNEL
        ts.append(Task(idx=i, task_id=(1 << 32) | i, kind=kind, name=f"k{i}", scope="auto" if kind == TaskKind.ALLOC
                       else scope, args=[TaskArg(idx=j, dir=d, region=r) for j, (d, r) in enumerate(args)],
                       explicit_deps=explicit))
    g = TaskGraph(kernel="t", tensors=tensors, tasks=ts)
    g.edges = infer_edges(g)
    return g


def pairs(g: TaskGraph) -> set[tuple[int, int, str]]:
    return {(e.pred, e.succ, e.source) for e in g.edges}


W = ArgDir.OUTPUT_EXISTING
IN = ArgDir.INPUT
IO = ArgDir.INOUT


def test_raw_on_overlap_only():
    g = graph([([(W, R(0, [0, 0], [8, 64]))], "auto", []),
               ([(IN, R(0, [8, 0], [8, 64]))], "auto", []),
               ([(IN, R(0, [4, 0], [8, 64]))], "auto", [])])
    assert pairs(g) == {(0, 2, "tensormap")}
    e = g.edges[0]
    assert e.overlap == "other" and e.arg == 0 and e.tensor == 0


def test_output_existing_does_no_lookup_and_war_untracked():
    g = graph([([(W, R(0, [0, 0], [8, 64]))], "auto", []),
               ([(IN, R(0, [0, 0], [8, 64]))], "auto", []),
               ([(W, R(0, [0, 0], [8, 64]))], "auto", []),  # WAW via OUTPUT_EXISTING: no edge, no WAR
               ([(IN, R(0, [0, 0], [64, 64]))], "auto", [])])
    assert pairs(g) == {(0, 1, "tensormap"), (0, 3, "tensormap"), (2, 3, "tensormap")}
    assert {e.overlap for e in g.edges if e.succ == 3} == {"covered"}


def test_inout_removes_covered_entries():
    g = graph([([(W, R(0, [0, 0], [8, 64]))], "auto", []),
               ([(IO, R(0, [0, 0], [16, 64]))], "auto", []),
               ([(IN, R(0, [0, 0], [8, 64]))], "auto", [])])
    assert pairs(g) == {(0, 1, "tensormap"), (1, 2, "tensormap")}


def test_creator_manual_scope_manual_dep_and_explicit():
    g = graph([([], "alloc", []),
               ([(W, R(1, [0, 0], [8, 64]))], "auto", []),
               ([(IN, R(1, [0, 0], [8, 64]))], "manual", [1]),
               ([(W, R(2, [0, 0], [8, 64]))], "auto", []),
               ([(IN, R(2, [0, 0], [8, 64]))], "auto", [])],
              creators={1: 0, 2: 0}, manual={2})
    assert pairs(g) == {(0, 1, "creator"), (1, 2, "explicit"), (0, 3, "creator"), (0, 4, "creator")}


def test_region_helpers():
    a, b = R(0, [0, 0], [8, 8]), R(0, [8, 0], [8, 8])
    assert not regions_overlap(a, b) and regions_overlap(a, R(0, [7, 7], [2, 2]))
    assert not regions_overlap(a, R(1, [0, 0], [8, 8]))
    assert regions_overlap(a, R(0, [100], [1]))  # different view ranks: conservative
    assert region_covers(R(0, [0, 0], [16, 8]), a) and not region_covers(a, R(0, [0, 0], [16, 8]))
    tm = TensorMap()
    tm.insert(a, 3)
    tm.insert(b, 4)
    tm.remove_covered(R(0, [0, 0], [8, 8]))
    assert tm.entries() == [(b, 4)]


box = st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(0, 3), st.integers(1, 4))
arg = st.tuples(st.sampled_from([IN, IO, W]), st.integers(0, 1), box)
prog = st.lists(st.lists(arg, min_size=1, max_size=3), min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(prog)
def test_inferred_edges_invariants(program):
    tasks = [([(d, R(t, [r0, c0], [rn, cn])) for d, t, (r0, rn, c0, cn) in args], "auto", [])
             for args in program]
    g = graph(tasks)
    writers: dict[int, list[tuple[Region, int]]] = {}
    for e in g.edges:
        assert e.pred < e.succ and e.source == "tensormap"
        creg = g.tasks[e.succ].args[e.arg].region
        assert g.tasks[e.succ].args[e.arg].dir in (IN, IO)
        assert any(a.dir in (IO, W) and regions_overlap(a.region, creg) for a in g.tasks[e.pred].args)
    # brute-force oracle: a reader depends on every still-registered overlapping writer
    expect = set()
    for t in g.tasks:
        for a in t.args:
            if a.dir in (IN, IO):
                for reg, p in writers.get(a.region.tensor, []):
                    if regions_overlap(reg, a.region) and p != t.idx:
                        expect.add((p, t.idx))
                if a.dir == IO:
                    writers[a.region.tensor] = [(r, p) for r, p in writers.get(a.region.tensor, [])
                                                if not region_covers(a.region, r)]
        for a in t.args:
            if a.dir in (IO, W):
                writers.setdefault(a.region.tensor, []).append((a.region, t.idx))
    assert {(e.pred, e.succ) for e in g.edges} == expect


# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def qkv_deps():
    from kernels.registry import build_graph

    g = build_graph("qkv_proj_rope:precompute", "decode")
    return g, to_deps_json(g)


def test_qkv_deps_json_validates(qkv_deps):
    g, doc = qkv_deps
    assert validate_deps_json(doc) == []
    assert len(doc["tasks"]) == 11  # alloc task omitted
    alloc_id = str(g.tasks[0].task_id)
    assert alloc_id not in {t["task_id"] for t in doc["tasks"]}
    assert all(e["source"] == "creator" for e in doc["edges"] if e["pred"] == alloc_id)
    assert {t["kernel_ids"][1] for t in doc["tasks"] if t["kernel_ids"][0] == -1} <= set(g.func_names)
    t0 = doc["tasks"][0]
    assert t0["task_id"] == str((1 << 32) | 1) and t0["block_num"] == 1
    a = t0["args"][0]
    assert a["dtype"] == "BFLOAT16" and a["shape"] == [8, 4096] and a["strides"] == [4096, 1]
    json.dumps(doc)


def test_deps_json_is_deterministic(qkv_deps, tmp_path):
    g, doc = qkv_deps
    write_deps_json(g, tmp_path / "a.json")
    write_deps_json(g, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert json.loads((tmp_path / "a.json").read_text()) == doc


@pytest.mark.parametrize("mutate,msg", [
    (lambda d: d["tasks"][0].__setitem__("task_id", 5), "task_id must be a decimal string"),
    (lambda d: d["tasks"][1].__setitem__("task_id", d["tasks"][0]["task_id"]), "duplicate task_id"),
    (lambda d: d["tasks"][0].__setitem__("scope", "AUTO"), "scope must be"),
    (lambda d: d["tasks"][0].__setitem__("kernel_ids", [0, 1]), "kernel_ids must be 3 ints"),
    (lambda d: d["tasks"][0].__setitem__("block_num", 0), "block_num must be an int >= 1"),
    (lambda d: d["tasks"][0]["args"][0].__setitem__("type", "IN"), "type 'IN' not in"),
    (lambda d: d["tasks"][0]["args"][0].__setitem__("strides", [1]), "strides has 1 entries"),
    (lambda d: d["tasks"][0]["args"][0].__setitem__("tensor_id", "123"), "not listed in tensors"),
    (lambda d: d["tensors"][0].__setitem__("buffer_addr", 17), "buffer_addr must be a decimal string"),
    (lambda d: d["edges"][0].__setitem__("source", "data"), "source 'data' not in"),
    (lambda d: next(e for e in d["edges"] if e["source"] == "tensormap").pop("overlap"), "need overlap"),
    (lambda d: next(e for e in d["edges"] if e["source"] == "tensormap").pop("producer_shape"),
     "producer_shape must be"),
    (lambda d: d["edges"][0].__setitem__("succ", "999"), "is not a listed task"),
    (lambda d: d.pop("edges"), "missing or non-list 'edges'"),
])
def test_validator_rejects_broken_documents(qkv_deps, mutate, msg):
    doc = copy.deepcopy(qkv_deps[1])
    mutate(doc)
    errs = validate_deps_json(doc)
    assert any(msg in e for e in errs), errs


def test_validator_accepts_spec_example():
    doc = {"tasks": [
        {"task_id": "4294967297", "scope": "auto", "kernel_ids": [7, -1, -1], "block_num": 4,
         "args": [{"idx": 0, "type": "INPUT", "tensor_id": "13451765318376212391", "dtype": "FLOAT32",
                   "shape": [16384], "start_offset": "0", "strides": [1]},
                  {"idx": 2, "type": "OUTPUT"}]},
        {"task_id": "4294967298", "scope": "auto", "kernel_ids": [-1, 3, -1], "block_num": 1, "args": []}],
        "tensors": [{"tensor_id": "13451765318376212391", "buffer_addr": "29204938752", "version": 0,
                     "dtype": "FLOAT32", "buffer_numel": "16384"}],
        "edges": [{"pred": "4294967296", "succ": "4294967297", "arg": 0, "source": "creator",
                   "tensor_id": "13451765318376212391", "consumer_dtype": "FLOAT32", "consumer_shape": [16384],
                   "consumer_start_offset": "0", "consumer_strides": [1]}]}
    assert validate_deps_json(doc) == []
    assert validate_deps_json([]) == ["top level must be an object"]


def test_fnv_and_name_map(qkv_deps):
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    nm = name_map(qkv_deps[0], "qkv_proj_rope")
    assert nm["level"] == 2 and nm["callable_id_to_name"]["0"] == "qkv_x_matmul_pad"
