"""The server's records of people and desks: accounts, failed sign-ins, enrolled
workstations, certified keys, grants, sign-in tokens and the audit trail.

Each method is one statement, committed, written once for both databases (each backend runs
it with its own placeholders). Nothing here decides anything: the sign-in, administration
and push rules do, in :mod:`.signin`, :mod:`.admin` and :mod:`.authorship`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from osc_console.models.agencies import Agency
from osc_console.signing.documents import Grant, KeyCertificate

Execute = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


class UserExistsError(Exception):
    pass


class WorkstationExistsError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    display_name: str
    agency: Agency
    role: str
    password_hash: str
    active: bool = True
    must_change: bool = False
    break_glass: bool = False
    created_at: str = ""
    changed_at: str | None = None
    glass_salt: str | None = None  # break-glass accounts: what makes the key from the password
    glass_key: str | None = None  # and the key it makes (public half)

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True, slots=True)
class Failures:
    count: int
    locked_until: str | None


@dataclass(frozen=True, slots=True)
class EnrolledWorkstation:
    code: str
    key_id: str
    public_key: str
    agency: str
    enrolled_at: str
    enrolled_by: str
    revoked_at: str | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    user: str
    agency: Agency
    role: str
    workstation: str
    realm: str
    expires_at: str
    must_change: bool


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail: str
    address: str
    workstation: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "detail": self.detail,
            "address": self.address,
            "workstation": self.workstation,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> AuditEntry:
        return cls(
            int(data["seq"]),
            str(data["at"]),
            str(data["actor"]),
            str(data["action"]),
            str(data["subject"]),
            str(data.get("detail") or ""),
            str(data.get("address") or ""),
            str(data.get("workstation") or ""),
        )


_ACCOUNT_COLUMNS = (
    "name, display_name, agency, role, password_hash, active, must_change, break_glass, "
    "created_at, changed_at, glass_salt, glass_key"
)
_WORKSTATION_COLUMNS = (
    "code, key_id, public_key, agency, enrolled_at, enrolled_by, revoked_at, revoked_by"
)
# As KeyCertificate.COLUMNS, with the server's name for the person's column.
_KEY_COLUMNS = KeyCertificate.COLUMNS.replace("user,", "user_name,")


def _account(row: Sequence[Any]) -> Account:
    return Account(
        row[0],
        row[1] or "",
        Agency(row[2]),
        row[3],
        row[4],
        bool(row[5]),
        bool(row[6]),
        bool(row[7]),
        row[8],
        row[9],
        row[10],
        row[11],
    )


class Accounts:
    def __init__(self, execute: Execute, unique_violation: tuple[type[Exception], ...]) -> None:
        self._execute = execute
        self._unique = unique_violation

    # ---- accounts ----------------------------------------------------------------------------
    def add(self, account: Account, at: str) -> None:
        try:
            self._execute(
                f"INSERT INTO users ({_ACCOUNT_COLUMNS}, name_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    account.name,
                    account.display_name,
                    account.agency.value,
                    account.role,
                    account.password_hash,
                    int(account.active),
                    int(account.must_change),
                    int(account.break_glass),
                    at,
                    at,
                    account.glass_salt,
                    account.glass_key,
                    account.name.casefold(),
                ),
            )
        except self._unique:
            raise UserExistsError(account.name) from None

    def find(self, name: str) -> Account | None:
        rows = self._execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM users WHERE name_key = ?", (name.casefold(),)
        )
        return _account(rows[0]) if rows else None

    def all(self) -> list[Account]:
        return [
            _account(r)
            for r in self._execute(f"SELECT {_ACCOUNT_COLUMNS} FROM users ORDER BY name_key", ())
        ]

    def break_glass_accounts(self) -> list[Account]:
        return [
            _account(r)
            for r in self._execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM users WHERE break_glass = 1 AND active = 1 "
                "ORDER BY name_key",
                (),
            )
        ]

    def set_role(self, name: str, role: str, at: str) -> None:
        self._execute(
            "UPDATE users SET role = ?, changed_at = ? WHERE name_key = ?",
            (role, at, name.casefold()),
        )

    def set_active(self, name: str, active: bool, at: str) -> None:
        self._execute(
            "UPDATE users SET active = ?, changed_at = ? WHERE name_key = ?",
            (int(active), at, name.casefold()),
        )

    def set_password(
        self,
        name: str,
        password_hash: str,
        must_change: bool,
        at: str,
        glass: tuple[str, str] | None = None,
    ) -> None:
        """A new password (and, for a break-glass account, the key it makes: salt, key)."""
        self._execute(
            "UPDATE users SET password_hash = ?, must_change = ?, changed_at = ?, "
            "glass_salt = coalesce(?, glass_salt), glass_key = coalesce(?, glass_key) "
            "WHERE name_key = ?",
            (
                password_hash,
                int(must_change),
                at,
                glass[0] if glass else None,
                glass[1] if glass else None,
                name.casefold(),
            ),
        )

    # ---- failed sign-ins (per typed name, known or not) -----------------------------------
    def failures(self, name: str) -> Failures:
        rows = self._execute(
            "SELECT failures, locked_until FROM sign_in_failures WHERE name_key = ?",
            (name.casefold(),),
        )
        return Failures(int(rows[0][0]), rows[0][1]) if rows else Failures(0, None)

    def record_failure(self, name: str, at: str) -> int:
        """One more consecutive failure; returns how many there have been."""
        rows = self._execute(
            "INSERT INTO sign_in_failures (name_key, failures, last_at) VALUES (?, 1, ?) "
            "ON CONFLICT (name_key) DO UPDATE SET failures = sign_in_failures.failures + 1, "
            "last_at = excluded.last_at RETURNING failures",
            (name.casefold(), at),
        )
        return int(rows[0][0])

    def lock(self, name: str, until: str) -> None:
        self._execute(
            "UPDATE sign_in_failures SET locked_until = ? WHERE name_key = ?",
            (until, name.casefold()),
        )

    def clear_failures(self, name: str) -> None:
        self._execute("DELETE FROM sign_in_failures WHERE name_key = ?", (name.casefold(),))

    # ---- workstations ------------------------------------------------------------------------
    def enrol(self, station: EnrolledWorkstation) -> None:
        try:
            self._execute(
                f"INSERT INTO workstations ({_WORKSTATION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    station.code,
                    station.key_id,
                    station.public_key,
                    station.agency,
                    station.enrolled_at,
                    station.enrolled_by,
                    None,
                    None,
                ),
            )
        except self._unique:
            raise WorkstationExistsError(station.code) from None

    def workstation(self, code: str) -> EnrolledWorkstation | None:
        rows = self._execute(
            f"SELECT {_WORKSTATION_COLUMNS} FROM workstations WHERE code = ?", (code,)
        )
        return EnrolledWorkstation(*rows[0]) if rows else None

    def workstations(self) -> list[EnrolledWorkstation]:
        return [
            EnrolledWorkstation(*r)
            for r in self._execute(
                f"SELECT {_WORKSTATION_COLUMNS} FROM workstations ORDER BY code", ()
            )
        ]

    def revoke_workstation(self, code: str, at: str, by: str) -> None:
        self._execute(
            "UPDATE workstations SET revoked_at = ?, revoked_by = ? WHERE code = ? "
            "AND revoked_at IS NULL",
            (at, by, code),
        )

    def reenrol(self, station: EnrolledWorkstation) -> None:
        """A revoked workstation enrolled again with a new device key."""
        self._execute(
            "UPDATE workstations SET key_id = ?, public_key = ?, agency = ?, enrolled_at = ?, "
            "enrolled_by = ?, revoked_at = NULL, revoked_by = NULL WHERE code = ?",
            (
                station.key_id,
                station.public_key,
                station.agency,
                station.enrolled_at,
                station.enrolled_by,
                station.code,
            ),
        )

    # ---- certified keys ----------------------------------------------------------------------
    def add_key(self, cert: KeyCertificate) -> None:
        self._execute(
            f"INSERT INTO user_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key_id) DO NOTHING",
            cert.row(),
        )

    def key(self, key_id: str) -> KeyCertificate | None:
        rows = self._execute(f"SELECT {_KEY_COLUMNS} FROM user_keys WHERE key_id = ?", (key_id,))
        return KeyCertificate.from_row(rows[0]) if rows else None

    def keys_of(self, user: str, workstation: str) -> list[KeyCertificate]:
        return [
            KeyCertificate.from_row(r)
            for r in self._execute(
                f"SELECT {_KEY_COLUMNS} FROM user_keys WHERE user_name = ? AND workstation = ? "
                "ORDER BY issued_at",
                (user, workstation),
            )
        ]

    # ---- grants ------------------------------------------------------------------------------
    def add_grant(self, grant: Grant) -> None:
        self._execute(
            "INSERT INTO grants (grant_id, user_name, workstation, role, agency, issued_at, "
            "expires_at, break_glass) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                grant.grant_id,
                grant.user,
                grant.workstation,
                grant.role,
                grant.agency,
                grant.issued_at,
                grant.expires_at,
                int(grant.break_glass),
            ),
        )

    def grants_of(self, user: str, workstation: str) -> list[tuple[str, str, str, str | None]]:
        """(role, issued_at, expires_at, revoked_at) of every grant, oldest first."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self._execute(
                "SELECT role, issued_at, expires_at, revoked_at FROM grants "
                "WHERE user_name = ? AND workstation = ? ORDER BY issued_at",
                (user, workstation),
            )
        ]

    def revoke_grants(self, user: str, at: str) -> None:
        self._execute(
            "UPDATE grants SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL "
            "AND expires_at > ?",
            (at, user, at),
        )

    # ---- tokens ------------------------------------------------------------------------------
    def save_token(self, digest: str, token: TokenRecord, created_at: str) -> None:
        """Tokens live in the database, so any server process on it accepts them."""
        self._execute(
            "INSERT INTO tokens (digest, user_name, agency, role, workstation, realm, "
            "created_at, expires_at, must_change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                digest,
                token.user,
                token.agency.value,
                token.role,
                token.workstation,
                token.realm,
                created_at,
                token.expires_at,
                int(token.must_change),
            ),
        )

    def find_token(self, digest: str) -> TokenRecord | None:
        rows = self._execute(
            "SELECT user_name, agency, role, workstation, realm, expires_at, must_change "
            "FROM tokens WHERE digest = ?",
            (digest,),
        )
        if not rows:
            return None
        row = rows[0]
        return TokenRecord(row[0], Agency(row[1]), row[2], row[3], row[4], row[5], bool(row[6]))

    def drop_token(self, digest: str) -> None:
        self._execute("DELETE FROM tokens WHERE digest = ?", (digest,))

    def drop_tokens_of(self, user: str) -> None:
        self._execute("DELETE FROM tokens WHERE user_name = ?", (user,))

    def drop_tokens_at(self, workstation: str) -> None:
        self._execute("DELETE FROM tokens WHERE workstation = ?", (workstation,))

    # ---- sign-in proofs ----------------------------------------------------------------------
    def use_nonce(self, nonce: str, at: str, older_than: str) -> bool:
        """True the first time a proof's nonce is seen; False for a replay."""
        self._execute("DELETE FROM nonces WHERE at < ?", (older_than,))
        try:
            self._execute("INSERT INTO nonces (nonce, at) VALUES (?, ?)", (nonce, at))
        except self._unique:
            return False
        return True

    # ---- the audit trail ---------------------------------------------------------------------
    def audit(
        self,
        at: str,
        actor: str,
        action: str,
        subject: str,
        detail: str = "",
        *,
        address: str = "",
        workstation: str = "",
    ) -> None:
        self._execute(
            "INSERT INTO audit (at, actor, action, subject, detail, address, workstation) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, actor, action, subject, detail, address, workstation),
        )

    def audit_after(self, seq: int, limit: int) -> list[AuditEntry]:
        return [
            AuditEntry(int(r[0]), *r[1:])
            for r in self._execute(
                "SELECT seq, at, actor, action, subject, detail, address, workstation "
                "FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            )
        ]
