"""Fast indented JSON text, byte-identical to ``json.dumps(obj, indent=n, ensure_ascii=...)``.

The standard library falls back to its pure-Python encoder whenever ``indent`` is set; this
specialised encoder is several times faster for the flat event dicts of a trace.
"""

from __future__ import annotations

import json
from typing import Any

_enc_utf = json.encoder.encode_basestring  # type: ignore[attr-defined]
_enc_ascii = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _float(v: float) -> str:
    if v != v:
        return "NaN"
    if v == float("inf"):
        return "Infinity"
    if v == -float("inf"):
        return "-Infinity"
    return float.__repr__(v)


class Encoder:
    """``encode(obj)`` == ``json.dumps(obj, indent=step, ensure_ascii=ensure_ascii)``."""

    def __init__(self, step: int = 2, ensure_ascii: bool = True) -> None:
        self.step = " " * step
        self.s = _enc_ascii if ensure_ascii else _enc_utf
        self.keys: dict[str, str] = {}

    def key(self, k: Any) -> str:
        v = self.keys.get(k)
        if v is None:
            if not isinstance(k, str):
                k2 = json.dumps({k: 0})[1:-4]  # json's own key coercion (ints, floats, bools, None)
                v = self.s(json.loads(k2)) + ": "
            else:
                v = self.s(k) + ": "
            self.keys[k] = v
        return v

    def value(self, v: Any, ind: str) -> str:
        t = type(v)
        if t is str:
            return self.s(v)
        if t is int:
            return int.__repr__(v)
        if t is float:
            return _float(v)
        if t is dict:
            if not v:
                return "{}"
            inner = ind + self.step
            key, value = self.key, self.value
            return ("{\n" + ",\n".join(inner + key(k) + value(x, inner) for k, x in v.items())
                    + "\n" + ind + "}")
        if t is list or t is tuple:
            if not v:
                return "[]"
            inner = ind + self.step
            value = self.value
            return "[\n" + ",\n".join(inner + value(x, inner) for x in v) + "\n" + ind + "]"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if v is None:
            return "null"
        return json.dumps(v)  # int/float subclasses and other JSON-able scalars

    def encode(self, obj: Any) -> str:
        return self.value(obj, "")
