"""The parameter sections of a chip config: one pydantic model per hardware block or runtime part.

Every field is declared with :func:`F` and carries ``unit``, ``status`` (the hardware.md tag: SPEC,
MEASURED, FIT, VSIM, DERIVED, INFERRED, PRESS, CALIBRATE, ASSUMPTION, SOURCE, CALIBRATED, CHOICE) and
``source`` in its description. ``SECTIONS`` maps each section's TOML table name to its model, in the
order the chip config and its TOML text list them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo

_STATUSES = {
    "SPEC", "MEASURED", "FIT", "VSIM", "DERIVED", "INFERRED", "PRESS", "CALIBRATE", "ASSUMPTION",
    "SOURCE", "CALIBRATED", "CHOICE",
}


def F(default: Any, unit: str, status: str, source: str, *, timing: bool = True, **kw: Any) -> Any:  # noqa: N802
    """A field whose description reads ``unit: U | status: S | source: ...``.

    ``timing=False`` marks a descriptive field: recorded for completeness (buffer sizes, ring
    capacities, validation facts) but not read by the timing model, so changing it changes nothing
    (:func:`descriptive_fields`; ``swimsim sweep`` refuses to vary one).
    """
    if status not in _STATUSES:
        raise ValueError(f"unknown status tag {status}")
    extra = None if timing else {"timing": False}
    return Field(default, description=f"unit: {unit} | status: {status} | source: {source}",
                 json_schema_extra=extra, **kw)


class _Section(BaseModel):
    """Base of every section: unknown keys, inf and nan are errors; assignments are validated."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)


class SocPreset(_Section):
    """Per-SoC topology and clocks (hardware.md §2)."""

    soc_version: str = F("Ascend910_9391", "-", "SPEC", "CANN INI SoC name (hardware.md §2)")
    product_line: str = F("A3", "-", "SPEC", "CANN INI (hardware.md §2)", timing=False)
    clusters: int = F(24, "count", "SPEC", "INI cube_core_cnt (hardware.md §2)", ge=1, le=64)
    aic_per_cluster: int = F(1, "count", "SPEC", "hardware.md §1 cluster shape", ge=1, le=1, timing=False)
    aiv_per_cluster: int = F(2, "count", "SPEC", "hardware.md §1 cluster shape", ge=1, le=2)
    aicpu_user_cores: int = F(6, "count", "SPEC", "INI ai_cpu_cnt (hardware.md §2)", ge=1, timing=False)
    cube_freq_mhz: float = F(1850.0, "MHz", "SPEC", "INI cube_freq (hardware.md §2)", gt=0)
    vec_freq_mhz: float = F(1850.0, "MHz", "ASSUMPTION", "= cube clock; A2 INI has no vec_freq (hardware.md §2)",
                            gt=0)
    hbm_capacity_gib: float = F(64.0, "GiB", "SPEC", "INI memory_size (hardware.md §2)", gt=0)
    hbm_bw_gbps: float = F(1600.0, "GB/s (= bytes/ns)", "CALIBRATE",
                           "press ~1.6 TB/s per die, aggregate (hardware.md §9.4)", gt=0)
    l2_size_mib: float = F(192.0, "MiB", "SPEC", "INI l2_size (hardware.md §2, §9.1)", gt=0)
    sys_counter_hz: int = F(50_000_000, "Hz", "SOURCE", "PLATFORM_PROF_SYS_CNT_FREQ (hardware.md §11); the "
                            "records use the a2a3 50 MHz tick (formats.md §1)", gt=0, timing=False)


class AicBuffers(_Section):
    """AIC on-chip buffers (hardware.md §3)."""

    l1_bytes: int = F(524288, "bytes", "SPEC", "INI l1_size (hardware.md §3)", gt=0, timing=False)
    l0a_bytes: int = F(65536, "bytes", "SPEC", "INI (hardware.md §3)", gt=0)
    l0b_bytes: int = F(65536, "bytes", "SPEC", "INI (hardware.md §3)", gt=0)
    l0c_bytes: int = F(131072, "bytes", "SPEC", "INI (hardware.md §3)", gt=0)
    bias_table_bytes: int = F(1024, "bytes", "SPEC", "INI (hardware.md §3)", gt=0, timing=False)
    fb_bytes: list[int] = F([2048, 1024, 2048, 2048], "bytes each", "SPEC", "INI FB0..FB3 (hardware.md §3)",
                            timing=False)


