"""The server's use cases with no HTTP in them: sign in, push, pull, users.

The HTTP layer (:mod:`osc_console.server.app`) only translates; tests that simulate a
network drive this class directly, so the rules are the same either way.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from osc_console.models.clock import from_iso, to_iso
from osc_console.models.errors import ValidationError
from osc_console.models.incident import REALM_PATTERN, WORKSTATION_CODE
from osc_console.models.reference import ReferenceData, reference_data
from osc_console.models.users import make_user
from osc_console.server.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from osc_console.server.rules import Caller, check_event
from osc_console.server.storage import (
    Backend,
    Digest,
    RawPage,
    ServerUser,
    UserExistsError,
    token_digest,
)
from osc_console.sync.protocol import (
    MAX_PULL_LIMIT,
    MAX_PUSH_EVENTS,
    SUPPORTED_VERSIONS,
    PushResult,
    Session,
)

DEFAULT_TOKEN_TTL = timedelta(hours=12)


class ApiError(Exception):
    """A refusal with its HTTP status and one sentence for the person who sent it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Health:
    status: str
    server_id: str
    high_water: int
    protocols: tuple[int, ...]
    server_time: str


class SyncService:
    def __init__(
        self,
        backend: Backend,
        *,
        reference: ReferenceData | None = None,
        token_ttl: timedelta = DEFAULT_TOKEN_TTL,
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        self.backend = backend
        self.reference = reference or reference_data()
        self.token_ttl = token_ttl
        self._wall = wall or (lambda: datetime.now(UTC))

    # ---- users -----------------------------------------------------------------------------
    def add_user(self, name: str, agency: str, role: str, password: str) -> ServerUser:
        """Raises ValidationError naming the field; nothing is stored then."""
        person = make_user(name, agency, role)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(
                "password", f"must be at least {MIN_PASSWORD_LENGTH} characters long"
            )
        user = ServerUser(person.name, person.agency, person.role.value, hash_password(password))
        try:
            self.backend.add_user(user)
        except UserExistsError:
            raise ValidationError("name", f"a user called {person.name!r} already exists") from None
        return user

    # ---- sign-in ---------------------------------------------------------------------------
    def login(self, user: str, password: str, workstation: str, realm: str) -> Session:
        code = workstation.strip().upper()
        if not WORKSTATION_CODE.match(code):
            raise ApiError(400, "workstation must be 2 to 8 capital letters or digits, e.g. CR1")
        if not REALM_PATTERN.match(realm):
            raise ApiError(400, f"realm {realm!r} must be 'live' or 'exercise:<slug>'")
        found = self.backend.find_user(user)
        if found is None or not verify_password(password, found.password_hash):
            # The same answer for an unknown name and a wrong password.
            raise ApiError(401, "user name or password not recognised")
        caller = Caller(found.name, found.agency, found.role, code, realm)
        token = secrets.token_urlsafe(32)
        expires = to_iso(self._wall() + self.token_ttl)
        self.backend.save_token(token_digest(token), caller, expires)
        return Session(
            token=token,
            user=found.name,
            agency=found.agency.value,
            role=found.role,
            workstation=code,
            realm=realm,
            expires_at=expires,
            protocols=SUPPORTED_VERSIONS,
        )

    def authenticate(self, authorization: str | None) -> Caller:
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(401, "sign in first: send 'Authorization: Bearer <token>'")
        record = self.backend.find_token(token_digest(authorization.removeprefix("Bearer ")))
        if record is None:
            raise ApiError(401, "this sign-in is not recognised; sign in again")
        if from_iso(record.expires_at) <= self._wall():
            raise ApiError(401, "this sign-in has expired; sign in again")
        return record.caller

    # ---- sync ------------------------------------------------------------------------------
    def push(self, caller: Caller, protocol: int, events: Sequence[Any]) -> list[PushResult]:
        if protocol not in SUPPORTED_VERSIONS:
            raise ApiError(
                400,
                f"protocol {protocol} is not spoken here; this server accepts "
                f"{', '.join(map(str, SUPPORTED_VERSIONS))}",
            )
        if len(events) > MAX_PUSH_EVENTS:
            raise ApiError(
                413,
                f"a push may hold at most {MAX_PUSH_EVENTS} events; this one has "
                f"{len(events)}: send them in smaller batches",
            )
        checked = [check_event(i, data, caller, self.reference) for i, data in enumerate(events)]
        return self.backend.push(caller, checked)

    def pull(self, caller: Caller, realm: str, after: int, limit: int) -> RawPage:
        self.check_pull(caller, realm, after, limit)
        return self.backend.pull(realm, after, limit, caller.visibilities)

    @staticmethod
    def check_pull(caller: Caller, realm: str, after: int, limit: int) -> None:
        if realm != caller.realm:
            raise ApiError(403, f"this sign-in is for realm {caller.realm}; it cannot read {realm}")
        if after < 0:
            raise ApiError(400, "after must be 0 or more")
        if not 1 <= limit <= MAX_PULL_LIMIT:
            raise ApiError(400, f"limit must be between 1 and {MAX_PULL_LIMIT}")

    def digest(self, caller: Caller, realm: str) -> Digest:
        self.check_pull(caller, realm, 0, 1)
        return self.backend.digest(realm, caller.visibilities)

    def health(self) -> Health:
        return Health(
            "ok",
            self.backend.server_id(),
            self.backend.high_water(),
            SUPPORTED_VERSIONS,
            to_iso(self._wall()),
        )

    def now(self) -> str:
        return to_iso(self._wall())
