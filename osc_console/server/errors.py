"""The refusal every server rule raises: an HTTP status and one sentence to act on."""

from __future__ import annotations


class ApiError(Exception):
    """A refusal with its HTTP status and one sentence for the person who sent it."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
