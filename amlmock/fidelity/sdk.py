"""The REST operations of the installed SDK, and contracts derived from its msrest models.

Every method of the msrest operation classes in ``azureml._restclient.operations`` carries its
URL template (``method.metadata['url']``); its source names the HTTP verb
(``self._client.post(url, ...)``), the body type (``self._serialize.body(x, 'BatchMetricV2Dto')``),
the accepted status codes, the response type per code (``self._deserialize('MetricV2Dto', ...)``)
and the error model (``raise models.ErrorResponseException``). The types are msrest models from
``azureml._restclient.models``, turned into JSON schemas from their ``_attribute_map`` and
``_validation`` (``ModelSchemas``).

The SDK's models are what the SDK reads and writes, so they describe the endpoints newer than
the 2019 specs (``/metric/v2.0``, the ``/artifact/v2.0`` layout the SDK uses, ``experimentids/.../runs``,
workspace-level runs, snapshots, ARM) as far as the SDK knows them. URLs the SDK builds by hand
outside these classes (e.g. the ``/content/v2.0`` snapshot upload, ``/execution/v1.0/.../localrun``,
discovery) are not operations here.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from typing import Any, Iterator

from .contracts import Contract, most_specific_first, template_pattern

SDK_DISTRIBUTION = "azureml-core"
OPERATIONS_PACKAGE = "azureml._restclient.operations"
MSREST_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "iso-8601": {"type": "string", "format": "date-time"},
    "duration": {"type": "string"},
    "object": {},
}
_VERB = re.compile(r"self\._client\.(get|put|post|patch|delete|head)\(")
_BODY = re.compile(r"self\._serialize\.body\(\w+, '([^']+)'\)")
_ACCEPTED = re.compile(r"status_code not in \[([\d, ]+)\]")
_DESERIALIZED = re.compile(r"status_code == (\d+):\s+deserialized = self\._deserialize\('([^']+)'")
_ERROR = re.compile(r"raise models\.(\w+)Exception\(")
_UNQUOTED = re.compile(r"'(\w+)': self\._serialize\.url\([^)]*skip_quote=True\)")


def sdk_version() -> str:
    """The installed azureml-core version."""
    return version(SDK_DISTRIBUTION)


@dataclass(frozen=True)
class SdkOperation:
    """One method of an msrest operation class: what it sends and what it accepts back."""

    qualname: str
    method: str
    template: str
    unquoted: frozenset[str]
    body_type: str | None
    response_types: dict[str, str | None]
    error_type: str | None

    @classmethod
    def parse(cls, qualname: str, function: Any) -> "SdkOperation":
        """Read one operation method's URL template from its metadata and the rest from its source."""
        source = inspect.getsource(function)
        body = _BODY.search(source)
        deserialized = dict(_DESERIALIZED.findall(source))
        accepted = [code.strip() for code in _ACCEPTED.search(source).group(1).split(",")]  # type: ignore[union-attr]
        error = _ERROR.search(source)
        return cls(
            qualname=qualname,
            method=_VERB.search(source).group(1).upper(),  # type: ignore[union-attr]
            template=function.metadata["url"],
            unquoted=frozenset(_UNQUOTED.findall(source)),
            body_type=body.group(1) if body else None,
            response_types={code: deserialized.get(code) for code in accepted},
            error_type=error.group(1) if error else None,
        )


def _operation_methods() -> Iterator[tuple[str, Any]]:
    package = importlib.import_module(OPERATIONS_PACKAGE)
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{OPERATIONS_PACKAGE}.{module_info.name}")
        for class_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for name, function in inspect.getmembers(cls, inspect.isfunction):
                if "url" in getattr(function, "metadata", {}):
                    yield f"{class_name}.{name}", function


@lru_cache(maxsize=1)
def sdk_operations() -> tuple[SdkOperation, ...]:
    """Every operation method of every msrest operation class of the installed SDK."""
    return tuple(SdkOperation.parse(qualname, function) for qualname, function in _operation_methods())


class ModelSchemas:
    """JSON schemas (draft 4) of msrest types, with the models collected in ``definitions``.

    A model is an object with one property per ``_attribute_map`` entry under its wire key
    (a dotted key such as ``properties.description`` is a nested, flattened object), ``required``
    from ``_validation``, and no other properties, except for polymorphic models (``_subtype_map``),
    whose subtypes add their own. An enum is a string; unknown type names are accepted as anything.
    """

    def __init__(self) -> None:
        from azureml._restclient import models

        self.models = models
        self.definitions: dict[str, Any] = {}

    def schema(self, type_name: str) -> dict[str, Any]:
        """The schema of an msrest type: a scalar, ``[T]``, ``{T}`` or a model name."""
        if type_name.startswith("["):
            return {"type": "array", "items": self.schema(type_name[1:-1])}
        if type_name.startswith("{"):
            return {"type": "object", "additionalProperties": self.schema(type_name[1:-1])}
        if type_name in MSREST_SCALARS:
            return dict(MSREST_SCALARS[type_name])
        model = getattr(self.models, type_name, None)
        if isinstance(model, type) and issubclass(model, enum.Enum):
            return {"type": "string"}  # msrest reads unknown enum values as plain strings
        if not isinstance(getattr(model, "_attribute_map", None), dict):
            return {}
        if type_name not in self.definitions:
            self.definitions[type_name] = {}  # a placeholder while recursive models are built
            self.definitions[type_name] = self._model_schema(model)
        return {"$ref": f"#/definitions/{type_name}"}

    def _model_schema(self, model: Any) -> dict[str, Any]:
        closed = not getattr(model, "_subtype_map", None)
        root = _object_schema(closed)
        validation = getattr(model, "_validation", {})
        for attribute, entry in model._attribute_map.items():
            *parents, leaf = [part.replace("\\.", ".") for part in re.split(r"(?<!\\)\.", entry["key"])]
            node = root
            for parent in parents:
                node = node["properties"].setdefault(parent, _object_schema(closed))
            node["properties"][leaf] = self.schema(entry["type"])
            if validation.get(attribute, {}).get("required"):
                node.setdefault("required", []).append(leaf)
        return root

    def contract(self, operation: SdkOperation) -> Contract:
        """The contract of an SDK operation, with schemas from its msrest types."""
        responses = {
            code: None if type_name is None else self.schema(type_name)
            for code, type_name in operation.response_types.items()
        }
        if operation.error_type and hasattr(self.models, operation.error_type):
            responses["default"] = self.schema(operation.error_type)
        return Contract(
            source=f"SDK {operation.qualname}",
            method=operation.method,
            template=operation.template,
            pattern=template_pattern(operation.template, operation.unquoted),
            request=None if operation.body_type is None else self.schema(operation.body_type),
            responses=responses,
            definitions=self.definitions,
        )


def _object_schema(closed: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    if closed:
        schema["additionalProperties"] = False
    return schema


@lru_cache(maxsize=1)
def sdk_contracts() -> tuple[Contract, ...]:
    """Contracts of every SDK operation, most specific template first (schemas share one ``definitions``)."""
    schemas = ModelSchemas()
    return tuple(most_specific_first(schemas.contract(operation) for operation in sdk_operations()))


@lru_cache(maxsize=1)
def sdk_error_definitions() -> dict[str, Any]:
    """Definitions holding the SDK's ``ErrorResponse`` model (the envelope when no spec is at hand)."""
    schemas = ModelSchemas()
    schemas.schema("ErrorResponse")
    return schemas.definitions
