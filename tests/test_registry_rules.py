"""The model registry's rules on the backend alone (no SDK), with Hypothesis where a rule is about sequences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amlmock.backend.errors import ConflictError, ImmutablePropertyError, NotFoundError, ValidationError
from amlmock.backend.registry import ArtifactRef, LabelFilter, ModelChange, ModelQuery, NewModel
from amlmock.backend.service import Backend

NAMES = st.sampled_from(["a", "b", "c"])
OPERATIONS = st.lists(st.tuples(st.sampled_from(["register", "delete"]), NAMES, st.integers(0, 5)), max_size=30)
LABELS = st.dictionaries(st.sampled_from(["k1", "k2", "k3"]), st.sampled_from(["x", "y"]), max_size=3)


def fresh() -> tuple[Backend, object, str]:
    """A backend, its workspace, and an asset to register."""
    backend = Backend()
    workspace = backend.create_workspace("sub", "rg", "ws")
    backend.write_blob(workspace, "upload", "model/weights.bin", b"w")
    asset = backend.registry.create_asset(workspace, "m", [ArtifactRef("LocalUpload", "upload", "model")])
    return backend, workspace, asset.asset_id


@settings(max_examples=60, deadline=None)
@given(OPERATIONS)
def test_versions_count_up_per_name_and_are_never_given_twice(operations):
    backend, workspace, asset_id = fresh()
    highest: dict[str, int] = {}
    alive: dict[str, list[int]] = {}
    for action, name, pick in operations:
        if action == "register":
            version = backend.registry.register(workspace, NewModel(name, asset_id, "application/json")).version
            assert version == highest.get(name, 0) + 1
            highest[name] = version
            alive.setdefault(name, []).append(version)
        elif alive.get(name):
            backend.registry.delete(workspace, f"{name}:{alive[name].pop(pick % len(alive[name]))}")
    latest = backend.registry.query(workspace, ModelQuery(latest_only=True)).models
    assert sorted((m.name, m.version) for m in latest) == sorted((n, max(v)) for n, v in alive.items() if v)


@settings(max_examples=80, deadline=None)
@given(LABELS, LABELS)
def test_properties_are_add_only_and_a_refusal_changes_nothing(first, second):
    backend, workspace, asset_id = fresh()
    model = backend.registry.register(workspace, NewModel("m", asset_id, "application/json", properties=first))
    conflicts = {k for k in second if k in first and first[k] != second[k]}
    if conflicts:
        with pytest.raises(ImmutablePropertyError) as caught:
            backend.registry.update(workspace, model.model_id, ModelChange(properties=second, tags={"t": None}))
        assert all(f"Property {k} already exists" in caught.value.message for k in conflicts)
        assert (model.properties, model.tags) == (first, {})
    else:
        backend.registry.update(workspace, model.model_id, ModelChange(properties=second))
        assert model.properties == {**first, **second}


@settings(max_examples=80, deadline=None)
@given(LABELS, st.lists(st.tuples(st.sampled_from(["k1", "k2", "k3"]), st.sampled_from([None, "x", "y"])), max_size=3))
def test_label_filters_need_every_key_and_each_given_value(tags, filters):
    backend, workspace, asset_id = fresh()
    backend.registry.register(workspace, NewModel("m", asset_id, "application/json", tags=tags))
    query = ModelQuery(tags=tuple(LabelFilter(key, value) for key, value in filters))
    expected = all(key in tags and value in (None, tags[key]) for key, value in filters)
    assert bool(backend.registry.query(workspace, query).models) == expected


def test_an_asset_needs_files_and_keeps_its_own_copy():
    backend, workspace, asset_id = fresh()
    with pytest.raises(NotFoundError, match="nothing to register"):
        backend.registry.create_asset(workspace, "m", [ArtifactRef("LocalUpload", "upload", "missing")])
    backend.write_blob(workspace, "upload", "model/weights.bin", b"changed")
    asset = backend.registry.get_asset(workspace, asset_id)
    assert [(a.path, a.content) for a in asset.files] == [("model/weights.bin", b"w")]
    with pytest.raises(ConflictError):
        backend.write_blob(workspace, asset.container, "model/weights.bin", b"tampered")
    with pytest.raises(ConflictError):
        backend.create_artifacts(workspace, "LocalUpload", asset.container, ["model/extra.bin"])


@pytest.mark.parametrize(
    "query, target",
    [(ModelQuery(count=0), "count"), (ModelQuery(count=256), "count"), (ModelQuery(order="Newest"), "orderBy"), (ModelQuery(offset=-1), "$skipToken")],
)
def test_bad_listings_are_refused(query, target):
    backend, workspace, _ = fresh()
    with pytest.raises(ValidationError) as caught:
        backend.registry.query(workspace, query)
    assert caught.value.target == target
