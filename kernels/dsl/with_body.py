"""The with-form ``with pl.spmd(n):`` body, re-run per block: the ``with`` statement found with ``ast``
in the kernel's source file and its body compiled once (per file text and line). Its errors get the
with-statement's ``file:line`` where ``pl.record`` reports them (:func:`kernels.dsl.sites.locate`).
"""

from __future__ import annotations

import ast
import linecache
from typing import Any

from sim.util.errors import UserError

_BODY_CACHE: dict[tuple[str, int], Any] = {}  # (file, with line) -> compiled body
_WITH_NODES: dict[str, tuple[str, list[Any]]] = {}  # file -> (its source, its with-statements)


def _with_nodes(fname: str) -> list[Any]:
    """The with-statements of ``fname``, parsed once per source text (an edited file is parsed again)."""
    linecache.checkcache(fname)
    src = "".join(linecache.getlines(fname))
    if not src:
        raise UserError("with-form pl.spmd needs the kernel source file")
    ent = _WITH_NODES.get(fname)
    if ent is None or ent[0] != src:
        for key in [k for k in _BODY_CACHE if k[0] == fname]:
            del _BODY_CACHE[key]
        ent = _WITH_NODES[fname] = (src, _with_statements(ast.parse(src)))
    return ent[1]


_STMT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")  # fields that hold statement lists


def _with_statements(tree: ast.Module) -> list[Any]:
    """All (async) with-statements of ``tree``, found by descending statement lists only (a with is a
    statement: it never sits inside an expression), which is much cheaper than :func:`ast.walk`."""
    out: list[Any] = []
    todo: list[Any] = [tree]
    while todo:
        node = todo.pop()
        for field in _STMT_LISTS:
            sub = getattr(node, field, None)
            if type(sub) is list:
                for child in sub:
                    if isinstance(child, ast.With | ast.AsyncWith):
                        out.append(child)
                    todo.append(child)
    return out


def with_body(frame: Any) -> Any:
    """Compile the body of the ``with`` statement executing at ``frame``'s current line."""
    fname, line = frame.f_code.co_filename, frame.f_lineno
    key = (fname, line)
    nodes = _with_nodes(fname)
    if key in _BODY_CACHE:
        return _BODY_CACHE[key]
    best = None
    for node in nodes:
        first = node.body[0].lineno
        if node.lineno <= line < first and (best is None or node.lineno >= best.lineno):
            best = node
    if best is None:
        raise UserError("could not find the with-statement body of pl.spmd")
    mod = ast.Module(body=best.body, type_ignores=[])
    try:
        code = compile(mod, fname, "exec")
    except SyntaxError as exc:
        raise UserError(f"a with-form pl.spmd body cannot be re-run per block ({exc.msg}); "
                        "use the for-form 'for b in pl.spmd(n)'") from None
    _BODY_CACHE[key] = code
    return code
