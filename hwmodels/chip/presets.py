"""Chip presets: finding and loading the bundled preset files, and ``--set`` overrides.

The presets are the TOML files in ``hwmodels/presets`` (``PRESET_DIR``): 910B1..910B4, 910C (one
Ascend910_9391 die, ``DEFAULT_PRESET``) and, once ``swimsim calibrate`` has written it, 910C-calibrated
(``CALIBRATED_PRESET``). :func:`load_chip` also reads any TOML/JSON chip file.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hwmodels.chip.config import ChipConfig, chip_from_dict
from hwmodels.chip.fields import resolve_key
from sim.util.errors import UserError

PRESET_DIR = Path(__file__).parent.parent / "presets"
DEFAULT_PRESET = "910C"
CALIBRATED_PRESET = "910C-calibrated"

_ALIASES = {
    "ascend910b1": "910B1", "ascend910b2": "910B2", "ascend910b3": "910B3", "ascend910b4": "910B4",
    "ascend910_9391": "910C", "ascend910_9392": "910C", "910c": "910C",
}


def recommended_preset() -> str:
    """The preset the command line uses by default: the calibrated 910C die when present, else 910C."""
    return CALIBRATED_PRESET if (PRESET_DIR / f"{CALIBRATED_PRESET}.toml").is_file() else DEFAULT_PRESET


def list_presets() -> list[str]:
    """Names of the bundled presets, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def _read_file(path: Path) -> dict[str, Any]:
    """The nested dict of a TOML or JSON (``.json``) chip file; UserError if unreadable or malformed."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"chip file {path}: cannot read ({exc.strerror})") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = str(exc).splitlines()[0]
        raise UserError(f"chip file {path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {msg}") from None
    if not isinstance(data, dict):
        raise UserError(f"chip file {path}: expected a table/object at top level")
    return data


def _parse_value(raw: str) -> Any:
    """Lists are written as JSON (``[1,2]``); everything else is left to pydantic's type check."""
    raw = raw.strip()
    if raw.startswith("["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key=value`` strings to a nested config dict (returns a new dict)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for item in overrides:
        if "=" not in item:
            raise UserError(f"--set {item}: expected key=value")
        key, _, raw = item.partition("=")
        path = resolve_key(key)
        val = _parse_value(raw)
        if len(path) == 1:
            out[path[0]] = val
        else:
            sec = out.setdefault(path[0], {})
            if not isinstance(sec, dict):
                raise UserError(f"--set {key}: section '{path[0]}' is not a table")
            sec[path[1]] = val
    return out


def load_chip(name: str | None = None, overrides: Sequence[str] = (), path: str | Path | None = None) -> ChipConfig:
    """Load a preset (default ``910C``) or a TOML/JSON chip file, then apply ``--set`` overrides."""
    if path is not None:
        p = Path(path)
        data = _read_file(p)
        origin = str(p)
    else:
        key = name or DEFAULT_PRESET
        key = _ALIASES.get(key.lower(), key)
        if key not in list_presets():
            raise UserError(f"unknown chip '{name}' (presets: {', '.join(list_presets())})")
        data = _read_file(PRESET_DIR / f"{key}.toml")
        data.setdefault("name", key)
        origin = f"chip {key}"
    if overrides:
        data = apply_overrides(data, overrides)
        origin += " with --set"
    return chip_from_dict(data, origin)
