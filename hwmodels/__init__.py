"""Chip presets and cost models (core pipes, L2, HBM, AICPU/runtime overheads)."""

from hwmodels.chip import ChipConfig, list_presets, load_chip
from hwmodels.incore import BlockProfile, CoreCostModel
from hwmodels.memory import L2State, share_bandwidth

__all__ = ["ChipConfig", "load_chip", "list_presets", "CoreCostModel", "BlockProfile", "L2State",
           "share_bandwidth"]
