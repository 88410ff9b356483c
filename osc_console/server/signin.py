"""Signing in to the server: who you are, at which enrolled desk, and what you may rely on
while the server is down.

A sign-in proves the workstation (its device key signs the request, once, within minutes)
and the person (their password). It answers with a token, a grant the workstation keeps for
offline sign-in, and the certificate of the person's key at that desk (a new key is
certified at the person's first sign-in there, or after an administrator's reset).

Hardened against guessing: five consecutive failures lock a name for a while (names are
counted whether they exist or not, and an unknown name costs the same password work as a
known one, so the answers do not tell them apart); each client address may fail only so
often a minute; password work runs on a small gate of its own, so a flood of wrong
passwords cannot take the threads that pushes and pulls need.
"""

from __future__ import annotations

import collections
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from osc_console.models.clock import from_iso, local_label, to_iso
from osc_console.models.incident import REALM_PATTERN, WORKSTATION_CODE
from osc_console.models.passwords import normalise
from osc_console.server.accounts import Account, Accounts, EnrolledWorkstation, TokenRecord
from osc_console.server.authorship import Authorship
from osc_console.server.errors import ApiError
from osc_console.server.passwords import hash_password, verify_password
from osc_console.signing.authority import Authority
from osc_console.signing.directory import GLASS_WORKSTATION
from osc_console.signing.documents import (
    Grant,
    KeyCertificate,
    device_actor,
    possession_message,
    proof_message,
)
from osc_console.signing.keys import BadKeyError, key_id_of, verify
from osc_console.signing.vault import DEFAULT_COST, KdfCost, derived_key
from osc_console.sync.protocol import (
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    BreakGlass,
    LoginReply,
    Session,
)

NOT_RECOGNISED = "user name or password not recognised"
_NONCE = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """How sign-in is held to account; ``osc-console serve`` takes these as options."""

    lock_after: int = 5  # consecutive failures that lock a name
    lock_for: timedelta = timedelta(minutes=15)
    token_ttl: timedelta = timedelta(hours=12)
    # How long a console may sign a person in offline on the grant of their last online
    # sign-in (their role as it stood then).
    grant_for: timedelta = timedelta(days=7)
    break_glass_for: timedelta = timedelta(days=30)
    proof_window: timedelta = timedelta(minutes=5)
    # Failed sign-ins one client address may make in a minute before it is told to wait.
    address_failures: int = 20
    address_window: float = 60.0
    password_workers: int = 2
    password_queue: int = 16
    hash_cost: int = 2**14
    # What makes a break-glass account's key from its password (Argon2id): every desk of
    # its organisation holds the key's public half, so it must be slow to guess at.
    glass_cost: KdfCost = DEFAULT_COST