class AivBuffers(_Section):
    """AIV unified buffer (hardware.md §3)."""

    ub_bytes: int = F(196608, "bytes", "SPEC", "INI (hardware.md §3)", gt=0, timing=False)
    ub_safe_bytes: int = F(188416, "bytes", "SOURCE", "pypto SoC description, pto-isa#170 (hardware.md §3)", gt=0,
                           timing=False)
    ub_block_bytes: int = F(32, "bytes", "SPEC", "INI UB block (hardware.md §3)", gt=0, timing=False)

    @model_validator(mode="after")
    def _safe_le_ub(self) -> AivBuffers:
        """The safe UB size fits in the UB."""
        if self.ub_safe_bytes > self.ub_bytes:
            raise ValueError("ub_safe_bytes must be <= ub_bytes")
        return self


class CoreRates(_Section):
    """Per-core data-path rates (hardware.md §4.1), bytes per core cycle.

    The cost model uses ``ddr`` (L2-miss reads), ``l2_read`` (L2-hit reads), ``l2_write`` and
    ``ub_to_l2`` (stores); the aggregate HBM rate is ``soc.hbm_bw_gbps``.
    """

    ddr: float = F(32.0, "B/cycle", "SPEC", "INI ddr_rate; per core GM rate, read = write (hardware.md §4.1)",
                   gt=0)
    l2_read: float = F(110.0, "B/cycle", "SPEC", "INI l2_read_rate (hardware.md §4.1)", gt=0)
    l2_write: float = F(86.0, "B/cycle", "SPEC", "INI l2_write_rate (hardware.md §4.1)", gt=0)
    l1_to_l0a: float = F(512.0, "B/cycle", "SPEC", "INI peak, upper bound only (hardware.md §4.1)", gt=0)
    l1_to_l0b: float = F(256.0, "B/cycle", "SPEC", "INI peak, upper bound only (hardware.md §4.1)", gt=0)
    ub_to_ddr: float = F(64.0, "B/cycle", "SPEC", "INI ub_to_ddr_rate (hardware.md §4.1)", gt=0, timing=False)
    ub_to_l2: float = F(64.0, "B/cycle", "SPEC", "INI ub_to_l2_rate (hardware.md §4.1)", gt=0)
    ub_to_l1: float = F(128.0, "B/cycle", "SPEC", "INI; no such path on a2a3 (hardware.md §4.1)", gt=0, timing=False)


class CubeModel(_Section):
    """Cube MAD cost (hardware.md §5, §8.1): c_mad = head per K block + p * fractals."""

    frac_m: int = F(16, "elements", "SPEC", "INI DtypeMKN (hardware.md §5)", gt=0)
    frac_n: int = F(16, "elements", "SPEC", "INI DtypeMKN (hardware.md §5)", gt=0)
    k_frac_bytes: int = F(32, "bytes", "FIT", "k_t = 32 / bytes_a (hardware.md §5)", gt=0)
    fp32_passes: int = F(2, "passes", "FIT", "pypto L0 cost model mad_fp32_passes (hardware.md §5)", ge=1)
    mad_head_cycles: float = F(21.0, "cycles", "FIT", "op-sim fit, device-confirmed ~2 % (hardware.md §5)", ge=0)
    int8_k: int = F(32, "elements", "SPEC", "INI INT8 16,32,16 (hardware.md §5)", gt=0)
    int4_k: int = F(64, "elements", "SPEC", "INI INT4 (hardware.md §5)", gt=0)
    l0_double_buffer: bool = F(True, "-", "CHOICE",
                               "L0A/L0B/L0C split in halves when choosing the L0 tile (2-stage K pipeline, "
                               "dsl-surface.md §11)")


class Mte1Model(_Section):
    """L1 -> L0 staging rates (hardware.md §4.2, §8.2)."""

    l0a_Bpc: float = F(129.7, "B/cycle", "FIT", "pypto L0CostModel (hardware.md §4.2)", gt=0)  # noqa: N815
    l0b_Bpc: float = F(85.4, "B/cycle", "FIT", "pypto L0CostModel (hardware.md §4.2)", gt=0)  # noqa: N815


