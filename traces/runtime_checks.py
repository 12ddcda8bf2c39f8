"""Runtime-model checks: the simulated counterparts of runtime figures measured on a2a3 silicon.

The targets were measured by the PTO runtime's developers on other workloads (simpler,
https://github.com/hw-native-sys/simpler: qwen3 decode, a 355-task run without swimlane capture,
the cold-start investigation; docs/model.md §4 and §7 list the documents), so they check the runtime
model's scale, not this kernel's numbers: a simulated value far outside its target points at a runtime
parameter, independent of the PR648 fit.
All values are µs.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from sim.ir.records import RunResult, SubtaskRecord
from sim.util.tables import render_table


@dataclass(frozen=True)
class RuntimeCheck:
    """One check: the measured target (a value or a lo..hi range, µs) and where it was measured."""

    key: str
    label: str
    lo: float
    hi: float
    source: str
    levels: tuple[int, ...] | None = None  # swimlane levels a run may have to be compared (None: any)

    def comparable(self, level: int) -> bool:
        """Whether a run at swimlane ``level`` can be compared with the target."""
        return self.levels is None or level in self.levels

    def target_text(self) -> str:
        return f"{self.lo:g}" if self.lo == self.hi else f"{self.lo:g}-{self.hi:g}"

    def verdict(self, value: float | None) -> str:
        """'in range' / 'below' / 'above' for ranges; the signed deviation in % for a single value."""
        if value is None:
            return "-"
        if self.lo != self.hi:
            return "in range" if self.lo <= value <= self.hi else ("below" if value < self.lo else "above")
        return f"{(value - self.lo) / self.lo * 100.0:+.0f}%"


CHECKS: tuple[RuntimeCheck, ...] = (
    RuntimeCheck("steady_head_oh", "steady Head OH, IDLE dispatch (median)", 0.2, 0.5,
                 "simpler 2026-06-aicore-cold-start-warmup.md"),
    RuntimeCheck("first_head_oh_max", "first-task Head OH (max over cores)", 0.3, 5.6,
                 "simpler 2026-06-aicore-cold-start-warmup.md, 72 cores"),
    RuntimeCheck("switch_mean", "back-to-back switch, PENDING dispatch (mean)", 0.81, 0.81,
                 "simpler 2026-07-aicore-swimlane-switch-overhead-and-ack-gate.md, qwen3-14b decode"),
    # Both measured in one run without swimlane capture (level 0): 923.66 µs over 743 thread-0 loops, and
    # an orchestration window of 539.18 µs for 355 submitted tasks. Phase records (level >= 3) lengthen
    # a loop and orchestrator records (level 4) a submit, so runs at those levels are not compared.
    RuntimeCheck("loop_t0", "scheduler loop time, thread 0 (levels 0-2)", 1.24, 1.24,
                 "simpler docs/dfx/l2-timing.md, 355-task run without swimlane", levels=(0, 1, 2)),
    RuntimeCheck("orch_per_task", "orchestration window per submit (levels 0-3)", 1.52, 1.52,
                 "same run: 539.18 µs / 355 submits", levels=(0, 1, 2, 3)),
    RuntimeCheck("thread_stagger", "first-dispatch stagger between threads (median)", 1.92, 1.92,
                 "simpler 2026-06-cross-task-batched-publish.md, qwen3 decode"),
)


def _by_core(rows: list[SubtaskRecord]) -> dict[int, list[SubtaskRecord]]:
    out: dict[int, list[SubtaskRecord]] = defaultdict(list)
    for r in rows:
        out[r.core_id].append(r)
    for rs in out.values():
        rs.sort(key=lambda r: (r.start, r.reg_task_id))
    return out


def runtime_values(res: RunResult, *, level: int) -> dict[str, float | None]:
    """The simulated value of every check in :data:`CHECKS` (µs; None when the run has no such event, or
    when the run's swimlane ``level`` is not one the check's target can be compared at)."""
    us = 1e-3
    steady: list[float] = []
    first: list[float] = []
    switch: list[float] = []
    for rows in _by_core(res.subtasks).values():
        first.append((rows[0].start - rows[0].dispatch) * us)
        for prev, cur in zip(rows, rows[1:], strict=False):
            if cur.dispatch >= prev.end:
                steady.append((cur.start - cur.dispatch) * us)
            else:
                switch.append((cur.start - prev.end) * us)
    loops = [p for p in res.phases if p.thread == 0]
    loop_t0 = None
    if loops:
        last = max(loops, key=lambda p: p.end)
        loop_t0 = last.end * us / last.loop_iter if last.loop_iter else None
    orch = None
    if res.submits:
        orch = (max(s.end for s in res.submits) - min(s.start for s in res.submits)) * us / len(res.submits)
    per_task: dict[int, dict[int, float]] = defaultdict(dict)
    for r in res.subtasks:
        d = per_task[r.task]
        d[r.thread] = min(d.get(r.thread, r.dispatch), r.dispatch)
    stagger = [(max(d.values()) - min(d.values())) * us for d in per_task.values() if len(d) > 1]
    out = {
        "steady_head_oh": statistics.median(steady) if steady else None,
        "first_head_oh_max": max(first) if first else None,
        "switch_mean": statistics.fmean(switch) if switch else None,
        "loop_t0": loop_t0,
        "orch_per_task": orch,
        "thread_stagger": statistics.median(stagger) if stagger else None,
    }
    for c in CHECKS:
        if not c.comparable(level):
            out[c.key] = None
    return out


def format_checks(columns: dict[str, dict[str, float | None]], *, markdown: bool = False) -> str:
    """A table: one row per check, one value column per run label (µs), target, verdict per run."""
    labels = list(columns)
    head = ["check", "target µs", *[f"{lb} µs" for lb in labels], "vs target", "target measured on"]
    body = []
    for c in CHECKS:
        vals = [columns[lb].get(c.key) for lb in labels]
        cells = ["-" if v is None else f"{v:.2f}" for v in vals]
        body.append([c.label, c.target_text(), *cells, " / ".join(c.verdict(v) for v in vals), c.source])
    return render_table(head, body, markdown=markdown, left=(0, len(head) - 1))
