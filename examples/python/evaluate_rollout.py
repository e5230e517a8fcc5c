#!/usr/bin/env python3
"""Evaluates a staged rollout experiment from the counts of its two arms: the lift with its confidence
interval, a two-proportion z-test, a sample-ratio check and the next rollout step.

    examples/python/evaluate_rollout.py 45120 27975 5030 3390 --rollout 0.1,0.5,1 --stage 0
    examples/python/evaluate_rollout.py 1000 100 1000 130 --planned-share 0.5 --confidence 0.9
    examples/python/evaluate_rollout.py --socket /run/twospeed/twospeed.sock 1000 100 1000 130 --planned-share 0.5 --json

CONTROL_USERS CONTROL_CONVERSIONS VARIANT_USERS VARIANT_CONVERSIONS are the users each arm saw and how
many of them converted. --rollout gives the variant's share of traffic at each stage and --stage the
running one (the sample-ratio check expects that share), or --planned-share gives the share directly;
one of them is needed, since no split is assumed. The engine runs in this process unless --socket
names a daemon.

Exit status: 0 done, 1 the engine refused the counts, 2 wrong usage.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

try:
    import twospeed
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
    import twospeed


def shares(text: str) -> List[float]:
    try:
        return [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("not a comma-separated list of shares: %r" % text) from None


def count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a whole number: %r" % text) from None
    if n < 0:
        raise argparse.ArgumentTypeError("a count cannot be negative: %r" % text)
    return n


def percent(x: float) -> str:
    return "%.2f%%" % (100 * x)


def points(x: float) -> str:
    return "%+.2f points" % (100 * x)


def describe(pointer: str) -> str:
    """/variant/conversions -> variant conversions: the argument a params pointer stands for."""
    return " ".join(p for p in pointer.split("/") if p) or "the counts"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("control_users", type=count, metavar="CONTROL_USERS")
    ap.add_argument("control_conversions", type=count, metavar="CONTROL_CONVERSIONS")
    ap.add_argument("variant_users", type=count, metavar="VARIANT_USERS")
    ap.add_argument("variant_conversions", type=count, metavar="VARIANT_CONVERSIONS")
    ap.add_argument("--rollout", type=shares, metavar="SHARES", help="the variant's share per stage, e.g. 0.1,0.5,1")
    ap.add_argument("--stage", type=int, metavar="N", help="the running stage's index into --rollout (default 0)")
    ap.add_argument("--planned-share", type=float, metavar="SHARE", help="the variant's planned share of users")
    ap.add_argument("--confidence", type=float, metavar="LEVEL", help="the confidence level (default 0.95)")
    ap.add_argument("--socket", metavar="PATH", help="call the daemon on this socket instead")
    ap.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    args = ap.parse_args(argv)
    if args.rollout is None and args.planned_share is None:
        ap.error("give --planned-share (the variant's planned share, e.g. 0.1) or --rollout: no split is assumed")

    try:
        with (twospeed.Client(args.socket) if args.socket else twospeed.Engine()) as conn:
            ev = conn.evaluate_experiment(
                control=(args.control_users, args.control_conversions),
                variant=(args.variant_users, args.variant_conversions),
                rollout=args.rollout, stage=args.stage, planned_share=args.planned_share,
                confidence=args.confidence)
    except twospeed.InvalidParams as e:
        for issue in e.errors:
            print("error: %s: %s" % (describe(issue.pointer), issue.reason), file=sys.stderr)
        return 1
    except twospeed.Error as e:
        print("error: %s" % e, file=sys.stderr)
        return 1

    if args.json:
        print(json.dumps(ev, indent=2))
        return 0
    c, v, lift, test, split, rec = (ev["control"], ev["variant"], ev["lift"], ev["test"], ev["sampleRatio"],
                                    ev["recommendation"])
    level = "%g%%" % (100 * ev["confidence"])
    print("control  %9d users %9d conversions  %s" % (c["users"], c["conversions"], percent(c["rate"])))
    print("variant  %9d users %9d conversions  %s" % (v["users"], v["conversions"], percent(v["rate"])))
    relative = " (%+.1f%%)" % (100 * lift["relative"]) if "relative" in lift else ""
    print("lift     %s%s, %s interval %s to %s" % (points(lift["absolute"]), relative, level,
                                                   points(lift["absoluteInterval"]["low"]),
                                                   points(lift["absoluteInterval"]["high"])))
    p = "p < 0.0001" if test["p"] < 0.0001 else "p = %.4f" % test["p"]
    print("test     %s: z = %.2f, %s, %s" % (test["method"], test["z"], p,
                                            "significant" if test["significant"] else "not significant"))
    print("split    variant %s of users, planned %s: %s" % (
        percent(split["observedShare"]), percent(split["expectedShare"]),
        "MISMATCH, the assignment is broken" if split["mismatch"] else "sound"))
    print("next     %s at %s of traffic" % (rec["action"], percent(rec["nextShare"])))
    print("         %s" % rec["reason"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
