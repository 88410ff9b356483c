"""A standalone workstation is its own authority: the server's own account rules, in process.

With no server set, accounts, grants and certified keys live in ``authority.db`` beside the
stores, kept by the very code a central server runs (:class:`SyncService` over its SQLite
backend), signed with this workstation's own authority key (kept in its keyring). The
workstation is enrolled in it on first use. Signing in, administering accounts and changing a
password then go through the same doors as with a server, only without the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from osc_console.models.clock import to_iso
from osc_console.server.errors import ApiError
from osc_console.server.service import SyncService
from osc_console.server.signin import SignInPolicy, enrol
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.services.identity import WorkstationIdentity
from osc_console.signing.authority import Authority
from osc_console.sync.protocol import LoginReply, LoginRequest
from osc_console.sync.transport import ServerRefusedError, SignInNeededError

AUTHORITY_FILE = "authority.db"
THIS_DESK = "this workstation"


class LocalAuthority:
    """The in-process authority of a standalone workstation. Speaks like a server's
    transport for signing in (``login``), and administers accounts directly."""

    def __init__(
        self,
        data_dir: Path,
        identity: WorkstationIdentity,
        *,
        policy: SignInPolicy | None = None,
    ) -> None:
        pinned = identity.standalone_authority()
        key = pinned.signing_key
        if pinned.kind != "standalone" or key is None:
            raise ServerRefusedError(
                "this workstation signs in to a server; it has no authority of its own"
            )
        self.identity = identity
        self.backend = SqliteBackend(data_dir / AUTHORITY_FILE)
        self.service = SyncService(
            self.backend, authority=Authority(key, f"standalone {identity.code}"), policy=policy
        )
        admins = [a for a in self.service.accounts().all() if a.role == "admin"]
        if admins:
            self._enrol(admins[0].agency.value)

    def _enrol(self, agency: str) -> None:
        """This desk enrolled in its own authority (its device signs its failed sign-ins,
        in the name of the first administrator's organisation)."""
        if self.service.accounts().workstation(self.identity.code) is not None:
            return
        enrol(
            self.service.accounts(),
            self.service.authority,
            self.service.authorship,
            self.identity.code,
            public_key=self.identity.device_key.public_key,
            agency=agency,
            by=THIS_DESK,
            at=to_iso(self.service.signin.wall()),
        )

    def create_first_administrator(
        self, name: str, agency: str, password: str, display_name: str = ""
    ) -> str:
        """The first run of a standalone workstation: the administrator, with a password of
        their own choosing, who grants every other account here. Raises ValidationError."""
        if self.has_accounts:
            raise ServerRefusedError("this workstation already has an administrator")
        made = self.service.admin.add_user(
            f"first run at {self.identity.code}",
            name,
            agency,
            "admin",
            password,
            display_name=display_name,
            must_change=False,
        )
        self._enrol(made.agency.value)
        return made.name

    def close(self) -> None:
        self.backend.close()

    @property
    def has_accounts(self) -> bool:
        return bool(self.service.accounts().all())

    # ---- a transport's face, for signing in ----------------------------------------------------
    def login(self, request: LoginRequest) -> LoginReply:
        reply: LoginReply = _translated(lambda: self.service.login(request.to_wire(), THIS_DESK))
        return reply

    def change_password(self, token: str, old: str, new: str) -> None:
        _translated(
            lambda: self.service.signin.change_password(f"Bearer {token}", old, new, THIS_DESK)
        )

    def logout(self, token: str) -> None:
        _translated(lambda: self.service.signin.logout(f"Bearer {token}", THIS_DESK))

    def close_transport(self) -> None:
        self.close()


def _translated(call: Any) -> Any:
    """The service's refusals as a transport's: 401 asks again, others are refusals."""
    try:
        return call()
    except ApiError as exc:
        if exc.status == 401:
            raise SignInNeededError(exc.message) from None
        raise ServerRefusedError(exc.message, status=exc.status, reason=exc.message) from None
