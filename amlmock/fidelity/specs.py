"""Contracts from the published REST specs: ``runHistory.json``, ``artifact.json``, ``execution.json``.

These are the Azure ML data-plane swagger 2.0 specs, api version 2019-09-30 (upstream:
Azure/azure-rest-api-specs). They are not shipped with amlmock: they are read at run time from
``$AMLMOCK_SPECS_DIR``, else from ``shared/reference/specs`` next to the repository.

Two adjustments, both deliberate:

* object schemas are *closed* (``additionalProperties: false``; see ``closed_definitions``).
  Swagger lets objects carry undeclared keys, so a misspelt field name would otherwise pass
  silently. The only undeclared fields accepted are the few the fake shares with the SDK's own
  models from the newer service API (``FIELDS_NEWER_THAN_THE_SPECS``, checked against
  ``azureml._restclient.models`` by the tests);
* null values are dropped before validating (``contracts.without_nulls``).
"""

from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from .contracts import Contract, most_specific_first, template_pattern

SPECS_ENV = "AMLMOCK_SPECS_DIR"
SPEC_FILES = ("runHistory.json", "artifact.json", "execution.json")
ERROR_SPEC = "runHistory.json"
API_VERSION = "2019-09-30"

# Fields that the fake or the SDK sends and the 2019 specs do not declare: definition -> (SDK model,
# its wire keys). They are in the SDK's models, so the real service reads or writes them too.
# ``orderby``: the SDK's spelling of the spec's ``orderBy`` (the fake reads both).
FIELDS_NEWER_THAN_THE_SPECS: dict[str, tuple[str, frozenset[str]]] = {
    "Run": ("RunDto", frozenset({"displayName", "runTypeV2"})),
    "RunDetails": ("RunDetailsDto", frozenset({"services", "inputDatasets", "outputDatasets"})),
    "CreateRun": ("CreateRunDto", frozenset({"displayName", "runTypeV2"})),
    "QueryParams": ("ExperimentQueryParamsDto", frozenset({"orderby", "viewType"})),
    "RootError": ("RootError", frozenset({"messageParameters", "detailsUri"})),
    "ErrorResponse": ("ErrorResponse", frozenset({"componentName"})),
}


def specs_dir() -> Path:
    """Where the spec files are read from: ``$AMLMOCK_SPECS_DIR``, else ``shared/reference/specs`` by the repository."""
    configured = os.environ.get(SPECS_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "reference" / "specs"


def specs_available(directory: Path | None = None) -> bool:
    """True when all three spec files are present."""
    directory = directory or specs_dir()
    return all((directory / name).is_file() for name in SPEC_FILES)


def load_spec(name: str, directory: Path | None = None) -> dict[str, Any]:
    """One spec file, parsed."""
    return json.loads(((directory or specs_dir()) / name).read_text(encoding="utf-8"))


def closed_definitions(definitions: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``definitions`` whose object schemas reject undeclared properties.

    Maps (``additionalProperties`` given) stay open; ``FIELDS_NEWER_THAN_THE_SPECS`` are
    declared, with any value, on their definitions.
    """
    closed = copy.deepcopy(definitions)
    for name, schema in closed.items():
        if "properties" in schema and "additionalProperties" not in schema:
            _, newer = FIELDS_NEWER_THAN_THE_SPECS.get(name, ("", frozenset()))
            schema["properties"].update({field: {} for field in newer})
            schema["additionalProperties"] = False
    return closed


def error_definitions(directory: Path | None = None) -> dict[str, Any]:
    """The closed definitions holding the shared ``ErrorResponse`` envelope."""
    return closed_definitions(load_spec(ERROR_SPEC, directory)["definitions"])


def _body_parameter(spec: dict[str, Any], parameters: list[dict[str, Any]]) -> dict[str, Any] | None:
    for parameter in parameters:
        if "$ref" in parameter:
            parameter = spec["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        if parameter.get("in") == "body":
            return parameter
    return None


@lru_cache(maxsize=4)
def spec_contracts(directory: Path) -> tuple[Contract, ...]:
    """Every operation of the three specs, most specific template first."""
    contracts = []
    for name in SPEC_FILES:
        spec = load_spec(name, directory)
        definitions = closed_definitions(spec["definitions"])
        for template, item in spec["paths"].items():
            for method, operation in item.items():
                if method == "parameters":
                    continue
                body = _body_parameter(spec, item.get("parameters", []) + operation.get("parameters", []))
                contracts.append(
                    Contract(
                        source=name,
                        method=method.upper(),
                        template=template,
                        pattern=template_pattern(template),
                        request=None if body is None else body["schema"],
                        request_required=bool(body and body.get("required")),
                        responses={status: entry.get("schema") for status, entry in operation["responses"].items()},
                        definitions=definitions,
                    )
                )
    return tuple(most_specific_first(contracts))
