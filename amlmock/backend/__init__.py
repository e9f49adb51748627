"""The pure domain model of the fake service: no HTTP in here."""

from .errors import NotFoundError, ServiceError, ValidationError
from .service import Backend

__all__ = ["Backend", "NotFoundError", "ServiceError", "ValidationError"]
