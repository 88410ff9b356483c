"""An in-process simulated network between sync engines and the server's service.

Requests and answers go through JSON text exactly as over HTTP, but each call can be made
to fail in a chosen way: lost before the server saw it, lost after the server committed,
delivered twice, reordered, the sign-in expired, or the link down altogether. A test says
which fault the next call meets, so hypothesis can shrink a failing schedule.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Sequence
from enum import StrEnum

from osc_console.models.events import Event
from osc_console.server.app import _page_json
from osc_console.server.service import ApiError, SyncService
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
    ServerRefusedError,
    ServerUnreachableError,
    SignInNeededError,
)


class Fault(StrEnum):
    NONE = "none"
    LOST_REQUEST = "lost request"  # never reached the server
    LOST_RESPONSE = "lost response"  # the server committed; the answer never came back
    DUPLICATED = "duplicated"  # the request arrived twice
    REORDERED = "reordered"  # the batch's events arrived in another order
    TOKEN_EXPIRED = "token expired"  # the server no longer accepts the sign-in


class SimTransport:
    """One workstation's link to the server."""

    def __init__(self, service: SyncService, seed: int = 0) -> None:
        self.service = service
        self.faults: deque[Fault] = deque()
        self.partitioned = False
        self.sent: list[list[dict[str, object]]] = []
        self.rng = random.Random(seed)
        self.calls = 0

    def close(self) -> None:
        pass

    def _next_fault(self) -> Fault:
        self.calls += 1
        if self.partitioned:
            raise ServerUnreachableError("network partitioned")
        return self.faults.popleft() if self.faults else Fault.NONE

    def _caller(self, token: str) -> object:
        try:
            return self.service.authenticate(f"Bearer {token}")
        except ApiError as exc:
            raise SignInNeededError(exc.message) from exc

    def login(self, request: LoginRequest) -> LoginReply:
        if self.partitioned:
            raise ServerUnreachableError("network partitioned")
        try:
            reply = self.service.login(json.loads(json.dumps(request.to_wire())), "simnet")
        except ApiError as exc:
            if exc.status == 401:
                raise SignInNeededError(exc.message) from exc
            raise ServerRefusedError(exc.message, status=exc.status, reason=exc.message) from exc
        return LoginReply.from_wire(json.loads(json.dumps(reply.to_wire())))

    def push(
        self, token: str, events: Sequence[Event], certificates: Sequence[KeyCertificate] = ()
    ) -> PushAnswer:
        fault = self._next_fault()
        wire: list[dict[str, object]] = json.loads(json.dumps([e.to_wire() for e in events]))
        certs = [c.to_wire() for c in certificates]
        if fault is Fault.LOST_REQUEST:
            raise ServerUnreachableError("request lost")
        if fault is Fault.TOKEN_EXPIRED:
            raise SignInNeededError("this sign-in has expired; sign in again")
        if fault is Fault.REORDERED:
            self.rng.shuffle(wire)
        caller = self._caller(token)
        results = self.service.push(caller, PROTOCOL_VERSION, wire, certs)  # type: ignore[arg-type]
        if fault is Fault.DUPLICATED:
            results = self.service.push(caller, PROTOCOL_VERSION, wire, certs)  # type: ignore[arg-type]
        self.sent.append(wire)
        if fault is Fault.LOST_RESPONSE:
            raise ServerUnreachableError("response lost after the server committed")
        answer = json.loads(json.dumps([r.to_wire() for r in results]))
        return PushAnswer(tuple(PushResult.from_wire(r) for r in answer), self.service.now())

    def replay(self, token: str, index: int) -> None:
        """A batch sent earlier arrives again, late (a delayed duplicate in the network)."""
        if self.sent:
            wire = self.sent[index % len(self.sent)]
            self.service.push(self._caller(token), PROTOCOL_VERSION, wire)  # type: ignore[arg-type]

    def digest(self, token: str, realm: str) -> dict[str, object]:
        self._next_fault()
        found = self.service.digest(self._caller(token), realm)  # type: ignore[arg-type]
        return {"count": found.count, "digest": found.digest, "high_water": found.high_water}

    def pull(self, token: str, realm: str, after: int, limit: int, wait: float) -> PullPage:
        fault = self._next_fault()
        if fault is Fault.LOST_REQUEST:
            raise ServerUnreachableError("request lost")
        if fault is Fault.TOKEN_EXPIRED:
            raise SignInNeededError("this sign-in has expired; sign in again")
        caller = self._caller(token)
        raw = self.service.pull(caller, realm, after, limit)  # type: ignore[arg-type]
        text = _page_json(
            raw,
            self.service.now(),
            self.service.certificates(raw.key_ids),
            self.service.signing_since_signed(),
        )
        if fault is Fault.DUPLICATED:
            raw = self.service.pull(caller, realm, after, limit)  # type: ignore[arg-type]
        if fault is Fault.LOST_RESPONSE:
            raise ServerUnreachableError("response lost")
        return PullPage.from_wire(json.loads(text))