class FixpipeModel(_Section):
    """L0C drain (hardware.md §8.3): 164 + m*(max(4.45, b_c*n/118) + 2.6*(odd(N1)-1)) cycles."""

    drain_Bpc: float = F(118.0, "B/cycle", "FIT", "pypto L0CostModel (hardware.md §8.3)", gt=0)  # noqa: N815
    drain_fixed_cycles: float = F(164.0, "cycles", "FIT", "hardware.md §8.3", ge=0)
    drain_row_cycles: float = F(4.45, "cycles/row", "FIT", "hardware.md §8.3", ge=0)
    drain_penalty_cycles: float = F(2.6, "cycles/row", "FIT", "odd-part term (hardware.md §8.3)", ge=0)
    c0_bytes: int = F(32, "bytes", "FIT", "N0 = 32 / b_c (hardware.md §8.3)", gt=0)
    acc_bytes: int = F(4, "bytes", "SOURCE", "FP32/INT32 accumulator element (hardware.md §5)", gt=0)


class VectorModel(_Section):
    """Vector ALU cost: t = op_fixed + hops * class_factor * repeats / repeats_per_cycle (hardware.md §6)."""

    repeat_bytes: int = F(256, "bytes", "SPEC", "CCE intrinsic docs (hardware.md §6)", gt=0)
    block_bytes: int = F(32, "bytes", "SPEC", "hardware.md §6", gt=0)
    max_repeat: int = F(255, "repeats", "SPEC", "repeatTime <= 255 (hardware.md §6)", gt=0)
    repeats_per_cycle: float = F(1.0, "repeats/cycle", "SPEC", "INI vec_calc_size 256 B/cycle (hardware.md §6)",
                                 gt=0)
    op_fixed_ns: float = F(140.0, "ns", "CALIBRATE",
                           "fixed cost of one vector step seen by a DEPENDENT step (issue + pipe barrier + flag "
                           "+ pipeline latency; a recorded op is one or more steps, see lowering); ~0.14 us per "
                           "small-tile op INFERRED from a dependent chain (hardware.md §6, §14.1)", ge=0)
    op_issue_ns: float = F(30.0, "ns", "CALIBRATE",
                           "part of op_fixed_ns that occupies the VECTOR pipe; the rest is result latency that "
                           "only delays ops depending on this one, so independent ops stream. Prior: pypto cost "
                           "model per-op constants ~0.015 us (dsl-surface.md §16, VSIM); hardware.md §14.1", ge=0)
    lowering: str = F("a2a3", "-", "SOURCE",
                      "how a recorded op expands into vector instructions and in-op pipe barriers. 'a2a3': "
                      "the structure of pto-isa's a2a3 tile-op implementations (include/pto/npu/a2a3): an "
                      "index gather is one barrier-separated step per row (offset multiply, barrier, gather); "
                      "row_expand_* is a broadcast, a barrier and the binary op: one instruction per 256 B column "
                      "slice (norm mode), per row only when a row has more repeats than the tile has rows "
                      "(count mode); a row reduction "
                      "is one barrier-separated step per 256 B repeat of a row; arange is a scalar store "
                      "loop. 'uniform': every recorded op is one instruction (the model of sessions 1-5)",
                      pattern="^(a2a3|uniform)$")
    scalar_loop_elem_cycles: float = F(5.0, "cycles", "CALIBRATE",
                                       "one element of an op implemented as a scalar UB store loop (arange on "
                                       "a2a3): store + index update + branch on the in-order scalar unit; no "
                                       "source measures it (hardware.md §14.9)", ge=0)
    extra_instr_cycles: float = F(8.0, "cycles", "CALIBRATE",
                                  "issue cost of each further instruction of one op: splits past max_repeat, "
                                  "per-row loops of the a2a3 lowering", ge=0)
    factor_unary_transcendental: float = F(2.2, "x per repeat", "CALIBRATE",
                                           "exp/ln/sqrt/rsqrt/div/recip vs mul: ratio of a-coeffs "
                                           "(dsl-surface.md §16, VSIM)", gt=0)
    factor_reduce: float = F(6.0, "x per repeat", "CALIBRATE",
                             "row_sum/row_max/col_*: vendor model ~x6 of an add (dsl-surface.md §9, §16)", gt=0)
    factor_gather: float = F(2.0, "x per repeat", "CALIBRATE", "index gather/scatter (dsl-surface.md §10)", gt=0)
    factor_sort: float = F(4.0, "x per repeat", "CALIBRATE", "sort32/mrgsort (dsl-surface.md §10)", gt=0)
    factor_transpose: float = F(2.0, "x per repeat", "CALIBRATE", "1-2 passes (dsl-surface.md §6)", gt=0)
    factor_copy: float = F(1.0, "x per repeat", "CALIBRATE", "full/expand/copy/concat: one write pass", gt=0)


