"""The ``golden`` test harness as a pypto kernel file sees it while swimsim runs the file.

``run_jit`` hands the ``@pl.jit`` function, its specs, the runtime settings and the golden function
with its tolerances to the recording that :mod:`kernels.pypto_files.loader` installs (which runs the
golden only for ``swimsim run --check-golden``) and returns a passing :class:`RunResult`. The
comparison factories return :class:`Comparator` objects: called by harness code they accept anything;
the golden check reads the rule of the one it models (``ratio_allclose``: per-element tolerance with a
bounded share of elements allowed outside it) and names the others it compares by rtol/atol only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernels.pypto_files.golden_check import _to_numpy, compare
from sim.util.errors import UserError

# the recording of the running file: ``handler(fn, specs, runtime_cfg, check)``, ``check`` the golden function
# and tolerances (``{"golden": fn or None, "rtol": r, "atol": a}``); set by the loader
handler: Callable[[Any, list[Any], dict[str, Any], dict[str, Any]], None] | None = None


@dataclass
class TensorSpec:
    """A tensor argument: name, shape, torch dtype, initial value (callable, tensor or number)."""

    name: str
    shape: list[int]
    dtype: Any
    init_value: Any = None
    is_output: bool = False

    def create_tensor(self) -> Any:
        """The tensor this spec describes, built with the ``torch`` the file sees (torch or swimsim's
        stand-in): zeros without an initial value, a number filled in, a tensor cast, a torch factory
        (``randn``, ``rand``, ``zeros``, ``ones``) called with the shape, any other callable's result cast."""
        import torch

        init = self.init_value
        if init is None:
            return torch.zeros(list(self.shape), dtype=self.dtype)
        if isinstance(init, int | float):
            return torch.full(list(self.shape), init, dtype=self.dtype)
        if isinstance(init, torch.Tensor):
            return init.to(dtype=self.dtype)
        if callable(init):
            if is_factory(init):
                return init(list(self.shape), dtype=self.dtype)
            return torch.as_tensor(init(), dtype=self.dtype)
        raise UserError(f"tensor spec {self.name}: init_value of type {type(init).__name__} is not a number, "
                        "tensor or callable")


def is_factory(fn: Any) -> bool:
    """``fn`` is one of torch's random or constant factories, which a spec calls with its shape."""
    try:
        import torch
    except ImportError:  # outside a harness run without torch: no factory to match
        return False
    return any(fn is getattr(torch, n, None) for n in ("randn", "rand", "zeros", "ones"))


@dataclass
class ScalarSpec:
    """A by-value ``pl.Scalar`` argument: name, torch dtype, value."""

    name: str
    dtype: Any
    value: Any


@dataclass
class RunConfig:
    """Harness settings of later harness versions; swimsim reads ``runtime`` (the swimlane flag)."""

    rtol: float = 1e-5
    atol: float = 1e-5
    compile_only: bool = False
    compile: dict[str, Any] = field(default_factory=dict)
    runtime: dict[str, Any] = field(default_factory=dict)
    compare_fn: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """What ``run_jit`` returns: always passed (swimsim simulates timing, not values)."""

    passed: bool = True
    error: str | None = None
    execution_time: float | None = None
    work_dir: Path | None = None
    bench_stats: Any = None  # the harness's benchmark statistics (``benchmark=``): none in a simulation
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return "PASS (simulated by swimsim; golden not computed)"


def _runtime_of(config: Any) -> dict[str, Any]:
    """The runtime settings of a harness config: the ``runtime`` dict of golden's :class:`RunConfig`, or
    the fields of a flat ``pypto.runtime.RunConfig``."""
    if config is None:
        return {}
    runtime = getattr(config, "runtime", None)
    if isinstance(runtime, dict):
        return runtime
    return dict(vars(config))


def run_jit(fn: Any, specs: list[Any], *args: Any, config: Any = None,
            runtime_cfg: dict[str, Any] | None = None, **_kw: Any) -> RunResult:
    """Record ``fn`` with inputs built from ``specs`` and queue it for simulation. The runtime
    settings come from ``runtime_cfg`` or ``config`` (either harness version, or a
    ``pypto.runtime.RunConfig``)."""
    if handler is None:
        raise UserError("golden.run_jit: called outside `swimsim run`")
    if config is None and args and isinstance(args[0], RunConfig):
        config = args[0]
    runtime = runtime_cfg if runtime_cfg is not None else _runtime_of(config)
    golden = _kw.get("golden_fn", _kw.get("golden"))
    if golden is None and args and callable(args[0]):
        golden = args[0]
    compare_fn = _kw.get("compare_fn", getattr(config, "compare_fn", None)) or {}
    check = {"golden": golden, "compare_fn": dict(compare_fn),
             "rtol": float(_kw.get("rtol", getattr(config, "rtol", RunConfig.rtol))),
             "atol": float(_kw.get("atol", getattr(config, "atol", RunConfig.atol)))}
    handler(fn, list(specs), dict(runtime or {}), check)
    return RunResult()


