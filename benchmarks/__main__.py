"""``python -m benchmarks [--smoke] [--repeat N] [--only NAME ...]``: run the benchmarks, print the table."""

from __future__ import annotations

import argparse
import os
import sys

from .measure import Settings, format_table
from .suite import BENCHMARKS, run_benchmarks


def main(argv: list[str] | None = None) -> int:
    """Print the result table (0 even when a goal is missed: the table says so)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Benchmarks of amlmock.")
    parser.add_argument("--smoke", action="store_true", help="tiny workloads, one repetition: checks that all runs")
    parser.add_argument("--repeat", type=int, help="samples per variant (default 5, smoke 1); the table shows medians")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME", help=", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    settings = Settings(repeat=args.repeat or (1 if args.smoke else 5), smoke=args.smoke)
    load_before = os.getloadavg()[0]
    results = run_benchmarks(settings, args.only)
    print(format_table(figure for figures in results.values() for figure in figures))
    print(f"\n{os.cpu_count()} cores; 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