class L2Model(_Section):
    """L2 cache (hardware.md §9.1, §9.2). Per-core L2 rates are ``rates.l2_read``/``rates.l2_write``."""

    line_bytes: int = F(512, "bytes", "SPEC", "msprof L2 cache_line_size; pypto backend (hardware.md §9.1)", gt=0)
    min_row_charge_bytes: int = F(512, "bytes", "FIT",
                                  "each contiguous row charged max(row_bytes, 512) (hardware.md §9.2)", gt=0)
    hit_read_latency_cycles: float = F(241.0, "cycles", "CALIBRATE",
                                       "msprof op-sim cache_read_latency (VSIM, hardware.md §9.1)", ge=0)
    write_latency_cycles: float = F(96.0, "cycles", "CALIBRATE",
                                    "msprof op-sim cache_write_latency (VSIM, hardware.md §9.1)", ge=0)
    miss_extra_latency_cycles: float = F(150.0, "cycles", "CALIBRATE",
                                         "pypto CacheConfig l2MissExtraLatency (VSIM, hardware.md §9.1)", ge=0)
    overfetch_core_fraction: float = F(0.05, "fraction", "CALIBRATED",
                                       "share of the sub-512 B row over-fetch that also occupies the core's MTE "
                                       "transfer time (HBM always pays it). Fitted with dma.mte2_row_cycles so a "
                                       "16-load stream of 128 B-row weight tiles is +18..24 % slower than 512 B "
                                       "rows, cold or warm L2 (hardware.md §9.2: measured +16..25 %); see "
                                       "tests/test_hw_overfetch.py", ge=0, le=1)


class DmaModel(_Section):
    """MTE2/MTE3 request costs (hardware.md §9.2-§9.3, §14.2-3)."""

    mte2_request_ns: float = F(54.0, "ns", "CALIBRATE",
                               "per DMA instruction issue/setup; ~100 cycles (VSIM pto-isa 80-100, hardware.md §8.6, "
                               "§14.2)", ge=0)
    mte2_row_cycles: float = F(0.25, "cycles/row", "CALIBRATED",
                               "per contiguous-row burst request (hardware.md §9.2 rule); fitted with "
                               "l2.overfetch_core_fraction to the measured +16..25 % 128 B-row penalty", ge=0)
    mte2_outstanding: int = F(5, "requests", "MEASURED",
                              "MTE2 sub-queues ~3.6 of 5 busy (hardware.md §9.3, pypto-lib #628)", ge=1)
    mte3_request_ns: float = F(54.0, "ns", "CALIBRATE", "per store instruction; ~100 cycles (hardware.md §14.3)",
                               ge=0)
    mte3_row_cycles: float = F(0.25, "cycles/row", "ASSUMPTION",
                               "per contiguous-row burst; same as dma.mte2_row_cycles (hardware.md §14.3)", ge=0)
    mte3_outstanding: int = F(5, "requests", "ASSUMPTION", "same as MTE2", ge=1)
    atomic_rate_factor: float = F(0.5, "fraction", "CALIBRATE",
                                  "atomic-add GM writes go at this fraction of the write rate (hardware.md §14.8)",
                                  gt=0, le=1)


