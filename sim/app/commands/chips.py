"""`swimsim chips`: list the chip presets, or print one (TOML or JSON) with ``--set`` overrides applied.

The list marks the preset the simulating commands (run, compare, sweep, reproduce) use when no
``--chip`` is given (:func:`hwmodels.chip.recommended_preset`) and names the preset it is built on.
"""

from __future__ import annotations

import argparse

from hwmodels.chip import calibratable_fields, field_description, list_presets, load_chip, recommended_preset
from sim.app.paths import check_exists

CALIBRATED_SUFFIX = "-calibrated"


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("chips", help="list chip presets or show one",
                       description="List the chip presets; with a NAME, print that preset (TOML by default).")
    p.add_argument("name", nargs="?", help=f"preset name (default {recommended_preset()}, the preset the other "
                                           "commands use); see the list")
    p.add_argument("--show", action="store_true", help="print the full config as TOML (the default with NAME)")
    p.add_argument("--json", action="store_true", help="print the full config as JSON")
    p.add_argument("--file", metavar="PATH", help="load a TOML/JSON chip file instead of a preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field, e.g. --set soc.cube_freq_mhz=1800 (repeatable)")
    p.add_argument("--calibratable", action="store_true",
                   help="list the fields whose status is CALIBRATE, with their values")
    p.set_defaults(func=run)


def _mark(name: str, default: str, names: list[str]) -> str:
    """The note after a preset in the list: the default one, and the preset a calibrated one is built on."""
    base = name[: -len(CALIBRATED_SUFFIX)] if name.endswith(CALIBRATED_SUFFIX) else None
    notes = []
    if name == default:
        notes.append("default")
    if base in names:
        notes.append(f"{base} with fitted values, see `swimsim calibrate`")
    return f"  ({'; '.join(notes)})" if notes else ""


def run(args: argparse.Namespace) -> int:
    if args.file:
        check_exists(args.file)
    name = args.name if args.name or args.file else recommended_preset()
    if args.calibratable:
        chip = load_chip(name, args.overrides, path=args.file)
        for dotted in calibratable_fields():
            sec, _, fname = dotted.partition(".")
            val = getattr(getattr(chip, sec), fname)
            unit = field_description(dotted).split("|")[0].replace("unit:", "").strip()
            print(f"{dotted:45s} {val!s:>12s}  {unit}")
        return 0
    if args.name is None and args.file is None and not (args.show or args.json or args.overrides):
        names = list_presets()
        default = recommended_preset()
        w = max(len(n) for n in names)
        print(f"{'preset':{w}s} {'soc_version':16s} {'AIC':>4s} {'AIV':>4s} {'MHz':>6s} {'HBM GB/s':>9s} "
              f"{'L2 MiB':>7s} {'HBM GiB':>8s}")
        for n in names:
            c = load_chip(n)
            print(f"{n:{w}s} {c.soc.soc_version:16s} {c.aic_count:4d} {c.aiv_count:4d} {c.soc.cube_freq_mhz:6.0f} "
                  f"{c.soc.hbm_bw_gbps:9.0f} {c.soc.l2_size_mib:7.0f} {c.soc.hbm_capacity_gib:8.0f}"
                  f"{_mark(n, default, names)}")
        return 0
    chip = load_chip(name, args.overrides, path=args.file)
    print(chip.to_json() if args.json else chip.to_toml(), end="")
    return 0
