"""Every error message of the backend, in one place: named texts and small functions that format them.

One section per module that raises them. The texts are the service's where it is known (tests assert
some of them byte for byte); change one here and every place that raises it follows.
"""

from __future__ import annotations


# ---------------------------------------------------------------------------------- limits.py
def invalid_run_id(run_id: object) -> str:
    return (
        f"Run id {run_id!r} is invalid: run ids must be less than 256 characters and contain only "
        "alphanumeric characters with dashes and underscores"
    )


def invalid_experiment_name(name: object, pattern: str) -> str:
    return f"Experiment name {name!r} is invalid: it must match {pattern}"


def empty_keys(what: str) -> str:
    return f"{what} keys must not be empty"


def label_key(what: str, key: str) -> str:
    """How a message names a tag's or property's key (its first 40 characters)."""
    return f"{what} key {key[:40]!r}"


def label_value(what: str, key: str) -> str:
    """How a message names the value of a tag or property."""
    return f"{what} value of {key!r}"


# ---------------------------------------------------------------------------------- registry.py
def invalid_model_name(name: object) -> str:
    return (
        f"Model name {name!r} is invalid: it must only consist of letters, numbers, dashes, periods or underscores, "
        "start with a letter or number, and be between 1 and 255 characters long"
    )
