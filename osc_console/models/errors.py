"""Errors the domain raises. Each names what was wrong in words an operator can act on."""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse. Nothing has been written when this is raised."""


class ValidationError(DomainError):
    """A value that is not acceptable, with the field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TransitionError(DomainError):
    """A status change the lifecycle does not allow from the current status."""


class NotFoundError(DomainError):
    """A reference to an incident, entry or assignment this store does not hold."""
