"""Chip configuration: presets for the a2a3 family (one die), TOML/JSON round trip, ``--set`` overrides.

Every field carries ``unit``, ``status`` (swimsim's evidence class: SPEC, MEASURED, FIT, VSIM, DERIVED,
INFERRED, PRESS, CALIBRATE, ASSUMPTION, SOURCE, CALIBRATED, CHOICE, defined in docs/model.md) and ``source``
(the public origin of the value, or the docs/model.md section that states it) in its description.
Fields with status CALIBRATE are placeholders a calibration step may fit (:func:`calibratable_fields`).

* ``sections``: the parameter sections (``SECTIONS``), one pydantic model per hardware block.
* ``config``: :class:`ChipConfig` (derived clocks and core counts, TOML/JSON text) and
  :func:`chip_from_dict`.
* ``fields``: field metadata queries (:func:`canonical_field`, :func:`field_description`,
  :func:`calibratable_fields`, :func:`descriptive_fields`).
* ``presets``: the bundled preset files (``PRESET_DIR``), :func:`load_chip` and ``--set`` overrides.
* ``tomlwriter``: :func:`preset_toml`, the TOML text of a preset (``tomli_w``).
"""

from hwmodels.chip.config import ChipConfig, chip_from_dict
from hwmodels.chip.fields import calibratable_fields, canonical_field, descriptive_fields, field_description
from hwmodels.chip.presets import (
    CALIBRATED_PRESET,
    DEFAULT_PRESET,
    PRESET_DIR,
    apply_overrides,
    list_presets,
    load_chip,
    recommended_preset,
)
from hwmodels.chip.sections import SECTIONS
from hwmodels.chip.tomlwriter import preset_toml

__all__ = [
    "SECTIONS", "ChipConfig", "chip_from_dict",
    "calibratable_fields", "canonical_field", "descriptive_fields", "field_description",
    "CALIBRATED_PRESET", "DEFAULT_PRESET", "PRESET_DIR", "apply_overrides", "list_presets", "load_chip",
    "recommended_preset",
    "preset_toml",
]

