"""Errors raised by the backend; the api layer turns each into the service's error shape."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses. ``status`` and ``code`` follow the REST error envelope."""

    status = 400
    code = "UserError"
    inner_code: str | None = None

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target


class NotFoundError(ServiceError):
    """The addressed workspace, experiment, run, metric or artifact does not exist."""

    status = 404
    inner_code = "NotFoundError"


class ValidationError(ServiceError):
    """The request breaks one of the service's documented limits or formats."""

    status = 400
    code = "ValidationError"


class ImmutablePropertyError(ServiceError):
    """A run property that already has a value was sent with a different value."""

    status = 400
    inner_code = "ImmutableProperty"


class AuthenticationError(ServiceError):
    """The request carries no bearer token."""

    status = 401
    inner_code = "AuthenticationFailed"


class AuthorizationError(ServiceError):
    """The token is valid but not for this resource."""

    status = 403
    inner_code = "AuthorizationFailed"


class ConflictError(ServiceError):
    """The request conflicts with the current state (e.g. a duplicate run id elsewhere)."""

    status = 409
    inner_code = "Conflict"


class NotImplementedByFake(ServiceError):
    """The request is valid for the real service but amlmock does not implement it."""

    status = 404
    inner_code = "NotImplementedByAmlmock"


class InternalError(ServiceError):
    """A failure inside the fake itself (a bug): reported, never a crash."""

    status = 500
    code = "ServiceError"


class UnavailableError(ServiceError):
    """The change could not be made durable (the state file failed): nothing was kept, a retry may succeed."""

    status = 503
    code = "ServiceError"
    inner_code = "ServiceUnavailable"


class PayloadTooLargeError(ServiceError):
    """The request body is over the limit for its route."""

    status = 413
    code = "UserError"
    inner_code = "RequestEntityTooLarge"
