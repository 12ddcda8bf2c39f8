"""The golden check of a harness run: the file's own golden function on the inputs swimsim recorded with,
compared with the outputs swimsim computed in value mode, with the harness's tolerances.

The golden function is torch code; it runs on real torch when installed, else on the stand-in
(:mod:`kernels.pypto_files.torch_standin`), which covers a subset of torch: a name it lacks makes the
check report ``cannot run`` with that name. Elements match when ``|swimsim - golden| <= atol + rtol *
|golden|`` (``torch.allclose``'s rule; NaN never matches), unless the harness names a comparator for
the output: ``ratio_allclose`` (its tolerances; at most ``round(max_error_ratio · elements)`` elements
outside), ``ratio_reldiff`` (relative difference with an allowed share of outliers) and
``topk_pair_compare`` (index differences allowed where the computed scores keep their order) follow
their rules; a comparator function of the file's own runs as the harness runs it; any other comparator
is named in the result and the output compared by rtol/atol.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def _to_torch(arr: np.ndarray, dtype: Any) -> Any:
    torch = sys.modules["torch"]
    if hasattr(torch, "from_numpy"):
        return torch.from_numpy(np.array(arr, copy=True)).to(dtype)
    return torch.tensor(np.array(arr, copy=True), dtype=dtype)


def _to_numpy(t: Any) -> np.ndarray:
    if hasattr(t, "a"):  # the stand-in's tensor
        return np.asarray(t.a)
    if hasattr(t, "detach"):
        t = t.detach().cpu()
        if t.is_floating_point():
            t = t.float()
        return t.numpy()
    return np.asarray(t)


def _reldiff_bad(g: np.ndarray, w: np.ndarray, p: dict[str, Any]) -> tuple[np.ndarray, float]:
    """``ratio_reldiff``: the elements whose relative difference exceeds diff_thd, and the worst one."""
    thd = p["diff_thd"]
    a = np.abs(g - w)
    b = np.maximum(np.maximum(np.abs(g), np.abs(w)), 2.0 ** -14 / thd) + 1e-9
    r = np.where(a < thd, a, a / b)
    bad = ~(r <= thd)
    return bad, float(r[bad].max()) if bad.any() else 0.0


def _topk_bad(g: np.ndarray, w: np.ndarray, p: dict[str, Any], outputs: dict[str, np.ndarray]) -> np.ndarray:
    """``topk_pair_compare``: index positions that differ and where the computed scores break their
    order with a neighbour along ``dim``."""
    vals = outputs.get(p["vals_name"])
    differ = g != w
    if vals is None or np.shape(vals) != np.shape(g):
        return differ
    v = np.moveaxis(np.asarray(vals, np.float64), p["dim"], -1)
    ok_pair = v[..., :-1] >= v[..., 1:] if p["descending"] else v[..., :-1] <= v[..., 1:]
    ok = np.ones(v.shape, bool)
    ok[..., 1:] &= ok_pair
    ok[..., :-1] &= ok_pair
    return differ & ~np.moveaxis(ok, -1, p["dim"])


def compare(name: str, got: np.ndarray, want: np.ndarray, rtol: float, atol: float,
            rule: Any = None, outputs: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """``match``, or ``mismatch`` with the first mismatching index and both values, for one output;
    ``rule``: the harness's comparator for it (see the module docstring); ``outputs``: every computed
    output by name (a top-k comparator reads the paired scores)."""
    g = np.asarray(got, np.float64).reshape(np.shape(want)) if np.size(got) == np.size(want) else None
    if g is None:
        return {"output": name, "result": "mismatch", "why": f"shape {list(np.shape(got))} vs golden "
                f"{list(np.shape(want))}"}
    w = np.asarray(want, np.float64)
    allowed = 0
    note: dict[str, Any] = {}
    kind = getattr(rule, "name", None) if getattr(rule, "modelled", False) else None
    if kind == "ratio_allclose":
        atol = atol if rule.atol is None else rule.atol
        rtol = rtol if rule.rtol is None else rule.rtol
        allowed = round(rule.max_error_ratio * int(w.size))
        note = {"comparator": kind, "rtol": rtol, "atol": atol, "allowed": allowed}
    elif kind == "ratio_reldiff":
        bad, worst = _reldiff_bad(g, w, rule.params)
        allowed = round(rule.params["pct_thd"] * int(w.size)) if worst < rule.params["max_diff_hd"] else -1
        note = {"comparator": f"ratio_reldiff(diff_thd={rule.params['diff_thd']:g}, "
                f"pct_thd={rule.params['pct_thd']:g})", "allowed": max(allowed, 0)}
    elif kind == "topk_pair_compare":
        bad = _topk_bad(g, w, rule.params, {k: np.asarray(v) for k, v in (outputs or {}).items()})
        note = {"comparator": f"topk_pair_compare({rule.params['vals_name']})",
                "tie_swaps": int((g != w).sum() - bad.sum())}
    elif rule is not None:
        label = getattr(rule, "name", getattr(rule, "__name__", "comparator"))
        note = {"comparator": f"{label} (not modelled: run's rtol/atol)"}
    if kind not in ("ratio_reldiff", "topk_pair_compare"):
        bad = ~(np.abs(g - w) <= atol + rtol * np.abs(w))
    where = np.argwhere(bad)
    if len(where) <= allowed:
        return {"output": name, "result": "match", "elements": int(w.size), "outside": int(len(where)), **note}
    first = [int(i) for i in where[0]]
    return {"output": name, "result": "mismatch", "index": first, "swimsim": float(g[tuple(first)]),
            "golden": float(w[tuple(first)]), "mismatches": int(len(where)), "elements": int(w.size), **note}


def golden_check(golden: Any, specs: list[Any], inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray],
                 unknown: dict[str, str | None], rtol: float, atol: float,
                 compare_fn: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``golden`` on copies of ``inputs`` (every tensor spec's initial data, by name) and compare each
    output spec with ``outputs``; ``unknown[name]`` says why an output is not computed; ``compare_fn``:
    the harness's comparators by output name."""
    res: dict[str, Any] = {"rtol": rtol, "atol": atol, "outputs": []}
    if golden is None:
        res["golden"] = "cannot run: the file passes no golden function to run_jit"
        return res
    tensors: dict[str, Any] = {}
    missing = [s.name for s in specs if hasattr(s, "shape") and s.name not in inputs]
    if missing:
        res["golden"] = f"cannot run: input {missing[0]} has no data ({unknown.get(missing[0])})"
        return res
    for s in specs:
        if hasattr(s, "shape"):
            tensors[s.name] = _to_torch(inputs[s.name], s.dtype)
        else:
            tensors[s.name] = s.value
    try:
        golden(tensors)
    except Exception as exc:  # the golden is the file's own torch code
        res["golden"] = f"cannot run: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return res
    res["golden"] = "ran"
    for s in specs:
        if not getattr(s, "is_output", False):
            continue
        why = unknown.get(s.name)
        if why:
            res["outputs"].append({"output": s.name, "result": "not computed", "why": why})
            continue
        rule = (compare_fn or {}).get(s.name)
        if rule is not None and not hasattr(rule, "modelled") and callable(rule):
            res["outputs"].append(_file_comparator(rule, s.name, specs, outputs, tensors, rtol, atol))
            continue
        res["outputs"].append(compare(s.name, outputs[s.name], _to_numpy(tensors[s.name]), rtol, atol, rule, outputs))
    return res


