"""Administering accounts from the console: the same requests whether the authority is the
central server (over HTTP, as the signed-in administrator) or this standalone workstation's
own (in process, recorded as that administrator).

The Administration window calls these on a background thread; each raises
:class:`AdministrationError` with the authority's own sentence when it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from osc_console.models.errors import DomainError, ValidationError
from osc_console.server.accounts import AuditEntry
from osc_console.server.admin import UserView

# The authority's own forms of an account and of a line of its record: one type each, for
# the server that sends them and the window that shows them.
Account = UserView
AuditLine = AuditEntry


class AdministrationError(DomainError):
    """The authority refused, or could not be reached; the sentence says which and why."""


@dataclass(frozen=True, slots=True)
class Workstation:
    code: str
    key_id: str
    agency: str
    enrolled_at: str
    enrolled_by: str
    revoked_at: str | None
    revoked_by: str | None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Workstation:
        return cls(
            str(data["code"]),
            str(data["key_id"]),
            str(data["agency"]),
            str(data["enrolled_at"]),
            str(data["enrolled_by"]),
            data.get("revoked_at"),
            data.get("revoked_by"),
        )


class Administration(Protocol):
    """What the Administration window asks of the authority."""

    @property
    def where(self) -> str:
        """Whose accounts these are, for the window's title ("server https://…")."""
        ...

    def accounts(self) -> list[Account]: ...

    def add(
        self,
        name: str,
        agency: str,
        role: str,
        password: str,
        *,
        display_name: str = "",
        break_glass: bool = False,
    ) -> None: ...

    def set_role(self, name: str, role: str) -> None: ...

    def disable(self, name: str) -> None: ...

    def enable(self, name: str) -> None: ...

    def unlock(self, name: str) -> None: ...

    def reset_password(self, name: str, password: str) -> None: ...

    def audit(self, after: int = 0) -> list[AuditLine]: ...

    def workstations(self) -> list[Workstation]: ...

    def enrol(self, code: str, public_key: str, agency: str) -> None: ...

    def revoke(self, code: str) -> None: ...


class LocalAdministration:
    """A standalone workstation's own accounts, changed as the signed-in administrator."""

    def __init__(self, service: Any, by: str) -> None:
        self._admin = service.admin
        self._by = by

    @property
    def where(self) -> str:
        return "this workstation (standalone)"

    def _call(self, method: str, *args: Any, **kw: Any) -> Any:
        try:
            return getattr(self._admin, method)(*args, **kw)
        except ValidationError as exc:
            raise AdministrationError(str(exc)) from None

    def accounts(self) -> list[Account]:
        return list(self._call("users"))

    def add(
        self,
        name: str,
        agency: str,
        role: str,
        password: str,
        *,
        display_name: str = "",
        break_glass: bool = False,
    ) -> None:
        self._call(
            "add_user",
            self._by,
            name,
            agency,
            role,
            password,
            display_name=display_name,
            break_glass=break_glass,
        )

    def set_role(self, name: str, role: str) -> None:
        self._call("set_role", self._by, name, role)

    def disable(self, name: str) -> None:
        self._call("disable", self._by, name)

    def enable(self, name: str) -> None:
        self._call("enable", self._by, name)

    def unlock(self, name: str) -> None:
        self._call("unlock", self._by, name)

    def reset_password(self, name: str, password: str) -> None:
        self._call("reset_password", self._by, name, password)

    def audit(self, after: int = 0) -> list[AuditLine]:
        return list(self._call("audit", after, 1000))

    def workstations(self) -> list[Workstation]:
        return [Workstation.from_wire(w) for w in self._call("workstations")]

    def enrol(self, code: str, public_key: str, agency: str) -> None:
        self._call("enrol_workstation", self._by, code, public_key, agency)

    def revoke(self, code: str) -> None:
        self._call("revoke_workstation", self._by, code)


class RemoteAdministration:
    """The server's accounts, changed over HTTP with the signed-in administrator's token."""

    def __init__(self, transport: Any, token: str, server: str) -> None:
        self._http = transport
        self._token = token
        self._server = server

    @property
    def where(self) -> str:
        return f"server {self._server}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        from osc_console.sync.transport import SyncError

        try:
            return self._http.admin(method, path, self._token, body, **kw)
        except SyncError as exc:
            raise AdministrationError(getattr(exc, "reason", None) or str(exc)) from None

    def accounts(self) -> list[Account]:
        return [Account.from_wire(u) for u in self._call("GET", "users")["users"]]

    def add(
        self,
        name: str,
        agency: str,
        role: str,
        password: str,
        *,
        display_name: str = "",
        break_glass: bool = False,
    ) -> None:
        self._call(
            "POST",
            "users",
            {
                "name": name,
                "agency": agency,
                "role": role,
                "password": password,
                "display_name": display_name,
                "break_glass": break_glass,
            },
        )

    def set_role(self, name: str, role: str) -> None:
        self._call("POST", f"users/{_path(name)}/role", {"role": role})

    def disable(self, name: str) -> None:
        self._call("POST", f"users/{_path(name)}/disable")

    def enable(self, name: str) -> None:
        self._call("POST", f"users/{_path(name)}/enable")

    def unlock(self, name: str) -> None:
        self._call("POST", f"users/{_path(name)}/unlock")

    def reset_password(self, name: str, password: str) -> None:
        self._call("POST", f"users/{_path(name)}/password", {"password": password})

    def audit(self, after: int = 0) -> list[AuditLine]:
        found = self._call("GET", "audit", params={"after": after, "limit": 1000})
        return [AuditLine.from_wire(e) for e in found["entries"]]

    def workstations(self) -> list[Workstation]:
        return [Workstation.from_wire(w) for w in self._call("GET", "workstations")["workstations"]]

    def enrol(self, code: str, public_key: str, agency: str) -> None:
        self._call(
            "POST",
            "workstations",
            {"workstation": code, "public_key": public_key, "agency": agency},
        )

    def revoke(self, code: str) -> None:
        self._call("POST", f"workstations/{_path(code)}/revoke")


def _path(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
