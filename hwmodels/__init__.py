"""Chip presets and cost models (core pipes, L2, HBM, AICPU/runtime overheads).

* :func:`load_chip` / :class:`ChipConfig` (package ``hwmodels.chip``): presets 910B1..910B4 and 910C
  (one Ascend910_9391 die, the default), TOML/JSON round trip, ``--set section.field=value``
  overrides. Every field's description carries ``unit | status | source``; ``calibratable_fields()``
  lists the CALIBRATE placeholders. ``recommended_preset()`` is the command line's default: the
  calibrated 910C die (``presets/910C-calibrated.toml``, written by ``swimsim calibrate``) when present.
* :class:`CoreCostModel` (package ``hwmodels.incore``): list-schedules a block's ops on the core pipes
  and returns one :class:`BlockProfile` per lane (duration ns, HBM bytes, PMU busy ns per pipe,
  critical-path breakdown ns); ``CoreCostModel(chip).profile(task, block, l2)`` is the engine's seam.
* :class:`L2State` and :func:`share_bandwidth` (``hwmodels.memory``): L2 line residency shared by
  all cores; max-min fair split of HBM bandwidth among concurrent lanes.
"""

from hwmodels.chip import ChipConfig, list_presets, load_chip, recommended_preset
from hwmodels.incore import BlockProfile, CoreCostModel
from hwmodels.memory import L2State, share_bandwidth

__all__ = ["ChipConfig", "load_chip", "list_presets", "recommended_preset", "CoreCostModel", "BlockProfile",
           "L2State", "share_bandwidth"]
