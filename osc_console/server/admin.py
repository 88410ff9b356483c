"""Administering accounts and workstations: what an administrator may change, and the
record of each change (who, when, what) in the audit trail.

The same rules serve the Administration window (over HTTP, as the signed-in administrator,
or in process on a standalone workstation) and ``osc-console user …`` on the server's own
machine (recorded as done from the command line). Nobody chooses their own role: only an
administrator grants one, and the last active administrator cannot be disabled or demoted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from osc_console.models.authority import Role
from osc_console.models.clock import from_iso, to_iso
from osc_console.models.errors import ValidationError
from osc_console.models.passwords import check_password, normalise
from osc_console.models.users import make_user
from osc_console.server.accounts import Account, Accounts, AuditEntry, UserExistsError
from osc_console.server.authorship import Authorship
from osc_console.server.errors import ApiError
from osc_console.server.passwords import hash_password
from osc_console.server.signin import enrol, glass_key
from osc_console.signing.authority import Authority
from osc_console.signing.keys import BadKeyError, key_id_of
from osc_console.signing.vault import DEFAULT_COST, KdfCost

MAX_AUDIT_PAGE = 1000


def _kinds(role: str) -> frozenset[str]:
    """What a role may write, to tell a promotion from a demotion."""
    from osc_console.models.authority import AUTHORITY

    return frozenset(kind for kind, roles in AUTHORITY.items() if role in roles)


@dataclass(frozen=True, slots=True)
class UserView:
    """An account as the Administration window lists it (never its password hash)."""

    name: str
    display_name: str
    agency: str
    role: str
    active: bool
    must_change: bool
    break_glass: bool
    failures: int
    locked_until: str | None
    created_at: str
    changed_at: str | None

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "agency": self.agency,
            "role": self.role,
            "active": self.active,
            "must_change": self.must_change,
            "break_glass": self.break_glass,
            "failures": self.failures,
            "locked_until": self.locked_until,
            "created_at": self.created_at,
            "changed_at": self.changed_at,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> UserView:
        """As the server's Administration routes send it (the console's window reads it)."""
        return cls(
            str(data["name"]),
            str(data.get("display_name") or ""),
            str(data["agency"]),
            str(data["role"]),
            bool(data["active"]),
            bool(data.get("must_change", False)),
            bool(data.get("break_glass", False)),
            int(data.get("failures", 0)),
            data.get("locked_until"),
            str(data.get("created_at") or ""),
            data.get("changed_at"),
        )

    @property
    def state(self) -> str:
        words = ["active" if self.active else "disabled"]
        if self.locked_until:
            words.append("locked")
        if self.must_change:
            words.append("must change password")
        if self.break_glass:
            words.append("break-glass")
        return ", ".join(words)


@dataclass(slots=True)
class AdminService:
    accounts: Callable[[], Accounts]
    authority: Authority
    authorship: Authorship
    wall: Callable[[], datetime]
    hash_cost: int = 2**14
    glass_cost: KdfCost = DEFAULT_COST

    def now(self) -> str:
        return to_iso(self.wall())

    # ---- accounts -------------------------------------------------------------------------------
    def users(self) -> list[UserView]:
        accounts = self.accounts()
        found = []
        now = self.wall()
        for account in accounts.all():
            failures = accounts.failures(account.name)
            locked = failures.locked_until
            if locked is not None and from_iso(locked) <= now:
                locked = None
            found.append(
                UserView(
                    account.name,
                    account.display_name,
                    account.agency.value,
                    account.role,
                    account.active,
                    account.must_change,
                    account.break_glass,
                    failures.count,
                    locked,
                    account.created_at,
                    account.changed_at,
                )
            )
        return found

    def add_user(
        self,
        by: str,
        name: str,
        agency: str,
        role: str,
        password: str,
        *,
        display_name: str = "",
        break_glass: bool = False,
        must_change: bool = True,
    ) -> Account:
        """Raises ValidationError naming the field; nothing is stored then. An account made
        by an administrator must choose its own password at first sign-in (``must_change``);
        the first administrator, who typed their own, need not."""
        person = make_user(name, agency, role)
        check_password(password, person.name)
        display = " ".join(display_name.split())
        if len(display) > 100:
            raise ValidationError("display_name", "must be at most 100 characters")
        account = Account(
            person.name,
            display,
            person.agency,
            person.role.value,
            hash_password(normalise(password), cost=self.hash_cost),
            True,
            must_change,
            break_glass,
        )
        accounts = self.accounts()
        try:
            accounts.add(account, self.now())
        except UserExistsError:
            raise ValidationError("name", f"a user called {person.name!r} already exists") from None
        if break_glass:
            salt, public = glass_key(
                accounts,
                self.authority,
                self.authorship,
                account,
                password,
                cost=self.glass_cost,
                at=self.now(),
            )
            accounts.set_password(
                account.name, account.password_hash, must_change, self.now(), (salt, public)
            )
        kind = "break-glass account" if break_glass else "account"
        self._audit(
            by,
            "account created",
            person.name,
            f"{kind}: {person.agency.value}, {person.role.value}",
        )
        return account

    def set_role(self, by: str, name: str, role: str) -> None:
        account = self._account(name)
        try:
            wanted = Role(role)
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise ValidationError("role", f"{role!r} is not one of {allowed}") from None
        if account.role == wanted.value:
            raise ValidationError("role", f"{account.name} is already a {wanted.label}")
        if account.role == Role.ADMIN and account.active:
            self._keep_an_admin(account.name, "demote")
        accounts = self.accounts()
        accounts.set_role(account.name, wanted.value, self.now())
        # Their sign-ins end: the role they held is in every token, and an administrator
        # demoted must not keep administering on the token they have.
        accounts.drop_tokens_of(account.name)
        if not _kinds(wanted.value) >= _kinds(account.role):
            # A role that may not write all the old one could: what they write from now on
            # the grant they hold is refused (it is revoked from this moment).
            accounts.revoke_grants(account.name, self.now())
        self._audit(
            by,
            "role changed",
            account.name,
            f"{account.role} -> {wanted.value} (from the next sign-in; signed out)",
        )

    def disable(self, by: str, name: str) -> None:
        account = self._account(name)
        if not account.active:
            raise ValidationError("name", f"{account.name} is already disabled")
        if account.role == Role.ADMIN:
            self._keep_an_admin(account.name, "disable")
        accounts = self.accounts()
        now = self.now()
        accounts.set_active(account.name, False, now)
        # From now, nothing of theirs is accepted, even on a grant a console holds offline.
        accounts.revoke_grants(account.name, now)
        accounts.drop_tokens_of(account.name)
        self._audit(by, "account disabled", account.name, "grants revoked; signed out")

    def enable(self, by: str, name: str) -> None:
        account = self._account(name)
        if account.active:
            raise ValidationError("name", f"{account.name} is already enabled")
        self.accounts().set_active(account.name, True, self.now())
        self._audit(by, "account enabled", account.name, "")

    def reset_password(self, by: str, name: str, password: str) -> None:
        account = self._account(name)
        check_password(password, account.name)
        accounts = self.accounts()
        glass = None
        if account.break_glass:  # its key is made from its password: a new key, certified
            glass = glass_key(
                accounts,
                self.authority,
                self.authorship,
                account,
                password,
                cost=self.glass_cost,
                at=self.now(),
            )
        accounts.set_password(
            account.name,
            hash_password(normalise(password), cost=self.hash_cost),
            True,
            self.now(),
            glass,
        )
        accounts.drop_tokens_of(account.name)
        accounts.clear_failures(account.name)
        # The old password may be known to someone else: the grants held with it end now, so
        # nothing written offline with the old password from now is accepted.
        accounts.revoke_grants(account.name, self.now())
        self._audit(
            by, "password reset", account.name, "must choose a new one at sign-in; grants revoked"
        )

    def unlock(self, by: str, name: str) -> None:
        accounts = self.accounts()
        failures = accounts.failures(name)
        account = accounts.find(name)
        if failures.count == 0 and failures.locked_until is None:
            who = account.name if account else name
            raise ValidationError("name", f"{who} is not locked")
        accounts.clear_failures(name)
        self._audit(
            by,
            "account unlocked",
            account.name if account else name,
            f"after {failures.count} failed sign-ins",
        )

    # ---- workstations ---------------------------------------------------------------------------
    def workstations(self) -> list[dict[str, Any]]:
        return [
            {
                "code": w.code,
                "key_id": w.key_id,
                "agency": w.agency,
                "enrolled_at": w.enrolled_at,
                "enrolled_by": w.enrolled_by,
                "revoked_at": w.revoked_at,
                "revoked_by": w.revoked_by,
            }
            for w in self.accounts().workstations()
        ]

    def enrol_workstation(self, by: str, code: str, public_key: str, agency: str) -> str:
        from osc_console.models.incident import WORKSTATION_CODE

        clean = code.strip().upper()
        if not WORKSTATION_CODE.match(clean):
            raise ValidationError("workstation", "must be 2 to 8 capital letters or digits")
        try:
            key_id_of(public_key)
        except BadKeyError as exc:
            raise ValidationError("public_key", str(exc)) from None
        try:
            cert = enrol(
                self.accounts(),
                self.authority,
                self.authorship,
                clean,
                public_key=public_key,
                agency=agency,
                by=by,
                at=self.now(),
            )
        except ApiError as exc:
            raise ValidationError("workstation", exc.message) from None
        return cert.key_id

    def revoke_workstation(self, by: str, code: str) -> None:
        accounts = self.accounts()
        held = accounts.workstation(code.strip().upper())
        if held is None or not held.active:
            raise ValidationError("workstation", f"{code} is not an enrolled workstation")
        accounts.revoke_workstation(held.code, self.now(), by)
        accounts.drop_tokens_at(held.code)  # its sign-ins end now, not when they run out
        self._audit(by, "workstation revoked", held.code, f"key {held.key_id}; signed out")

    # ---- the audit trail ------------------------------------------------------------------------
    def audit(self, after: int = 0, limit: int = MAX_AUDIT_PAGE) -> list[AuditEntry]:
        return self.accounts().audit_after(max(0, after), max(1, min(limit, MAX_AUDIT_PAGE)))

    # ---- helpers --------------------------------------------------------------------------------
    def _account(self, name: str) -> Account:
        account = self.accounts().find(name)
        if account is None:
            raise ValidationError("name", f"there is no user called {name!r}")
        return account

    def _keep_an_admin(self, name: str, doing: str) -> None:
        others = [
            a for a in self.accounts().all() if a.role == Role.ADMIN and a.active and a.name != name
        ]
        if not others:
            raise ValidationError(
                "role", f"cannot {doing} {name}: they are the last active administrator"
            )

    def _audit(self, by: str, action: str, subject: str, detail: str) -> None:
        self.accounts().audit(self.now(), by, action, subject, detail)
