"""The architecture of docs/architecture.md, kept true: layers, the one door into the state, sizes.

Read from the source with ``ast``; each failure lists every offender with its file and line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "amlmock"
TESTS = Path(__file__).resolve().parent

# Each top-level module or package of amlmock, by layer: a module may import its own layer and those below.
LAYERS = {
    "defaults": 0, "tokens": 0,  # leaves anyone may import
    "backend": 1,
    "persistence": 2, "execution": 2,
    "api": 3, "web": 3,  # the run browser is routes of the same WSGI app
    "transports": 4,
    "sdk": 5,
    "mock": 6, "decorate": 6, "plugin": 6, "cli": 6, "serve": 6, "demo": 6, "az": 6, "browse": 6,
    "fidelity": 6, "verified": 6, "__init__": 6, "__main__": 6, "run_variables": 0,
}
FORBIDDEN_IN_BACKEND = {
    "os", "io", "pathlib", "shutil", "tempfile", "socket", "subprocess", "http", "urllib", "requests",
    "werkzeug", "responses", "waitress", "json", "sqlite3", "pickle", "zipfile", "email",
}
WIRE_NAME = re.compile(r"^[a-z]+[A-Z][A-Za-z]*$")  # camelCase: how the REST API spells a field
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 50


def sources(root: Path = PACKAGE) -> list[Path]:
    return sorted(root.rglob("*.py"))


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def unit_of(path: Path) -> str:
    """The top-level module or package of amlmock a file belongs to."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imports_of(tree: ast.AST, package: list[str]) -> list[tuple[int, str]]:
    """(line, top-level amlmock unit) of every import in a module of ``package`` (e.g. ``["amlmock", "backend"]``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module.split(".") if node.module else []
            target = package[: len(package) - node.level + 1] + module if node.level else module
            if target[:1] == ["amlmock"]:
                found += [(node.lineno, name) for name in target[1:2] or [alias.name for alias in node.names]]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[1]) for a in node.names if a.name.startswith("amlmock.")]
    return found


def imported_units(path: Path) -> list[tuple[int, str]]:
    return imports_of(parsed(path), list(path.relative_to(PACKAGE.parent).parts[:-1]))


def test_every_unit_has_a_layer():
    units = {unit_of(path) for path in sources()}
    assert units <= set(LAYERS), f"add to LAYERS (and docs/architecture.md): {sorted(units - set(LAYERS))}"


def test_a_lower_layer_never_imports_a_higher_one():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} ({unit_of(path)}, layer {LAYERS[unit_of(path)]}) imports {unit} (layer {LAYERS[unit]})"
        for path in sources()
        for line, unit in imported_units(path)
        if unit in LAYERS and LAYERS[unit] > LAYERS[unit_of(path)]
    ]
    assert not offenders, "\n".join(offenders)


def private_state_uses(paths: list[Path]) -> list[str]:
    """Attribute chains that reach into a backend's lock or containers from outside ``backend/``."""
    offenders = []
    for path in paths:
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Attribute) and node.attr in ("_lock", "_workspaces", "lock", "workspaces"):
                owner = node.value
                name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
                if "backend" in name.lower():
                    offenders.append(f"{path}:{node.lineno} .{node.attr} of {name}")
    return offenders


def test_nothing_outside_the_backend_touches_its_lock_or_containers():
    outside = [p for p in sources() if unit_of(p) != "backend"] + sources(TESTS)
    offenders = private_state_uses([p for p in outside if p.name != "test_architecture.py"])
    assert not offenders, "\n".join(offenders)


def test_the_check_finds_a_reach_into_the_state(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("with aml.backend.lock:\n    aml.backend._workspaces.clear()\n")
    assert len(private_state_uses([sample])) == 2


def backend_files() -> list[Path]:
    return [p for p in sources() if unit_of(p) == "backend"]


def test_the_backend_imports_no_http_file_os_or_serialisation_module():
    offenders = []
    for path in backend_files():
        for node in ast.walk(parsed(path)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{path.name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_IN_BACKEND]
    assert not offenders, "\n".join(offenders)


def target_values(tree: ast.AST) -> set[int]:
    """Ids of the string constants given as ``target=`` (the field an error names, as the client sent it)."""
    return {
        id(keyword.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "target"
    }


MESSAGE_MODULES = ("messages.py", "mlflow_messages.py")


def test_every_backend_error_message_is_written_in_a_messages_module():
    """An error raised in the backend takes its text from ``messages.py`` (or MLflow's ``mlflow_messages.py``)."""
    offenders = []
    for path in backend_files():
        if path.name in MESSAGE_MODULES:
            continue
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith("Error") and node.args:
                if isinstance(node.args[0], (ast.Constant, ast.JoinedStr)):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, "messages written inline: " + ", ".join(offenders)


def test_the_backend_holds_no_wire_field_names():
    """JSON field names live in the api layer; the backend's error messages and targets live in ``messages.py``."""
    offenders = []
    for path in backend_files():
        if path.name in MESSAGE_MODULES:
            continue
        tree = parsed(path)
        targets = target_values(tree)
        offenders += [
            f"{path.name}:{node.lineno} {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and WIRE_NAME.match(node.value) and id(node) not in targets
        ]
    assert not offenders, "\n".join(offenders)


def test_no_file_is_over_400_lines():
    offenders = [
        f"{p.relative_to(PACKAGE.parent)}: {n} lines"
        for p in sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    ]
    assert not offenders, "\n".join(offenders)


def test_no_function_is_over_50_lines():
    offenders = [
        f"{p.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
        for p in sources()
        for node in ast.walk(parsed(p))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("source, unit", [
    ("from ..api.app import Call\n", "api"),
    ("from amlmock.mock import AmlMock\n", "mock"),
    ("from . import limits\n", "backend"),
    ("from .. import defaults\n", "defaults"),
    ("import amlmock.sdk.auth\n", "sdk"),
])
def test_imports_are_read_as_units(source, unit):
    assert [found for _, found in imports_of(ast.parse(source), ["amlmock", "backend"])] == [unit]
