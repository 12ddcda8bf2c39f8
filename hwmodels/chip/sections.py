"""The parameter sections of a chip config: one pydantic model per hardware block or runtime part.

Every field is declared with :func:`F` and carries ``unit``, ``status`` and ``source`` in its
description. The status is one of swimsim's evidence classes (SPEC, MEASURED, FIT, VSIM, DERIVED,
INFERRED, PRESS, CALIBRATE, ASSUMPTION, SOURCE, CALIBRATED, CHOICE; defined in docs/model.md,
"Evidence classes"); the source names the public origin of the value (CANN platform config, the
PTO runtime simpler, pypto, pypto-lib, pto-isa, Huawei press figures) or the docs/model.md section
that states it as a modelling choice, assumption or prior. ``SECTIONS`` maps each section's TOML
table name to its model, in the order the chip config and its TOML text list them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo

_STATUSES = {
    "SPEC", "MEASURED", "FIT", "VSIM", "DERIVED", "INFERRED", "PRESS", "CALIBRATE", "ASSUMPTION",
    "SOURCE", "CALIBRATED", "CHOICE",
}

# Source prefixes. The per-SoC values come from each SoC's own INI (the preset's soc_version); the
# per-core values are the same in every A2/A3 INI.
_SOC_INI = "CANN platform config <soc_version>.ini"
_INI = "CANN platform config Ascend910_9391.ini"
_COLD = "simpler docs/investigations/2026-06-aicore-cold-start-warmup.md"
_SWITCH = "simpler docs/investigations/2026-07-aicore-swimlane-switch-overhead-and-ack-gate.md"
_MMIO = "simpler docs/hardware/mmio-performance.md"
_RT = "simpler pto_runtime2_types.h"

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
    """Per-SoC topology and clocks (docs/model.md §2.1, §2.4)."""

    soc_version: str = F("Ascend910_9391", "-", "SPEC", f"{_SOC_INI}: SoC_version")
    product_line: str = F("A3", "-", "SPEC", f"{_SOC_INI}: Short_SoC_version (Ascend910B = A2, Ascend910_93 = A3; "
                          "simpler docs/hardware/chip-architecture.md)", timing=False)
    clusters: int = F(24, "count", "SPEC", f"{_SOC_INI}: cube_core_cnt", ge=1, le=64)
    aic_per_cluster: int = F(1, "count", "SPEC", "1 AIC (cube) per AICore cluster (simpler "
                             "docs/hardware/chip-architecture.md)", ge=1, le=1, timing=False)
    aiv_per_cluster: int = F(2, "count", "SPEC", f"{_SOC_INI}: vector_core_cnt = 2 x cube_core_cnt; asc-devkit "
                             "asc_get_sub_block_num = 2 on AIV", ge=1, le=2)
    aicpu_user_cores: int = F(6, "count", "SPEC", f"{_SOC_INI}: ai_cpu_cnt", ge=1, timing=False)
    cube_freq_mhz: float = F(1850.0, "MHz", "SPEC", f"{_SOC_INI}: cube_freq", gt=0)
    vec_freq_mhz: float = F(1850.0, "MHz", "ASSUMPTION",
                            "= cube clock; the A2 INI has no vec_freq (docs/model.md §2.1)", gt=0)
    hbm_capacity_gib: float = F(64.0, "GiB", "SPEC", f"{_SOC_INI}: memory_size", gt=0)
    hbm_bw_gbps: float = F(1600.0, "GB/s (= bytes/ns)", "CALIBRATE",
                           "prior: Huawei press figure ~1.6 TB/s per die (3.2 TB/s per 910C), aggregate; "
                           "docs/model.md §2.4", gt=0)
    l2_size_mib: float = F(192.0, "MiB", "SPEC", f"{_SOC_INI}: l2_size", gt=0)
    sys_counter_hz: int = F(50_000_000, "Hz", "SOURCE", "simpler src/a2a3/platform/include/common/platform_config.h: "
                            "PLATFORM_PROF_SYS_CNT_FREQ, the 50 MHz tick of every record (docs/model.md §5)", gt=0,
                            timing=False)


class AicBuffers(_Section):
    """AIC on-chip buffers (CANN platform config, ``[AICoreSpec]``; the same in every A2/A3 SoC)."""

    l1_bytes: int = F(524288, "bytes", "SPEC", f"{_INI}: l1_size", gt=0, timing=False)
    l0a_bytes: int = F(65536, "bytes", "SPEC", f"{_INI}: l0_a_size", gt=0)
    l0b_bytes: int = F(65536, "bytes", "SPEC", f"{_INI}: l0_b_size", gt=0)
    l0c_bytes: int = F(131072, "bytes", "SPEC", f"{_INI}: l0_c_size", gt=0)
    bias_table_bytes: int = F(1024, "bytes", "SPEC", f"{_INI}: bt_size", gt=0, timing=False)
    fb_bytes: list[int] = F([2048, 1024, 2048, 2048], "bytes each", "SPEC", f"{_INI}: fb0_size..fb3_size",
                            timing=False)


class AivBuffers(_Section):
    """AIV unified buffer (CANN platform config, ``[AICoreSpec]``)."""

    ub_bytes: int = F(196608, "bytes", "SPEC", f"{_INI}: ub_size", gt=0, timing=False)
    ub_safe_bytes: int = F(188416, "bytes", "SOURCE",
                           "pypto SoC description: the top 8 KiB of UB is never allocated (pto-isa issue #170)", gt=0,
                           timing=False)
    ub_block_bytes: int = F(32, "bytes", "SPEC", f"{_INI}: ubblock_size", gt=0, timing=False)

    @model_validator(mode="after")
    def _safe_le_ub(self) -> AivBuffers:
        """The safe UB size fits in the UB."""
        if self.ub_safe_bytes > self.ub_bytes:
            raise ValueError("ub_safe_bytes must be <= ub_bytes")
        return self


class CoreRates(_Section):
    """Per-core data-path rates, bytes per core cycle (CANN ``[AICoreMemoryRates]``; docs/model.md §2.2).

    The cost model uses ``ddr`` (L2-miss reads), ``l2_read`` (L2-hit reads), ``l2_write`` and
    ``ub_to_l2`` (stores); the aggregate HBM rate is ``soc.hbm_bw_gbps``.
    """

    ddr: float = F(32.0, "B/cycle", "SPEC", f"{_INI}: ddr_rate; per core GM rate, read = write", gt=0)
    l2_read: float = F(110.0, "B/cycle", "SPEC", f"{_INI}: l2_read_rate", gt=0)
    l2_write: float = F(86.0, "B/cycle", "SPEC", f"{_INI}: l2_write_rate", gt=0)
    l1_to_l0a: float = F(512.0, "B/cycle", "SPEC", f"{_INI}: l1_to_l0_a_rate; peak, upper bound only "
                         "(docs/model.md §2.2)", gt=0)
    l1_to_l0b: float = F(256.0, "B/cycle", "SPEC", f"{_INI}: l1_to_l0_b_rate; peak, upper bound only "
                         "(docs/model.md §2.2)", gt=0)
    ub_to_ddr: float = F(64.0, "B/cycle", "SPEC", f"{_INI}: ub_to_ddr_rate", gt=0, timing=False)
    ub_to_l2: float = F(64.0, "B/cycle", "SPEC", f"{_INI}: ub_to_l2_rate", gt=0)
    ub_to_l1: float = F(128.0, "B/cycle", "SPEC", f"{_INI}: ub_to_l1_rate; no such path on a2a3 split cores", gt=0,
                        timing=False)


class CubeModel(_Section):
    """Cube MAD cost (docs/model.md §3.4): c_mad = head per K block + p * fractals."""

    frac_m: int = F(16, "elements", "SPEC", f"{_INI}: [DtypeMKN] Default = 16,16,16", gt=0)
    frac_n: int = F(16, "elements", "SPEC", f"{_INI}: [DtypeMKN] Default = 16,16,16", gt=0)
    k_frac_bytes: int = F(32, "bytes", "FIT", "pypto L0CostModel mad_k_fractal_bytes: k_t = 32 / bytes_a", gt=0)
    fp32_passes: int = F(2, "passes", "FIT", "pypto L0CostModel mad_fp32_passes (a2a3)", ge=1)
    mad_head_cycles: float = F(21.0, "cycles", "FIT",
                               "pypto L0CostModel mad_head_cycles: op-simulator fit, confirmed on device within ~2 %",
                               ge=0)
    int8_k: int = F(32, "elements", "SPEC", f"{_INI}: [DtypeMKN] DT_INT8 = 16,32,16", gt=0)
    int4_k: int = F(64, "elements", "SPEC", f"{_INI}: [DtypeMKN] DT_INT4 = 16,64,16", gt=0)
    l0_double_buffer: bool = F(True, "-", "CHOICE",
                               "L0A/L0B/L0C split in halves when choosing the L0 tile, as pypto's 2-stage K "
                               "pipeline (AutoTileMatmulL0); docs/model.md §3.4")


class Mte1Model(_Section):
    """L1 -> L0 staging rates (docs/model.md §3.4)."""

    l0a_Bpc: float = F(129.7, "B/cycle", "FIT", "pypto L0CostModel, fitted on a2a3 (docs/model.md §3.4)",  # noqa: N815
                       gt=0)
    l0b_Bpc: float = F(85.4, "B/cycle", "FIT", "pypto L0CostModel, fitted on a2a3 (docs/model.md §3.4)",  # noqa: N815
                       gt=0)


class FixpipeModel(_Section):
    """L0C drain (docs/model.md §3.4): 164 + m*(max(4.45, b_c*n/118) + 2.6*(odd(N1)-1)) cycles."""

    drain_Bpc: float = F(118.0, "B/cycle", "FIT", "pypto L0CostModel drain throughput", gt=0)  # noqa: N815
    drain_fixed_cycles: float = F(164.0, "cycles", "FIT", "pypto L0CostModel drain_fixed_cycles", ge=0)
    drain_row_cycles: float = F(4.45, "cycles/row", "FIT", "pypto L0CostModel drain_row_cycles (per-row form R² 0.99)",
                                ge=0)
    drain_penalty_cycles: float = F(2.6, "cycles/row", "FIT", "pypto L0CostModel drain_penalty_cycles, odd-part term",
                                    ge=0)
    c0_bytes: int = F(32, "bytes", "FIT", "pypto L0CostModel drain_c0_bytes: N0 = 32 / b_c", gt=0)
    acc_bytes: int = F(4, "bytes", "SOURCE", "FP32/INT32 accumulator element (pypto backend)", gt=0)


class VectorModel(_Section):
    """Vector ALU cost (docs/model.md §3.2, §3.3): t = op_fixed + hops * class_factor * repeats / repeats_per_cycle."""

    repeat_bytes: int = F(256, "bytes", "SPEC", "CANN vector intrinsic docs: 8 blocks x 32 B per repeat", gt=0)
    block_bytes: int = F(32, "bytes", "SPEC", "CANN vector intrinsic docs: 32 B data block", gt=0)
    max_repeat: int = F(255, "repeats", "SPEC", "CANN vector intrinsic docs: repeatTime <= 255", gt=0)
    repeats_per_cycle: float = F(1.0, "repeats/cycle", "SPEC",
                                 f"{_INI}: vec_calc_size 128 (FP16 elements, 256 B per cycle)", gt=0)
    op_fixed_ns: float = F(140.0, "ns", "CALIBRATE",
                           "fixed cost of one vector step seen by a DEPENDENT step (issue + pipe barrier + flag "
                           "+ pipeline latency; a recorded op is one or more steps, see lowering). Prior ~0.14 us "
                           "per small-tile op, INFERRED from pypto-lib PR #648; fitted: docs/calibration.md §2",
                           ge=0)
    op_issue_ns: float = F(30.0, "ns", "CALIBRATE",
                           "part of op_fixed_ns that occupies the VECTOR pipe; the rest is result latency that "
                           "only delays ops depending on this one, so independent ops stream. Prior: Huawei pypto "
                           "cost model per-op constants ~0.015 us (VSIM); docs/model.md §3.2", ge=0)
    lowering: str = F("a2a3", "-", "SOURCE",
                      "how a recorded op expands into vector instructions and in-op pipe barriers. 'a2a3': "
                      "the structure of pto-isa's a2a3 tile-op implementations (include/pto/npu/a2a3): an "
                      "index gather is one barrier-separated step per row (offset multiply, barrier, gather); "
                      "row_expand_* is a broadcast, a barrier and the binary op: one instruction per 256 B column "
                      "slice (norm mode), per row only when a row has more repeats than the tile has rows "
                      "(count mode); a row reduction "
                      "is one barrier-separated step per 256 B repeat of a row; arange is a scalar store "
                      "loop. 'uniform': every recorded op is one instruction (docs/model.md §3.3)",
                      pattern="^(a2a3|uniform)$")
    scalar_loop_elem_cycles: float = F(5.0, "cycles", "CALIBRATE",
                                       "one element of an op implemented as a scalar UB store loop (arange on "
                                       "a2a3): store + index update + branch on the in-order scalar unit; prior, "
                                       "no source measures it (docs/model.md §3.2, docs/calibration.md §4)", ge=0)
    extra_instr_cycles: float = F(8.0, "cycles", "CALIBRATE",
                                  "issue cost of each further instruction of one op: splits past max_repeat, "
                                  "per-row loops of the a2a3 lowering; prior (docs/model.md §3.2)", ge=0)
    loop_step_cycles: float = F(0.0, "cycles", "CALIBRATE",
                                "one barrier-separated instruction of a tile op's per-row loop: a column "
                                "reduction (col_sum/col_max/col_min) lowers on a2a3 to a UB copy of the first row "
                                "and one vadd/vmax per further row, each followed by a PIPE_V barrier (pto-isa "
                                "include/pto/npu/a2a3/TColSum.hpp, TColReduceOps.hpp), so it costs rows x this "
                                "(issue + barrier drain of a 1-2 repeat instruction) plus one op_fixed_ns. "
                                "0 = a column reduction is one step (docs/model.md §3.3)", ge=0)
    gather_row_cycles: float = F(0.0, "cycles", "CALIBRATE",
                                 "one row of an index gather as a tight loop inside one step: offset multiply "
                                 "(vmuls), PIPE_V barrier and one vgather per row (pto-isa include/pto/npu/a2a3/"
                                 "TGather.hpp); 46.6 cycles per row measured on 910B3 in a tight loop (pto-isa "
                                 "include/pto/costmodel/a2a3/cce_costmodel/cce_costmodel_vector_compute.hpp). "
                                 "0 = every row is a full step of op_fixed_ns (docs/model.md §3.3)", ge=0)
    factor_unary_transcendental: float = F(2.0, "x per repeat", "MEASURED",
                                           "exp/ln/sqrt/recip (and pow, sigmoid, tanh, erf): vexp 2.00 and vln "
                                           "2.00 cycles per FP32 repeat on 910B3 (hw-native-sys/pto-isa "
                                           "include/pto/costmodel/a2a3/cce_costmodel/"
                                           "cce_costmodel_vector_compute.hpp); rsqrt measures 1.07 and costs 1",
                                           gt=0)
    factor_div: float = F(4.0, "x per repeat", "MEASURED",
                          "div: vdiv 4.03 cycles per FP32 repeat on 910B3 (same source)", gt=0)
    factor_reduce: float = F(6.0, "x per repeat", "CALIBRATE",
                             "row_sum/row_max/col_*: ~6x an add in the Huawei pypto cost model (PostSimulatorA2A3.h, "
                             "VSIM)", gt=0)
    factor_gather: float = F(2.0, "x per repeat", "CALIBRATE", "index gather/scatter; prior (docs/model.md §3.2)",
                             gt=0)
    factor_binary: float = F(1.0, "x per repeat", "CHOICE",
                             "tile x tile add/sub/mul/max/min and their row_expand_/col_expand_ forms (ops "
                             "with one source, a scalar operand or none cost 1). Measured on 910B3: 2.0-2.3 "
                             "cycles per FP32 repeat (vadd/vsub 2.11, vmul 2.3, vmax 2.01; int16 vand 2.03) "
                             "against 1.0 for one-source ops (vmuls, vmaxs, vrelu), hw-native-sys/pto-isa "
                             "include/pto/costmodel/a2a3/cce_costmodel/cce_costmodel_vector_compute.hpp; kept "
                             "at 1 by the seed checks (docs/calibration.md §7)", gt=0)
    factor_mrgsort: float = F(19.5, "x per repeat", "MEASURED",
                              "mrgsort, per 256 B of the merged pairs: vmrgsort4 = 78 cycles per 4-way merge "
                              "repeat of 4 x 64 FP32 (1 KiB) + 20 on 910B3 (hw-native-sys/pto-isa "
                              "include/pto/costmodel/a2a3/cce_costmodel/cce_costmodel_vector_compute.hpp), "
                              "charged by data volume", gt=0)
    factor_sort32: float = F(156.0, "x per repeat", "ASSUMPTION",
                             "sort32, per 256 B of input scores: one vbitsort repeat (32 scores) costs one "
                             "vmrgsort4 repeat (78 cycles; vbitsort has no measurement); checked against "
                             "pto-isa's measured A3 topk (docs/calibration.md §3)", gt=0)
    factor_transpose: float = F(2.0, "x per repeat", "CALIBRATE", "1-2 passes; prior (docs/model.md §3.2)", gt=0)
    factor_copy: float = F(1.0, "x per repeat", "CALIBRATE",
                           "full/expand/copy/concat: one write pass; prior (docs/model.md §3.2)", gt=0)


class L2Model(_Section):
    """L2 cache (docs/model.md §2.3, §3.5). Per-core L2 rates are ``rates.l2_read``/``rates.l2_write``."""

    line_bytes: int = F(512, "bytes", "SPEC",
                        "CANN msprof op simulator L2 config cache_line_size; pypto backend GetL2CacheLineBytes", gt=0)
    min_row_charge_bytes: int = F(512, "bytes", "FIT",
                                  "each contiguous row charged max(row_bytes, 512): pypto-lib hint_l1_tile tool; "
                                  "pypto PH001 perf hint", gt=0)
    hit_read_latency_cycles: float = F(241.0, "cycles", "CALIBRATE",
                                       "prior: CANN msprof op simulator cache_read_latency (VSIM); "
                                       "docs/model.md §2.3", ge=0)
    write_latency_cycles: float = F(96.0, "cycles", "CALIBRATE",
                                    "prior: CANN msprof op simulator cache_write_latency (VSIM); docs/model.md §2.3",
                                    ge=0)
    miss_extra_latency_cycles: float = F(150.0, "cycles", "CALIBRATE",
                                         "prior: Huawei pypto cost model CacheConfig l2MissExtraLatency (VSIM); "
                                         "docs/model.md §2.3", ge=0)
    overfetch_core_fraction: float = F(0.05, "fraction", "CALIBRATED",
                                       "share of the sub-512 B row over-fetch that also occupies the core's MTE "
                                       "transfer time (HBM always pays it). Fitted with dma.mte2_row_cycles so a "
                                       "16-load stream of 128 B-row weight tiles is +18..24 % slower than 512 B "
                                       "rows, cold or warm L2 (measured +16..25 %: pypto PH001 perf-hint verifier); "
                                       "docs/model.md §3.5, docs/calibration.md §2, "
                                       "tests/hwmodels/test_hw_overfetch.py", ge=0, le=1)
    bw_gbps: float = F(0.0, "GB/s (= bytes/ns)", "CHOICE",
                       "aggregate L2 line bandwidth that all running lanes share max-min fairly, as HBM's: "
                       "every line a lane reads or writes, hit or miss (rows under 512 B move whole lines). "
                       "0 = no aggregate limit, only the per-core rates. No public figure; pto-isa's a2a3 GEMM "
                       "example (held to ±15 %) keeps it above ~3.1 TB/s (docs/model.md §2.3, "
                       "docs/calibration.md §7)", ge=0)
    evict_whole_tensors: bool = F(False, "-", "CHOICE",
                                  "on: an overfull L2 drops whole tensors, least recently touched first; off: "
                                  "the least recently touched lines of any tensor (docs/model.md §2.3, "
                                  "docs/calibration.md §7)")


class DmaModel(_Section):
    """MTE2/MTE3 request costs (docs/model.md §3.5)."""

    mte2_request_ns: float = F(54.0, "ns", "CALIBRATE",
                               "per DMA instruction issue/setup; prior ~100 cycles (pto-isa community simulator "
                               "80-100, VSIM); docs/model.md §3.5", ge=0)
    mte2_row_cycles: float = F(0.25, "cycles/row", "CALIBRATED",
                               "per contiguous-row burst request; fitted with l2.overfetch_core_fraction to the "
                               "measured +16..25 % 128 B-row penalty (docs/model.md §3.5, docs/calibration.md §2)",
                               ge=0)
    mte2_outstanding: int = F(5, "requests", "MEASURED",
                              "MTE2 sub-queues ~3.6 of 5 busy on an ND2NZ weight load (pypto-lib PR #628)", ge=1)
    nd2nz_row_cycles: float = F(1.34, "cycles/row", "DERIVED",
                                "extra MTE2 time per source row of a cube-side load of an untransposed matmul "
                                "operand (ND -> NZ fractal conversion: short strided bursts). An ND2NZ load of "
                                "[512, 64] BF16 weight tiles runs at ~21 GB/s per MTE2 sub-queue with 3.62 of the 5 "
                                "sub-queues busy (pypto-lib PR #628, a2a3 op simulator), i.e. ~76 GB/s per core: "
                                "862 ns per 64 KiB tile against 494 ns for the same rows without conversion, "
                                "+0.72 ns or 1.33-1.34 cycles per row (1.34: the fit data's choice, "
                                "docs/calibration.md §7); 0 = such loads cost as any load (docs/model.md §3.5, "
                                "tests/hwmodels/test_hw_overfetch.py)", ge=0)
    mte3_request_ns: float = F(54.0, "ns", "CALIBRATE",
                               "per store instruction; prior ~100 cycles, as MTE2 (docs/model.md §3.5)", ge=0)
    mte3_row_cycles: float = F(0.25, "cycles/row", "ASSUMPTION",
                               "per contiguous-row burst; same as dma.mte2_row_cycles (docs/model.md §3.5)", ge=0)
    mte3_outstanding: int = F(5, "requests", "ASSUMPTION", "same as MTE2 (docs/model.md §3.5)", ge=1)
    nd2nz_load_span: float = F(1.0, "x pipe share", "CHOICE",
                               "an ND -> NZ load (nd2nz_row_cycles) runs on one MTE2 sub-queue: its data lands this "
                               "many times its share of the pipe after it starts, while the pipe takes the next "
                               "load after its share. pypto-lib PR #628 measured ~21 GB/s per sub-queue with 3.62 "
                               "of 5 busy (3.62); 1 = the load lands after its share (docs/model.md §3.5)", ge=1)
    lane_outstanding: int = F(0, "requests", "CHOICE",
                              "at most this many DMA transfers of one lane (MTE2 and MTE3 together) in flight: a "
                              "transfer waits until the one this many before it on the lane has completed "
                              "(data landed, write acknowledged); 0 = only the per-pipe limits. 1 makes a "
                              "row-by-row copy cost its load and store latencies whatever its buffering; the "
                              "fit data reject it (docs/calibration.md §7)", ge=0)
    atomic_rate_factor: float = F(0.5, "fraction", "CALIBRATE",
                                  "atomic-add GM writes go at this fraction of the write rate; prior, no source "
                                  "quantifies it (docs/model.md §3.5)", gt=0, le=1)


class CoreModel(_Section):
    """Per-core issue, synchronisation and kernel-level fixed costs (docs/model.md §3.1, §3.6, §4.6)."""

    cross_pipe_sync_cycles: float = F(20.0, "cycles", "CALIBRATE",
                                      "set_flag/wait_flag between pipes of one core; prior, no measurement "
                                      "(docs/model.md §3.1)", ge=0)
    cross_core_flag_cycles: float = F(200.0, "cycles", "CALIBRATE",
                                      "AIC<->AIV flag round trip of a MIX handoff; prior, no measurement "
                                      "(docs/model.md §3.1, §3.6)", ge=0)
    scalar_access_cycles: float = F(30.0, "cycles", "CALIBRATE",
                                    "scalar pl.read/pl.write issue cost, plus the L2 latency; prior "
                                    "(docs/model.md §3.6)", ge=0)
    scalar_dcache_bytes: int = F(32768, "bytes", "CALIBRATE",
                                 "scalar data cache: a pl.read/pl.write of a line it holds costs only "
                                 "scalar_access_cycles; prior (docs/model.md §3.6)", ge=0)
    scalar_read_holds_issue: bool = F(False, "-", "CHOICE",
                                      "a scalar pl.read of GM holds the lane's in-order instruction issue until "
                                      "its value returns (every later op of the lane waits for it); off: the read "
                                      "only occupies the SCALAR pipe (docs/model.md §3.6)")
    kernel_prologue_ns: float = F(200.0, "ns", "CALIBRATE",
                                  "argument decode, input dcci, pipe setup; prior (docs/model.md §3.1)", ge=0)
    kernel_epilogue_ns: float = F(100.0, "ns", "CALIBRATE",
                                  "final pipe barrier and flush; prior (docs/model.md §3.1)", ge=0)
    first_kernel_extra_ns: float = F(0.0, "ns", "CALIBRATE",
                                     "extra time of the FIRST kernel a cold core runs in a launch (cold "
                                     "instruction/scalar caches behind a far NoC route). No source quantifies it; "
                                     "applied by the engine once per cold core (docs/model.md §4.6)", ge=0)
    first_kernel_extra_per_load_ns: float = F(880.0, "ns", "DERIVED",
                                              "extra time per MTE2 GM load request of the FIRST kernel a cold "
                                              "core runs: a cold core's first GM accesses pay what its first "
                                              f"dcci + ACK pays over a warm one, 0.9 - 0.02 us ({_COLD}); "
                                              "docs/model.md §4.6", ge=0)
    first_kernel_cold_max_ns: float = F(5310.0, "ns", "CALIBRATE",
                                        "upper bound of a cold core's first-kernel extra (its GM request path is "
                                        "warm after a bounded number of requests; with "
                                        "first_kernel_cold_counts_head, of its head wait plus that extra); "
                                        "prior: the largest measured cold first-task extra, 5.31 us "
                                        f"({_COLD}); fitted: docs/calibration.md §2; 0 = no bound", ge=0)
    first_kernel_cold_from_cluster_frac: float = F(0.0, "fraction", "CHOICE",
                                                   "only cores of clusters >= this fraction of the cluster count "
                                                   "pay the cold first-kernel extra. 0 = every core (the calibrated "
                                                   "choice); 0.5 with first_kernel_cold_aiv_only mirrors the "
                                                   "measured cold first-task head cost (about half the cores, "
                                                   "mostly AIV at high cluster offsets: simpler cold-start "
                                                   "investigation) but fits the validation data worse "
                                                   "(docs/calibration.md §7)", ge=0, le=1)
    first_kernel_cold_aiv_only: bool = F(False, "-", "CHOICE",
                                         "only AIV cores pay the cold first-kernel extra (see "
                                         "first_kernel_cold_from_cluster_frac; docs/calibration.md §7)")
    first_kernel_cold_counts_head: bool = F(True, "-", "CHOICE",
                                            "True (the calibrated choice): one warm-up per cold core, counted from "
                                            "its first token, so the measured cold head cost it already waited "
                                            "before start is deducted from its first-kernel extra. False: the two "
                                            "add (docs/model.md §4.6, docs/calibration.md §7)")
    first_kernel_cold_in_schedule: bool = F(False, "-", "CHOICE",
                                            "False (the calibrated choice): a cold core's first-kernel extra is "
                                            "added to the kernel's time. True: its first GM loads each hold MTE2 "
                                            "first_kernel_extra_per_load_ns longer in the kernel's schedule (as "
                                            "many as the bound allows), so loads that overlap other work hide it "
                                            "(docs/model.md §4.6, docs/calibration.md §7)")


class RuntimeParams(_Section):
    """AICPU runtime timing parameters (docs/model.md §4) and capacities of the PTO runtime simpler.

    The runtime constants are read from simpler commit ``f4d14bfaa``, under
    ``src/a2a3/runtime/tensormap_and_ringbuffer/runtime/`` (docs/model.md §7).
    """

    n_sched_threads: int = F(3, "threads", "SOURCE",
                             "pypto runs aicpu_thread_num = 4: 3 schedulers + 1 orchestrator (simpler "
                             "tensormap_and_ringbuffer/docs/RUNTIME_LOGIC.md §8.1); cluster b -> thread b mod n "
                             "(scheduler_cold_path.cpp)", ge=1)
    orch_to_sched: bool = F(False, "-", "SOURCE", "simpler PTO2_ORCH_TO_SCHED, off unless set (host/runtime_maker.cpp)")
    orch_submit_us: float = F(0.154, "us", "DERIVED",
                              "fixed part of one submit_task call (TensorMap sync, task-ring slot, fan-in/ready "
                              "check, finalize): (286.3 + 380.4 + 1207.4 + 697.5) us / 16704 submits (simpler "
                              "src/a2a3/runtime/tensormap_and_ringbuffer/docs/device_log_profiling.md); the "
                              "per-argument parts are separate fields", ge=0)
    orch_param_per_arg_us: float = F(0.030, "us", "DERIVED",
                                     "param copy per tensor argument: 2147.8 us / 16704 submits / 4.25 args per "
                                     "submit of simpler examples/a2a3/tensormap_and_ringbuffer/paged_attention "
                                     "(device_log_profiling.md)", ge=0)
    orch_lookup_us: float = F(0.145, "us", "DERIVED",
                              "TensorMap lookup of one INPUT/INOUT argument with the wiring of the producer edge "
                              "it finds (also charged per explicit dependency): 7290.3 us / 16704 submits / 3 "
                              "lookups per paged_attention submit (device_log_profiling.md); skipped in manual "
                              "scopes (simpler docs/manual-scope.md)", ge=0)
    orch_insert_us: float = F(0.050, "us", "DERIVED",
                              "TensorMap insert of one OUTPUT/OUTPUT_EXISTING/INOUT argument: 1890.4 us / 16704 "
                              "submits / 2.25 inserts per paged_attention submit (device_log_profiling.md); "
                              "skipped in manual scopes", ge=0)
    orch_alloc_per_tensor_us: float = F(0.034, "us", "DERIVED",
                                        "heap-ring allocation of one tensor an alloc_tensors call creates: "
                                        "701.5 us / 16704 submits / 1.25 allocations per paged_attention "
                                        "submit (device_log_profiling.md)", ge=0)
    orch_fill_GBps: float = F(4.23, "GB/s", "DERIVED",
                              "AICPU fill rate of a tensor created with an initial value (the orchestrator "
                              "fills the buffer with memcpy while it materialises the output, simpler "
                              "src/a2a3/runtime/tensormap_and_ringbuffer/runtime/tensor_create_info.h, "
                              "fill_tensor_initial_value): one 128 B ChipTensor copy per "
                              "orch_param_per_arg_us (2147.8 us / 16704 / 4.25 = 0.0303 us; "
                              "device_log_profiling.md); docs/model.md §4.1", gt=0)
    orch_between_submits_us: float = F(0.38, "us", "DERIVED",
                                       "(20943.9 - 14601.6) us / 16704 tasks outside submit_task (simpler "
                                       "tensormap_and_ringbuffer/docs/device_log_profiling.md)", ge=0)
    orch_alloc_us: float = F(0.3, "us", "CALIBRATE", "prior (docs/model.md §4.3)", ge=0)
    orch_first_submit_per_kernel_us: float = F(0.4, "us", "CHOICE",
                                               "orchestrator cost of the first submit of each kernel in a first "
                                               "launch, paid at level 4 with the record; no source quantifies "
                                               "it: chosen with orch_swimlane_record_us on a grid by the fit-set "
                                               "objective under the seed checks (docs/calibration.md §7)", ge=0)
    orch_swimlane_record_us: float = F(0.25, "us", "CALIBRATE",
                                       "orchestrator-side cost of one submit's swimlane record, paid at level 4 "
                                       "only. Prior INFERRED: one 32 B orchestrator phase record per submit_task "
                                       "(simpler docs/dfx/chip-swimlane-profiling.md §6), i.e. two counter reads "
                                       "and the record write; fitted: docs/calibration.md §2", ge=0)
    wiring_batch: int = F(30, "tasks", "SOURCE", "simpler pto_scheduler.h: BATCH_SIZE", ge=1)
    wiring_backoff_iters: int = F(32, "iterations", "SOURCE", "simpler pto_scheduler.h: BACKOFF_LIMIT", ge=0)
    wire_per_task_us: float = F(0.15, "us", "CALIBRATE", "prior (docs/model.md §4.3)", ge=0)
    cond_poll_us: float = F(0.10, "us", "MEASURED", f"one COND read 95-105 ns, serial ({_MMIO})", ge=0)
    fin_visibility_us: float = F(0.08, "us", "CALIBRATE",
                                 "FIN write -> visible to COND read: 0.18 us minimum FIN->AICPU latency minus one "
                                 f"0.10 us read ({_MMIO}); docs/model.md §4.3", ge=0)
    aicpu_counter_read_us: float = F(0.10, "us", "CALIBRATE", "prior: one MMIO read (docs/model.md §4.3)", ge=0)
    complete_per_fin_us: float = F(0.10, "us", "CALIBRATE",
                                   "prior: Huawei pypto cost model AICPUConfig completionCycles 240 (VSIM)", ge=0)
    resolve_base_us: float = F(0.50, "us", "SOURCE",
                               "1-2 consumers, ~500 ns Resolve (simpler scheduler_completion.cpp comment)", ge=0)
    resolve_per_extra_consumer_us: float = F(0.10, "us", "CALIBRATE",
                                             "prior: Huawei pypto cost model AICPUConfig resolveCycles 390 (VSIM)",
                                             ge=0)
    resolve_record_min_us: float = F(1.0, "us", "SOURCE",
                                     "phase record filter: simpler scheduler_completion.cpp RESOLVE_EMIT_MIN_CYCLES",
                                     ge=0)
    release_per_task_us: float = F(0.05, "us", "CALIBRATE", "prior (docs/model.md §4.3)", ge=0)
    deferred_release_cap: int = F(256, "tasks", "SOURCE", "simpler scheduler_completion.cpp: PTO2_DEFERRED_RELEASE_CAP",
                                  ge=1)
    dispatch_pop_us: float = F(0.10, "us", "CALIBRATE", "prior (docs/model.md §4.3)", ge=0)
    payload_build_per_subtask_us: float = F(0.15, "us", "CALIBRATE",
                                            "prior: Huawei pypto cost model AICPUConfig schedulerCycles 200 (VSIM); "
                                            "docs/model.md §4.4", ge=0)
    publish_barrier_us: float = F(0.05, "us", "CALIBRATE", "prior (docs/model.md §4.4)", ge=0)
    publish_per_subtask_us: float = F(0.005, "us", "MEASURED", f"posted MMIO store, ~5 ns each in bursts ({_MMIO})",
                                      ge=0)
    sched_idle_iter_us: float = F(0.20, "us", "CALIBRATE",
                                  "prior (docs/model.md §4.3); fitted: docs/calibration.md §2, §5", ge=0)
    mix_placement: str = F("uniform", "-", "SOURCE",
                           "which clusters a MIX block may take. 'uniform' (simpler b18a06e54, PR #1097, "
                           "2026-06-22): every core the block uses is in one state, all idle (running slots) "
                           "or all busy with a free pending slot; a cluster in mixed state waits. 'per_core' "
                           "(simpler a3e1cd359, PR #1308, 2026-07-09): a cluster is usable when every used "
                           "core has a free pending slot; idle cores take the block in their running slot, busy "
                           "ones in their pending slot, and the idle stage still takes fully idle clusters "
                           "first. 'cluster' (simpler before PR #1097): the idle stage takes only clusters "
                           "whose three cores are all idle, the pending stage clusters whose three cores all "
                           "have a free pending slot and one at least is busy, each core placed by its own "
                           "state (docs/model.md §4.4)", pattern="^(uniform|per_core|cluster)$")
    sched_start_phase_iters: float = F(1.0, "idle iterations", "CHOICE",
                                      "each scheduler thread enters its loop at a seeded uniform offset in [0, this "
                                      "many of its idle iterations): the threads are launched separately and nothing "
                                      "aligns their loops (first-dispatch stagger between threads median 1.92 µs, "
                                      "min 0.16: simpler docs/investigations/2026-06-cross-task-batched-publish.md). "
                                      "1 (the calibrated choice) = an unknown relative phase; 0 = all threads start "
                                      "together and stay in lockstep while idle, so the same peer always wins a race "
                                      "for a shared-queue task (docs/model.md §6)", ge=0)
    t0_queue_checks: int = F(2, "queue accesses per iteration", "SOURCE",
                             "the wiring and dummy-drain loop steps run on T0 only (simpler scheduler_dispatch.cpp): "
                             "a wiring-queue check and a dummy-queue pop attempt on every T0 iteration, idle ones "
                             "included, each costed as one dispatch_pop_us; the steps all threads run are in "
                             "sched_idle_iter_us (docs/model.md §4.3)", ge=0)
    local_ready_cap: int = F(64, "tasks per shape", "SOURCE",
                             "simpler scheduler_dispatch.cpp: LOCAL_READY_CAP_PER_TYPE", ge=1)
    dummy_drain_batch: int = F(16, "tasks", "SOURCE", "simpler scheduler_dispatch.cpp: DUMMY_DRAIN_BATCH", ge=1)
    dmb_propagation_us: float = F(0.14, "us", "MEASURED", f"AICPU write -> AICore sees token, ~140 ns ({_MMIO})",
                                  ge=0)
    cold_first_task_extra_prob: float = F(0.5, "probability", "MEASURED",
                                          f"share of cores paying a cold first-task extra, bimodal ({_COLD})",
                                          ge=0, le=1)
    cold_first_task_extra_min_us: float = F(1.5, "us", "MEASURED",
                                            f"uniform lower bound; excess p50 1.77 us ({_COLD}); docs/model.md §4.6",
                                            ge=0)
    cold_first_task_extra_max_us: float = F(5.3, "us", "MEASURED", f"uniform upper bound; excess max 5.31 us ({_COLD})",
                                            ge=0)
    aicore_counter_read_us: float = F(0.15, "us", "MEASURED",
                                      f"0.10-0.20 with swimlane on ({_SWITCH}); already inside the measured "
                                      "local setup and record write-back figures", ge=0, timing=False)
    local_setup_after_idle_us: float = F(0.02, "us", "MEASURED", f"0-0.02 ({_COLD})", ge=0)
    local_setup_back_to_back_us: float = F(0.29, "us", "MEASURED", f"mean 0.29, p50 0.28 ({_SWITCH})", ge=0)
    local_setup_cold_us: float = F(0.9, "us", "MEASURED", f"0.5-1.0 ({_COLD})", ge=0)
    record_writeback_us: float = F(0.50, "us", "MEASURED", f"prev_tail mean 0.52, after end ({_SWITCH})", ge=0)
    early_dispatch_max_pops: int = F(8, "per pass", "SOURCE",
                                     "simpler scheduler_dispatch.cpp: PTO2_EARLY_DISPATCH_DRAIN_MAX", ge=0)
    early_dispatch_chain_depth: int = F(4, "-", "SOURCE", "simpler pto_scheduler.h: PTO2_SPEC_CHAIN_MAX", ge=0)
    doorbell_propagation_us: float = F(0.14, "us", "MEASURED",
                                       f"same MMIO path as dispatch, AICPU write -> AICore ~140 ns ({_MMIO})", ge=0)
    gated_local_setup_us: float = F(0.02, "us", "CALIBRATE",
                                    "ACK only; prior = the warm local setup (docs/model.md §4.4)", ge=0)
    sync_start_barrier_us: float = F(1.0, "us", "CALIBRATE", "prior (docs/model.md §4.4)", ge=0)
    pmu_mode: bool = F(False, "-", "SOURCE",
                       "PMU runs use single-issue dispatch, no pending slots (simpler docs/dfx/pmu-profiling.md "
                       "§7.1), and no early dispatch (scheduler_dispatch.cpp)")
    swimlane_level: int = F(4, "-", "SOURCE",
                            "a bare --enable-l2-swimlane, what pypto passes, is level 4 (simpler "
                            "docs/dfx/l2-swimlane-profiling.md)", ge=0, le=4)
    swimlane_costs: bool = F(True, "-", "CHOICE", "model the swimlane's own observer costs (docs/model.md §4.5)")
    rings: int = F(4, "count", "SOURCE", f"{_RT}: PTO2_MAX_RING_DEPTH", ge=1, timing=False)
    task_window_per_ring: int = F(16384, "slots", "SOURCE", f"{_RT}: PTO2_TASK_WINDOW_SIZE", ge=1, timing=False)
    heap_per_ring_mib: int = F(256, "MiB", "SOURCE", f"{_RT}: PTO2_HEAP_SIZE", ge=1, timing=False)
    dep_list_pool_per_ring: int = F(16384, "entries", "SOURCE", f"{_RT}: PTO2_DEP_LIST_POOL_SIZE", ge=1, timing=False)
    tensormap_pool: int = F(65536, "entries", "SOURCE", f"{_RT}: PTO2_TENSORMAP_POOL_SIZE", ge=1, timing=False)
    tensormap_buckets: int = F(4096, "buckets", "SOURCE", f"{_RT}: PTO2_TENSORMAP_NUM_BUCKETS", ge=1, timing=False)
    ready_queue_per_shape: int = F(65536, "tasks", "SOURCE", f"{_RT}: PTO2_READY_QUEUE_SIZE", ge=1, timing=False)
    wiring_queue: int = F(1024, "tasks", "SOURCE", f"{_RT}: PTO2_WRIRING_QUEUE_SIZE", ge=1)
    early_dispatch_queue: int = F(64, "tasks", "SOURCE", f"{_RT}: PTO2_EARLY_DISPATCH_QUEUE_SIZE", ge=1)
    fanin_inline_capacity: int = F(64, "entries", "SOURCE", f"{_RT}: PTO2_FANIN_INLINE_CAP", ge=1, timing=False)
    max_scope_depth: int = F(64, "levels", "SOURCE", f"{_RT}: PTO2_MAX_SCOPE_DEPTH", ge=1, timing=False)
    sched_timeout_s: float = F(10.0, "s", "SOURCE",
                               "onboard scheduler timeout: simpler src/a2a3/platform/include/common/platform_config.h "
                               "PLATFORM_ONBOARD_SCHEDULER_TIMEOUT_MS", gt=0, timing=False)

    @model_validator(mode="after")
    def _cold_range(self) -> RuntimeParams:
        """The cold first-task extra range is ordered (min <= max, µs)."""
        if self.cold_first_task_extra_min_us > self.cold_first_task_extra_max_us:
            raise ValueError("cold_first_task_extra_min_us must be <= cold_first_task_extra_max_us")
        return self


class MeasuredDma(_Section):
    """Measured data-movement facts (a2a3 silicon or its op simulator), for validation only; not used by the cost
    model."""

    gather_row_us: float = F(0.44, "us/row", "MEASURED", "gather_row GM->L1 per-row copy, issue-bound "
                             "(pypto-lib PR #775)", ge=0, timing=False)
    bulk_row_us: float = F(0.02, "us/row", "MEASURED", "contiguous 16-row bulk DMA (pypto-lib PR #775)", ge=0,
                           timing=False)
    nd2nz_lane_gbps: float = F(21.0, "GB/s", "MEASURED", "ND2NZ weight load per lane (pypto-lib PR #628)", ge=0,
                               timing=False)
    nd2nz_lanes_busy: float = F(3.62, "sub-queues", "MEASURED", "MTE2 sub-queues busy on average (of 5) during an "
                                "ND2NZ weight stream (pypto-lib PR #628, a2a3 op simulator)", ge=0, timing=False)
    sdma_single_stream_gbps: float = F(285.0, "GB/s", "MEASURED", "SDMA L2 prefetch, one stream (pypto-lib PR #963)",
                                       ge=0, timing=False)


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
