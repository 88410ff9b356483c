"""Talking to the server over HTTP: the only module of the client that knows about httpx.

Every failure is turned into one of the exceptions of :mod:`osc_console.sync.transport`.
httpx is slow to import, so only a console that has a server imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from osc_console.models.errors import ValidationError
from osc_console.models.events import Event, compact_json
from osc_console.sync.protocol import PROTOCOL_VERSION, PullPage, PushResult, Session
from osc_console.sync.transport import (
    LoginAnswer,
    PushAnswer,
    ServerRefusedError,
    ServerUnreachableError,
    SignInNeededError,
)


class HttpTransport:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"User-Agent": "osc-console-sync"},
        )

    def close(self) -> None:
        self._http.close()

    def login(self, user: str, password: str, workstation: str, realm: str) -> LoginAnswer:
        data = self._call(
            "POST",
            "/v1/auth/login",
            json={"user": user, "password": password, "workstation": workstation, "realm": realm},
        )
        return LoginAnswer(Session.from_wire(data), str(data.get("server_id", "")))

    def push(self, token: str, events: Sequence[Event]) -> PushAnswer:
        body = compact_json({"protocol": PROTOCOL_VERSION, "events": [e.to_wire() for e in events]})
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
        except httpx.TransportError as exc:
            raise ServerUnreachableError(f"cannot reach {self.base_url}: {_plain(exc)}") from exc
        if response.status_code == 401:
            raise SignInNeededError(_message(response))
        if response.status_code >= 500:
            raise ServerUnreachableError(
                f"the server had a problem ({response.status_code}): {_message(response)}"
            )
        if response.status_code >= 400:
            raise ServerRefusedError(
                f"the server refused the request ({response.status_code}): {_message(response)}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ServerUnreachableError(
                "the server's answer was cut short or is not JSON"
            ) from exc


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
