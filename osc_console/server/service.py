"""The server's use cases with no HTTP in them: sign in, push, pull, administer.

The HTTP layer (:mod:`osc_console.server.app`) only translates; tests that simulate a
network drive this class directly, and a standalone workstation runs it in process as its
own authority, so the rules are the same every way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from osc_console.models.clock import to_iso
from osc_console.models.reference import ReferenceData, reference_data
from osc_console.server.accounts import Accounts, TokenRecord
from osc_console.server.admin import AdminService
from osc_console.server.authorship import Authorship, GrantRow, Refusal
from osc_console.server.errors import ApiError
from osc_console.server.rules import Caller, check_event
from osc_console.server.signin import SignInPolicy, SignInService
from osc_console.server.storage import Backend, Digest, RawPage, StorageError
from osc_console.signing.authority import Authority
from osc_console.signing.documents import KeyCertificate, signing_since_message
from osc_console.signing.keys import SigningKey, key_id_of
from osc_console.sync.protocol import (
    MAX_PULL_LIMIT,
    MAX_PUSH_EVENTS,
    SUPPORTED_VERSIONS,
    LoginReply,
    PushResult,
)

__all__ = ["ApiError", "Health", "SyncService"]

# Break-glass keys made offline a push may bring (one per use; a handful at most).
MAX_PUSH_CERTIFICATES = 20


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
        authority: Authority | None = None,
        reference: ReferenceData | None = None,
        policy: SignInPolicy | None = None,
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        self.backend = backend
        self.reference = reference or reference_data()
        self.policy = policy or SignInPolicy()
        self._wall = wall or (lambda: datetime.now(UTC))
        self.authority = authority or Authority(SigningKey.generate(), "server")
        held = backend.set_meta_once(
            "authority", f"{self.authority.key_id}:{self.authority.public_key}"
        )
        if held.split(":", 1)[0] != self.authority.key_id:
            raise StorageError(
                f"this server database was set up with the signing key {held.split(':')[0]}; "
                f"the key given is {self.authority.key_id} (use that database's key file)"
            )
        self.authorship = Authorship(
            self.accounts, (self.authority.key_id, self.authority.public_key)
        )
        self.signing_since_signed()  # the statement made once, at the first start
        self.signin = SignInService(
            self.accounts,
            backend.server_id,
            self.authority,
            self.authorship,
            self.policy,
            self._wall,
        )
        self.admin = AdminService(
            self.accounts,
            self.authority,
            self.authorship,
            self._wall,
            self.policy.hash_cost,
            self.policy.glass_cost,
        )

    def accounts(self) -> Accounts:
        return self.backend.accounts

    # ---- sign-in ---------------------------------------------------------------------------
    def login(self, data: dict[str, Any], address: str = "") -> LoginReply:
        return self.signin.login(data, address)

    def authenticate(self, authorization: str | None) -> Caller:
        return caller_of(self.signin.authenticate(authorization))

    def authenticate_as(self, authorization: str | None, roles: frozenset[str]) -> Caller:
        """The caller, if their account (as it stands now, not as their token was issued)
        is active and holds one of ``roles``."""
        caller = self.authenticate(authorization)
        account = self.accounts().find(caller.user)
        if account is None or not account.active or account.role not in roles:
            raise ApiError(403, f"only {' or '.join(sorted(roles))} users may do this")
        return caller

    # ---- sync ------------------------------------------------------------------------------
    def push(
        self,
        caller: Caller,
        protocol: int,
        events: Sequence[Any],
        certificates: Sequence[Any] = (),
    ) -> list[PushResult]:
        if protocol not in SUPPORTED_VERSIONS:
            raise ApiError(
                400,
                f"protocol {protocol} is not spoken here; this server accepts "
                f"{', '.join(map(str, SUPPORTED_VERSIONS))}: upgrade OSC Console",
            )
        if len(events) > MAX_PUSH_EVENTS:
            raise ApiError(
                413,
                f"a push may hold at most {MAX_PUSH_EVENTS} events; this one has "
                f"{len(events)}: send them in smaller batches",
            )
        if len(certificates) > MAX_PUSH_CERTIFICATES:
            raise ApiError(413, f"a push may bring at most {MAX_PUSH_CERTIFICATES} certificates")
        self._break_glass_keys(caller, certificates)
        grants: dict[tuple[str, str], list[GrantRow]] = {}
        accounts = self.accounts()

        def grants_of(user: str, workstation: str) -> list[GrantRow]:
            key = (user, workstation)
            if key not in grants:
                grants[key] = accounts.grants_of(user, workstation)
            return grants[key]

        def authorship(event: Any) -> Refusal | None:
            return self.authorship.refusal(event, caller.workstation, grants_of)

        checked = [
            check_event(i, data, caller, self.reference, authorship)
            for i, data in enumerate(events)
        ]
        return self.backend.push(caller, checked)

    def _break_glass_keys(self, caller: Caller, certificates: Sequence[Any]) -> None:
        """Keys made at this desk for one use of a break-glass account, each certified by the
        key only that account's password makes: registered here so the entries signed with
        them can be checked. Nothing else is brought this way."""
        accounts = self.accounts()
        for data in certificates:
            try:
                cert = KeyCertificate.from_wire(data)
            except (ValueError, TypeError) as exc:
                raise ApiError(400, f"certificates: {exc}") from None
            if self.authorship.certificate(cert.key_id) is not None:
                continue
            account = accounts.find(cert.user)
            station = accounts.workstation(caller.workstation)
            if (
                not cert.break_glass
                or account is None
                or not account.break_glass
                or not account.glass_key
                or cert.workstation != caller.workstation
                or station is None
                or cert.agency != account.agency.value
                or station.agency != account.agency.value
                or cert.issuer != key_id_of(account.glass_key)
            ):
                raise ApiError(
                    400,
                    "certificates: only a key made at this workstation for a break-glass "
                    "account of its organisation, certified with that account's password, may "
                    "be brought this way",
                )
            problem = self.authorship.problem_of_certificate(cert)
            if problem is not None:
                raise ApiError(400, f"certificates: {problem}")
            accounts.add_key(cert)
            self.authorship.learn(cert)
            accounts.audit(
                self.now(),
                cert.user,
                "break-glass used",
                cert.user,
                f"key {cert.key_id} made offline at {cert.issued_at}",
                address="",
                workstation=caller.workstation,
            )

    def pull(self, caller: Caller, realm: str, after: int, limit: int) -> RawPage:
        self.check_pull(caller, realm, after, limit)
        return self.backend.pull(realm, after, limit, caller.visibilities)

    def certificates(self, key_ids: frozenset[str]) -> list[KeyCertificate]:
        """The certificates a puller needs to check a page (device keys that certified a
        break-glass key included)."""
        found: dict[str, KeyCertificate] = {}
        wanted = list(key_ids)
        while wanted:
            key_id = wanted.pop()
            if key_id in found:
                continue
            cert = self.authorship.certificate(key_id)
            if cert is None:
                continue
            found[key_id] = cert
            if cert.break_glass:
                wanted.append(cert.issuer)
        return list(found.values())

    def signing_since(self) -> int:
        return int(self.backend.meta("signing_since") or 0)

    def signing_since_signed(self) -> tuple[int, str]:
        """Where signing began, as this server's authority signed it when it first ran on
        this database: the statement is kept, never signed again, so changing the figure in
        the database breaks its signature (workstations check it, and keep the first)."""
        held = self.backend.meta("signing_since_statement")
        if held is None:
            seq = self.signing_since()
            sig = self.authority.key.sign(signing_since_message(self.backend.server_id(), seq))
            held = self.backend.set_meta_once("signing_since_statement", f"{seq}:{sig}")
        figure, _, sig = held.partition(":")
        try:
            return int(figure), sig
        except ValueError:
            return 0, ""

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


def caller_of(record: TokenRecord) -> Caller:
    return Caller(record.user, record.agency, record.role, record.workstation, record.realm)
