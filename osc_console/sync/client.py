"""Talking to the server over HTTP: the only module of the client that knows about httpx.

Every failure is turned into one of the exceptions of :mod:`osc_console.sync.transport`.
httpx is slow to import, so only a console that has a server imports this module.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from osc_console.models.errors import ValidationError
from osc_console.models.events import Event, compact_json
from osc_console.signing.documents import KeyCertificate
from osc_console.sync.protocol import (
    PROTOCOL_VERSION,
    LoginReply,
    LoginRequest,
    PullPage,
    PushResult,
)
from osc_console.sync.transport import (
    PushAnswer,
    ServerBusyError,
    ServerRefusedError,
    ServerUnreachableError,
    SignInNeededError,
    check_server_url,
)


class HttpTransport:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        ca_file: str | Path | None = None,
        allow_http: bool = False,
    ) -> None:
        self.base_url = check_server_url(base_url, allow_http=allow_http).rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            verify=tls_context(ca_file),
            headers={"User-Agent": "osc-console-sync"},
        )

    def close(self) -> None:
        self._http.close()

    def login(self, request: LoginRequest) -> LoginReply:
        data = self._call("POST", "/v1/auth/login", json=request.to_wire())
        try:
            return LoginReply.from_wire(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ServerRefusedError(f"the server's sign-in answer cannot be read: {exc}") from exc

    def health(self) -> dict[str, Any]:
        """Is the server there (no sign-in needed): for the sign-in screen's status line."""
        result: dict[str, Any] = self._call("GET", "/v1/health", timeout=3.0)
        return result

    def logout(self, token: str) -> None:
        self._call("POST", "/v1/auth/logout", headers=_bearer(token))

    def change_password(self, token: str, old: str, new: str) -> None:
        self._call(
            "POST",
            "/v1/auth/password",
            json={"old_password": old, "new_password": new},
            headers=_bearer(token),
        )

    def enrol_at_desk(self, body: dict[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/v1/workstations/enrol", json=body)
        return result

    def admin(
        self, method: str, path: str, token: str, body: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """An administration call (``/v1/admin/…``) as the signed-in administrator."""
        result: dict[str, Any] = self._call(
            method, f"/v1/admin/{path}", json=body, headers=_bearer(token), **kw
        )
        return result

    def push(
        self, token: str, events: Sequence[Event], certificates: Sequence[KeyCertificate] = ()
    ) -> PushAnswer:
        wire: dict[str, Any] = {
            "protocol": PROTOCOL_VERSION,
            "events": [e.to_wire() for e in events],
        }
        if certificates:
            wire["certificates"] = [c.to_wire() for c in certificates]
        body = compact_json(wire)
        data = self._call(
            "POST",
            "/v1/sync/push",
            content=body.encode("utf-8"),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        return PushAnswer(
            tuple(PushResult.from_wire(r) for r in data["results"]),
            str(data.get("server_time", "")),
        )

    def pull(self, token: str, realm: str, after: int, limit: int, wait: float) -> PullPage:
        data = self._call(
            "GET",
            "/v1/sync/pull",
            params={"realm": realm, "after": after, "limit": limit, "wait": wait},
            headers={"Authorization": f"Bearer {token}"},
            timeout=wait + self.timeout,
        )
        try:
            return PullPage.from_wire(data)
        except (ValidationError, KeyError, TypeError, ValueError) as exc:
            raise ServerRefusedError(
                f"the server sent an event this program cannot read: {exc}"
            ) from exc

    def digest(self, token: str, realm: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET",
            "/v1/sync/digest",
            params={"realm": realm},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60.0,
        )
        return result

    def _call(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        try:
            response = self._http.request(
                method,
                path,
                timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                **kw,
            )
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate" in str(exc).lower():
                raise ServerRefusedError(
                    f"the server at {self.base_url} is not the server it says it is: its "
                    f"certificate could not be verified ({_plain(exc)}); check the address, or "
                    "give its certificate authority with --ca-file"
                ) from exc
            raise ServerUnreachableError(f"cannot reach {self.base_url}: {_plain(exc)}") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachableError(f"cannot reach {self.base_url}: {_plain(exc)}") from exc
        if response.status_code == 401:
            raise SignInNeededError(_message(response))
        if response.status_code == 429:
            # Too many at once (sign-ins in a rush, a throttled address): try again later.
            wait = response.headers.get("Retry-After", "")
            after = f" (again in {wait} s)" if wait.isdigit() else ""
            raise ServerBusyError(f"the server is busy: {_message(response)}{after}")
        if response.status_code >= 500:
            raise ServerUnreachableError(
                f"the server had a problem ({response.status_code}): {_message(response)}"
            )
        if response.status_code >= 400:
            reason = _message(response)
            raise ServerRefusedError(
                f"the server refused the request ({response.status_code}): {reason}",
                status=response.status_code,
                reason=reason,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ServerUnreachableError(
                "the server's answer was cut short or is not JSON"
            ) from exc


def tls_context(ca_file: str | Path | None) -> ssl.SSLContext:
    """Certificates verified against the system's store, or the authority a room gives."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=str(Path(ca_file).expanduser()))
        except (OSError, ssl.SSLError) as exc:
            raise ServerRefusedError(f"--ca-file {ca_file}: cannot be read ({exc})") from exc
    return context


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return str(data)[:200]


def _plain(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:160]
