"""The ``amlmock`` command line: ``demo``, ``serve`` and ``az``."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amlmock", description="A fake Azure ML (v1) run service.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the seed walkthrough against the fake, step by step")
    demo.add_argument("--quiet", action="store_true", help="print only the summary line")
    serve = commands.add_parser("serve", help="serve the fake over HTTP (first line: 'amlmock serving on URL')")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    serve.add_argument("--workspace", action="append", default=[], metavar="NAME", help="create this workspace (repeatable)")
    serve.add_argument("--resource-group", action="append", default=[], metavar="RG", help="its resource group")
    serve.add_argument("--subscription-id", action="append", default=[], metavar="S", help="its subscription")
    serve.add_argument("--state", metavar="FILE", help="keep the state in this SQLite file across restarts")
    serve.add_argument("--open", action="store_true", help="open the run browser in the default web browser")
    commands.add_parser("az", help="'az ml ...' commands against the server in $AMLMOCK_URL (amlmock az ml -h)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``amlmock`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["az"]:  # everything after "az" is the az command line, options included
        from .az import main as az_main

        return az_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(verbose=not args.quiet)
    if args.command == "serve":
        from .backend.store import StateFormatError
        from .serve import pair_workspaces, serve

        try:
            workspaces = pair_workspaces(args.workspace, args.resource_group, args.subscription_id)
        except ValueError as error:
            parser.error(str(error))
        try:
            return serve(args.host, args.port, workspaces, args.state, open_browser=args.open)
        except StateFormatError as error:
            print(f"amlmock serve: {error}", file=sys.stderr)
            return 2
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
