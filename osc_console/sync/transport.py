"""What the sync engine needs of a server, and how talking to one can fail.

Kept apart from the HTTP client so that the engine (and the console, which always builds its
status indicator) does not import httpx: the tests' simulated network is a Transport too.
The failures are three: the server cannot be reached (try again later), the sign-in is no
longer valid (ask again), or the server refused the request itself (a bug or a version
mismatch: say so, do not retry blindly).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from osc_console.models.events import Event
from osc_console.signing.documents import KeyCertificate
from osc_console.sync.protocol import LoginReply, LoginRequest, PullPage, PushResult


class SyncError(Exception):
    """Base of what the transport raises."""


class ServerUnreachableError(SyncError):
    """No answer, a dropped connection, or a server error: nothing is known to have failed
    for good, so the same request is tried again after a pause."""


class SignInNeededError(SyncError):
    """The server does not accept this sign-in (expired, unknown, or a wrong password)."""


class ServerRefusedError(SyncError):
    """The server refused the request itself (4xx other than sign-in)."""


@dataclass(frozen=True, slots=True)
class PushAnswer:
    results: tuple[PushResult, ...]
    server_time: str


LoginAnswer = LoginReply


class SignInHelper(Protocol):
    """What makes a sign-in request at this workstation (its device proof, a new key for a
    person who has none here) and keeps what the answer gives (key, grant, certificates)."""

    def login_request(self, user: str, password: str, realm: str) -> LoginRequest: ...

    def accepted(self, reply: LoginReply, password: str) -> None: ...


class Transport(Protocol):
    """What the engine needs of a server. The HTTP client below is one; tests supply a
    simulated network that drops, repeats and reorders."""

    def login(self, request: LoginRequest) -> LoginReply: ...

    def push(
        self, token: str, events: Sequence[Event], certificates: Sequence[KeyCertificate] = ()
    ) -> PushAnswer: ...

    def pull(self, token: str, realm: str, after: int, limit: int, wait: float) -> PullPage: ...

    def digest(self, token: str, realm: str) -> dict[str, Any]: ...

    def close(self) -> None: ...