class AddressThrottle:
    """Failed sign-ins per client address in a sliding window (kept in this process)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            seen = self._failures.get(address)
            if seen is None:
                return
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if not seen:
                del self._failures[address]
                return
            if len(seen) >= self.limit:
                wait = max(1, int(seen[0] + self.window - now) + 1)
                raise ApiError(
                    429,
                    f"too many failed sign-ins from this address; wait {wait} s and try again",
                    retry_after=wait,
                )

    def failed(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > 100_000:
                # A flood of addresses: forget those whose failures have run out of the window,
                # then those not (yet) throttled; never the ones being held back.
                self._failures = {
                    a: seen
                    for a, seen in self._failures.items()
                    if seen and seen[-1] > now - self.window and len(seen) >= self.limit
                }
            self._failures.setdefault(address, collections.deque()).append(now)


class PasswordGate:
    """At most ``workers`` password checks at once and ``queue`` waiting: the rest are told
    to try again, so password work never takes every thread of the server."""

    def __init__(self, workers: int, queue: int) -> None:
        self._slots = threading.BoundedSemaphore(workers)
        self._queue = queue
        self._waiting = 0
        self._lock = threading.Lock()

    def check(self, password: str, stored: str) -> bool:
        with self._lock:
            if self._waiting >= self._queue:
                raise ApiError(
                    429, "the server is busy with sign-ins; try again in a moment", retry_after=2
                )
            self._waiting += 1
        try:
            with self._slots:
                return verify_password(password, stored)
        finally:
            with self._lock:
                self._waiting -= 1


@dataclass(slots=True)
class SignInService:
    accounts: Callable[[], Accounts]
    server_id: Callable[[], str]
    authority: Authority
    authorship: Authorship
    policy: SignInPolicy
    wall: Callable[[], datetime]
    monotonic: Callable[[], float] = time.monotonic
    throttle: AddressThrottle = field(init=False)
    gate: PasswordGate = field(init=False)
    _dummy_hash: str = field(init=False)

    def __post_init__(self) -> None:
        self.throttle = AddressThrottle(
            self.policy.address_failures, self.policy.address_window, self.monotonic
        )
        self.gate = PasswordGate(self.policy.password_workers, self.policy.password_queue)
        # The same work for a name that does not exist as for one that does.
        self._dummy_hash = hash_password("no such user: the same work", cost=self.policy.hash_cost)

    def now(self) -> str:
        return to_iso(self.wall())

    # ---- the password, held to account --------------------------------------------------------
    def check_password(self, name: str, password: str, address: str, workstation: str) -> Account:
        """The account, if ``password`` is its password; else an ApiError (and a failure
        counted against the name and the address)."""
        self.throttle.check(address)
        accounts = self.accounts()
        now = self.wall()
        failures = accounts.failures(name)
        if failures.locked_until is not None and from_iso(failures.locked_until) <= now:
            accounts.clear_failures(name)  # the lock has run out: five more tries
        elif failures.locked_until is not None:
            accounts.audit(
                self.now(),
                name,
                "sign-in refused",
                name,
                "locked",
                address=address,
                workstation=workstation,
            )
            raise ApiError(
                403,
                f"this account is locked after {failures.count} failed sign-ins until "
                f"{local_label(from_iso(failures.locked_until))}; an administrator can unlock it",
            )
        # The attempt counts before the password work: guesses sent all at once cannot
        # get more than the limit past the lock while each waits for its check.
        count = accounts.record_failure(name, self.now())
        if count > self.policy.lock_after:
            until = now + self.policy.lock_for
            accounts.lock(name, to_iso(until))
            self.throttle.failed(address)
            accounts.audit(
                self.now(),
                name,
                "sign-in refused",
                name,
                "locked",
                address=address,
                workstation=workstation,
            )
            raise ApiError(
                403,
                f"this account is locked after {self.policy.lock_after} failed sign-ins until "
                f"{local_label(until)}; an administrator can unlock it",
            )
        account = accounts.find(name)
        stored = account.password_hash if account is not None else self._dummy_hash
        if self.gate.check(normalise(password), stored) and account is not None:
            accounts.clear_failures(name)
            return account
        self.throttle.failed(address)
        detail = f"wrong password ({count} in a row)"
        message = NOT_RECOGNISED
        if count >= self.policy.lock_after:
            until = now + self.policy.lock_for
            accounts.lock(name, to_iso(until))
            detail += f"; locked until {to_iso(until)}"
            minutes = int(self.policy.lock_for.total_seconds() // 60)
            message += f"; after {count} failures in a row the account is locked for {minutes} min"
        accounts.audit(
            self.now(),
            name,
            "sign-in failed",
            name,
            detail,
            address=address,
            workstation=workstation,
        )
        raise ApiError(401, message)

    # ---- sign in --------------------------------------------------------------------------------
    def login(self, data: dict[str, Any], address: str) -> LoginReply:
        protocol = data.get("protocol")
        if protocol != PROTOCOL_VERSION:
            raise ApiError(
                400,
                f"this console speaks protocol {protocol!r}; the server speaks "
                f"{', '.join(map(str, SUPPORTED_VERSIONS))}: upgrade OSC Console",
            )
        user = _text(data, "user", 200)
        password = _text(data, "password", 1000)
        code = _text(data, "workstation", 20).strip().upper()
        realm = _text(data, "realm", 80)
        if not WORKSTATION_CODE.match(code):
            raise ApiError(400, "workstation must be 2 to 8 capital letters or digits, e.g. CR1")
        if not REALM_PATTERN.match(realm):
            raise ApiError(400, f"realm {realm!r} must be 'live' or 'exercise:<slug>'")
        self.throttle.check(address)
        accounts = self.accounts()
        station = self._enrolled(accounts, code)
        nonce = self._check_proof(accounts, data.get("proof"), station, user, realm)
        account = self.check_password(user, password, address, code)
        if not account.active:
            accounts.audit(
                self.now(),
                account.name,
                "sign-in refused",
                account.name,
                "disabled",
                address=address,
                workstation=code,
            )
            raise ApiError(403, "this account is disabled; ask an administrator")
        now = self.wall()
        expires = to_iso(now + self.policy.token_ttl)
        grant: Grant | None = None
        certificate: KeyCertificate | None = None
        if not account.must_change:
            certificate = self._key(accounts, account, code, nonce, data.get("new_key"))
            grant = self.authority.grant(
                user=account.name,
                display_name=account.shown_name,
                agency=account.agency.value,
                role=account.role,
                workstation=code,
                issued_at=to_iso(now),
                expires_at=to_iso(now + self.policy.grant_for),
            )
            accounts.add_grant(grant)
        token = _new_token()
        accounts.save_token(
            _digest(token),
            TokenRecord(
                account.name,
                account.agency,
                account.role,
                code,
                realm,
                expires,
                account.must_change,
            ),
            self.now(),
        )
        accounts.audit(
            self.now(),
            account.name,
            "signed in",
            account.name,
            f"as {account.role} in {realm}"
            + ("; must choose a new password" if account.must_change else ""),
            address=address,
            workstation=code,
        )
        session = Session(
            token=token,
            user=account.name,
            agency=account.agency.value,
            role=account.role,
            workstation=code,
            realm=realm,
            expires_at=expires,
            protocols=SUPPORTED_VERSIONS,
            display_name=account.shown_name,
            must_change_password=account.must_change,
        )
        return LoginReply(
            session,
            self.server_id(),
            self.authority.key_id,
            self.authority.public_key,
            grant,
            certificate,
            self._device_certificate(accounts, station),
            () if account.must_change else self._break_glass(accounts, station),
        )

    def _enrolled(self, accounts: Accounts, code: str) -> EnrolledWorkstation:
        station = accounts.workstation(code)
        if station is None or not station.active:
            state = "revoked" if station is not None else "not enrolled"
            raise ApiError(
                403,
                f"workstation {code} is {state} with this server: an administrator must enrol "
                "it (at this desk, or with 'osc-console workstation enrol')",
            )
        return station

    def _check_proof(
        self,
        accounts: Accounts,
        proof: Any,
        station: EnrolledWorkstation,
        user: str,
        realm: str,
    ) -> str:
        if not isinstance(proof, dict):
            raise ApiError(400, "proof: the workstation's signed proof is missing")
        nonce, at, sig = proof.get("nonce"), proof.get("at"), proof.get("sig")
        if not (isinstance(nonce, str) and _NONCE.match(nonce)):
            raise ApiError(400, "proof.nonce: must be 16 to 64 letters, digits, - or _")
        if not isinstance(at, str) or not isinstance(sig, str):
            raise ApiError(400, "proof: needs at and sig")
        try:
            when = from_iso(at)
        except ValueError:
            raise ApiError(400, "proof.at: must be an ISO 8601 UTC time") from None
        now = self.wall()
        if abs(now - when) > self.policy.proof_window:
            raise ApiError(
                401,
                f"this workstation's clock is more than "
                f"{int(self.policy.proof_window.total_seconds() // 60)} min from the "
                "server's: set it right, then sign in again",
            )
        if not verify(station.public_key, proof_message(user, station.code, realm, nonce, at), sig):
            raise ApiError(
                401,
                f"this workstation could not prove it is {station.code}: its key is not the "
                "one enrolled (ask an administrator to enrol it again)",
            )
        older = to_iso(now - 2 * self.policy.proof_window)
        if not accounts.use_nonce(nonce, to_iso(now), older):
            raise ApiError(401, "this sign-in proof was used already; sign in again")
        return nonce

    def _key(
        self, accounts: Accounts, account: Account, code: str, nonce: str, new_key: Any
    ) -> KeyCertificate | None:
        if new_key is None:
            kept = accounts.keys_of(account.name, code)
            return kept[-1] if kept else None
        if not isinstance(new_key, dict):
            raise ApiError(400, "new_key: must be an object with public_key and possession")
        public, possession = new_key.get("public_key"), new_key.get("possession")
        if not isinstance(public, str) or not isinstance(possession, str):
            raise ApiError(400, "new_key: needs public_key and possession")
        try:
            key_id = key_id_of(public)
        except BadKeyError as exc:
            raise ApiError(400, f"new_key.public_key: {exc}") from None
        if not verify(public, possession_message(key_id, account.name, code, nonce), possession):
            raise ApiError(400, "new_key: the proof of possession does not verify")
        held = accounts.key(key_id)
        if held is not None:
            if (held.user, held.workstation) != (account.name, code):
                raise ApiError(409, "new_key: that key is registered to someone else")
            return held
        cert = self.authority.certify(
            public,
            key_id,
            user=account.name,
            agency=account.agency.value,
            workstation=code,
            at=self.now(),
        )
        accounts.add_key(cert)
        self.authorship.learn(cert)
        accounts.audit(
            self.now(),
            account.name,
            "key registered",
            account.name,
            f"key {key_id}",
            address="",
            workstation=code,
        )
        return cert

    def _device_certificate(
        self, accounts: Accounts, station: EnrolledWorkstation
    ) -> KeyCertificate | None:
        return accounts.key(station.key_id)

    def _break_glass(
        self, accounts: Accounts, station: EnrolledWorkstation
    ) -> tuple[BreakGlass, ...]:
        """The break-glass accounts of this desk's organisation as the desk keeps them: what
        their password must make, and a grant for this desk (renewed once half has run)."""
        bundles = []
        now = self.wall()
        code = station.code
        for account in accounts.break_glass_accounts():
            if account.agency.value != station.agency or not account.glass_key:
                continue
            glass = accounts.key(key_id_of(account.glass_key))
            if glass is None or not account.glass_salt:
                continue
            current = [
                g
                for g in accounts.grants_of(account.name, code)
                if g[3] is None and from_iso(g[2]) - now > self.policy.break_glass_for / 2
            ]
            grant = self.authority.grant(
                user=account.name,
                display_name=account.shown_name,
                agency=account.agency.value,
                role=account.role,
                workstation=code,
                issued_at=current[-1][1] if current else to_iso(now),
                expires_at=current[-1][2] if current else to_iso(now + self.policy.break_glass_for),
                break_glass=True,
            )
            if not current:
                accounts.add_grant(grant)
            cost = self.policy.glass_cost
            bundles.append(
                BreakGlass(
                    account.name,
                    account.shown_name,
                    account.agency.value,
                    account.role,
                    account.glass_salt,
                    (cost.memory_kib, cost.iterations, cost.lanes),
                    glass,
                    grant,
                )
            )
        return tuple(bundles)

    # ---- after signing in -------------------------------------------------------------------
    def authenticate(
        self, authorization: str | None, *, password_change: bool = False
    ) -> TokenRecord:
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(401, "sign in first: send 'Authorization: Bearer <token>'")
        token = authorization.removeprefix("Bearer ")
        if len(token) > 200:
            raise ApiError(401, "this sign-in is not recognised; sign in again")
        record = self.accounts().find_token(_digest(token))
        if record is None:
            raise ApiError(401, "this sign-in is not recognised; sign in again")
        if from_iso(record.expires_at) <= self.wall():
            raise ApiError(401, "this sign-in has expired; sign in again")
        if record.must_change and not password_change:
            raise ApiError(403, "choose a new password first (an administrator reset it)")
        return record

    def logout(self, authorization: str | None, address: str) -> None:
        record = self.authenticate(authorization, password_change=True)
        assert authorization is not None
        accounts = self.accounts()
        accounts.drop_token(_digest(authorization.removeprefix("Bearer ")))
        accounts.audit(
            self.now(),
            record.user,
            "signed out",
            record.user,
            "",
            address=address,
            workstation=record.workstation,
        )

    def change_password(self, authorization: str | None, old: str, new: str, address: str) -> None:
        from osc_console.models.errors import ValidationError
        from osc_console.models.passwords import check_password

        record = self.authenticate(authorization, password_change=True)
        self.check_password(record.user, old, address, record.workstation)
        try:
            check_password(new, record.user)
        except ValidationError as exc:
            raise ApiError(400, str(exc)) from None
        if normalise(new) == normalise(old):
            raise ApiError(400, "password: the new password must differ from the old one")
        accounts = self.accounts()
        account = accounts.find(record.user)
        glass = None
        if account is not None and account.break_glass:
            glass = glass_key(
                accounts,
                self.authority,
                self.authorship,
                account,
                new,
                cost=self.policy.glass_cost,
                at=self.now(),
            )
        accounts.set_password(
            record.user,
            hash_password(normalise(new), cost=self.policy.hash_cost),
            False,
            self.now(),
            glass,
        )
        accounts.drop_tokens_of(record.user)
        accounts.audit(
            self.now(),
            record.user,
            "password changed",
            record.user,
            "by its owner",
            address=address,
            workstation=record.workstation,
        )

    # ---- enrolling a workstation at its desk -----------------------------------------------------
    def enrol_at_desk(self, data: dict[str, Any], address: str) -> tuple[KeyCertificate, str]:
        """An administrator, present at a new desk, enrols it with their own password."""
        admin = _text(data, "admin", 200)
        password = _text(data, "password", 1000)
        code = _text(data, "workstation", 20).strip().upper()
        public = _text(data, "public_key", 100)
        agency = _text(data, "agency", 40)
        possession = _text(data, "possession", 200)
        if not WORKSTATION_CODE.match(code):
            raise ApiError(400, "workstation must be 2 to 8 capital letters or digits, e.g. CR1")
        try:
            key_id = key_id_of(public)
        except BadKeyError as exc:
            raise ApiError(400, f"public_key: {exc}") from None
        if not verify(
            public, possession_message(key_id, device_actor(code), code, "enrol"), possession
        ):
            raise ApiError(400, "possession: the workstation's proof of its key does not verify")
        # Anyone on the network can reach this door: a wrong password and the right password
        # of someone who is not an administrator get the same answer.
        refused = ApiError(401, f"{NOT_RECOGNISED} as an administrator's")
        try:
            account = self.check_password(admin, password, address, code)
        except ApiError as exc:
            if exc.status == 401:
                raise refused from None
            raise
        if not account.active or account.role != "admin" or account.must_change:
            raise refused
        cert = enrol(
            self.accounts(),
            self.authority,
            self.authorship,
            code,
            public_key=public,
            agency=agency,
            by=account.name,
            at=self.now(),
        )
        return cert, self.authority.public_key


def glass_key(
    accounts: Accounts,
    authority: Authority,
    authorship: Authorship,
    account: Account,
    password: str,
    *,
    cost: KdfCost,
    at: str,
) -> tuple[str, str]:
    """Make (and certify) the key a break-glass account's password makes: returns the salt
    and the public key to keep with the account."""
    import base64
    import secrets

    salt = secrets.token_bytes(16)
    key = derived_key(normalise(password), salt, cost)
    cert = authority.certify(
        key.public_key,
        key.key_id,
        user=account.name,
        agency=account.agency.value,
        workstation=GLASS_WORKSTATION,
        at=at,
        break_glass=True,
    )
    accounts.add_key(cert)
    authorship.learn(cert)
    return base64.b64encode(salt).decode("ascii"), key.public_key


def enrol(
    accounts: Accounts,
    authority: Authority,
    authorship: Authorship,
    code: str,
    *,
    public_key: str,
    agency: str,
    by: str,
    at: str,
) -> KeyCertificate:
    """Enrol ``code`` with its device key (again, if it was revoked); certify the key."""
    from osc_console.models.agencies import Agency

    try:
        Agency(agency)
    except ValueError:
        raise ApiError(400, f"agency: {agency!r} is not a known agency") from None
    key_id = key_id_of(public_key)
    station = EnrolledWorkstation(code, key_id, public_key, agency, at, by)
    held = accounts.workstation(code)
    if held is not None and held.active:
        if held.key_id != key_id:
            raise ApiError(
                409,
                f"workstation {code} is already enrolled with another key; revoke it first",
            )
    else:
        other = accounts.key(key_id)
        if other is not None and other.workstation != code:
            raise ApiError(409, "that device key is already enrolled as another workstation")
        if held is None:
            accounts.enrol(station)
        else:
            accounts.reenrol(station)
        cert = authority.certify(
            public_key, key_id, user=device_actor(code), agency=agency, workstation=code, at=at
        )
        accounts.add_key(cert)
        authorship.learn(cert)
        accounts.audit(
            at,
            by,
            "workstation enrolled",
            code,
            f"key {key_id}, {agency}",
            address="",
            workstation=code,
        )
    found = accounts.key(key_id)
    assert found is not None
    return found


def _text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"{name}: must be given as text")
    if len(value) > limit or "\x00" in value:
        raise ApiError(400, f"{name}: is not acceptable (too long, or has a NUL character)")
    return value


def _new_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def _digest(token: str) -> str:
    from osc_console.server.storage import token_digest

    return token_digest(token)
