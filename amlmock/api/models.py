"""The model management service (``/modelmanagement/v1.0``): assets and the model registry.

Requests become the registry's domain values (``backend/registry.py``); its records become the SDK's
``Asset``, ``Model`` and ``PaginatedModelList`` documents, and its errors ``ModelErrorResponse``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from ..backend.errors import NotImplementedByFake, ServiceError, ValidationError
from ..backend.models import DEFAULT_USER
from ..backend.registry import MAX_PAGE_SIZE, ArtifactRef, Asset, LabelFilter, ModelChange, ModelQuery, NewModel, RegisteredModel
from . import parse
from .app import WORKSPACE_PATH, Call, Router
from .wire import timestamp

MMS_PREFIX = "/modelmanagement/"
MMS = "/modelmanagement/v1.0" + WORKSPACE_PATH
ASSET_URL = "aml://asset/"
DEFAULT_MIME_TYPE = "application/json"  # SDK ``models_client.DEFAULT_MIMETYPE``
SKIP_TOKEN = "$skipToken"
# List parameters the SDK can send that amlmock does not filter on: refused loudly, never ignored.
UNSUPPORTED_FILTERS = ("tag", "description", "datasetId", "offset")
# Registration fields that need services amlmock does not have (datasets).
UNSUPPORTED_FIELDS = ("sampleInputData", "sampleOutputData", "resourceRequirements")


def error_document(error: ServiceError) -> dict[str, Any]:
    """``ModelErrorResponse``: the SDK reads ``statusCode`` (404 means "ModelNotFound") and ``details``."""
    return {
        "code": error.code,
        "statusCode": error.status,
        "message": error.message,
        "details": [{"code": error.inner_code or error.code, "message": error.message, "target": error.target}],
        "correlation": {},
    }


router = Router(error_prefix=MMS_PREFIX, error_shape=error_document)



# ------------------------------------------------------------------------------ documents
def asset_dto(asset: Asset) -> dict[str, Any]:
    """``Asset``: its artifacts are the prefixes of the registry's copy (what ``model.download()`` lists)."""
    return {
        "id": asset.asset_id,
        "name": asset.name,
        "type": None,
        "description": None,
        "artifacts": [{"prefix": f"{s.origin}/{asset.container}/{s.path}"} for s in asset.sources],
        "kvTags": {},
        "properties": {},
        "runid": asset.run_id,
        "meta": dict(asset.meta),
        "createdTime": timestamp(asset.created_utc),
    }


def model_dto(model: RegisteredModel) -> dict[str, Any]:
    """``Model``: everything ``azureml.core.Model`` reads (``datasets`` must be a list: the SDK iterates it)."""
    return {
        "id": model.model_id,
        "name": model.name,
        "version": model.version,
        "url": ASSET_URL + model.asset.asset_id,
        "mimeType": model.mime_type,
        "description": model.description,
        "createdTime": timestamp(model.created_utc),
        "modifiedTime": timestamp(model.modified_utc),
        "unpack": model.unpack,
        "framework": model.framework,
        "frameworkVersion": model.framework_version,
        "experimentName": model.experiment_name,
        "runId": model.run_id,
        "kvTags": dict(model.tags),
        "properties": dict(model.properties),
        "datasets": [],
        "derivedModelIds": [],
        "parentModelId": None,
        "sampleInputData": None,
        "sampleOutputData": None,
        "resourceRequirements": None,
        "createdBy": dict(DEFAULT_USER),
    }


# ---------------------------------------------------------------------------------- assets
def _artifact_refs(artifacts: Any) -> list[ArtifactRef]:
    """``[{prefix: "<origin>/<container>/<path>"}]``, as ``AssetsClient.create_asset`` sends them."""
    if not isinstance(artifacts, list) or not all(isinstance(a, dict) for a in artifacts):
        raise ValidationError("artifacts must be a list of {prefix} objects", target="artifacts")
    refs = []
    for artifact in artifacts:
        if artifact.get("prefix") is None and artifact.get("id") is not None:
            raise NotImplementedByFake("amlmock does not implement assets of single artifact ids (give a prefix)", target="artifacts")
        prefix = artifact.get("prefix")
        parts = prefix.split("/", 2) if isinstance(prefix, str) else []
        if len(parts) != 3 or not all(parts):
            raise ValidationError(f"Artifact prefix {prefix!r} is not <origin>/<container>/<path>", target="artifacts")
        refs.append(ArtifactRef(*parts))
    return refs


@router.route(MMS + "/assets", "POST")
def create_asset(call: Call, **names: str) -> dict[str, Any]:
    """The files a model is registered from: artifact prefixes of a run, or of a local upload."""
    workspace = call.path_workspace(names)
    body = call.json_object()
    if body.get("kvTags") or body.get("properties"):
        raise NotImplementedByFake("amlmock does not implement asset tags or properties", target="kvTags")
    meta = body.get("meta") or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ValidationError("meta must be an object of strings", target="meta")
    refs = _artifact_refs(body.get("artifacts"))
    asset = call.backend.registry.create_asset(workspace, parse.text(body, "name") or "", refs, parse.text(body, "runid"), meta)
    return asset_dto(asset)


@router.route(MMS + "/assets/<asset_id>", "GET")
def get_asset(call: Call, asset_id: str, **names: str) -> dict[str, Any]:
    """One asset (``model.download()`` reads its artifact prefixes)."""
    return asset_dto(call.backend.registry.get_asset(call.path_workspace(names), asset_id))


