"""The run status state machine: which status event moves a run where.

Status changes only through status events (``POST .../events``), never through a run PATCH.
Each rule is listed with its source in ``docs/lifecycle.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import messages

EVENT_PREFIX = "Microsoft.MachineLearning.Run."

# Ordered by transition order, as in the SDK's ``azureml._restclient.constants.RunStatus``.
ACTIVE_STATES = (
    "NotStarted",
    "Unapproved",
    "Queued",
    "Preparing",
    "Provisioning",
    "Starting",
    "Running",
    "NotResponding",
    "Pausing",
    "Paused",
    "CancelRequested",
    "Finalizing",
)
TERMINAL_STATES = ("Completed", "Failed", "Canceled")
ALL_STATES = ACTIVE_STATES + TERMINAL_STATES

# Event name (without the prefix) -> the status it asks for. ``None``: recorded, no status change.
EVENT_TARGETS: dict[str, str | None] = {
    "Queued": "Queued",
    "Start": "Running",
    "CancelRequested": "CancelRequested",
    "Completed": "Completed",
    "Failed": "Failed",
    "Canceled": "Canceled",
    "Error": None,
    "Warning": None,
    "Heartbeat": None,
    "QueueingInfo": None,
}


@dataclass(frozen=True)
class Transition:
    """The outcome of one status event: the status after it and whether it changed anything."""

    status: str
    applied: bool
    reason: str


def is_terminal(status: str) -> bool:
    """True for Completed, Failed and Canceled."""
    return status in TERMINAL_STATES


def event_kind(event_name: str) -> str | None:
    """The short event kind (``Start``, ``Completed`` ...) or None when the name is unknown."""
    if not event_name.startswith(EVENT_PREFIX):
        return None
    kind = event_name[len(EVENT_PREFIX):]
    return kind if kind in EVENT_TARGETS else None


def apply_status_event(current: str, kind: str) -> Transition:
    """Decide what a status event of ``kind`` does to a run whose status is ``current``."""
    target = EVENT_TARGETS[kind]
    if target is None:
        return Transition(current, False, messages.EVENT_WITHOUT_STATUS)
    if target == current:
        return Transition(current, False, messages.already(current))
    if is_terminal(current):
        if current == "Completed" and target == "Failed":
            return Transition(target, True, messages.FAILED_AFTER_COMPLETED)
        return Transition(current, False, messages.terminal(current))
    if is_terminal(target):
        return Transition(target, True, messages.RUN_ENDED)
    if ALL_STATES.index(target) < ALL_STATES.index(current):
        return Transition(current, False, messages.NOT_BACKWARDS)
    return Transition(target, True, messages.RUN_PROGRESSED)