def run(program: Any = None, specs: list[Any] | None = None, *args: Any, tensor_specs: list[Any] | None = None,
        **kw: Any) -> RunResult:
    """``golden.run`` (and ``pypto.runtime.run`` before it, with ``tensor_specs=``): a class-style
    ``@pl.program`` (:mod:`kernels.dsl.programs`) recorded through its entry function as :func:`run_jit`
    records a ``@pl.jit`` entry."""
    entry = getattr(program, "entry", None)
    if not callable(entry):
        raise UserError(f"golden.run: program {program!r} is not a @pl.program class")
    specs = specs if specs is not None else tensor_specs
    if specs is None:
        raise UserError("golden.run: no tensor specs (expected specs= or tensor_specs=)")
    return run_jit(entry(), specs, *args, **kw)


def _accept(*_a: Any, **_kw: Any) -> bool:
    return True


@dataclass
class Comparator:
    """A harness comparator: ``name`` and, where the golden check models it (``modelled``), its rule —
    ``ratio_allclose``: ``atol``/``rtol`` overrides (None: the run's) and ``max_error_ratio``, the share
    of elements allowed outside the tolerance (``round(ratio * elements)`` of them); ``ratio_reldiff``:
    ``params`` diff_thd, pct_thd, max_diff_hd; ``topk_pair_compare``: ``params`` vals_name, dim,
    descending. Calling it accepts anything."""

    name: str
    modelled: bool = False
    atol: float | None = None
    rtol: float | None = None
    max_error_ratio: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    def __call__(self, actual: Any = None, expected: Any = None, *, actual_outputs: dict[str, Any] | None = None,
                 rtol: float = 0.0, atol: float = 0.0, **_kw: Any) -> Any:
        """As the harness calls it: ``(passed, message)`` by this comparator's rule (a file's own
        comparator function may call it); without tensors, or for a rule not modelled, True."""
        if actual is None or expected is None or not self.modelled:
            return True

        outs = {k: _to_numpy(v) for k, v in (actual_outputs or {}).items()}
        res = compare("output", _to_numpy(actual), _to_numpy(expected), float(rtol), float(atol), self, outs)
        ok = res["result"] == "match"
        return ok, "" if ok else f"{res.get('mismatches', '?')} of {res.get('elements', '?')} elements fail {self.name}"


def ratio_allclose(atol: float | None = None, rtol: float | None = None, max_error_ratio: float = 0.005,
                   **_kw: Any) -> Comparator:
    """Per-element ``|a - e| <= atol + rtol·|e|``, passing while at most ``max_error_ratio`` of the
    elements fall outside (pypto-lib ``golden.validation.ratio_allclose``'s rule)."""
    if not 0.0 <= float(max_error_ratio) <= 1.0:
        raise UserError(f"golden.ratio_allclose: max_error_ratio {max_error_ratio} (expected a value in [0, 1])")
    return Comparator("ratio_allclose", True, None if atol is None else float(atol),
                      None if rtol is None else float(rtol), float(max_error_ratio))


def ratio_reldiff(diff_thd: float = 0.01, pct_thd: float = 0.05, max_diff_hd: float = float("inf"),
                  **_kw: Any) -> Comparator:
    """Relative difference per element (the absolute one below ``diff_thd``), passing while at most
    ``pct_thd`` of the elements exceed ``diff_thd`` and none reaches ``max_diff_hd`` (pypto-lib
    ``golden.validation.ratio_reldiff``'s rule)."""
    if not float(diff_thd) > 0 or not 0.0 <= float(pct_thd) <= 1.0 or not float(max_diff_hd) > 0:
        raise UserError(f"golden.ratio_reldiff: diff_thd {diff_thd}, pct_thd {pct_thd}, max_diff_hd {max_diff_hd} "
                        "(expected diff_thd > 0, pct_thd in [0, 1], max_diff_hd > 0)")
    return Comparator("ratio_reldiff", True, params={"diff_thd": float(diff_thd), "pct_thd": float(pct_thd),
                                                     "max_diff_hd": float(max_diff_hd)})


def topk_pair_compare(vals_name: str, *, dim: int = -1, descending: bool = True, **_kw: Any) -> Comparator:
    """Top-k indices: a position whose index differs from the golden's passes when the computed
    scores (output ``vals_name``) keep their order on both sides of it (a tie swap)."""
    return Comparator("topk_pair_compare", True, params={"vals_name": vals_name, "dim": int(dim),
                                                         "descending": bool(descending)})


def _unmodelled(name: str) -> Callable[..., Comparator]:
    def make(*_a: Any, **_kw: Any) -> Comparator:
        return Comparator(name)

    make.__name__ = name
    make.__doc__ = f"``golden.{name}``: the golden check compares its output by the run's rtol/atol."
    return make


mapped_pool_ratio_allclose = _unmodelled("mapped_pool_ratio_allclose")  # mapped rows of block-major pools
error_distribution = _unmodelled("error_distribution")  # the diagnostic comparator (prints a report)


def validate_golden(*_a: Any, **_kw: Any) -> bool:
    """Accepts: no golden is computed."""
    return True
