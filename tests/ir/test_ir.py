"""IR JSON round trip (byte-identical) and determinism of recorded graphs."""

from __future__ import annotations

import pytest

from kernels.registry import build_graph
from sim.ir import SCHEMA_VERSION, TaskGraph


@pytest.mark.parametrize("variant", ["baseline", "precompute"])
def test_json_round_trip_byte_identical(variant):
    g = build_graph(f"qkv_proj_rope:{variant}", "decode")
    text = g.to_json()
    g2 = TaskGraph.from_json(text)
    assert g2.to_json() == text
    assert g2.schema_version == SCHEMA_VERSION
    assert g2.tasks[3].blocks[0].ops[0].region is not None


def test_recording_is_deterministic():
    a = build_graph("qkv_proj_rope:precompute", "decode").to_json()
    b = build_graph("qkv_proj_rope:precompute", "decode").to_json()
    assert a == b


def test_from_json_rejects_other_schema_version():
    g = build_graph("qkv_proj_rope", "decode")
    text = g.to_json().replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 999', 1)
    with pytest.raises(ValueError, match="schema_version 999"):
        TaskGraph.from_json(text)


def test_op_deps_point_backwards():
    g = build_graph("qkv_proj_rope:baseline", "decode")
    for t in g.kernel_tasks():
        for b in t.blocks:
            for i, o in enumerate(b.ops):
                assert all(0 <= d < i for d in o.deps), (t.name, b.idx, i)


def test_repeated_builds_identical_after_warmup():
    # CPython specialises hot instructions after a few runs; call-site keys must not drift with it
    first = build_graph("qkv_proj_rope:baseline", "decode").to_json()
    for _ in range(3):
        last = build_graph("qkv_proj_rope:baseline", "decode").to_json()
    assert last == first
