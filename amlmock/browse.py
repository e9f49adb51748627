"""``pytest --aml-browse``: a failed test's fake written as a static run browser into the report folder."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from .web.snapshot import write_snapshot

if TYPE_CHECKING:
    from .mock import AmlMock

OPTION = "--aml-browse"
DEFAULT_FOLDER = "aml-browse"
FAILED = pytest.StashKey[bool]()
WRITTEN = pytest.StashKey[list]()


def add_option(group: pytest.OptionGroup) -> None:
    """``--aml-browse [DIR]``."""
    group.addoption(
        OPTION,
        nargs="?",
        const=DEFAULT_FOLDER,
        default=None,
        metavar="DIR",
        help="write the fake's state of each failed test as static run browser pages under DIR "
        f"(default {DEFAULT_FOLDER}/ in the rootdir); open DIR/<test>/index.html",
    )


def record_outcome(item: pytest.Item, report: pytest.TestReport) -> None:
    """Remember that the test's call (or setup) failed, for the ``aml`` fixture's teardown."""
    if report.when in ("setup", "call") and report.failed:
        item.stash[FAILED] = True


def snapshot_if_failed(request: pytest.FixtureRequest, handle: AmlMock) -> None:
    """Write the snapshot of a failed test (when ``--aml-browse`` is given), its SDK's queued metrics sent first."""
    folder = request.config.getoption(OPTION)
    if folder is None or not request.node.stash.get(FAILED, False):
        return
    handle.tracker.flush()
    name = re.sub(r"[^\w.\-]+", "_", request.node.nodeid).strip("_")[:150]
    index = write_snapshot(handle.backend, request.config.rootpath / folder / name)
    request.config.stash.setdefault(WRITTEN, []).append(index)


def summary(config: pytest.Config) -> list[str]:
    """The terminal summary's lines: where the snapshots are."""
    return [f"amlmock run browser of a failed test: {path}" for path in config.stash.get(WRITTEN, [])]
