"""Built-in kernel models, looked up by :mod:`kernels.registry`.

Each module named here defines ``build(variant, mode, **options) -> TaskGraph``, ``VARIANTS`` and
``MODES``. The registry imports a model's module by name (``importlib``) when its kernel is first
asked for, so ``swimsim run qkv_proj_rope`` does not import the HCA layer.
"""

REQUIRED: dict[str, str] = {"qkv_proj_rope": "kernels.models.qkv_proj_rope"}  # kernel -> module
OPTIONAL: dict[str, str] = {  # kernel -> module; one failing to import is reported, not fatal
    "decode_attention_hca": "kernels.models.decode_attention_hca",
    "gemm": "kernels.models.gemm",
    "topk": "kernels.models.topk",
}
