"""Kernel models (qkv_proj_rope, decode_attention_hca) and the registry."""
