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
    serve.add_argument("--url", help="the address put in the URLs the fake hands out (default http://HOST:PORT)")
    serve.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    serve.add_argument("--connection-limit", type=int, default=10_000, help="open connections at most (default 10000)")
    serve.add_argument("--channel-timeout", type=int, default=30, help="seconds a connection may idle or a request take to arrive (default 30)")
    serve.add_argument("--max-blob-mb", type=int, default=256, help="largest blob upload in MiB (default 256)")
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
        return _serve(parser, args)
    parser.error(f"unknown command {args.command}")
    return 2


def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .persistence.sqlite import StateFileError
    from .serve import ServeOptions, pair_workspaces, serve
    from .transports.http import HttpLimits

    try:
        workspaces = pair_workspaces(args.workspace, args.resource_group, args.subscription_id)
    except ValueError as error:
        parser.error(str(error))
    limits = HttpLimits(args.threads, args.connection_limit, args.channel_timeout, args.max_blob_mb * 1024 * 1024)
    try:
        return serve(ServeOptions(args.host, args.port, args.state, args.url, limits), workspaces, open_browser=args.open)
    except (StateFileError, OSError) as error:
        print(f"amlmock serve: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
