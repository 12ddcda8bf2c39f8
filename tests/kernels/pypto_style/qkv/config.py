"""Model and tiling constants of the qkv_proj_rope test fixture (elements)."""

D = 4096
H = 64
HEAD_DIM = 512
ROPE_DIM = 64
NOPE_DIM = HEAD_DIM - ROPE_DIM
Q_LORA = 1024
KV_DIM = 512
EPS = 1e-6
INT8_SCALE_MAX = 127.0
INT8_AMAX_EPS = 1e-4

# tiling constants
Q_PROJ_OUT_TILE = 128
QPROJ_MM_N_TILE = 128
QPROJ_MM_GROUP = 8
Q_PROJ_TILE = 512
Q_LORA_TILE = 32
KV_TILE = 32
T_TILE = 8
M_TILE = 16
QR_N_TILE, QR_K_TILE, QR_OK, QR_K_SLICE = 128, 256, 2, 2048
KV_N_TILE, KV_K_TILE, KV_OK, KV_K_SLICE = 128, 256, 4, 1024
PAD_K_TILE = 512
T_MAX = 128
MODES = {"decode": 8, "prefill": 128}
