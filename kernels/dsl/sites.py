"""Call sites of recorded ops: an interned int per (user source position, its caller's position).

A recorded op's site keys its WAR buffer slots (each call site has its own ring of slots) and the
program signature blocks share op lists by. The site is the first frame outside ``kernels/dsl``
(:data:`DSL_DIR`) and its caller; code objects are keyed by id and pinned here.
"""

from __future__ import annotations

import os
from typing import Any

DSL_DIR = os.path.dirname(os.path.abspath(__file__))  # frames of files under it are DSL frames


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