class CoreModel(_Section):
    """Per-core issue, synchronisation and kernel-level fixed costs (hardware.md §7, §14)."""

    cross_pipe_sync_cycles: float = F(20.0, "cycles", "CALIBRATE",
                                      "set_flag/wait_flag between pipes of one core (hardware.md §7.1)", ge=0)
    cross_core_flag_cycles: float = F(200.0, "cycles", "CALIBRATE",
                                      "AIC<->AIV flag round trip of a MIX handoff (hardware.md §7.3, §14.7)", ge=0)
    scalar_access_cycles: float = F(30.0, "cycles", "CALIBRATE",
                                    "scalar pl.read/pl.write issue cost, plus the L2 latency (hardware.md §14.9)",
                                    ge=0)
    scalar_dcache_bytes: int = F(32768, "bytes", "CALIBRATE",
                                 "scalar data cache: a pl.read/pl.write of a line it holds costs only "
                                 "scalar_access_cycles (hardware.md §14.9, dsl-surface.md §12)", ge=0)
    kernel_prologue_ns: float = F(200.0, "ns", "CALIBRATE",
                                  "argument decode, input dcci, pipe setup (hardware.md §14.10)", ge=0)
    kernel_epilogue_ns: float = F(100.0, "ns", "CALIBRATE", "final pipe barrier and flush (hardware.md §14.10)",
                                  ge=0)
    first_kernel_extra_ns: float = F(0.0, "ns", "CALIBRATE",
                                     "extra time of the FIRST kernel a cold core runs in a launch (cold "
                                     "instruction/scalar caches behind a far NoC route). No source quantifies it "
                                     "(hardware.md §14.10/§14.12); applied by the engine once per cold core", ge=0)
    first_kernel_extra_per_load_ns: float = F(880.0, "ns", "DERIVED",
                                              "extra time per MTE2 GM load request of the FIRST kernel a cold "
                                              "core runs: a cold core's first GM accesses pay what its first "
                                              "dcci + ACK pays over a warm one, 0.9 - 0.02 us (runtime.md §6.4, "
                                              "measured cold-start investigation); hardware.md §14.10", ge=0)
    first_kernel_cold_max_ns: float = F(5310.0, "ns", "CALIBRATE",
                                        "upper bound of a cold core's first-kernel extra (its GM request path is "
                                        "warm after a bounded number of requests; with "
                                        "first_kernel_cold_counts_head, of its head wait plus that extra); "
                                        "prior: the largest measured "
                                        "cold first-task extra, 5.31 us (runtime.md §6.4); 0 = no bound", ge=0)
    first_kernel_cold_from_cluster_frac: float = F(0.0, "fraction", "CHOICE",
                                                   "only cores of clusters >= this fraction of the cluster count "
                                                   "pay the cold first-kernel extra. 0 = every core (the calibrated "
                                                   "choice); 0.5 with first_kernel_cold_aiv_only mirrors the "
                                                   "measured cold first-task head cost ('about half the cores, "
                                                   "mostly AIV at high cluster offsets', runtime.md §6.4) but fits "
                                                   "the validation data worse (README, calibration)", ge=0, le=1)
    first_kernel_cold_aiv_only: bool = F(False, "-", "CHOICE",
                                         "only AIV cores pay the cold first-kernel extra (see "
                                         "first_kernel_cold_from_cluster_frac)")
    first_kernel_cold_counts_head: bool = F(True, "-", "CHOICE",
                                            "True (the calibrated choice): one warm-up per cold core, counted from "
                                            "its first token, so the measured cold head cost it already waited "
                                            "before start (runtime.md §6.4) is deducted from its first-kernel "
                                            "extra. False: the two add (README, calibration)")


