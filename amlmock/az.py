"""``amlmock az ml ...``: the Azure ML CLI (v1) against a running amlmock server.

The commands are those of the CLI bundled with azureml-core (``python -m azureml._cli``), run in this
process and unmodified, except that: its Python >= 3.10 ``collections.Iterator`` crash is patched; sign-in
is offline and sent to the server in ``$AMLMOCK_URL``, whose workspaces give the default subscription;
az's ``--query`` and ``-o/--output`` are added to every
command; and a failure is one ``ERROR:`` line on stderr with an az-like exit code.
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
USAGE = f"usage: {PROG} <group> <command> [options]   ('az ml' commands only; try '{PROG} run -h')"
FORMATS = ("json", "table", "tsv")
EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3
STATE_PATH = "/amlmock/v1.0/admin/state?runs=false"
TIMEOUT_SECONDS = 5.0


class AzError(Exception):
    """A failure reported as ``ERROR: <message>`` on stderr, with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class WorkspaceName:
    """Where a workspace lives: subscription, resource group, name."""

    subscription_id: str
    resource_group: str
    name: str

    def __str__(self) -> str:
        return f"{self.name} (resource group {self.resource_group}, subscription {self.subscription_id})"


class Server:
    """The amlmock server named by ``$AMLMOCK_URL``, and the workspaces it has."""

    def __init__(self, url: str, workspaces: list[WorkspaceName]) -> None:
        self.url = url
        self.workspaces = workspaces
        self.subscriptions = sorted({ws.subscription_id for ws in workspaces})

    @classmethod
    def connect(cls) -> "Server":
        """Ask the server named by ``$AMLMOCK_URL`` for its workspaces; fail fast if it does not answer."""
        url = os.environ.get(URL_VARIABLE, "").strip().rstrip("/")
        if not url:
            raise AzError(f"{URL_VARIABLE} is not set: start a server with 'amlmock serve' and export "
                          f"{URL_VARIABLE}=<the URL it prints>, e.g. http://127.0.0.1:PORT", EXIT_USAGE)
        headers = {"Authorization": "Bearer " + make_token("cli")[0]}
        try:
            response = requests.get(url + STATE_PATH, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            reason = type(error).__name__
            raise AzError(f"amlmock server not reachable at {url} ({reason}); is 'amlmock serve' running?") from None
        if response.status_code != 200:
            raise AzError(f"{url} is not an amlmock server (GET {STATE_PATH}: HTTP {response.status_code})")
        found = response.json()["workspaces"]
        return cls(url, [WorkspaceName(ws["subscriptionId"], ws["resourceGroup"], ws["name"]) for ws in found])

    def unknown_workspace(self, description: str) -> AzError:
        known = "; ".join(str(ws) for ws in self.workspaces) or "no workspace"
        message = f"Workspace {description} not found on the amlmock server at {self.url}. It has: {known}"
        return AzError(message, EXIT_NOT_FOUND)

    def require(self, workspace: WorkspaceName) -> None:
        """Fail clearly (not through the SDK's misleading fallbacks) when the server lacks ``workspace``."""
        if workspace not in self.workspaces:
            raise self.unknown_workspace(str(workspace))

    def default_subscription(self, auth: Any = None) -> str:
        """The subscription to use when none was given (stands in for the CLI's ``az account`` default)."""
        if len(self.subscriptions) == 1:
            return self.subscriptions[0]
        if not self.subscriptions:
            raise AzError(f"The amlmock server at {self.url} has no workspace "
                          "(create one with 'amlmock serve --workspace NAME --resource-group RG')")
        raise AzError(f"The amlmock server has several subscriptions ({', '.join(self.subscriptions)}): "
                      "pass --subscription-id with -w and -g", EXIT_USAGE)

    def choose_subscription(self, kwargs: dict[str, Any]) -> None:
        """With ``-w`` and ``-g`` but no ``--subscription-id``: the subscription of the server's workspace
        of that name."""
        name, group = kwargs.get("workspace_name"), kwargs.get("resource_group_name")
        if not (name and group) or kwargs.get("subscription_id"):
            return
        subscriptions = {ws.subscription_id for ws in self.workspaces if (ws.name, ws.resource_group) == (name, group)}
        if not subscriptions:
            raise self.unknown_workspace(f"{name} (resource group {group})")
        if len(subscriptions) == 1:
            kwargs["subscription_id"] = subscriptions.pop()


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

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        setattr(self.invocation, self.dest, values)


def _jmespath(text: str) -> Any:
    try:
        return jmespath.compile(text)
    except jmespath.exceptions.JMESPathError as error:
        raise argparse.ArgumentTypeError(f"invalid JMESPath query {text!r}: {error}") from None


def main(argv: Sequence[str]) -> int:
    """Run ``az <argv>`` (``argv`` starts with ``ml``); returns the exit code."""
    if not argv or argv[0] != "ml":
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    invocation = Invocation()
    try:
        code = _run_bundled_cli(list(argv[1:]) or ["--help"], invocation)
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
    """Until ``stack`` closes: the bundled CLI runs on Python >= 3.10, fast, with az's options, and each
    command first connects to the server (see ``_against_server``)."""
    stack.enter_context(mock.patch.object(collections, "Iterator", collections.abc.Iterator, create=True))
    from azureml._base_sdk_common.cli_wrapper import _common
    from azureml._cli import aml_cli

    from .sdk.tuning import speed_up_sdk

    speed_up_sdk(stack)
    stack.enter_context(mock.patch.object(_common, "AZUREML_CLI_IN_USE", True))  # if imported before start_cli set it
    add_arguments = _with_az_options(aml_cli._add_arguments_to_command_subparser, invocation)
    stack.enter_context(mock.patch.object(aml_cli, "_add_arguments_to_command_subparser", add_arguments))
    lookup = _against_server(aml_cli._get_command_function_object, invocation, stack)
    stack.enter_context(mock.patch.object(aml_cli, "_get_command_function_object", lookup))


def _with_az_options(add_arguments: Callable[..., None], invocation: Invocation) -> Callable[..., None]:
    """The bundled CLI's argument registration, plus az's ``--query`` and ``-o/--output`` on each command."""

    def add(command_parser: argparse.ArgumentParser, argument_list: Any) -> None:
        add_arguments(command_parser, argument_list)
        capture: Any = functools.partial(_Capture, invocation=invocation)  # argparse takes any Action factory
        group = command_parser.add_argument_group("az output options (amlmock)")
        group.add_argument("--query", dest="query", type=_jmespath, action=capture, default=argparse.SUPPRESS,
                           metavar="JMESPATH", help="JMESPath query applied to the command's result")
        group.add_argument("-o", "--output", dest="output", choices=FORMATS, action=capture, default=argparse.SUPPRESS,
                           help="output format (default: json)")

    return add


def _against_server(command_function: Callable[[str], Callable[..., Any]], invocation: Invocation,
                    stack: ExitStack) -> Callable[[str], Callable[..., Any]]:
    """The bundled CLI's handler look-up. Each handler first connects to the server and signs in to it;
    its result is kept on ``invocation`` rather than printed by the bundled CLI."""

    def lookup(function_path: str) -> Callable[..., Any]:
        handler = command_function(function_path)

        @functools.wraps(handler)
        def run(**kwargs: Any) -> None:
            server = Server.connect()
            _sign_in(stack, server)
            server.choose_subscription(kwargs)
            invocation.result = handler(**kwargs)
            invocation.returned = True

        return run

    return lookup


def _sign_in(stack: ExitStack, server: Server) -> None:
    """Until ``stack`` closes: every SDK auth class is offline and sends ARM calls to the server, the default
    subscription is the server's, and a workspace the server lacks is reported as such."""
    from azureml._base_sdk_common.cli_wrapper import _common
    from azureml.core import Workspace

    from .sdk.auth import patch_auth_classes

    patch_auth_classes(stack, lambda: server.subscriptions, server.url + "/")
    stack.enter_context(mock.patch.object(_common, "get_default_subscription_id", server.default_subscription))
    original_init = Workspace.__init__

    def checked_init(workspace: Any, subscription_id: str, resource_group: str, workspace_name: str,
                     *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("_disable_service_check"):
            server.require(WorkspaceName(subscription_id, resource_group, workspace_name))
        original_init(workspace, subscription_id, resource_group, workspace_name, *args, **kwargs)

    stack.enter_context(mock.patch.object(Workspace, "__init__", checked_init))


def _describe(error: Exception) -> tuple[str, int]:
    """The message and exit code for a failed command."""
    if isinstance(error, AzError):
        return str(error), error.exit_code
    from azureml._restclient.exceptions import ServiceException

    if isinstance(error, ServiceException):
        code = EXIT_NOT_FOUND if error.status_code == 404 else EXIT_ERROR
        return f"{error.message} (HTTP {error.status_code})", code
    return str(getattr(error, "message", None) or error) or type(error).__name__, EXIT_ERROR


# ----------------------------------------------------------------------------------------------- output
def _print_result(invocation: Invocation) -> None:
    """Print what the command returned, as az does: through the query, then formatted."""
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
    """A value as az's table and tsv outputs show it; nested objects and lists are left blank."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _rows(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]


def _as_tsv(data: Any) -> str:
    """One line per item: a dict's values or a list's items, in their order, tab-separated."""
    lines = []
    for row in _rows(data):
        values = list(row.values()) if isinstance(row, dict) else row if isinstance(row, list) else [row]
        lines.append("\t".join(_cell(value) for value in values))
    return "\n".join(lines)


def _table_columns(row: Any) -> dict[str, Any]:
    """az's automatic columns for one item: its scalar fields, a list's ``ColumnN``, or ``Result``."""
    if isinstance(row, dict):
        return {key[:1].upper() + key[1:]: value for key, value in row.items()
                if value is not None and not isinstance(value, (dict, list))}
    if isinstance(row, list):
        return {f"Column{index}": value for index, value in enumerate(row, start=1)}
    return {"Result": row}


def _as_table(data: Any) -> str:
    """An aligned table under a header and a dashed rule, like ``az ... -o table``."""
    rows = [_table_columns(row) for row in _rows(data)]
    headers = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(header)) for header in headers] for row in rows]
    widths = [max([len(header), *(len(line[i]) for line in cells)]) for i, header in enumerate(headers)]
    lines = [headers, ["-" * width for width in widths], *cells]
    return "\n".join("  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in lines)


FORMATTERS: dict[str, Callable[[Any], str]] = {"json": _as_json, "table": _as_table, "tsv": _as_tsv}
