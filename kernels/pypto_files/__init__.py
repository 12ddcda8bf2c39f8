"""Unmodified pypto kernel files: ``import pypto.language as pl`` resolves to swimsim's recording DSL,
``golden`` to a harness that records each ``run_jit`` call, and ``torch`` (when not installed) to a
numpy-backed stand-in; see :mod:`kernels.pypto_files.loader`."""