class RuntimeParams(_Section):
    """AICPU runtime timing parameters (runtime.md §14, ring sizes §11)."""

    n_sched_threads: int = F(3, "threads", "SOURCE", "runtime config; thread_of_cluster = b mod n (runtime.md §14)",
                             ge=1)
    orch_to_sched: bool = F(False, "-", "SOURCE", "runtime default (runtime.md §14)")
    orch_submit_us: float = F(0.874, "us", "CALIBRATE",
                              "one submit_task call. Prior: 0.874 us, the MEASURED average over 16704 warm submits "
                              "(paged attention); a 181-task run measured 3.0 us/task for its whole orchestration "
                              "window, so the cost depends on the program: calibrate against level-4 orch_submit "
                              "bars or the wall (runtime.md §3.2)", ge=0)
    orch_between_submits_us: float = F(0.38, "us", "DERIVED", "device log (runtime.md §14)", ge=0)
    orch_alloc_us: float = F(0.3, "us", "CALIBRATE", "runtime.md §14", ge=0)
    orch_swimlane_record_us: float = F(0.1, "us", "CALIBRATE", "runtime.md §14", ge=0)
    wiring_batch: int = F(30, "tasks", "SOURCE", "runtime.md §14", ge=1)
    wiring_backoff_iters: int = F(32, "iterations", "SOURCE", "runtime.md §14", ge=0)
    wire_per_task_us: float = F(0.15, "us", "CALIBRATE", "runtime.md §14", ge=0)
    cond_poll_us: float = F(0.10, "us", "MEASURED", "95-105 ns (runtime.md §14)", ge=0)
    fin_visibility_us: float = F(0.08, "us", "CALIBRATE", "FIN write -> visible to COND read (runtime.md §14)",
                                 ge=0)
    aicpu_counter_read_us: float = F(0.10, "us", "CALIBRATE", "runtime.md §14", ge=0)
    complete_per_fin_us: float = F(0.10, "us", "CALIBRATE", "runtime.md §14 (VSIM 240 cycles)", ge=0)
    resolve_base_us: float = F(0.50, "us", "SOURCE", "1-2 consumers; runtime source comment (runtime.md §14)",
                               ge=0)
    resolve_per_extra_consumer_us: float = F(0.10, "us", "CALIBRATE", "runtime.md §14", ge=0)
    resolve_record_min_us: float = F(1.0, "us", "SOURCE", "phase record filter (runtime.md §14)", ge=0)
    release_per_task_us: float = F(0.05, "us", "CALIBRATE", "runtime.md §14", ge=0)
    deferred_release_cap: int = F(256, "tasks", "SOURCE", "runtime.md §14", ge=1)
    dispatch_pop_us: float = F(0.10, "us", "CALIBRATE", "runtime.md §14", ge=0)
    payload_build_per_subtask_us: float = F(0.15, "us", "CALIBRATE", "runtime.md §14 (VSIM 200 cycles)", ge=0)
    publish_barrier_us: float = F(0.05, "us", "CALIBRATE", "runtime.md §14", ge=0)
    publish_per_subtask_us: float = F(0.005, "us", "MEASURED", "runtime.md §14", ge=0)
    sched_idle_iter_us: float = F(0.20, "us", "CALIBRATE", "runtime.md §14", ge=0)
    sched_start_phase_iters: float = F(1.0, "idle iterations", "CHOICE",
                                      "each scheduler thread enters its loop at a seeded uniform offset in [0, this "
                                      "many of its idle iterations): the threads are launched separately and nothing "
                                      "aligns their loops (runtime.md §1.1; threads are not in lockstep: first-"
                                      "dispatch stagger between threads median 1.92 µs, min 0.16, §6.2). 1 (the "
                                      "calibrated choice) = an unknown relative phase; 0 = all threads start "
                                      "together and stay in lockstep while idle, so the same peer always wins a race "
                                      "for a shared-queue task", ge=0)
    t0_queue_checks: int = F(2, "queue accesses per iteration", "SOURCE",
                             "loop steps 5 (wire) and 6 (dummy drain) run on T0 only (runtime.md §5): a wiring-queue "
                             "check and a dummy-queue pop attempt on every T0 iteration, idle ones included, each "
                             "costed as one dispatch_pop_us; the steps all threads run are in sched_idle_iter_us", ge=0)
    local_ready_cap: int = F(64, "tasks per shape", "SOURCE", "runtime.md §14", ge=1)
    dummy_drain_batch: int = F(16, "tasks", "SOURCE", "runtime.md §14", ge=1)
    dmb_propagation_us: float = F(0.14, "us", "MEASURED", "AICPU write -> AICore sees token (runtime.md §14)",
                                  ge=0)
    cold_first_task_extra_prob: float = F(0.5, "probability", "MEASURED",
                                          "share of cores paying a cold first-task extra (runtime.md §14)",
                                          ge=0, le=1)
    cold_first_task_extra_min_us: float = F(1.5, "us", "MEASURED", "uniform lower bound (runtime.md §14)", ge=0)
    cold_first_task_extra_max_us: float = F(5.3, "us", "MEASURED", "uniform upper bound (runtime.md §14)", ge=0)
    aicore_counter_read_us: float = F(0.15, "us", "MEASURED",
                                      "0.10-0.20 with swimlane on (runtime.md §14); already inside the measured "
                                      "local setup and record write-back figures (runtime.md §6.4)", ge=0,
                                      timing=False)
    local_setup_after_idle_us: float = F(0.02, "us", "MEASURED", "0-0.02 (runtime.md §14)", ge=0)
    local_setup_back_to_back_us: float = F(0.29, "us", "MEASURED", "mean 0.28-0.35 (runtime.md §14)", ge=0)
    local_setup_cold_us: float = F(0.9, "us", "MEASURED", "0.5-1.0 (runtime.md §14)", ge=0)
    record_writeback_us: float = F(0.50, "us", "MEASURED", "mean 0.52, after end (runtime.md §14)", ge=0)
    early_dispatch_max_pops: int = F(8, "per pass", "SOURCE", "runtime.md §14", ge=0)
    early_dispatch_chain_depth: int = F(4, "-", "SOURCE", "runtime.md §14", ge=0)
    doorbell_propagation_us: float = F(0.14, "us", "MEASURED", "same path as dispatch (runtime.md §14)", ge=0)
    gated_local_setup_us: float = F(0.02, "us", "CALIBRATE", "ACK only (runtime.md §14)", ge=0)
    sync_start_barrier_us: float = F(1.0, "us", "CALIBRATE", "runtime.md §14", ge=0)
    pmu_mode: bool = F(False, "-", "SOURCE", "disables pending slots and early dispatch (runtime.md §14)")
    swimlane_level: int = F(4, "-", "SOURCE", "pypto passes True -> 4 (runtime.md §14)", ge=0, le=4)
    swimlane_costs: bool = F(True, "-", "CHOICE", "model the swimlane's own observer costs (runtime.md §12)")
    rings: int = F(4, "count", "SOURCE", "runtime.md §11", ge=1, timing=False)
    task_window_per_ring: int = F(16384, "slots", "SOURCE", "runtime.md §11", ge=1, timing=False)
    heap_per_ring_mib: int = F(256, "MiB", "SOURCE", "runtime.md §11", ge=1, timing=False)
    dep_list_pool_per_ring: int = F(16384, "entries", "SOURCE", "runtime.md §11", ge=1, timing=False)
    tensormap_pool: int = F(65536, "entries", "SOURCE", "runtime.md §11", ge=1, timing=False)
    tensormap_buckets: int = F(4096, "buckets", "SOURCE", "runtime.md §11", ge=1, timing=False)
    ready_queue_per_shape: int = F(65536, "tasks", "SOURCE", "runtime.md §11", ge=1, timing=False)
    wiring_queue: int = F(1024, "tasks", "SOURCE", "runtime.md §11", ge=1)
    early_dispatch_queue: int = F(64, "tasks", "SOURCE", "runtime.md §11", ge=1)
    fanin_inline_capacity: int = F(64, "entries", "SOURCE", "runtime.md §11", ge=1, timing=False)
    max_scope_depth: int = F(64, "levels", "SOURCE", "runtime.md §11", ge=1, timing=False)
    sched_timeout_s: float = F(10.0, "s", "SOURCE", "onboard scheduler timeout (runtime.md §11)", gt=0, timing=False)

    @model_validator(mode="after")
    def _cold_range(self) -> RuntimeParams:
        """The cold first-task extra range is ordered (min <= max, µs)."""
        if self.cold_first_task_extra_min_us > self.cold_first_task_extra_max_us:
            raise ValueError("cold_first_task_extra_min_us must be <= cold_first_task_extra_max_us")
        return self


