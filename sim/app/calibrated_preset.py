"""The chip preset file `swimsim calibrate` writes: a base preset plus fitted values, with provenance.

Layout (:func:`hwmodels.chip.preset_toml`, the writer of every preset file): two comment lines
(what the preset is, the provenance note), ``name``, a ``[provenance]`` table (fitted field -> note,
sorted), then one table per chip section in :data:`hwmodels.chip.SECTIONS` order holding the base
chip's non-default fields and the fitted ones (keys sorted).
"""

from __future__ import annotations

from hwmodels.chip import SECTIONS, ChipConfig, chip_from_dict, preset_toml


def calibrated_preset_toml(base: ChipConfig, name: str, params: dict[str, float], note: str) -> str:
    """Preset ``name``: ``base``'s non-default fields plus ``params`` (dotted field -> value), each
    fitted field's provenance set to ``note``."""
    default = chip_from_dict({"name": "defaults"}, "defaults").model_dump()
    have = base.model_dump()
    fields: dict[str, dict[str, object]] = {}
    for sec in SECTIONS:
        for k, v in have[sec].items():
            if v != default[sec][k]:
                fields.setdefault(sec, {})[k] = v
    for k, v in params.items():
        sec, field = k.split(".", 1)
        fields.setdefault(sec, {})[field] = v
    doc: dict[str, object] = {"name": name, "provenance": {k: note for k in sorted(params)}}
    for sec in SECTIONS:
        if sec in fields:
            doc[sec] = dict(sorted(fields[sec].items()))
    return preset_toml(doc, [f"{name}: preset {base.name} with the free parameters fitted by `swimsim calibrate`.",
                             note])
