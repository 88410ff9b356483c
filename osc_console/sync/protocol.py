"""The wire protocol shared by the sync client and the central server (version 2).

Version 2 (issue 12) signs every event: events carry ``key_id`` and ``sig``; a sign-in proves
the workstation with its device key and answers with a grant and key certificates signed by
the server's authority key; a pull page carries the certificates of the keys that signed its
events. Version 1 clients pushed unsigned events and are refused with a message to upgrade.

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
from osc_console.signing.documents import Grant, KeyCertificate

PROTOCOL_VERSION = 2
# Versions this program's server accepts. A client of another version is told which
# versions the server speaks (version 1 sent unsigned events, which are no longer accepted).
SUPPORTED_VERSIONS = (2,)

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
    # The certificates of the keys that signed this page's events (and of the devices that
    # certified any break-glass key among them).
    keys: tuple[KeyCertificate, ...] = ()
    # Events at or below this seq were stored before the server required signatures: an
    # unsigned one of them is "unsigned (before signing)"; any later one is refused. The
    # server's authority signs the figure (a workstation checks it, and keeps the first).
    signing_since: int = 0
    signing_since_sig: str = ""

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
            tuple(KeyCertificate.from_wire(k) for k in data.get("keys") or ()),
            int(data.get("signing_since", 0)),
            str(data.get("signing_since_sig", "")),
        )

    def unsigned_ok(self, signing_since: int) -> frozenset[str]:
        """The ids of this page's unsigned events at or below ``signing_since`` (the figure
        the workstation has checked and pinned)."""
        return frozenset(
            p.event.id for p in self.events if p.event.sig is None and p.seq <= signing_since
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
    display_name: str = ""
    # An administrator reset the password: this sign-in may only choose a new one.
    must_change_password: bool = False

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
            "display_name": self.display_name,
            "must_change_password": self.must_change_password,
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
            display_name=str(data.get("display_name") or ""),
            must_change_password=bool(data.get("must_change_password", False)),
        )


@dataclass(frozen=True, slots=True)
class Proof:
    """The workstation's device key signs (user, workstation, realm, nonce, time): the sign-in
    comes from an enrolled desk, and cannot be replayed."""

    nonce: str
    at: str
    sig: str

    def to_wire(self) -> dict[str, str]:
        return {"nonce": self.nonce, "at": self.at, "sig": self.sig}


@dataclass(frozen=True, slots=True)
class NewKey:
    """A person's new key at this workstation, and the proof its holder has the private half."""

    public_key: str
    possession: str

    def to_wire(self) -> dict[str, str]:
        return {"public_key": self.public_key, "possession": self.possession}


@dataclass(frozen=True, slots=True)
class LoginRequest:
    user: str
    password: str
    workstation: str
    realm: str
    proof: Proof
    new_key: NewKey | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "protocol": PROTOCOL_VERSION,
            "user": self.user,
            "password": self.password,
            "workstation": self.workstation,
            "realm": self.realm,
            "proof": self.proof.to_wire(),
        }
        if self.new_key is not None:
            wire["new_key"] = self.new_key.to_wire()
        return wire


@dataclass(frozen=True, slots=True)
class BreakGlass:
    """The room's break-glass account as a desk of its organisation keeps it for a day the
    server is down: the salt and cost with which its password makes its key, that key's
    certificate (what the password must make), and a grant for this desk. Every use is
    recorded."""

    user: str
    display_name: str
    agency: str
    role: str
    salt: str
    cost: tuple[int, int, int]  # Argon2id memory (KiB), iterations, lanes
    certificate: KeyCertificate
    grant: Grant

    def to_wire(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "display_name": self.display_name,
            "agency": self.agency,
            "role": self.role,
            "salt": self.salt,
            "cost": list(self.cost),
            "certificate": self.certificate.to_wire(),
            "grant": self.grant.to_wire(),
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> BreakGlass:
        cost = data["cost"]
        return cls(
            str(data["user"]),
            str(data.get("display_name") or ""),
            str(data["agency"]),
            str(data["role"]),
            str(data["salt"]),
            (int(cost[0]), int(cost[1]), int(cost[2])),
            KeyCertificate.from_wire(data["certificate"]),
            Grant.from_wire(data["grant"]),
        )


@dataclass(frozen=True, slots=True)
class LoginReply:
    """What a sign-in answers: the token, and what the workstation keeps for offline use."""

    session: Session
    server_id: str
    authority_key_id: str = ""
    authority_public_key: str = ""
    grant: Grant | None = None
    certificate: KeyCertificate | None = None  # the person's key at this workstation
    device_certificate: KeyCertificate | None = None
    break_glass: tuple[BreakGlass, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        wire = self.session.to_wire()
        wire.update(
            {
                "server_id": self.server_id,
                "authority": {
                    "key_id": self.authority_key_id,
                    "public_key": self.authority_public_key,
                },
                "grant": self.grant.to_wire() if self.grant else None,
                "certificate": self.certificate.to_wire() if self.certificate else None,
                "device_certificate": (
                    self.device_certificate.to_wire() if self.device_certificate else None
                ),
                "break_glass": [b.to_wire() for b in self.break_glass],
            }
        )
        return wire

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> LoginReply:
        authority = data.get("authority") or {}
        return cls(
            Session.from_wire(data),
            str(data.get("server_id", "")),
            str(authority.get("key_id", "")),
            str(authority.get("public_key", "")),
            Grant.from_wire(data["grant"]) if data.get("grant") else None,
            KeyCertificate.from_wire(data["certificate"]) if data.get("certificate") else None,
            KeyCertificate.from_wire(data["device_certificate"])
            if data.get("device_certificate")
            else None,
            tuple(BreakGlass.from_wire(b) for b in data.get("break_glass") or ()),
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
