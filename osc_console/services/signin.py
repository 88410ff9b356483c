"""The door of the console: sign in, change a password, enrol this desk, break glass.

:class:`Gatekeeper` is what the sign-in screen, the lock screen, "switch operator" and the
command line talk to. With a server it signs in online and falls back to offline sign-in
when the server cannot be reached; standalone it signs in against this workstation's own
authority. Either way the answer is an :class:`Operator` (a person with a role and an
unlocked key) or a request to choose a new password first.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Protocol

from osc_console.models.payloads import SignInMethod
from osc_console.services.identity import Operator, SignInError, WorkstationIdentity
from osc_console.store.keyring import Person
from osc_console.sync.protocol import LoginReply, LoginRequest
from osc_console.sync.transport import (
    ServerBusyError,
    ServerRefusedError,
    ServerUnreachableError,
    SignInNeededError,
)


class AuthorityLink(Protocol):
    """What signing in needs of an authority: a server's HTTP client, or the local one."""

    def login(self, request: LoginRequest) -> LoginReply: ...

    def change_password(self, token: str, old: str, new: str) -> None: ...

    def logout(self, token: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PasswordChangeNeeded:
    """An administrator reset this person's password: they choose a new one before anything
    else (the token allows nothing but that)."""

    user: str
    token: str


SignInResult = Operator | PasswordChangeNeeded


@dataclass(slots=True)
class Gatekeeper:
    identity: WorkstationIdentity
    link: AuthorityLink
    server: str | None = None  # None: standalone, this workstation is its own authority
    last_reply: LoginReply | None = None

    @property
    def standalone(self) -> bool:
        return self.server is None

    @property
    def code(self) -> str:
        return self.identity.code

    def known_people(self) -> list[Person]:
        return self.identity.known_people()

    def sign_in(
        self, user: str, password: str, realm: str, *, offline: bool = True
    ) -> SignInResult:
        """Raises SignInError with what to do; a wrong password counts here and there.
        ``offline``: sign in on what this workstation holds when the server is unreachable
        (a headless sync, which only makes sense online, says so instead)."""
        user = " ".join(user.split())
        if not user or not password:
            raise SignInError("give your user name and your password")
        try:
            request = self.identity.login_request(user, password, realm)
            reply = self.link.login(request)
        except ServerBusyError as exc:
            # The server answered: it is no reason to sign in offline instead.
            raise SignInError(str(exc)) from exc
        except ServerUnreachableError as exc:
            if self.standalone or not offline:
                raise SignInError(str(exc)) from exc
            return self.identity.sign_in_offline(user, password)
        except SignInNeededError as exc:
            local = self.identity.record_failure(user)
            message = str(exc)
            if "locked" in str(local) and "locked" not in message:
                message = str(local)
            raise SignInError(message) from None
        except ServerRefusedError as exc:
            raise SignInError(exc.reason) from None
        self.identity.accepted(reply, password)
        self.last_reply = reply
        if reply.session.must_change_password:
            return PasswordChangeNeeded(reply.session.user, reply.session.token)
        operator = self.identity.operator(reply)
        if self.standalone:
            # This workstation's own authority signed them in: no server token to sync with.
            return replace(operator, method=SignInMethod.STANDALONE, token=None)
        return operator

    def change_password(self, user: str, token: str, old: str, new: str, realm: str) -> Operator:
        """Choose a new password (after a reset, or at will), then sign in with it."""
        try:
            self.link.change_password(token, old, new)
        except SignInNeededError as exc:
            raise SignInError(str(exc)) from None
        except ServerRefusedError as exc:
            raise SignInError(exc.reason) from None
        except ServerUnreachableError as exc:
            raise SignInError(f"the password cannot be changed offline: {exc}") from None
        result = self.sign_in(user, new, realm)
        if isinstance(result, PasswordChangeNeeded):  # pragma: no cover - the server cleared it
            raise SignInError("the server still asks for a new password; try again")
        return result

    def sign_out(self, operator: Operator) -> None:
        """End the server's token too (best effort: offline, it simply runs out)."""
        if operator.token is None:
            return
        with contextlib.suppress(ServerUnreachableError, ServerRefusedError, SignInNeededError):
            self.link.logout(operator.token)

    def break_glass(self, user: str, password: str, declared_name: str, reason: str) -> Operator:
        return self.identity.sign_in_break_glass(user, password, declared_name, reason)
