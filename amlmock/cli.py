"""The ``amlmock`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``amlmock`` command."""
    parser = argparse.ArgumentParser(prog="amlmock", description="A fake Azure ML (v1) run service.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the seed walkthrough against the fake, step by step")
    demo.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(verbose=not args.quiet)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
