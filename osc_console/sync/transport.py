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


class ServerBusyError(ServerUnreachableError):
    """The server is there but asks to come back later (429): too many at once."""


class SignInNeededError(SyncError):
    """The server does not accept this sign-in (expired, unknown, or a wrong password)."""


class ServerRefusedError(SyncError):
    """The server refused the request itself (4xx other than sign-in). ``reason`` is the
    server's own sentence, ``status`` its HTTP status, when it gave them."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or message


@dataclass(frozen=True, slots=True)
class PushAnswer:
    results: tuple[PushResult, ...]
    server_time: str


LoginAnswer = LoginReply

# Plain HTTP carries passwords and tokens in clear: only to this machine, unless asked for.


def _is_loopback_address(host: str) -> bool:
    """An IP literal of this machine (127.0.0.0/8, ::1); a name such as 127.example is not."""
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_server_url(url: str, *, allow_http: bool = False) -> str:
    """``url`` if it may be used: https, or http to this machine (or when explicitly
    allowed). Raises ServerRefusedError saying what to do otherwise."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ServerRefusedError(f"{url!r} is not a server address: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerRefusedError(
            f"{url!r} is not a server address; give one like https://server.example:8765"
        )
    host = parts.hostname
    loopback = host == "localhost" or _is_loopback_address(host)
    if parts.scheme == "http" and not loopback and not allow_http:
        raise ServerRefusedError(
            f"{url} would send passwords and tokens in clear across the network: use "
            "https:// (the server's --certfile and --keyfile), or --allow-http on a network "
            "you trust completely"
        )
    return url.strip()


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
