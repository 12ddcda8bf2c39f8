"""Call sites of recorded ops: an interned int per (user source position, its caller's position).

A recorded op's site keys its WAR buffer slots (each call site has its own ring of slots) and the
program signature blocks share op lists by. The site is the first frame outside ``kernels/dsl``
(:data:`DSL_DIR`) and its caller; code objects are keyed by id and pinned here.

:func:`locate` names the user's source line in an error raised while recording (``file:line: ...``).
"""

from __future__ import annotations

import bisect
import dis
import os
from typing import Any

from sim.util.paths import shown

DSL_DIR = os.path.dirname(os.path.abspath(__file__))  # frames of files under it are DSL frames
_KERNELS = os.path.dirname(DSL_DIR) + os.sep  # swimsim's kernels package ...
_MODELS = os.path.join(_KERNELS, "models") + os.sep  # ... whose built-in models are kernel code like a user's


_CODE_INFO: dict[int, tuple[Any, Any]] = {}  # id(code) -> (code, None for DSL code | positions)
POS: dict[int, Any] = {}  # id(code) -> positions (None for DSL code); ids of registered code are pinned
_SITE_IDS: dict[tuple[Any, ...], int] = {}  # call-site key -> interned id (Node.site)
# (id(user code), its f_lasti, id(caller code), caller f_lasti) -> interned site id. A memo over
# _SITE_IDS: an offset maps to one source position, so two offsets of one call (specialised or not)
# memoise the same id. The code objects behind the ids are pinned by _CODE_INFO.
SITE_MEMO: dict[tuple[int, int, int, int], int] = {}


def code_info(code: Any) -> Any:
    """Source positions of ``code`` (None for DSL code); registers (and pins) the code object."""
    ent = _CODE_INFO.get(id(code))
    if ent is None or ent[0] is not code:
        ent = (code, None if code.co_filename.startswith(DSL_DIR) else list(code.co_positions()))
        _CODE_INFO[id(code)] = ent
        POS[id(code)] = ent[1]
    return ent[1]


# id(code) -> (code, instruction offsets, UNPACK_SEQUENCE count or -1 per instruction); code pinned as above
_UNPACK_AT: dict[int, tuple[Any, list[int], list[int]]] = {}


def unpacks(frame: Any, count: int) -> bool:
    """Whether the statement running in ``frame`` unpacks the value of its current call into ``count``
    names (``(x,) = f()`` is 1, ``a, b = f()`` is 2): pypto's parser reads some calls by the statement's
    shape."""
    code = frame.f_code
    ent = _UNPACK_AT.get(id(code))
    if ent is None or ent[0] is not code:
        ins = list(dis.get_instructions(code))
        ent = (code, [i.offset for i in ins], [i.arg if i.opname == "UNPACK_SEQUENCE" else -1 for i in ins])
        _UNPACK_AT[id(code)] = ent
    _, starts, unpack = ent
    nxt = bisect.bisect_right(starts, frame.f_lasti)  # the instruction after the call and its caches
    return nxt < len(starts) and unpack[nxt] == count


def site_id(f: Any) -> int:
    """Interned call-site id of the first user (non-DSL) frame from ``f`` outwards and its caller.

    Keyed by source position, not by bytecode offset: CPython 3.11 reports a different offset for
    one call once the instruction is specialised, which made keys (and WAR deps) drift between
    repeated builds. Code objects are keyed by id (hashing a code object re-hashes its bytecode).
    """
    pos_of = POS
    while f is not None:
        code = f.f_code
        pos = pos_of.get(id(code), False)
        if pos is False:
            pos = code_info(code)
        if pos is not None:
            break
        f = f.f_back
    if f is None:
        key: tuple[Any, ...] = ("?",)
        site = _SITE_IDS.get(key)
        if site is None:
            site = _SITE_IDS[key] = len(_SITE_IDS)
        return site
    b = f.f_back
    mkey = (id(code), f.f_lasti, id(b.f_code), b.f_lasti) if b is not None else (id(code), f.f_lasti, 0, -1)
    site = SITE_MEMO.get(mkey)
    if site is None:
        if b is None:
            key = (id(code), pos[f.f_lasti >> 1], 0, None)
        else:
            bcode = b.f_code
            bpos = code_info(bcode)
            key = (id(code), pos[f.f_lasti >> 1], id(bcode), bpos[b.f_lasti >> 1] if bpos is not None else None)
        site = _SITE_IDS.get(key)
        if site is None:  # intern: small ints hash and compare faster in slot keys and signatures
            site = _SITE_IDS[key] = len(_SITE_IDS)
        SITE_MEMO[mkey] = site
    return site


def _in_swimsim(filename: str) -> bool:
    """True for a file of swimsim's kernels package other than its built-in models (DSL, pl, registry)."""
    return filename.startswith(_KERNELS) and not filename.startswith(_MODELS)


def locate(exc: Exception) -> Exception:
    """Prefix ``exc``'s message with ``file:line`` of the kernel code that raised it (error path only).

    The line is the innermost frame outside swimsim's kernels package (its built-in models count as
    kernel code): searched along the traceback, then outwards from where ``exc`` was caught (an error
    raised by ``pl.record`` itself names the ``pl.record`` call). An error already located (its
    ``kernel_location`` set), or raised with no kernel frame on the stack, is left as it is.
    """
    if getattr(exc, "kernel_location", None) is not None:
        return exc
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    where = next((f"{shown(f.f_code.co_filename)}:{line}" for f, line in reversed(frames)
                  if not _in_swimsim(f.f_code.co_filename)), None)
    f = frames[0][0].f_back if frames else None
    while where is None and f is not None:
        if not _in_swimsim(f.f_code.co_filename):
            where = f"{shown(f.f_code.co_filename)}:{f.f_lineno}"
        f = f.f_back
    if where is not None:
        exc.kernel_location = where  # type: ignore[attr-defined]
        exc.args = (f"{where}: {exc}",)
    return exc
