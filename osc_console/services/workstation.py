"""A workstation's door, assembled once from its data folder: the keyring, the identity, and
the authority it answers to (a server's address, or its own when standalone).

The console's composition root and the command line both open it here, so the console, a
headless sync and ``osc-console incident new`` sign people in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osc_console.models.events import Author
from osc_console.services.identity import (
    Operator,
    SignInError,
    WorkstationIdentity,
    register_operator,
)
from osc_console.services.local_authority import LocalAuthority
from osc_console.services.signin import AuthorityLink, Gatekeeper, PasswordChangeNeeded
from osc_console.signing.vault import DEFAULT_COST, KdfCost
from osc_console.store.event_store import Store
from osc_console.store.keyring import Keyring
from osc_console.sync.protocol import LoginReply, LoginRequest


@dataclass(slots=True)
class WorkstationDoor:
    """Everything signing in at this workstation needs, and what must be closed after."""

    gatekeeper: Gatekeeper
    local: LocalAuthority | None  # the workstation's own authority, when standalone
    keyring: Keyring

    @property
    def identity(self) -> WorkstationIdentity:
        return self.gatekeeper.identity

    def close(self) -> None:
        if self.local is not None:
            self.local.close()
        link = self.gatekeeper.link
        close = getattr(link, "close", None)
        if self.local is None and callable(close):
            close()
        self.keyring.close()


def open_door(
    data_dir: Path,
    code: str,
    server: str | None = None,
    *,
    ca_file: str | None = None,
    allow_http: bool = False,
    kdf_cost: KdfCost = DEFAULT_COST,
    timeout: float = 10.0,
) -> WorkstationDoor:
    """The door of the workstation whose data lives in ``data_dir``.

    With ``server``, sign-ins go to it (offline sign-in when it cannot be reached); without,
    a workstation that has never been given a server is its own authority, and one that has
    signs people in offline on what it holds.
    """
    keyring = Keyring.open(data_dir)
    try:
        identity = WorkstationIdentity(keyring, code, kdf_cost=kdf_cost)
        identity.device_key  # noqa: B018 - made (and the folder's code checked) now
        pinned = keyring.authority()
        local: LocalAuthority | None = None
        link: AuthorityLink
        if server:
            from osc_console.sync.client import HttpTransport

            link = HttpTransport(server, ca_file=ca_file, allow_http=allow_http, timeout=timeout)
        elif pinned is not None and pinned.kind == "server":
            link = _Unreachable(pinned.server_id)
        else:
            local = LocalAuthority(data_dir, identity)
            link = local
        return WorkstationDoor(Gatekeeper(identity, link, server), local, keyring)
    except BaseException:
        keyring.close()
        raise


class _Unreachable:
    """A workstation that belongs to a server, run without one: sign in offline only."""

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id

    def _down(self) -> None:
        from osc_console.sync.transport import ServerUnreachableError

        raise ServerUnreachableError(
            "this workstation belongs to a server, and no server address was given"
        )

    def login(self, request: LoginRequest) -> LoginReply:
        self._down()
        raise AssertionError("unreachable")

    def change_password(self, token: str, old: str, new: str) -> None:
        self._down()

    def logout(self, token: str) -> None:
        self._down()


def act_as(door: WorkstationDoor, store: Store, user: str, password: str) -> Author:
    """Sign ``user`` in for one command and return them as the author of what it writes."""
    if door.gatekeeper.server is None and door.local is None:
        operator = door.identity.sign_in_offline(user, password)
    else:
        result = door.gatekeeper.sign_in(user, password, store.realm)
        if isinstance(result, PasswordChangeNeeded):
            raise SignInError(
                f"{result.user} must choose a new password first (an administrator set it): "
                "sign in at the console"
            )
        operator = result
    return ready(door, store, operator)


def ready(door: WorkstationDoor, store: Store, operator: Operator) -> Author:
    register_operator(store, operator, door.identity)
    return operator.author(store.realm)
