"""Errors a service raises for bad input; the web layer turns them into 4xx with the message."""

from __future__ import annotations


class ServiceError(Exception):
    """Bad input or a forbidden action. `code` is stable (the UI translates it); message is English."""

    status = 400

    def __init__(self, code: str, message: str, field: str | None = None, **params):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.params = params

    def to_dict(self) -> dict:
        """JSON body for API responses."""
        out = {"error": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class NotFound(ServiceError):
    """Something named does not exist."""

    status = 404


class Forbidden(ServiceError):
    """The user's role does not allow this."""

    status = 403


class Conflict(ServiceError):
    """The action clashes with the current state (e.g. a duplicate name)."""

    status = 409
