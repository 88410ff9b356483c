"""Who is at this workstation, provably: signing a person in, online or offline.

Online, the authority (the central server, or this workstation's own when standalone) checks
the password, proves nothing about the person to us but a signed grant and a certificate of
their key at this desk; the key itself was made here at their first sign-in and is kept
sealed under their password. Offline, the password unseals that key (a wrong password
cannot), and the grant they were last given says their role until it expires. Nobody never
seen at this desk signs in offline, except through the room's break-glass account.

Five consecutive wrong passwords at this desk lock the name here for a while too, so that
unplugging the network does not buy an attacker more guesses.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from osc_console.models.agencies import Agency
from osc_console.models.authority import WORKSTATION, Role
from osc_console.models.clock import from_iso, local_label, to_iso
from osc_console.models.errors import DomainError
from osc_console.models.events import Author
from osc_console.models.passwords import normalise
from osc_console.models.payloads import SignInMethod
from osc_console.models.users import User
from osc_console.signing.documents import (
    Grant,
    KeyCertificate,
    device_actor,
    possession_message,
    proof_message,
)
from osc_console.signing.keys import SigningKey, fingerprint
from osc_console.signing.vault import (
    DEFAULT_COST,
    KdfCost,
    SealedKeyError,
    WrongPasswordError,
    derived_key,
    open_key,
    seal_key,
)
from osc_console.store.event_store import Store
from osc_console.store.keyring import Keyring, Person, PinnedAuthority
from osc_console.sync.protocol import BreakGlass, LoginReply, LoginRequest, NewKey, Proof

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)


class SignInError(DomainError):
    """A sign-in refused, in words the person at the desk can act on."""


@dataclass(frozen=True, slots=True)
class Operator:
    """A person signed in at this workstation: their role, and their unlocked key."""

    user: str
    display_name: str
    agency: Agency
    role: Role
    workstation: str
    signer: SigningKey = field(repr=False)
    certificate: KeyCertificate
    method: SignInMethod
    grant: Grant | None = None
    token: str | None = None  # the server's token, when signed in online
    declared_name: str | None = None  # break-glass: who the person says they are
    reason: str | None = None

    @property
    def person(self) -> User:
        return User(self.user, self.agency, self.role)

    def author(self, realm: str) -> Author:
        return Author(
            self.user,
            self.agency,
            self.workstation,
            realm,
            role=self.role.value,
            signer=self.signer,
        )

    @property
    def label(self) -> str:
        shown = self.display_name or self.user
        if self.method is SignInMethod.BREAK_GLASS and self.declared_name:
            shown = f"{self.declared_name} (break-glass {self.user})"
        return f"{shown} ({self.agency.label.split()[-1]} · {self.role.label})"


@dataclass(slots=True)
class WorkstationIdentity:
    """This workstation's side of every sign-in. Satisfies the sync engine's SignInHelper."""

    keyring: Keyring
    code: str
    kdf_cost: KdfCost = DEFAULT_COST
    wall: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lock_after: int = LOCK_AFTER
    lock_for: timedelta = LOCK_FOR
    _pending: dict[str, tuple[SigningKey, str]] = field(default_factory=dict)
    _opened: dict[str, SigningKey] = field(default_factory=dict)

    def now(self) -> str:
        return to_iso(self.wall())

    # ---- the desk --------------------------------------------------------------------------
    @property
    def device_key(self) -> SigningKey:
        return self.keyring.device_key(self.code, self.now())

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.device_key.public_key)

    def device_author(self, realm: str) -> Author | None:
        """The workstation signing its own entries, once it is enrolled."""
        cert = self.keyring.device_certificate()
        if cert is None:
            return None
        return Author(
            device_actor(self.code),
            Agency(cert.agency),
            self.code,
            realm,
            role=WORKSTATION,
            signer=self.device_key,
        )

    def enrolment_request(self, agency: str) -> dict[str, str]:
        """What an administrator at this desk sends to enrol it (with their own name and
        password added)."""
        key = self.device_key
        return {
            "workstation": self.code,
            "public_key": key.public_key,
            "agency": agency,
            "possession": key.sign(
                possession_message(key.key_id, device_actor(self.code), self.code, "enrol")
            ),
        }

    # ---- online sign-in (SignInHelper) -------------------------------------------------------
    def login_request(self, user: str, password: str, realm: str) -> LoginRequest:
        nonce = secrets.token_urlsafe(24)
        at = self.now()
        device = self.device_key
        proof = Proof(nonce, at, device.sign(proof_message(user, self.code, realm, nonce, at)))
        key = self._open(user, password)
        new_key = None
        if key is not None:
            self._pending.pop(user.casefold(), None)  # an earlier attempt's new key: not needed
        else:
            # First sign-in here, or the password was reset: a new key, proven to be held.
            key = SigningKey.generate()
            self._pending[user.casefold()] = (key, nonce)
            possession = key.sign(possession_message(key.key_id, user, self.code, nonce))
            new_key = NewKey(key.public_key, possession)
        return LoginRequest(user, password, self.code, realm, proof, new_key)

    def accepted(self, reply: LoginReply, password: str) -> None:
        """Keep what the authority gave: its key (pinned), the person's key and grant."""
        self._pin(reply)
        session = reply.session
        if reply.device_certificate is not None:
            self.keyring.set_device_certificate(reply.device_certificate)
        self.keyring.clear_failures(session.user)
        if session.must_change_password:
            return
        # What the server says now, even nothing: an account no longer break-glass (or
        # disabled) is forgotten here at the next sign-in.
        self.keyring.keep_break_glass([b.to_wire() for b in reply.break_glass], self.now())
        if reply.certificate is None or reply.grant is None:
            raise SignInError("the server gave no key certificate or grant; sign in again")
        pending = self._pending.pop(session.user.casefold(), None)
        candidates = [
            k
            for k in (pending[0] if pending else None, self._opened.get(session.user.casefold()))
            if k is not None
        ]
        key = next((k for k in candidates if k.key_id == reply.certificate.key_id), None)
        if key is None:
            raise SignInError(
                "the server certified another key than this workstation holds; sign in again"
            )
        self._opened[session.user.casefold()] = key
        self.keyring.keep(
            Person(
                session.user,
                session.display_name,
                session.agency,
                seal_key(
                    key, normalise(password), _context(session.user, self.code), self.kdf_cost
                ),
                key.key_id,
                reply.certificate,
                reply.grant,
                self.now(),
            )
        )

    def operator(self, reply: LoginReply) -> Operator:
        """The person an accepted sign-in signed in."""
        session = reply.session
        key = self._opened.get(session.user.casefold())
        if key is None or reply.certificate is None:
            raise SignInError("sign in again: this sign-in gave no key")
        return Operator(
            session.user,
            session.display_name,
            Agency(session.agency),
            Role(session.role),
            self.code,
            key,
            reply.certificate,
            SignInMethod.ONLINE,
            reply.grant,
            session.token,
        )

    def _pin(self, reply: LoginReply) -> None:
        pinned = self.keyring.authority()
        if not reply.authority_key_id:
            raise SignInError("the server did not say which key it signs with")
        if pinned is not None and pinned.key_id != reply.authority_key_id:
            if pinned.kind == "standalone":
                raise SignInError(
                    "this workstation is standalone (its own authority); it cannot also sign "
                    "in to a server: ask an administrator to move it to the server"
                )
            raise SignInError(
                f"the server signs with key {reply.authority_key_id}, not the key "
                f"{pinned.key_id} this workstation knows it by: it may not be your server. "
                "Nothing was changed; ask an administrator"
            )
        if pinned is None:
            self.keyring.pin(
                PinnedAuthority(
                    "server", reply.server_id, reply.authority_key_id, reply.authority_public_key
                ),
                self.now(),
            )

    def enrolled(self, answer: dict[str, object]) -> KeyCertificate:
        """Keep what the server answered to an administrator's enrolment at this desk: its
        certificate of the device key, and (pinned) the authority that signed it."""
        cert = KeyCertificate.from_wire(answer["device_certificate"])  # type: ignore[arg-type]
        authority = answer.get("authority")
        if not isinstance(authority, dict) or cert.key_id != self.device_key.key_id:
            raise SignInError("the server's answer to the enrolment cannot be read")
        pinned = self.keyring.authority()
        if pinned is not None and pinned.key_id != authority.get("key_id"):
            raise SignInError(
                "the server signs with another key than the one this workstation knows it by"
            )
        if not cert.verified_by(str(authority.get("public_key"))):
            raise SignInError("the server's certificate of this workstation does not verify")
        if pinned is None:
            self.keyring.pin(
                PinnedAuthority(
                    "server",
                    str(answer.get("server_id", "")),
                    str(authority["key_id"]),
                    str(authority["public_key"]),
                ),
                self.now(),
            )
        self.keyring.set_device_certificate(cert)
        return cert

    def unlock(self, operator: Operator, password: str) -> None:
        """The person who locked the console unlocks it: their password opens their key
        (no server needed). Failures count, as at sign-in."""
        self._check_not_locked(operator.user)
        if operator.method is SignInMethod.BREAK_GLASS:
            accounts = {b.user.casefold(): b for b in self.break_glass_accounts()}
            bundle = accounts.get(operator.user.casefold())
            if bundle is None or self._glass_key(bundle, password) is None:
                raise self._failed(operator.user)
        else:
            key = self._open(operator.user, password)
            if key is None or key.key_id != operator.signer.key_id:
                raise self._failed(operator.user)
        self.keyring.clear_failures(operator.user)

    # ---- offline sign-in -------------------------------------------------------------------
    def sign_in_offline(self, user: str, password: str) -> Operator:
        """The server cannot be reached: the password unseals the key held here, and the
        grant held says the role. Someone never seen here is refused."""
        self._check_not_locked(user)
        person = self.keyring.person(user)
        if person is None or person.sealed_key is None:
            raise SignInError(
                f"{user} has never signed in at this workstation, and the server cannot be "
                "reached: sign in where you have before, or use the room's break-glass account"
            )
        key = self._open(person.user, password)
        if key is None:
            raise self._failed(person.user)
        self.keyring.clear_failures(person.user)
        grant, cert = person.grant, person.certificate
        authority = self.keyring.authority()
        if grant is None or cert is None or authority is None:
            raise SignInError(f"{person.user} holds no grant here; sign in online first")
        if (
            not grant.verified_by(authority.public_key)
            or not cert.verified_by(authority.public_key)
            # Every field that says who, where and what, not only the signatures: a grant or
            # certificate copied from another person's row proves nothing about this one.
            or grant.user.casefold() != person.user.casefold()
            or cert.user.casefold() != person.user.casefold()
            or grant.workstation != self.code
            or cert.workstation != self.code
            or grant.agency != cert.agency
            or cert.key_id != key.key_id
        ):
            raise SignInError(f"the grant held for {person.user} does not verify; sign in online")
        if from_iso(grant.expires_at) <= self.wall():
            raise SignInError(
                f"the grant {person.user} was last given here ran out at "
                f"{local_label(from_iso(grant.expires_at))}; sign in while the server can be "
                "reached (or use the room's break-glass account)"
            )
        self.keyring.keep(replace(person, last_signed_in=self.now()))
        return Operator(
            person.user,
            person.display_name,
            Agency(grant.agency),
            Role(grant.role),
            self.code,
            key,
            cert,
            SignInMethod.OFFLINE if authority.kind == "server" else SignInMethod.STANDALONE,
            grant,
        )

    # ---- break glass -------------------------------------------------------------------------
    def break_glass_accounts(self) -> list[BreakGlass]:
        return [BreakGlass.from_wire(b) for b in self.keyring.break_glass()]

    def sign_in_break_glass(
        self, user: str, password: str, declared_name: str, reason: str
    ) -> Operator:
        """The room's emergency account, at a desk, with the server down: its password must
        make the account's key (Argon2id with the salt the server gave); that key certifies a
        new key made for this use only, and the use is recorded (by the caller)."""
        if not declared_name.strip() or not reason.strip():
            raise SignInError("break-glass: say who you are and why the account is needed")
        self._check_not_locked(user)
        accounts = {b.user.casefold(): b for b in self.break_glass_accounts()}
        bundle = accounts.get(user.casefold())
        if bundle is None:
            raise SignInError(
                f"{user} is not a break-glass account this workstation knows (it learns them "
                "when someone of its organisation signs in online)"
            )
        glass = self._glass_key(bundle, password)
        if glass is None:
            raise self._failed(bundle.user)
        self.keyring.clear_failures(bundle.user)
        authority = self.keyring.authority()
        grant = bundle.grant
        if (
            authority is None
            or not grant.verified_by(authority.public_key)
            or not bundle.certificate.verified_by(authority.public_key)
            or (grant.user, grant.agency) != (bundle.certificate.user, bundle.certificate.agency)
            or grant.user.casefold() != bundle.user.casefold()
        ):
            raise SignInError("the break-glass account held here does not verify")
        if grant.workstation != self.code or from_iso(grant.expires_at) <= self.wall():
            raise SignInError("the break-glass grant held here has run out; ask an administrator")
        key = SigningKey.generate()
        cert = KeyCertificate(
            key_id=key.key_id,
            public_key=key.public_key,
            user=grant.user,
            agency=grant.agency,
            workstation=self.code,
            issued_at=self.now(),
            issuer=glass.key_id,
            break_glass=True,
        ).signed_by(glass)
        self.keyring.keep_break_glass_key(cert)
        return Operator(
            grant.user,
            grant.display_name,
            Agency(grant.agency),
            Role(grant.role),
            self.code,
            key,
            cert,
            SignInMethod.BREAK_GLASS,
            grant,
            declared_name=" ".join(declared_name.split()),
            reason=reason.strip(),
        )

    def _glass_key(self, bundle: BreakGlass, password: str) -> SigningKey | None:
        """The break-glass account's key, if ``password`` makes it."""
        try:
            salt = base64.b64decode(bundle.salt)
            key = derived_key(normalise(password), salt, KdfCost(*bundle.cost))
        except (ValueError, TypeError):
            return None
        return key if key.public_key == bundle.certificate.public_key else None

    # ---- standalone: this workstation is its own authority -------------------------------------
    def standalone_authority(self) -> PinnedAuthority:
        """The authority of a workstation with no server, made on first use."""
        pinned = self.keyring.authority()
        if pinned is not None:
            return pinned
        key = SigningKey.generate()
        made = PinnedAuthority(
            "standalone",
            f"standalone-{self.code}",
            key.key_id,
            key.public_key,
            base64.b64encode(key.seed).decode("ascii"),
        )
        self.keyring.pin(made, self.now())
        return made

    # ---- helpers ---------------------------------------------------------------------------
    def known_people(self) -> list[Person]:
        return self.keyring.people()

    def record_failure(self, user: str) -> SignInError:
        """A wrong password the authority reported: counted here too."""
        return self._failed(user)

    def _open(self, user: str, password: str) -> SigningKey | None:
        person = self.keyring.person(user)
        if person is None or person.sealed_key is None:
            return None
        try:
            key = open_key(person.sealed_key, normalise(password), _context(person.user, self.code))
        except (WrongPasswordError, SealedKeyError):
            return None
        self._opened[person.user.casefold()] = key
        return key

    def _check_not_locked(self, user: str) -> None:
        count, until = self.keyring.failures(user)
        if until is not None and from_iso(until) > self.wall():
            raise SignInError(
                f"{user} is locked at this workstation after {count} failed sign-ins until "
                f"{local_label(from_iso(until))}; an administrator can unlock it"
            )

    def _failed(self, user: str) -> SignInError:
        count = self.keyring.record_failure(user)
        if count >= self.lock_after:
            until = self.wall() + self.lock_for
            self.keyring.lock(user, to_iso(until))
            minutes = int(self.lock_for.total_seconds() // 60)
            return SignInError(
                f"user name or password not recognised; after {count} failures in a row "
                f"{user} is locked at this workstation for {minutes} min"
            )
        return SignInError("user name or password not recognised")


def register_operator(store: Store, operator: Operator, identity: WorkstationIdentity) -> None:
    """Make ``store`` able to check what this operator signs: their authority trusted, their
    certificate (and this desk's device certificate, which certifies a break-glass key) held."""
    authority = identity.keyring.authority()
    if authority is not None and authority.key_id not in store.authorities():
        store.trust_authority(authority.key_id, authority.public_key, _authority_name(authority))
    certs = []
    device = identity.keyring.device_certificate()
    if device is not None:
        certs.append(device)
    if operator.method is SignInMethod.BREAK_GLASS:
        certs.extend(
            b.certificate
            for b in identity.break_glass_accounts()
            if b.user.casefold() == operator.user.casefold()
        )
    certs.append(operator.certificate)
    problems = store.add_certificates(certs)
    if problems:
        raise SignInError(f"this store cannot check your signature: {problems[0]}")


def _authority_name(authority: PinnedAuthority) -> str:
    return (
        f"server {authority.server_id}"
        if authority.kind == "server"
        else f"standalone authority of {authority.server_id.removeprefix('standalone-')}"
    )


def _context(user: str, code: str) -> str:
    return f"{user.casefold()}@{code}"
