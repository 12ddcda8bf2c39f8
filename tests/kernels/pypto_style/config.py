"""Sizes of the pypto-style test kernel (elements)."""

HIDDEN = 256
ROW_TILE = 16
MAX_BLOCKS = 4
BLOCK_COUNTS = [1, 3, 0, 2]  # row tiles each batch entry scales; read by the kernel at run time
GATE_CHAIN_SLOTS = 1  # task-handle slots of the manual-scope chain in gated_rows.py
