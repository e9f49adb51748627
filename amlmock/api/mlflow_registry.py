"""MLflow's model registry REST API (``.../api/2.0/mlflow/registered-models/*``, ``model-versions/*``) over the
v1 registry (``Backend.registry``): one registry, two views. See docs/lifecycle.md, "Model registry".

An MLflow registered model is a name of the v1 registry that has versions; an MLflow model version is one
registered version, its number the v1 version. A version's files are the registry's copy of its source.
"""

from __future__ import annotations

import re
from typing import Any

from ..backend.errors import ConflictError, NotFoundError, NotImplementedByFake, ValidationError
from ..backend.registry import ArtifactRef, LabelFilter, ModelChange, ModelQuery, NewModel, RegisteredModel, check_model_name
from .mlflow import MLFLOW, _offset, _Request, _token, endpoint
from .mlflow_wire import model_version_json, registered_model_json
from .models import DEFAULT_MIME_TYPE
from .run_artifacts import ORIGIN

DEFAULT_SEARCH_RESULTS = 10000  # MLflow's ``SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT``
# Sources of a run's files: its artifact URI (``mlflow_wire.artifact_uri``) or MLflow's runs:/ URI.
_RUN_ARTIFACTS = re.compile(r"^azureml://[^/]+/mlflow/v2\.0/.+/experiments/[^/]+/runs/(?P<run>[^/]+)/artifacts/(?P<path>.+)$")
_RUNS_URI = re.compile(r"^runs:/(?P<run>[^/]+)/(?P<path>.+)$")
# MLflow's own filter of registered-model searches; registered models have no tags here, so it always holds.
_NOT_A_PROMPT = re.compile(r"(\s+and\s+)?tags?\.`mlflow\.prompt\.is_prompt`\s*!=\s*'true'", re.IGNORECASE)
_CLAUSE = re.compile(r"^\s*(?P<key>name|run_id|tags?\.(?:`[^`]+`|\w+))\s*=\s*'(?P<value>[^']*)'\s*$", re.IGNORECASE)


def _versions(req: _Request, name: str) -> list[RegisteredModel]:
    """Every version of a registered model, or MLflow's RESOURCE_DOES_NOT_EXIST."""
    versions = req.backend.registry.models(req.workspace, name)
    if not versions:
        raise NotFoundError(f"Registered Model with name={name} not found", target="name")
    return versions


def _version(req: _Request) -> RegisteredModel:
    """The version named by ``name`` and ``version``."""
    name, version = req.text("name"), req.text("version")
    if not re.fullmatch(r"[0-9]+", version):
        raise ValidationError(f"Model version must be an integer, got {version!r}", target="version")
    try:
        return req.backend.registry.get_model(req.workspace, f"{name}:{int(version)}")
    except NotFoundError:
        raise NotFoundError(f"Model Version (name={name}, version={version}) not found", target="version") from None


def _source(req: _Request, source: str, run_id: str | None) -> tuple[list[ArtifactRef], str | None]:
    """The artifact prefix a source names, and the run it belongs to."""
    found = _RUN_ARTIFACTS.match(source) or _RUNS_URI.match(source)
    if found is None:
        raise NotImplementedByFake(
            f"amlmock registers model versions from a run's artifacts only, not {source!r}", target="source"
        )
    if run_id not in (None, "", found["run"]):
        raise ValidationError(f"The source {source!r} is not an artifact of run {run_id!r}", target="run_id")
    run = req.backend.get_run(req.workspace, found["run"])
    path = found["path"].strip("/")
    exact = any(a.path == path for a in req.backend.list_artifacts(req.workspace, run.data_container_id, path))
    return [ArtifactRef(ORIGIN, run.data_container_id, path if exact else path + "/")], run.run_id


# ---------------------------------------------------------------- registered models
@endpoint(MLFLOW + "/registered-models/create", "POST")
def create_registered_model(req: _Request) -> dict[str, Any]:
    """A new name: it is kept once its first version is created (the v1 registry has no model without one)."""
    name = check_model_name(req.text("name"))
    if req.fields.get("tags") or req.fields.get("description"):
        raise NotImplementedByFake("amlmock does not implement tags or descriptions of registered models", target="tags")
    if req.backend.registry.models(req.workspace, name):
        raise ConflictError(f"Registered Model (name={name}) already exists.", target="name")
    return {"registered_model": {"name": name, "tags": [], "latest_versions": []}}


@endpoint(MLFLOW + "/registered-models/get", "GET")
def get_registered_model(req: _Request) -> dict[str, Any]:
    return {"registered_model": registered_model_json(_versions(req, req.text("name")))}


