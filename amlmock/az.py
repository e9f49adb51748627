"""``amlmock az ml ...``: the Azure ML CLI (v1) against a running amlmock server.

The commands are those of the CLI bundled with azureml-core (``python -m azureml._cli``), run in
this process unmodified except for four things: its Python >= 3.10 ``collections.Iterator`` crash is
patched, sign-in is offline and pointed at the server in ``$AMLMOCK_URL`` (whose workspaces give the
default subscription), az's ``--query``/``--output`` are added to every command, and errors become
one ``ERROR:`` line with az-like exit codes.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import functools
import json
import os
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from unittest import mock

import jmespath
import requests

from .tokens import make_token

URL_VARIABLE = "AMLMOCK_URL"
PROG = "amlmock az ml"
FORMATS = ("json", "table", "tsv")
EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3
STATE_PATH = "/amlmock/v1.0/admin/state?runs=false"
CONNECT_TIMEOUT_SECONDS = 5.0


class AzError(Exception):
    """A failure reported as ``ERROR: <message>`` on stderr, with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ServerWorkspace:
    """A workspace the server has."""

    subscription_id: str
    resource_group: str
    name: str


class Server:
    """The amlmock server named by ``$AMLMOCK_URL``."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @classmethod
    def from_environment(cls) -> "Server":
        url = os.environ.get(URL_VARIABLE, "").strip()
        if not url:
            raise AzError(
                f"{URL_VARIABLE} is not set. Start a server with 'amlmock serve' and export "
                f"{URL_VARIABLE}=<the URL it prints>, e.g. http://127.0.0.1:PORT",
                EXIT_USAGE,
            )
        return cls(url)

    def workspaces(self) -> list[ServerWorkspace]:
        """The server's workspaces; fails fast (no SDK retries) when it is not running."""
        headers = {"Authorization": "Bearer " + make_token("cli")[0]}
        try:
            response = requests.get(self.url + STATE_PATH, headers=headers, timeout=CONNECT_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise AzError(f"amlmock server not reachable at {self.url} ({type(error).__name__}); is 'amlmock serve' running?") from None
        if response.status_code != 200:
            raise AzError(f"{self.url} does not answer like an amlmock server (HTTP {response.status_code} for {STATE_PATH})")
        return [
            ServerWorkspace(ws["subscriptionId"], ws["resourceGroup"], ws["name"]) for ws in response.json()["workspaces"]
        ]


@dataclass
class Invocation:
    """One ``az ml`` call: az's own options, and what the command returned."""

    query: Any = None  # a compiled JMESPath expression
    output: str = "json"
    returned: bool = False
    result: Any = None


class _Capture(argparse.Action):
    """Stores an az option on the ``Invocation``, not on the namespace the bundled CLI hands on."""

    def __init__(self, *args: Any, invocation: Invocation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invocation = invocation

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        setattr(self.invocation, self.dest, values)


def _jmespath(text: str) -> Any:
    try:
        return jmespath.compile(text)
    except jmespath.exceptions.JMESPathError as error:
        raise argparse.ArgumentTypeError(f"invalid JMESPath query {text!r}: {error}") from None


def main(argv: Sequence[str]) -> int:
    """Run ``az <argv>`` (``argv`` starts with ``ml``); returns the exit code."""
    if not argv or argv[0] != "ml":
        print(f"usage: {PROG} <group> <command> [options]  (only 'az ml' commands are available)", file=sys.stderr)
        return EXIT_USAGE
    args = list(argv[1:]) or ["--help"]
    invocation = Invocation()
    try:
        code = _run_bundled_cli(args, invocation)
        if code == 0 and invocation.returned:
            _print_result(invocation)
        return code
    except Exception as error:  # every failure of a command ends here, as one message
        message, code = _describe(error)
        print(f"ERROR: {message}", file=sys.stderr)
        return code


def _run_bundled_cli(args: list[str], invocation: Invocation) -> int:
    """``python -m azureml._cli <args>`` in this process; a command's exception is re-raised."""
    with ExitStack() as stack:
        _patch_bundled_cli(stack, invocation)
        from azureml._cli import aml_cli

        stack.enter_context(mock.patch.object(sys, "argv", [PROG, *args]))
        try:
            aml_cli.start_cli()
        except SystemExit as exit_:  # argparse's usage errors and help, or start_cli's sys.exit(exception)
            if isinstance(exit_.code, BaseException):
                raise exit_.code from None
            if isinstance(exit_.code, str):
                raise AzError(exit_.code) from None
            return exit_.code or 0
    return 0


def _patch_bundled_cli(stack: ExitStack, invocation: Invocation) -> None:
    """Make the bundled CLI work offline against the server, with az's options, until ``stack`` closes."""
    stack.enter_context(mock.patch.object(collections, "Iterator", collections.abc.Iterator, create=True))
    from azureml._base_sdk_common.cli_wrapper import _common
    from azureml._cli import aml_cli
    from azureml._restclient import snapshots_client

    from .execution.script_wrapper import _loopback_upload_blob_from_stream as plain_put_for_loopback
    from .sdk.tuning import speed_up_sdk

    speed_up_sdk(stack)
    upload = plain_put_for_loopback(snapshots_client.upload_blob_from_stream)  # Azure's blob client needs an HTTPS host
    stack.enter_context(mock.patch.object(snapshots_client, "upload_blob_from_stream", upload))
    stack.enter_context(mock.patch.object(_common, "AZUREML_CLI_IN_USE", True))
    add_arguments = aml_cli._add_arguments_to_command_subparser
    stack.enter_context(mock.patch.object(aml_cli, "_add_arguments_to_command_subparser", _with_az_options(add_arguments, invocation)))
    command_function = aml_cli._get_command_function_object
    stack.enter_context(mock.patch.object(aml_cli, "_get_command_function_object", _against_server(command_function, invocation, stack)))


def _with_az_options(add_arguments: Callable[..., None], invocation: Invocation) -> Callable[..., None]:
    """The bundled CLI's argument registration, plus az's ``--query`` and ``-o/--output`` on each command."""

    def add(command_parser: argparse.ArgumentParser, argument_list: Any) -> None:
        add_arguments(command_parser, argument_list)
        capture = functools.partial(_Capture, invocation=invocation)
        group = command_parser.add_argument_group("az output options (amlmock)")
        group.add_argument("--query", dest="query", type=_jmespath, action=capture, default=argparse.SUPPRESS,
                           metavar="JMESPATH", help="JMESPath query applied to the command's result")
        group.add_argument("-o", "--output", dest="output", choices=FORMATS, action=capture, default=argparse.SUPPRESS,
                           help="output format (default: json)")

    return add


def _against_server(command_function: Callable[[str], Callable[..., Any]], invocation: Invocation, stack: ExitStack) -> Callable[[str], Callable[..., Any]]:
    """The bundled CLI's handler lookup: each handler first checks the server and signs in to it,
    and its result is kept on ``invocation`` instead of being printed by the bundled CLI."""

    def lookup(function_path: str) -> Callable[..., Any]:
        handler = command_function(function_path)

        @functools.wraps(handler)
        def run(**kwargs: Any) -> None:
            server = Server.from_environment()
            workspaces = server.workspaces()
            _sign_in(stack, server, workspaces)
            _choose_subscription(kwargs, server, workspaces)
            invocation.result = handler(**kwargs)
            invocation.returned = True

        return run

    return lookup


def _sign_in(stack: ExitStack, server: Server, workspaces: list[ServerWorkspace]) -> None:
    """Every SDK auth class becomes offline and talks ARM to the server; its subscriptions are the server's."""
    from azureml._base_sdk_common.cli_wrapper import _common

    from .sdk.auth import patch_auth_classes

    subscriptions = sorted({ws.subscription_id for ws in workspaces})
    patch_auth_classes(stack, lambda: subscriptions, server.url + "/")

    def default_subscription(auth: Any) -> str:
        if len(subscriptions) == 1:
            return subscriptions[0]
        if not subscriptions:
            raise AzError(f"The amlmock server at {server.url} has no workspace (create one with 'amlmock serve --workspace NAME --resource-group RG')")
        raise AzError(f"The amlmock server has several subscriptions ({', '.join(subscriptions)}); pass --subscription-id", EXIT_USAGE)

    stack.enter_context(mock.patch.object(_common, "get_default_subscription_id", default_subscription))


def _choose_subscription(kwargs: dict[str, Any], server: Server, workspaces: list[ServerWorkspace]) -> None:
    """With ``-w`` and ``-g``: check the server has that workspace, and use its subscription unless one was given."""
    name, group, given = kwargs.get("workspace_name"), kwargs.get("resource_group_name"), kwargs.get("subscription_id")
    if not (name and group):
        return
    subscriptions = {
        ws.subscription_id
        for ws in workspaces
        if (ws.name, ws.resource_group) == (name, group) and given in (None, ws.subscription_id)
    }
    if not subscriptions:
        known = ", ".join(f"{ws.name} (resource group {ws.resource_group}, subscription {ws.subscription_id})" for ws in workspaces)
        where = f" in subscription {given}" if given else ""
        raise AzError(f"Workspace {name!r} in resource group {group!r}{where} not found on the amlmock server at "
                      f"{server.url}. It has: {known or 'no workspace'}", EXIT_NOT_FOUND)
    if given is None and len(subscriptions) == 1:
        kwargs["subscription_id"] = subscriptions.pop()


def _describe(error: Exception) -> tuple[str, int]:
    """The message and exit code for a failed command."""
    if isinstance(error, AzError):
        return str(error), error.exit_code
    from azureml._restclient.exceptions import ServiceException

    if isinstance(error, ServiceException):
        code = EXIT_NOT_FOUND if error.status_code == 404 else EXIT_ERROR
        return f"{error.message} (HTTP {error.status_code})", code
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return str(message), EXIT_ERROR


# ---------------------------------------------------------------------------------------- output
def _print_result(invocation: Invocation) -> None:
    """Print what the command returned, as az would: queried, then formatted."""
    if invocation.result is None:
        return
    data = _plain(invocation.result)
    if invocation.query is not None:
        data = invocation.query.search(data)
    if data is not None:
        print(FORMATTERS[invocation.output](data))


def _plain(result: Any) -> Any:
    """JSON values, converted the bundled CLI's way (a model becomes a camelCase dict)."""
    from azureml._cli.cli_command import _process_single_return_object

    if isinstance(result, (list, tuple, collections.abc.Iterator)):
        converted: Any = [_process_single_return_object(item) for item in result]
    else:
        converted = _process_single_return_object(result)
    return json.loads(json.dumps(converted, default=str))


def _as_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def _cell(value: Any) -> str:
    """A scalar as az's table and tsv outputs show it; nested values are left blank."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _rows(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]


def _as_tsv(data: Any) -> str:
    """One line per item: a dict's values in key order, a list's in its order, tab-separated."""
    lines = []
    for row in _rows(data):
        values = [row[key] for key in sorted(row)] if isinstance(row, dict) else row if isinstance(row, list) else [row]
        lines.append("\t".join(_cell(value) for value in values))
    return "\n".join(lines)


def _table_columns(row: Any) -> dict[str, Any]:
    """az's automatic table columns for one item: scalar fields, a list's ``ColumnN``, or ``Result``."""
    if isinstance(row, dict):
        return {key[:1].upper() + key[1:]: value for key, value in row.items() if value is not None and not isinstance(value, (dict, list))}
    if isinstance(row, list):
        return {f"Column{index}": value for index, value in enumerate(row, start=1)}
    return {"Result": row}


def _as_table(data: Any) -> str:
    """An aligned table with a header and a dashed rule, like ``az ... -o table``."""
    rows = [_table_columns(row) for row in _rows(data)]
    headers: list[str] = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(header)) for header in headers] for row in rows]
    widths = [max([len(header), *(len(line[i]) for line in cells)]) for i, header in enumerate(headers)]
    lines = [headers, ["-" * width for width in widths], *cells]
    return "\n".join("  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in lines)


FORMATTERS: dict[str, Callable[[Any], str]] = {"json": _as_json, "table": _as_table, "tsv": _as_tsv}
