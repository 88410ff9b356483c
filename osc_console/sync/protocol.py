"""The wire protocol shared by the sync client and the central server (version 1).

Both sides import this module and nothing else of each other, so the shapes below are the
whole contract: what a push answers per event, what a pull page holds, the limits a server
enforces, and how a refusal is spelt. Events travel as :meth:`Event.to_wire` objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from osc_console.models.events import Event

PROTOCOL_VERSION = 1
# Versions this program's server accepts. An old client keeps pushing as long as its version
# is listed; a newer client is told which versions the server speaks.
SUPPORTED_VERSIONS = (1,)

# Limits: a push larger than these is refused whole with a 413, never half-stored.
MAX_PUSH_EVENTS = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_PULL_LIMIT = 5000
DEFAULT_PULL_LIMIT = 1000
MAX_WAIT_SECONDS = 60.0


class Outcome(StrEnum):
    """What the server did with one pushed event."""

    ACCEPTED = "accepted"  # stored now, durably, with a new seq
    DUPLICATE = "duplicate"  # already held with the same content: harmless, original seq
    REJECTED = "rejected"  # refused for good (invalid, not permitted, id collision)
    DEFERRED = "deferred"  # not yet: an earlier event of the same chain is missing; push later


@dataclass(frozen=True, slots=True)
class PushResult:
    id: str
    outcome: Outcome
    seq: int | None = None
    reason: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"id": self.id, "outcome": self.outcome.value}
        if self.seq is not None:
            wire["seq"] = self.seq
        if self.reason is not None:
            wire["reason"] = self.reason
        return wire

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> PushResult:
        return cls(
            id=str(data["id"]),
            outcome=Outcome(data["outcome"]),
            seq=data.get("seq"),
            reason=data.get("reason"),
        )


@dataclass(frozen=True, slots=True)
class PulledEvent:
    """An event as the server hands it out: the envelope plus where it sits in the log."""

    event: Event
    seq: int
    received_at: str


@dataclass(frozen=True, slots=True)
class PullPage:
    """Events after a cursor, in seq order, and the cursor to ask from next.

    ``next`` may lie beyond the last event handed out: the server has looked at everything up
    to it (events the caller may not see included) and nothing at or below it can still
    commit. ``more`` says another page is ready at once.
    """

    events: tuple[PulledEvent, ...]
    next: int
    more: bool
    server_time: str = ""
    high_water: int = 0

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> PullPage:
        pulled = tuple(
            PulledEvent(Event.from_wire(item), int(item["seq"]), str(item.get("received_at", "")))
            for item in data["events"]
        )
        return cls(
            pulled,
            int(data["next"]),
            bool(data["more"]),
            str(data.get("server_time", "")),
            int(data.get("high_water", 0)),
        )


@dataclass(frozen=True, slots=True)
class Session:
    """What a sign-in gives: a bearer token for one user at one workstation in one realm."""

    token: str
    user: str
    agency: str
    role: str
    workstation: str
    realm: str
    expires_at: str
    protocols: Sequence[int] = field(default_factory=lambda: SUPPORTED_VERSIONS)

    def to_wire(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "user": self.user,
            "agency": self.agency,
            "role": self.role,
            "workstation": self.workstation,
            "realm": self.realm,
            "expires_at": self.expires_at,
            "protocols": list(self.protocols),
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Session:
        return cls(
            token=str(data["token"]),
            user=str(data["user"]),
            agency=str(data["agency"]),
            role=str(data["role"]),
            workstation=str(data["workstation"]),
            realm=str(data["realm"]),
            expires_at=str(data["expires_at"]),
            protocols=tuple(int(v) for v in data.get("protocols", SUPPORTED_VERSIONS)),
        )


def fold_digests(hashes: Iterable[str]) -> tuple[int, str]:
    """Count and XOR of sha256 digests: the same for the same set, in any order."""
    folded = 0
    count = 0
    for digest in hashes:
        folded ^= int(digest, 16)
        count += 1
    return count, f"{folded:064x}"


def error_body(message: str) -> dict[str, str]:
    """Every refusal is one JSON object with one sentence a person can act on."""
    return {"error": message}