@endpoint(MLFLOW + "/registered-models/search", "GET")
def search_registered_models(req: _Request) -> dict[str, Any]:
    """Every name (or the one of a ``name = '...'`` filter), by name."""
    query = _query(_NOT_A_PROMPT.sub("", req.text("filter", required=False) or ""), allowed=("name",))
    by_name: dict[str, list[RegisteredModel]] = {}
    for model in req.backend.registry.models(req.workspace, query.name):
        by_name.setdefault(model.name, []).append(model)
    return _page(req, "registered_models", [registered_model_json(by_name[n]) for n in sorted(by_name)])


@endpoint(MLFLOW + "/registered-models/delete", "DELETE")
def delete_registered_model(req: _Request) -> dict[str, Any]:
    """Every version of the name (their numbers are never given again)."""
    for model in _versions(req, req.text("name")):
        req.backend.registry.delete(req.workspace, model.model_id)
    return {}


# ---------------------------------------------------------------- model versions
@endpoint(MLFLOW + "/model-versions/create", "POST")
def create_model_version(req: _Request) -> dict[str, Any]:
    """The next version of the name, made of a copy of the source's files (``mlflow.register_model``)."""
    if req.fields.get("model_id"):
        raise NotImplementedByFake("amlmock does not implement logged models (models:/<id> sources)", target="model_id")
    sources, run_id = _source(req, req.text("source"), req.text("run_id", required=False))
    new = NewModel(
        name=req.text("name"),
        asset_id="",
        mime_type=DEFAULT_MIME_TYPE,
        description=req.text("description", required=False),
        tags=dict(req.pairs("tags")),
        run_id=run_id,
    )
    return {"model_version": model_version_json(req.backend.registry.register_files(req.workspace, new, sources))}


@endpoint(MLFLOW + "/model-versions/get", "GET")
def get_model_version(req: _Request) -> dict[str, Any]:
    return {"model_version": model_version_json(_version(req))}


@endpoint(MLFLOW + "/model-versions/search", "GET")
def search_model_versions(req: _Request) -> dict[str, Any]:
    """Versions passing a filter of ``name``, ``run_id`` and ``tags.<key>`` equalities, newest first."""
    if req.fields.get("order_by"):
        raise NotImplementedByFake("amlmock does not implement order_by of model version searches", target="order_by")
    query = _query(req.text("filter", required=False), allowed=("name", "run_id", "tags"))
    models = [m for m in reversed(req.backend.registry.models(req.workspace, query.name)) if query.matches(m)]
    return _page(req, "model_versions", [model_version_json(m) for m in models])


@endpoint(MLFLOW + "/model-versions/update", "PATCH")
def update_model_version(req: _Request) -> dict[str, Any]:
    return _change(req, ModelChange(description=req.text("description", required=False) or ""))


@endpoint(MLFLOW + "/model-versions/set-tag", "POST")
def set_model_version_tag(req: _Request) -> dict[str, Any]:
    model = _version(req)
    _change(req, ModelChange(tags={**model.tags, req.text("key"): req.text("value", required=False) or ""}))
    return {}


@endpoint(MLFLOW + "/model-versions/delete-tag", "DELETE")
def delete_model_version_tag(req: _Request) -> dict[str, Any]:
    model, key = _version(req), req.text("key")
    if key not in model.tags:
        raise NotFoundError(f"No tag with key {key!r} found for model version (name={model.name}, version={model.version})", target="key")
    _change(req, ModelChange(tags={k: v for k, v in model.tags.items() if k != key}))
    return {}


@endpoint(MLFLOW + "/model-versions/delete", "DELETE")
def delete_model_version(req: _Request) -> dict[str, Any]:
    req.backend.registry.delete(req.workspace, _version(req).model_id)
    return {}


def _change(req: _Request, change: ModelChange) -> dict[str, Any]:
    model = req.backend.registry.update(req.workspace, _version(req).model_id, change)
    return {"model_version": model_version_json(model)}


def _query(text: str | None, allowed: tuple[str, ...]) -> ModelQuery:
    """A filter of ``<key> = '<value>'`` clauses joined by AND, as a registry query."""
    fields: dict[str, Any] = {"tags": ()}
    for clause in re.split(r"\s+and\s+", text or "", flags=re.IGNORECASE) if text and text.strip() else []:
        found = _CLAUSE.match(clause)
        key, _, tag = found["key"].partition(".") if found else ("", "", "")
        key = "tags" if tag else key.lower()
        if found is None or key not in allowed:
            raise NotImplementedByFake(f"amlmock does not implement the model registry filter {clause.strip()!r}", target="filter")
        if tag:
            fields["tags"] += (LabelFilter(tag.strip("`"), found["value"]),)
        else:
            fields[key] = found["value"]
    return ModelQuery(**fields)


def _page(req: _Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    start = _offset(req.text("page_token", required=False))
    size = req.integer("max_results", DEFAULT_SEARCH_RESULTS)
    if size < 1:
        raise ValidationError(f"Invalid value for max_results: {size}; it must be at least 1", target="max_results")
    body: dict[str, Any] = {key: items[start:start + size]}
    if start + size < len(items):
        body["next_page_token"] = _token(start + size)
    return body