class MeasuredDma(_Section):
    """Measured data-movement facts, for validation only (hardware.md §9.3); not used by the cost model."""

    gather_row_us: float = F(0.44, "us/row", "MEASURED", "pypto-lib PR #775 (hardware.md §9.3)", ge=0, timing=False)
    bulk_row_us: float = F(0.02, "us/row", "MEASURED", "pypto-lib PR #775 (hardware.md §9.3)", ge=0, timing=False)
    nd2nz_lane_gbps: float = F(21.0, "GB/s", "MEASURED", "pypto-lib PR #628 (hardware.md §9.3)", ge=0, timing=False)
    sdma_single_stream_gbps: float = F(285.0, "GB/s", "MEASURED", "pypto-lib PR #963 (hardware.md §9.3)", ge=0,
                                       timing=False)


SECTIONS: dict[str, type[_Section]] = {
    "soc": SocPreset,
    "aic_buffers": AicBuffers,
    "aiv_buffers": AivBuffers,
    "rates": CoreRates,
    "cube": CubeModel,
    "mte1": Mte1Model,
    "fixpipe": FixpipeModel,
    "vector": VectorModel,
    "l2": L2Model,
    "dma": DmaModel,
    "core": CoreModel,
    "runtime": RuntimeParams,
    "measured": MeasuredDma,
}


def is_descriptive(finfo: FieldInfo) -> bool:
    """True for a field declared with ``F(..., timing=False)``: recorded, but not read by the timing model."""
    return isinstance(finfo.json_schema_extra, dict) and finfo.json_schema_extra.get("timing") is False
