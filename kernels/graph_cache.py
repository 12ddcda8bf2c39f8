"""On-disk cache of recorded built-in task graphs, keyed by the recording's sources.

Recording a built-in kernel model (``kernels.models``) is deterministic: its task graph depends only on
the kernel, variant and mode, and on the Python sources of the recorder — every ``.py`` file under
``kernels/`` (the DSL, the models, the registry) and ``sim/ir/`` (the IR the graph is made of). A
cache entry's key is the SHA-256 of those sources (paths and bytes), the Python and pydantic
versions, and the kernel, variant and mode; editing any of those files gives a new key, so a stale
entry is never read. Writing an entry removes the older entries of the same kernel, variant and mode.

Entries are pickled :class:`~sim.ir.TaskGraph` objects (the blocks of one program keep sharing their
op objects). A graph the cache reads or writes carries its entry's name as its content stamp
(:func:`hwmodels.memory.stamp_graph`): the cost model moves its per-block work on one such graph (block
structures, GM line sets, L2 transitions) to the next graph with the same stamp instead of redoing it.
The cache lives in ``$SWIMSIM_GRAPH_CACHE`` when that names a directory, else in
``$XDG_CACHE_HOME/swimsim/graphs`` (default ``~/.cache/swimsim/graphs``); ``SWIMSIM_GRAPH_CACHE=off``
turns it off. Graphs of user kernel files, and builds with builder options, are never cached. An
entry that cannot be read or written is ignored (the graph is recorded as without the cache).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

from pydantic import VERSION as PYDANTIC_VERSION

from hwmodels.memory import stamp_graph
from sim.ir import TaskGraph

_ROOT = Path(__file__).resolve().parents[1]  # the directory holding the kernels and sim packages
_SOURCES = (_ROOT / "kernels", _ROOT / "sim" / "ir")
_OFF = ("0", "off", "no", "false")
_digest: list[str] = []  # the sources' digest, computed once per process


def cache_dir() -> Path | None:
    """The cache directory, or None when the cache is turned off."""
    env = os.environ.get("SWIMSIM_GRAPH_CACHE", "").strip()
    if env.lower() in _OFF:
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swimsim" / "graphs"


def sources_digest() -> str:
    """SHA-256 (hex) of the recorder's sources (relative paths and bytes) and the interpreter and
    pydantic versions."""
    if not _digest:
        h = hashlib.sha256(f"{sys.version}|{PYDANTIC_VERSION}".encode())
        for top in _SOURCES:
            for p in sorted(top.rglob("*.py")):
                h.update(str(p.relative_to(_ROOT)).encode() + b"\0")
                h.update(p.read_bytes())
                h.update(b"\0")
        _digest.append(h.hexdigest())
    return _digest[0]


def _key(kernel: str, variant: str, mode: str) -> str:
    """The entry key: SHA-256 (hex, 24 digits) of the sources' digest and the kernel, variant and mode."""
    return hashlib.sha256(f"{sources_digest()}|{kernel}|{variant}|{mode}".encode()).hexdigest()[:24]


def _entry(d: Path, kernel: str, variant: str, mode: str) -> Path:
    return d / f"{kernel}+{variant}+{mode}+{_key(kernel, variant, mode)}.pickle"


def load(kernel: str, variant: str, mode: str) -> TaskGraph | None:
    """The cached graph of ``kernel:variant`` in ``mode``, or None (no entry, cache off, unreadable)."""
    d = cache_dir()
    if d is None:
        return None
    p = _entry(d, kernel, variant, mode)
    try:
        data = p.read_bytes()
    except OSError:
        return None
    try:
        g = pickle.loads(data)
    except Exception:  # a damaged entry: recorded again and rewritten  # noqa: BLE001
        return None
    if not isinstance(g, TaskGraph) or (g.kernel, g.variant, g.mode) != (kernel, variant, mode):
        return None
    stamp_graph(g, f"graph-cache:{p.name}")
    return g


def store(graph: TaskGraph, kernel: str, variant: str, mode: str) -> None:
    """Write ``graph`` as the entry of ``kernel:variant`` in ``mode`` (atomically) and remove that
    kernel's, variant's and mode's older entries; does nothing when the cache is off or not writable."""
    d = cache_dir()
    if d is None:
        return
    p = _entry(d, kernel, variant, mode)
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(graph, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in d.glob(f"{kernel}+{variant}+{mode}+*.pickle"):
            if old != p:
                old.unlink(missing_ok=True)
    except OSError:
        return
    stamp_graph(graph, f"graph-cache:{p.name}")
