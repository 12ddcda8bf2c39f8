"""The on-disk graph cache: a hit gives the recorded graph, the key follows the sources, entries are replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernels import graph_cache
from kernels.registry import build_graph
from sim.ir import TaskGraph


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "graphs"
    monkeypatch.setenv("SWIMSIM_GRAPH_CACHE", str(d))
    return d


def test_a_hit_is_the_recorded_graph(cache: Path) -> None:
    g = build_graph("qkv_proj_rope:precompute", "decode")
    files = list(cache.glob("qkv_proj_rope+precompute+decode+*.pickle"))
    assert len(files) == 1
    hit = graph_cache.load("qkv_proj_rope", "precompute", "decode")
    assert isinstance(hit, TaskGraph) and hit is not g
    assert hit.model_dump_json() == g.model_dump_json()
    again = build_graph("qkv_proj_rope:precompute", "decode")
    assert again.model_dump_json() == g.model_dump_json()
    # blocks of one program still share their region-free op objects (what the cost model's memos use)
    t = max(again.tasks, key=lambda t: t.block_num)
    shared = {id(o) for o in t.blocks[0].ops if o.region is None} & {id(o) for o in t.blocks[1].ops}
    assert shared


def test_new_sources_give_a_new_key_and_replace_the_entry(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_graph("qkv_proj_rope:baseline", "decode")
    old = list(cache.glob("qkv_proj_rope+baseline+decode+*.pickle"))
    monkeypatch.setattr(graph_cache, "_digest", ["an edited source tree"])
    assert graph_cache.load("qkv_proj_rope", "baseline", "decode") is None
    build_graph("qkv_proj_rope:baseline", "decode")
    new = list(cache.glob("qkv_proj_rope+baseline+decode+*.pickle"))
    assert len(old) == len(new) == 1 and old != new


def test_a_damaged_entry_is_recorded_again(cache: Path) -> None:
    g = build_graph("qkv_proj_rope:baseline", "decode")
    (p,) = cache.glob("qkv_proj_rope+baseline+decode+*.pickle")
    p.write_bytes(b"not a pickle")
    assert graph_cache.load("qkv_proj_rope", "baseline", "decode") is None
    assert build_graph("qkv_proj_rope:baseline", "decode").model_dump_json() == g.model_dump_json()
    assert graph_cache.load("qkv_proj_rope", "baseline", "decode") is not None


def test_off_and_options_bypass_the_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWIMSIM_GRAPH_CACHE", "off")
    build_graph("qkv_proj_rope:baseline", "decode")
    assert graph_cache.cache_dir() is None and not cache.exists()


def test_cached_graphs_carry_their_entry_as_content_stamp(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hwmodels.memory import graph_stamp

    g = build_graph("qkv_proj_rope:baseline", "decode")
    hit = build_graph("qkv_proj_rope:baseline", "decode")
    assert hit is not g and graph_stamp(hit) == graph_stamp(g) is not None
    other = build_graph("qkv_proj_rope:precompute", "decode")
    assert graph_stamp(other) not in (None, graph_stamp(g))
    monkeypatch.setattr(graph_cache, "_digest", ["an edited source tree"])
    assert graph_stamp(build_graph("qkv_proj_rope:baseline", "decode")) != graph_stamp(g)
    monkeypatch.setenv("SWIMSIM_GRAPH_CACHE", "off")
    assert graph_stamp(build_graph("qkv_proj_rope:baseline", "decode")) is None