# ---------------------------------------------------------------------------------- models
def _new_model(body: dict[str, Any]) -> NewModel:
    url = parse.text(body, "url") or ""
    if not url.startswith(ASSET_URL):
        raise NotImplementedByFake(f"amlmock registers models from assets ({ASSET_URL}<id>) only, not {url!r}", target="url")
    if body.get("datasets") or any(body.get(key) is not None for key in UNSUPPORTED_FIELDS):
        raise NotImplementedByFake("amlmock does not implement datasets or resource requirements of models", target="datasets")
    unpack = body.get("unpack", False)
    if not isinstance(unpack, bool):
        raise ValidationError("unpack must be true or false", target="unpack")
    return NewModel(
        name=parse.text(body, "name") or "",
        asset_id=url[len(ASSET_URL):],
        mime_type=parse.text(body, "mimeType") or "",
        description=parse.text(body, "description"),
        tags=body.get("kvTags") or {},
        properties=body.get("properties") or {},
        framework=parse.text(body, "framework"),
        framework_version=parse.text(body, "frameworkVersion"),
        unpack=unpack,
        experiment_name=parse.text(body, "experimentName"),
        run_id=parse.text(body, "runId"),
    )


@router.route(MMS + "/models", "POST")
def register_model(call: Call, **names: str) -> dict[str, Any]:
    """``Model.register`` and ``run.register_model``: the next version of the name."""
    workspace = call.path_workspace(names)
    return model_dto(call.backend.registry.register(workspace, _new_model(call.json_object())))


def _label_filters(text: str | None) -> tuple[LabelFilter, ...]:
    """``key,key2=value``: what ``Model.list`` sends for ``tags=['key', ['key2', 'value']]``."""
    if not text:
        return ()
    filters = []
    for item in text.split(","):
        key, has_value, value = item.partition("=")
        filters.append(LabelFilter(key, value if has_value else None))
    return tuple(filters)


def _model_query(args: Any) -> ModelQuery:
    for key in UNSUPPORTED_FILTERS:
        if args.get(key) is not None:
            raise NotImplementedByFake(f"amlmock does not implement the model list filter {key!r}", target=key)
    latest = (args.get("latestVersionOnly") or "false").lower()
    if latest not in ("true", "false"):
        raise ValidationError(f"latestVersionOnly must be true or false, not {latest!r}", target="latestVersionOnly")
    return ModelQuery(
        name=args.get("name"),
        tags=_label_filters(args.get("tags")),
        properties=_label_filters(args.get("properties")),
        run_id=args.get("runId"),
        framework=args.get("framework"),
        latest_only=latest == "true",
        order=args.get("orderBy") or "CreatedAtDesc",
        count=_integer(args, "count", MAX_PAGE_SIZE),
        offset=_integer(args, SKIP_TOKEN, 0),
    )


def _integer(args: Any, key: str, default: int) -> int:
    value = args.get(key)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{key} {value!r} is invalid", target=key) from None


@router.route(MMS + "/models", "GET")
def list_models(call: Call, **names: str) -> dict[str, Any]:
    """``Model.list`` and ``Model(ws, name)``: newest first unless ``orderBy`` says otherwise; ``nextLink`` pages on."""
    workspace = call.path_workspace(names)
    page = call.backend.registry.query(workspace, _model_query(call.request.args))
    next_link = None
    if page.next_offset is not None:
        args = {**call.request.args.to_dict(), SKIP_TOKEN: str(page.next_offset)}
        next_link = f"{call.request.base_url}?{urlencode(args)}"
    return {"value": [model_dto(m) for m in page.models], "nextLink": next_link, "continuationToken": None}


@router.route(MMS + "/models/<model_id>", "GET")
def get_model(call: Call, model_id: str, **names: str) -> dict[str, Any]:
    """``Model(ws, id=...)`` and ``Model(ws, name, version=...)``: ``<name>:<version>``."""
    return model_dto(call.backend.registry.get_model(call.path_workspace(names), model_id))


def _change(operations: Any) -> ModelChange:
    """The JSON patch ``Model.update`` and ``update_tags_properties`` send, as one change."""
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise ValidationError("The body must be a JSON patch: a list of {op, path, value} objects", target="body")
    fields: dict[str, Any] = {}
    for operation in operations:
        key = {("replace", "/kvTags"): "tags", ("replace", "/description"): "description", ("add", "/properties"): "properties"}.get(
            (operation.get("op"), operation.get("path"))
        )
        if key is None:
            raise NotImplementedByFake(
                f"amlmock does not implement the model patch {operation.get('op')!r} of {operation.get('path')!r}", target="body"
            )
        value = operation.get("value")
        if not isinstance(value, str if key == "description" else dict):
            kind = "a string" if key == "description" else "an object"
            raise ValidationError(f"The value of {operation['path']} must be {kind}", target=key)
        fields[key] = value
    return ModelChange(**fields)


@router.route(MMS + "/models/<model_id>", "PATCH")
def update_model(call: Call, model_id: str, **names: str) -> dict[str, Any]:
    """Tags replaced, description replaced, properties added."""
    workspace = call.path_workspace(names)
    return model_dto(call.backend.registry.update(workspace, model_id, _change(call.json(default=[]))))


@router.route(MMS + "/models/<model_id>", "DELETE")
def delete_model(call: Call, model_id: str, **names: str) -> Response:
    """``model.delete()``."""
    call.backend.registry.delete(call.path_workspace(names), model_id)
    return Response(b"", status=200)