def _file_comparator(rule: Any, name: str, specs: list[Any], outputs: dict[str, np.ndarray], tensors: dict[str, Any],
                     rtol: float, atol: float) -> dict[str, Any]:
    """An output the file compares with a comparator function of its own: run it as the harness does
    (computed and golden tensors, every output of both, the inputs, rtol/atol); the first index outside
    rtol/atol is reported with its verdict. When the function cannot run, the output is compared by
    rtol/atol and the result says why."""
    label = getattr(rule, "__name__", "comparator")
    base = compare(name, outputs[name], _to_numpy(tensors[name]), rtol, atol)
    dtypes = {s.name: s.dtype for s in specs if hasattr(s, "shape")}
    try:
        actual = {n: _to_torch(outputs[n], dtypes[n]) for n in outputs if n in dtypes}
        expected = {n: tensors[n] for n in actual}
        verdict = rule(actual[name], tensors[name], actual_outputs=actual, expected_outputs=expected,
                       inputs=tensors, rtol=rtol, atol=atol)
    except Exception as exc:  # the comparator is the file's own torch code
        first = str(exc).splitlines()[0] if str(exc) else ""
        return {**base, "comparator": f"{label} (the file's own, cannot run: {type(exc).__name__}: {first}; "
                "run's rtol/atol)"}
    ok = bool(verdict[0] if isinstance(verdict, tuple) else verdict)
    note = {"comparator": f"{label} (the file's own)"}
    if ok:
        return {"output": name, "result": "match", "elements": base.get("elements", int(np.size(outputs[name]))),
                "outside": int(base.get("mismatches", 0)), **note}
    if base["result"] == "match":
        msg = str(verdict[1]).strip() if isinstance(verdict, tuple) and len(verdict) > 1 else ""
        return {"output": name, "result": "mismatch", "why": f"{label}: {msg.splitlines()[0] if msg else 'failed'}"}
    return {**base, **note}


def passed(res: dict[str, Any]) -> bool:
    """Whether the golden ran and every output matched."""
    return res.get("golden") == "ran" and all(o["result"] == "match" for o in res["outputs"])


def summary_lines(res: dict[str, Any]) -> list[str]:
    """One line per output (or one saying why the golden could not run)."""
    if res.get("golden") != "ran":
        return [f"golden check: {res.get('golden')}"]
    out = []
    for o in res["outputs"]:
        rt, at = o.get("rtol", res["rtol"]), o.get("atol", res["atol"])
        how = f", {o['comparator']}" if "comparator" in o else ""
        if "allowed" in o:
            how += f", up to {o['allowed']} outside"
        if o["result"] == "match":
            out.append(f"golden check {o['output']}: match ({o['elements']} elements, rtol={rt:g} atol={at:g}{how}"
                       + (f"; {o['outside']} outside" if o.get("outside") else "") + ")")
        elif o["result"] == "not computed":
            out.append(f"golden check {o['output']}: not computed: {o['why']}")
        elif "index" in o:
            out.append(f"golden check {o['output']}: MISMATCH at {o['index']}: swimsim {o['swimsim']!r} vs golden "
                       f"{o['golden']!r} ({o['mismatches']} of {o['elements']} elements outside rtol={rt:g} "
                       f"atol={at:g}{how})")
        else:
            out.append(f"golden check {o['output']}: MISMATCH: {o['why']}")
    if not res["outputs"]:
        out.append("golden check: the specs name no output")
    return out
