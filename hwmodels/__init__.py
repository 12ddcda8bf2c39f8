"""Chip presets and cost models (core pipes, L2, HBM, AICPU/runtime overheads)."""
