"""Field metadata queries on the chip config: dotted names, descriptions, CALIBRATE and descriptive fields.

A field is named ``section.field`` (``soc.clusters``), or by its plain name when only one section
has it; the top-level ``name`` is named ``name``.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic.fields import FieldInfo

from hwmodels.chip.config import ChipConfig
from hwmodels.chip.sections import SECTIONS, is_descriptive
from sim.util.errors import UserError


def _field_index() -> dict[str, list[str]]:
    """Plain field name -> dotted names that carry it."""
    idx: dict[str, list[str]] = {"name": ["name"]}
    for sec_name, sec in SECTIONS.items():
        for fname in sec.model_fields:
            idx.setdefault(fname, []).append(f"{sec_name}.{fname}")
    return idx


def resolve_key(key: str) -> tuple[str, ...]:
    """``(section, field)`` (or ``("name",)``) of an override key; UserError if unknown or ambiguous."""
    key = key.strip()
    if "." in key:
        sec, _, fname = key.partition(".")
        if sec not in SECTIONS:
            raise UserError(f"--set {key}: unknown section '{sec}' (sections: {', '.join(SECTIONS)})")
        if fname not in SECTIONS[sec].model_fields:
            raise UserError(f"--set {key}: unknown key '{fname}' in section '{sec}'")
        return (sec, fname)
    hits = _field_index().get(key)
    if not hits:
        raise UserError(f"--set {key}: unknown key '{key}' (use section.field, see `swimsim chips --show`)")
    if len(hits) > 1:
        raise UserError(f"--set {key}: ambiguous key, use one of {', '.join(hits)}")
    return tuple(hits[0].split("."))


def _fields_where(pred: Callable[[FieldInfo], bool]) -> list[str]:
    """Dotted names of the section fields whose FieldInfo satisfies ``pred``, in declaration order."""
    return [f"{sec_name}.{fname}" for sec_name, sec in SECTIONS.items()
            for fname, finfo in sec.model_fields.items() if pred(finfo)]


def calibratable_fields() -> list[str]:
    """Dotted names of every field whose status is CALIBRATE (placeholders to fit)."""
    return _fields_where(lambda fi: bool(fi.description) and "status: CALIBRATE |" in fi.description)


def descriptive_fields() -> list[str]:
    """Dotted names of the fields the timing model does not read (declared with ``timing=False``)."""
    return _fields_where(is_descriptive)


def canonical_field(key: str) -> str:
    """``section.field`` of an override key (``field`` alone when unambiguous); UserError if unknown."""
    return ".".join(resolve_key(key))


def field_description(dotted: str) -> str:
    """The ``unit | status | source`` description of a dotted field name."""
    path = resolve_key(dotted)
    if len(path) == 1:
        return ChipConfig.model_fields[path[0]].description or ""
    return SECTIONS[path[0]].model_fields[path[1]].description or ""
