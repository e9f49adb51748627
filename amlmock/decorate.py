"""``@mock_aml`` on tests: a fresh mock around each call of a function, coroutine function or test method."""

from __future__ import annotations

import functools
import inspect
import unittest
from contextlib import ExitStack
from typing import Any, Callable, ContextManager, TypeVar

Target = TypeVar("Target", bound=Callable[..., Any])
# Makes the mock of one call (or one TestCase test): entering it starts the mock, leaving it stops it.
NewMock = Callable[[], ContextManager[Any]]


def decorate(target: Target, new_mock: NewMock) -> Target:
    """Run ``target`` inside a new mock per call, or decorate a class.

    On a ``unittest.TestCase`` the mock starts before ``setUp`` and stops after ``tearDown`` and
    the cleanups, once per test; on any other class every ``test*`` method is decorated.
    """
    if inspect.isclass(target):
        if issubclass(target, unittest.TestCase):
            return _decorate_test_case(target, new_mock)  # type: ignore[return-value]
        for name, member in list(vars(target).items()):
            if name.startswith("test") and callable(member):
                setattr(target, name, decorate(member, new_mock))
        return target
    if inspect.iscoroutinefunction(target):

        @functools.wraps(target)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with new_mock():
                return await target(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(target)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with new_mock():
            return target(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _decorate_test_case(case: type[unittest.TestCase], new_mock: NewMock) -> type[unittest.TestCase]:
    if getattr(case, "_amlmock_decorated", False):  # a decorated base class already starts it
        return case
    original_set_up = case.setUp

    def setUp(test: unittest.TestCase) -> None:  # noqa: N802 (unittest's name)
        active = ExitStack()
        active.enter_context(new_mock())
        test.addCleanup(active.close)  # the first cleanup added runs last, after tearDown
        original_set_up(test)

    case.setUp = setUp  # type: ignore[method-assign, assignment]
    case._amlmock_decorated = True  # type: ignore[attr-defined]
    return case
