"""The HTTP face of the server: FastAPI routes that translate to :class:`SyncService`.

Every refusal is a 4xx with ``{"error": "…"}`` in words a person can act on; the server never
stores part of a refused request. A pull long-polls: it returns at once when there is
something to hand out, else waits until a push lands (woken at once in this process, and
checked twice a second for pushes served by other processes on the same database).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from osc_console import __version__
from osc_console.models.errors import ValidationError
from osc_console.server.errors import ApiError
from osc_console.server.service import SyncService
from osc_console.server.storage import RawPage, StorageError
from osc_console.signing.documents import KeyCertificate
from osc_console.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_BODY_BYTES,
    MAX_PULL_LIMIT,
    MAX_WAIT_SECONDS,
    error_body,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# How often a waiting pull looks for pushes made by other server processes.
CROSS_PROCESS_POLL = 0.5


class ProofBody(BaseModel):
    nonce: str = Field(min_length=16, max_length=64)
    at: str = Field(max_length=40)
    sig: str = Field(max_length=200)


class NewKeyBody(BaseModel):
    public_key: str = Field(max_length=100)
    possession: str = Field(max_length=200)


class LoginRequest(BaseModel):
    protocol: int = 0
    user: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)
    workstation: str = Field(min_length=1, max_length=20)
    realm: str = Field(default="live", max_length=80)
    proof: ProofBody | None = None
    new_key: NewKeyBody | None = None


class PushRequest(BaseModel):
    protocol: int = 0
    events: list[Any]
    certificates: list[Any] = Field(default_factory=list)


class PasswordChange(BaseModel):
    old_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


class EnrolAtDesk(BaseModel):
    admin: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)
    workstation: str = Field(min_length=1, max_length=20)
    public_key: str = Field(max_length=100)
    agency: str = Field(max_length=40)
    possession: str = Field(max_length=200)


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    display_name: str = Field(default="", max_length=200)
    agency: str = Field(max_length=40)
    role: str = Field(max_length=40)
    password: str = Field(min_length=1, max_length=1000)
    break_glass: bool = False


class RoleChange(BaseModel):
    role: str = Field(max_length=40)


class PasswordReset(BaseModel):
    password: str = Field(min_length=1, max_length=1000)


class NewWorkstation(BaseModel):
    workstation: str = Field(min_length=1, max_length=20)
    public_key: str = Field(max_length=100)
    agency: str = Field(max_length=40)


class BodyLimit:
    """Refuse a body larger than the limit with a 413, counting bytes as they arrive (a
    missing or false Content-Length does not get past it)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _too_large(send, self.limit)
                return
        # Read the whole body first (at most the limit), then hand it on: the framework
        # would turn an error raised while it reads into a vague 400.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await _too_large(send, self.limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        error_body(f"the request is larger than {limit // (1024 * 1024)} MiB; send less at once")
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Wakeup:
    """A generation of waiters: every push wakes everyone waiting, then starts afresh."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def current(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def notify(self) -> None:
        event, self._event = self._event, None
        if event is not None:
            event.set()


def create_app(service: SyncService) -> FastAPI:
    app = FastAPI(
        title="OSC Console sync server",
        version=__version__,
        description="Central event log for OSC Console workstations: sign in, push, pull.",
    )
    app.add_middleware(BodyLimit)
    wakeup = _Wakeup()

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse(error_body(exc.message), status_code=exc.status, headers=headers)

    @app.exception_handler(ValidationError)
    async def _invalid(_: Request, exc: ValidationError) -> JSONResponse:
        return JSONResponse(error_body(str(exc)), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(_describe(exc)), status_code=400)

    @app.exception_handler(StorageError)
    async def _storage(_: Request, exc: StorageError) -> JSONResponse:
        return JSONResponse(error_body(f"the server's database failed: {exc}"), status_code=503)

    @app.get("/v1/health", summary="Is the server up, and which protocols it speaks")
    def health() -> dict[str, Any]:
        h = service.health()
        return {
            "status": h.status,
            "server_id": h.server_id,
            "high_water": h.high_water,
            "protocols": list(h.protocols),
            "server_time": h.server_time,
            "version": __version__,
        }

    @app.post(
        "/v1/auth/login",
        summary="Sign in at an enrolled workstation: a token, a grant, the key certificates",
    )
    def login(body: LoginRequest, request: Request) -> dict[str, Any]:
        reply = service.login(body.model_dump(), _address(request))
        return reply.to_wire()

    @app.post("/v1/auth/logout", summary="Sign out: the token is no longer accepted")
    def logout(
        request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        service.signin.logout(authorization, _address(request))
        return {"signed_out": True}

    @app.post("/v1/auth/password", summary="Change your own password (every sign-in ends)")
    def change_password(
        body: PasswordChange, request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        service.signin.change_password(
            authorization, body.old_password, body.new_password, _address(request)
        )
        return {"changed": True}

    @app.post(
        "/v1/workstations/enrol",
        summary="Enrol this workstation's device key: an administrator present at the desk",
    )
    def enrol_at_desk(body: EnrolAtDesk, request: Request) -> dict[str, Any]:
        cert, authority = service.signin.enrol_at_desk(body.model_dump(), _address(request))
        return {
            "device_certificate": cert.to_wire(),
            "authority": {"key_id": service.authority.key_id, "public_key": authority},
            "server_id": service.backend.server_id(),
        }

    admins = frozenset({"admin"})
    reviewers = frozenset({"admin", "duty_manager"})

    @app.get("/v1/admin/users", summary="Every account (administrators)")
    def list_users(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        service.authenticate_as(authorization, admins)
        return {"users": [u.to_wire() for u in service.admin.users()]}

    @app.post("/v1/admin/users", summary="Add an account (administrators)")
    def add_user(body: NewUser, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        caller = service.authenticate_as(authorization, admins)
        made = service.admin.add_user(
            caller.user,
            body.name,
            body.agency,
            body.role,
            body.password,
            display_name=body.display_name,
            break_glass=body.break_glass,
        )
        return {"name": made.name}

    @app.post("/v1/admin/users/{name}/role", summary="Grant a role (administrators)")
    def set_role(
        body: RoleChange,
        name: str = Path(max_length=200),
        authorization: str | None = Header(default=None),
    ) -> dict[str, Any]:
        caller = service.authenticate_as(authorization, admins)
        service.admin.set_role(caller.user, name, body.role)
        return {"name": name, "role": body.role}

    def _account_route(action: str, summary: str) -> None:
        @app.post(f"/v1/admin/users/{{name}}/{action}", summary=summary, name=action)
        def account_action(
            name: str = Path(max_length=200),
            authorization: str | None = Header(default=None),
        ) -> dict[str, Any]:
            caller = service.authenticate_as(authorization, admins)
            getattr(service.admin, action)(caller.user, name)
            return {"name": name, "done": action}

    _account_route("disable", "Disable an account: its grants end now (administrators)")
    _account_route("enable", "Enable a disabled account (administrators)")
    _account_route("unlock", "Unlock an account locked by failed sign-ins (administrators)")

    @app.post("/v1/admin/users/{name}/password", summary="Reset a password (administrators)")
    def reset_password(
        body: PasswordReset,
        name: str = Path(max_length=200),
        authorization: str | None = Header(default=None),
    ) -> dict[str, Any]:
        caller = service.authenticate_as(authorization, admins)
        service.admin.reset_password(caller.user, name, body.password)
        return {"name": name, "must_change": True}

    @app.get("/v1/admin/workstations", summary="Enrolled workstations (administrators)")
    def list_workstations(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        service.authenticate_as(authorization, admins)
        return {"workstations": service.admin.workstations()}

    @app.post("/v1/admin/workstations", summary="Enrol a workstation's key (administrators)")
    def enrol_workstation(
        body: NewWorkstation, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        caller = service.authenticate_as(authorization, admins)
        key_id = service.admin.enrol_workstation(
            caller.user, body.workstation, body.public_key, body.agency
        )
        return {"workstation": body.workstation.upper(), "key_id": key_id}

    @app.post("/v1/admin/workstations/{code}/revoke", summary="Revoke a workstation")
    def revoke_workstation(
        code: str = Path(max_length=20), authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        caller = service.authenticate_as(authorization, admins)
        service.admin.revoke_workstation(caller.user, code)
        return {"workstation": code.upper(), "revoked": True}

    @app.get(
        "/v1/admin/audit",
        summary="Account changes and sign-ins the server saw (administrators, duty managers)",
    )
    def audit(
        after: int = Query(default=0, ge=0, le=2**62),
        limit: int = Query(default=500, ge=1, le=1000),
        authorization: str | None = Header(default=None),
    ) -> dict[str, Any]:
        service.authenticate_as(authorization, reviewers)
        return {"entries": [e.to_wire() for e in service.admin.audit(after, limit)]}

    @app.post(
        "/v1/sync/push",
        summary="Store a batch of events; the answer per event comes after the commit",
    )
    async def push(body: PushRequest, authorization: str | None = Header(default=None)) -> Response:
        caller = await run_in_threadpool(service.authenticate, authorization)
        results = await run_in_threadpool(
            service.push, caller, body.protocol, body.events, body.certificates
        )
        wakeup.notify()
        # Encoded directly: FastAPI's generic encoder cost ~10 µs a result on the event loop.
        text = json.dumps(
            {"results": [r.to_wire() for r in results], "server_time": service.now()},
            separators=(",", ":"),
        )
        return Response(text, media_type="application/json")

    @app.get(
        "/v1/sync/pull",
        summary="Events after a cursor in seq order, waiting up to `wait` seconds for news",
    )
    async def pull(
        realm: str = Query(default="live", max_length=80),
        after: int = Query(default=0, ge=0),
        limit: int = Query(default=DEFAULT_PULL_LIMIT, ge=1, le=MAX_PULL_LIMIT),
        wait: float = Query(default=0.0, ge=0.0, le=MAX_WAIT_SECONDS),
        authorization: str | None = Header(default=None),
    ) -> Response:
        caller = await run_in_threadpool(service.authenticate, authorization)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        cursor = after
        while True:
            woken = wakeup.current()
            page = await run_in_threadpool(service.pull, caller, realm, cursor, limit)
            cursor = page.next
            remaining = deadline - loop.time()
            if page.rows or page.more or remaining <= 0:
                keys = await run_in_threadpool(service.certificates, page.key_ids)
                text = _page_json(page, service.now(), keys, service.signing_since_signed())
                return Response(text, media_type="application/json")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=min(remaining, CROSS_PROCESS_POLL))

    @app.get(
        "/v1/sync/digest",
        summary="How many events the caller may see, and one digest of their hashes",
    )
    def digest(
        realm: str = Query(default="live", max_length=80),
        authorization: str | None = Header(default=None),
    ) -> dict[str, Any]:
        caller = service.authenticate(authorization)
        found = service.digest(caller, realm)
        return {"count": found.count, "digest": found.digest, "high_water": found.high_water}

    return app


def _page_json(
    page: RawPage, server_time: str, keys: list[KeyCertificate], signing_since: tuple[int, str]
) -> str:
    """The page as text, built from the stored wire JSON without parsing it again."""
    parts = [
        f'{body[:-1]},"seq":{seq},"received_at":"{received_at}"}}'
        for seq, body, received_at in page.rows
    ]
    certs = json.dumps([k.to_wire() for k in keys], separators=(",", ":"))
    return (
        f'{{"events":[{",".join(parts)}],"next":{page.next},'
        f'"more":{"true" if page.more else "false"},"high_water":{page.high_water},'
        f'"keys":{certs},"signing_since":{signing_since[0]},'
        f'"signing_since_sig":"{signing_since[1]}",'
        f'"server_time":"{server_time}"}}'
    )


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _describe(exc: RequestValidationError) -> str:
    """FastAPI's list of problems as one sentence: where, then what."""
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        message = str(error.get("msg", "is not valid"))
        if error.get("type") == "json_invalid":
            problems.append("the body is not valid JSON")
        else:
            problems.append(f"{where}: {message}")
    return "; ".join(problems) or "the request is not valid"
