"""``swimsim explain RUN_DIR FUNC``: break a function's Avg Exec and span down (analysis: :mod:`sim.app.explain`)."""

from __future__ import annotations

import argparse

from sim.app.commands import non_negative_int
from sim.app.explain import explain_against, explain_function, explain_ops, load_run
from sim.app.paths import check_exists
from sim.util.errors import UserError


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the breakdown, the side-by-side comparison (``--against``) or one block's ops (``--ops``)."""
    result = load_run(check_exists(args.trace_dir))
    if args.against:
        if args.ops:
            raise UserError("--against compares two runs' breakdowns; use --ops on one run at a time")
        other = load_run(check_exists(args.against))
        print(explain_against(result, other, args.func_name, args.trace_dir, args.against), end="")
    elif args.ops:
        print(explain_ops(result, args.func_name, args.block), end="")
    else:
        print(explain_function(result, args.func_name), end="")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    e = sub.add_parser("explain", help="break a function's Avg Exec and span down (pipes, memory, overhead)")
    e.add_argument("trace_dir", help="run directory written by `swimsim run -o` or `swimsim reproduce`")
    e.add_argument("func_name", metavar="FUNC", help="function name, e.g. q_head_rms_nope_rope")
    e.add_argument("--ops", action="store_true",
                   help="print one block's in-core op timeline (start, end, what it waited for, critical path) "
                        "and the critical time per op name")
    e.add_argument("--block", type=non_negative_int, default=0, help="block for --ops (default 0)")
    e.add_argument("--against", metavar="TRACE_DIR_B",
                   help="a second run directory: the same breakdown side by side and the difference split "
                        "into the warm rows' cost and the rows on cold cores")
    e.set_defaults(func=cmd_explain)
