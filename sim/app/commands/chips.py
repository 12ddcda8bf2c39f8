"""`swimsim chips`: list the chip presets, or print one (TOML or JSON) with ``--set`` overrides applied."""

from __future__ import annotations

import argparse

from hwmodels.chip import DEFAULT_PRESET, calibratable_fields, field_description, list_presets, load_chip


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("chips", help="list chip presets or show one",
                       description="List the chip presets; with a NAME, print that preset (TOML by default).")
    p.add_argument("name", nargs="?", help=f"preset name (default {DEFAULT_PRESET}); see the list")
    p.add_argument("--show", action="store_true", help="print the full config as TOML (the default with NAME)")
    p.add_argument("--json", action="store_true", help="print the full config as JSON")
    p.add_argument("--file", metavar="PATH", help="load a TOML/JSON chip file instead of a preset")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field, e.g. --set soc.cube_freq_mhz=1800 (repeatable)")
    p.add_argument("--calibratable", action="store_true",
                   help="list the fields whose status is CALIBRATE, with their values")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.calibratable:
        chip = load_chip(args.name, args.overrides, path=args.file)
        for dotted in calibratable_fields():
            sec, _, fname = dotted.partition(".")
            val = getattr(getattr(chip, sec), fname)
            unit = field_description(dotted).split("|")[0].replace("unit:", "").strip()
            print(f"{dotted:45s} {val!s:>12s}  {unit}")
        return 0
    if args.name is None and args.file is None and not (args.show or args.json or args.overrides):
        print(f"{'preset':8s} {'soc_version':16s} {'AIC':>4s} {'AIV':>4s} {'MHz':>6s} {'HBM GB/s':>9s} "
              f"{'L2 MiB':>7s} {'HBM GiB':>8s}")
        for name in list_presets():
            c = load_chip(name)
            mark = "  (default)" if name == DEFAULT_PRESET else ""
            print(f"{name:8s} {c.soc.soc_version:16s} {c.aic_count:4d} {c.aiv_count:4d} {c.soc.cube_freq_mhz:6.0f} "
                  f"{c.soc.hbm_bw_gbps:9.0f} {c.soc.l2_size_mib:7.0f} {c.soc.hbm_capacity_gib:8.0f}{mark}")
        return 0
    chip = load_chip(args.name, args.overrides, path=args.file)
    print(chip.to_json() if args.json else chip.to_toml(), end="")
    return 0
