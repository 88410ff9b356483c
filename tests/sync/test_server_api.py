"""Every endpoint against bad input, on a real server and both backends.

Each refusal must be a 4xx with one clear sentence, store nothing, and leave the server up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.events import Author, Event, EventDraft
from osc_console.server.service import SyncService
from osc_console.services.identity import WorkstationIdentity
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from osc_console.sync.protocol import MAX_BODY_BYTES, MAX_PUSH_EVENTS, PROTOCOL_VERSION, LoginReply
from tests.conftest import knife_incident
from tests.signing import signed
from tests.sync.harness import (
    PASSWORD,
    ServerThread,
    author_at,
    desk,
    hand_made,
    operator_at,
)

P = PROTOCOL_VERSION


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as made:
        yield made


def _desk(service: SyncService, user: str, workstation: str) -> WorkstationIdentity:
    account = service.accounts().find(user)
    agency = account.agency if account is not None else Agency.POLICE
    return desk(service, workstation, agency)


def _token(
    client: httpx.Client,
    service: SyncService,
    user: str = "alice",
    realm: str = "live",
    workstation: str = "CR1",
) -> str:
    """Sign in over HTTP at an enrolled desk, as the console does (its device's proof, and a
    new key for someone who has none there)."""
    identity = _desk(service, user, workstation)
    answer = client.post(
        "/v1/auth/login", json=identity.login_request(user, PASSWORD, realm).to_wire()
    )
    assert answer.status_code == 200, answer.text
    identity.accepted(LoginReply.from_wire(answer.json()), PASSWORD)
    return str(answer.json()["token"])


def _events(
    tmp_path: Path,
    service: SyncService,
    visibility: Visibility = Visibility.JOINT,
    realm: str = "live",
) -> list[Event]:
    """Alice's incident and a log entry, written at her police desk CR1."""
    with Store.open(tmp_path / f"{realm.replace(':', '-')}.db", realm) as store:
        author = author_at(service, store, "CR1", Agency.POLICE, "alice", realm=realm)
        writer = IncidentService(store, author)
        opened = writer.open_incident(knife_incident(visibility=visibility))
        logged = writer.add_log(opened.incident.id, "Units en route")
        return [*opened.events, *logged.events]


def _still_up_and_empty(client: httpx.Client, service: SyncService) -> None:
    assert client.get("/v1/health").status_code == 200
    assert service.backend.high_water() == 0


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str)
    return message


def test_malformed_json_is_refused_with_a_clear_message(
    client: httpx.Client, service: SyncService
) -> None:
    headers = {
        "Authorization": f"Bearer {_token(client, service)}",
        "Content-Type": "application/json",
    }
    message = _error(client.post("/v1/sync/push", content=b'{"events": [', headers=headers), 400)
    assert message == "the body is not valid JSON"
    _still_up_and_empty(client, service)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"events": 3}, "events: Input should be a valid list"),
        ({"protocol": "one", "events": []}, "protocol: Input should be a valid integer"),
        ({}, "events: Field required"),
        ([1, 2], "Input should be a valid dictionary"),
    ],
)
def test_wrong_types_are_refused(
    client: httpx.Client, service: SyncService, body: object, expected: str
) -> None:
    headers = {"Authorization": f"Bearer {_token(client, service)}"}
    message = _error(client.post("/v1/sync/push", json=body, headers=headers), 400)
    assert expected in message
    _still_up_and_empty(client, service)


def test_an_unknown_protocol_version_says_which_are_spoken(
    client: httpx.Client, service: SyncService
) -> None:
    headers = {"Authorization": f"Bearer {_token(client, service)}"}
    response = client.post("/v1/sync/push", json={"protocol": 9, "events": []}, headers=headers)
    assert _error(response, 400) == (
        "protocol 9 is not spoken here; this server accepts 2: upgrade OSC Console"
    )
    _still_up_and_empty(client, service)


def test_events_with_unknown_kinds_or_bad_fields_are_refused_each_with_its_reason(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    good = _events(tmp_path, service)
    unknown = {**good[0].to_wire(), "kind": "incident.teleported"}
    bad_type = {**good[0].to_wire(), "device_seq": "first"}
    headers = {"Authorization": f"Bearer {_token(client, service)}"}
    response = client.post(
        "/v1/sync/push", json={"protocol": P, "events": [unknown, bad_type]}, headers=headers
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["rejected", "rejected"]
    # The kind was changed, so the hash no longer matches: caught before the kind is looked at.
    assert results[0]["reason"] == "content hash does not match the event (changed?)"
    assert results[1]["reason"] == ("invalid event: device_seq: must be a whole number from 1")
    _still_up_and_empty(client, service)


def test_an_unknown_kind_with_a_true_hash_is_refused_and_kept_out(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    # Signed by alice at her desk, as a newer console writing a kind this server lacks would.
    alice = operator_at(service, "CR1", Agency.POLICE, "alice").author("live")
    event = hand_made(EventDraft("incident.teleported", {"to": "Mars"}), alice)
    headers = {"Authorization": f"Bearer {_token(client, service)}"}
    response = client.post(
        "/v1/sync/push", json={"protocol": P, "events": [event.to_wire()]}, headers=headers
    )
    result = response.json()["results"][0]
    assert result["outcome"] == "rejected"
    assert result["reason"].startswith("unknown kind 'incident.teleported' (schema 1)")
    _still_up_and_empty(client, service)


def test_too_many_events_in_one_push_is_413(client: httpx.Client, service: SyncService) -> None:
    headers = {"Authorization": f"Bearer {_token(client, service)}"}
    body = {"protocol": P, "events": [{}] * (MAX_PUSH_EVENTS + 1)}
    message = _error(client.post("/v1/sync/push", json=body, headers=headers), 413)
    assert message.startswith(f"a push may hold at most {MAX_PUSH_EVENTS} events")
    _still_up_and_empty(client, service)


def test_an_oversized_body_is_413_even_without_a_content_length(
    client: httpx.Client, service: SyncService
) -> None:
    headers = {
        "Authorization": f"Bearer {_token(client, service)}",
        "Content-Type": "application/json",
    }
    chunk = b" " * (1024 * 1024)

    def stream() -> Iterator[bytes]:
        yield b'{"protocol": 2, "events": ['
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk
        yield b"]}"

    response = client.post("/v1/sync/push", content=stream(), headers=headers)
    assert _error(response, 413) == "the request is larger than 8 MiB; send less at once"
    sized = client.post("/v1/sync/push", content=b"x" * (MAX_BODY_BYTES + 1), headers=headers)
    assert _error(sized, 413).startswith("the request is larger than")
    _still_up_and_empty(client, service)


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (None, "sign in first: send 'Authorization: Bearer <token>'"),
        ("Basic abc", "sign in first: send 'Authorization: Bearer <token>'"),
        ("Bearer not-a-token", "this sign-in is not recognised; sign in again"),
    ],
)
def test_bad_tokens_are_401_on_push_and_pull(
    client: httpx.Client, service: SyncService, authorization: str | None, expected: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    push = client.post("/v1/sync/push", json={"protocol": P, "events": []}, headers=headers)
    pull = client.get("/v1/sync/pull", headers=headers)
    assert _error(push, 401) == expected
    assert _error(pull, 401) == expected
    assert push.headers["WWW-Authenticate"] == "Bearer"
    _still_up_and_empty(client, service)


def test_an_expired_token_is_refused(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    events = [e.to_wire() for e in _events(tmp_path, service)]
    service.signin.policy = replace(service.signin.policy, token_ttl=timedelta(seconds=-1))
    headers = {"Authorization": f"Bearer {_token(client, service)}"}
    response = client.post("/v1/sync/push", json={"protocol": P, "events": events}, headers=headers)
    assert _error(response, 401) == "this sign-in has expired; sign in again"
    _still_up_and_empty(client, service)


def _login(user: str, password: str, realm: str = "live", **change: object) -> Callable[..., Any]:
    """A sign-in body as desk CR1 makes it, then changed as given (None: left out)."""

    def body(identity: WorkstationIdentity) -> dict[str, Any]:
        made = identity.login_request(user, password, realm).to_wire()
        made.update(change)
        return {k: v for k, v in made.items() if v is not None}

    return body


@pytest.mark.parametrize(
    ("make", "status", "expected"),
    [
        (_login("alice", "wrong password"), 401, "user name or password not recognised"),
        (_login("nobody", PASSWORD), 401, "user name or password not recognised"),
        (
            _login("alice", PASSWORD, workstation="cr 1!"),
            400,
            "workstation must be 2 to 8 capital letters or digits, e.g. CR1",
        ),
        (
            _login("alice", PASSWORD, realm="drill"),
            400,
            "realm 'drill' must be 'live' or 'exercise:<slug>'",
        ),
        (lambda _: {"user": "alice"}, 400, "password: Field required"),
        (
            _login("alice", PASSWORD, protocol=None),
            400,
            "this console speaks protocol 0; the server speaks 2: upgrade OSC Console",
        ),
        (
            _login("alice", PASSWORD, proof=None),
            400,
            "proof: the workstation's signed proof is missing",
        ),
        (
            _login("alice", PASSWORD, workstation="CR7"),
            403,
            "workstation CR7 is not enrolled with this server: an administrator must enrol it",
        ),
    ],
)
def test_bad_sign_ins_are_refused(
    client: httpx.Client,
    service: SyncService,
    make: Callable[[WorkstationIdentity], dict[str, Any]],
    status: int,
    expected: str,
) -> None:
    body = make(desk(service, "CR1", Agency.POLICE))
    assert expected in _error(client.post("/v1/auth/login", json=body), status)
    _still_up_and_empty(client, service)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("after=-1", "query.after: Input should be greater than or equal to 0"),
        ("limit=0", "query.limit: Input should be greater than or equal to 1"),
        ("wait=600", "query.wait: Input should be less than or equal to 60"),
        ("after=abc", "query.after: Input should be a valid integer"),
    ],
)
def test_bad_pull_parameters_are_400(
    client: httpx.Client, service: SyncService, query: str, expected: str
) -> None:
    headers = {"Authorization": f"Bearer {_token(client, service)}"}
    assert expected in _error(client.get(f"/v1/sync/pull?{query}", headers=headers), 400)
    _still_up_and_empty(client, service)


def test_an_exercise_sign_in_can_neither_push_nor_pull_live_events(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    live = _events(tmp_path, service)
    live_token = _token(client, service)
    client.post(
        "/v1/sync/push",
        json={"protocol": P, "events": [e.to_wire() for e in live]},
        headers={"Authorization": f"Bearer {live_token}"},
    )
    stored = service.backend.high_water()
    assert stored == len(live)
    exercise = {"Authorization": f"Bearer {_token(client, service, realm='exercise:flood')}"}

    pull = client.get("/v1/sync/pull?realm=live", headers=exercise)
    assert _error(pull, 403) == "this sign-in is for realm exercise:flood; it cannot read live"
    own = client.get("/v1/sync/pull?realm=exercise:flood", headers=exercise).json()
    assert own["events"] == []

    more_live = _events(tmp_path / "again", service)
    push = client.post(
        "/v1/sync/push",
        json={"protocol": P, "events": [e.to_wire() for e in more_live]},
        headers=exercise,
    ).json()
    assert {r["outcome"] for r in push["results"]} == {"rejected"}
    assert push["results"][0]["reason"] == (
        "belongs to realm live; this sign-in is for exercise:flood"
    )
    assert service.backend.high_water() == stored


def test_a_live_sign_in_cannot_push_or_read_an_exercise(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    drill = _events(tmp_path, service, realm="exercise:flood")
    live = {"Authorization": f"Bearer {_token(client, service)}"}
    push = client.post(
        "/v1/sync/push", json={"protocol": P, "events": [e.to_wire() for e in drill]}, headers=live
    ).json()
    assert {r["outcome"] for r in push["results"]} == {"rejected"}
    pull = client.get("/v1/sync/pull?realm=exercise:flood", headers=live)
    assert _error(pull, 403) == "this sign-in is for realm live; it cannot read exercise:flood"
    _still_up_and_empty(client, service)


def test_a_council_user_may_not_push_a_police_only_event(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    """Bob's own console would not let him write it; one that skipped the check signs it as
    his, at his own desk, and the server refuses it (and the entry after it) all the same."""
    bob = operator_at(service, "CC1", Agency.CORPORATION, "bob").author("live")
    opened = _opening(tmp_path, bob, Visibility.POLICE)
    logged = hand_made(
        EventDraft(
            "log.added",
            {"text": "Informant names the suspect"},
            incident_id=opened.incident_id,
            visibility=Visibility.POLICE,
        ),
        bob,
        after=opened,
    )
    council = {"Authorization": f"Bearer {_token(client, service, user='bob', workstation='CC1')}"}
    push = client.post(
        "/v1/sync/push",
        json={"protocol": P, "events": [opened.to_wire(), logged.to_wire()]},
        headers=council,
    ).json()
    assert [r["outcome"] for r in push["results"]] == ["rejected", "rejected"]
    assert push["results"][0]["reason"] == (
        "not permitted: a corporation user may not send a police-only event"
    )
    _still_up_and_empty(client, service)


def _opening(folder: Path, author: Author, visibility: Visibility = Visibility.JOINT) -> Event:
    """An incident.opened as a console writes it (its payload made by a scratch console),
    sealed and signed by hand as ``author``'s, with the visibility given."""
    with Store.open(folder / "scratch.db") as store:
        scratch = signed(store, Author("Scratch", Agency.POLICE, "ZZ1"))
        model = IncidentService(store, scratch).open_incident(knife_incident()).events[0]
    draft = EventDraft(
        model.kind, dict(model.payload), incident_id=model.incident_id, visibility=visibility
    )
    return hand_made(draft, author)


def test_the_openapi_document_lists_the_api(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    assert {"/v1/auth/login", "/v1/sync/push", "/v1/sync/pull", "/v1/health"} <= set(
        document["paths"]
    )
    assert document["info"]["title"] == "OSC Console sync server"


def test_a_batch_with_an_invalid_event_stores_the_rest_and_keeps_the_chain_whole(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    first = _events(tmp_path, service)[0]  # the incident's opening, CR1#1
    alice = operator_at(service, "CR1", Agency.POLICE, "alice").author("live")
    bad = hand_made(
        EventDraft("log.added", {"text": "   "}, incident_id=first.incident_id),
        alice,
        after=first,
        counter=1,
    )
    good = hand_made(
        EventDraft("log.added", {"text": "On scene"}, incident_id=first.incident_id),
        alice,
        after=bad,
        counter=2,
    )
    headers = {"Authorization": f"Bearer {_token(client, service)}"}
    body = {"protocol": P, "events": [e.to_wire() for e in (first, bad, good)]}
    results = client.post("/v1/sync/push", json=body, headers=headers).json()["results"]
    assert [r["outcome"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["reason"] == "invalid: payload.text: must not be empty"
    assert service.backend.high_water() == 2
    chain = service.backend.chains("live")["CR1"]
    assert [(seq, prev) for seq, prev, _ in chain] == [
        (1, None),
        (2, first.content_hash),
        (3, bad.content_hash),
    ]
    # Sent again, it gets the same answer: refused, not a chain error.
    again = client.post("/v1/sync/push", json=body, headers=headers).json()["results"]
    assert [r["outcome"] for r in again] == ["duplicate", "rejected", "duplicate"]
    assert again[1]["reason"] == results[1]["reason"]


def test_a_server_that_accepts_but_never_answers_counts_as_unreachable() -> None:
    """A half-open connection: the client gives up after its timeout and tries again later."""
    import socket
    import time

    from osc_console.sync.client import HttpTransport
    from osc_console.sync.transport import ServerUnreachableError

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        transport = HttpTransport(f"http://127.0.0.1:{port}", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(ServerUnreachableError, match="cannot reach"):
            transport.pull("token", "live", 0, 10, 0.0)
        assert time.monotonic() - started < 5
        transport.close()


def _exercise_start(
    tmp_path: Path, service: SyncService, code: str = "EXCON", user: str = "erin"
) -> list[Event]:
    """Exercise control's own console starts the flood exercise, as ``user`` at ``code``."""
    from osc_console.models.scenario import load_shipped
    from osc_console.services.exercise import ExerciseRun

    scenario = load_shipped("city-flood")
    with Store.open(tmp_path / "drill.db", scenario.realm) as store:
        author = author_at(service, store, code, Agency.CORPORATION, user, realm=scenario.realm)
        ExerciseRun(store, scenario, author, speed=600).start()
        return [e for e in store.iter_events() if e.kind.startswith("exercise.")]


def _rewritten(events: list[Event], author: Author) -> list[Event]:
    """The same entries made (sealed and signed by hand) as ``author``'s, in a chain of their
    own: what a console that skipped its store's checks would send."""
    made: list[Event] = []
    for n, event in enumerate(events):
        draft = EventDraft(
            event.kind,
            dict(event.payload),
            incident_id=event.incident_id,
            visibility=Visibility(event.visibility),
            schema=event.schema,
        )
        made.append(hand_made(draft, author, after=made[-1] if made else None, counter=n))
    return made


def test_only_a_planner_may_start_or_stop_an_exercise_on_the_server(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    planned = _exercise_start(tmp_path, service, "EXCON2")
    realm = planned[0].realm
    # Bob, a dispatcher, at his own desk: his console would not let him; one that skipped the
    # check signs the start as his.
    bob = operator_at(service, "EXCON", Agency.CORPORATION, "bob", realm).author(realm)
    started = _rewritten(planned, bob)
    body = {"protocol": P, "events": [e.to_wire() for e in started]}
    token = _token(client, service, user="bob", realm=realm, workstation="EXCON")
    dispatcher = {"Authorization": f"Bearer {token}"}
    refused = client.post("/v1/sync/push", json=body, headers=dispatcher).json()["results"]
    assert refused[0]["outcome"] == "rejected"
    assert refused[0]["reason"] == (
        "not permitted: a dispatcher may not record exercise.started (only admins, planners)"
    )
    assert service.backend.high_water() == 0
    # A planner's own console sends her own events.
    token = _token(client, service, user="erin", realm=realm, workstation="EXCON2")
    planner = {"Authorization": f"Bearer {token}"}
    own = {"protocol": P, "events": [e.to_wire() for e in planned]}
    accepted = client.post("/v1/sync/push", json=own, headers=planner).json()["results"]
    assert {r["outcome"] for r in accepted} == {"accepted"}


def test_an_exercise_kind_in_the_live_realm_is_refused_by_the_server(
    client: httpx.Client, service: SyncService, tmp_path: Path
) -> None:
    started = _exercise_start(tmp_path, service)[0]
    erin = operator_at(service, "EXCON", Agency.CORPORATION, "erin").author("live")
    forged = hand_made(EventDraft(started.kind, dict(started.payload)), erin)
    planner = {
        "Authorization": f"Bearer {_token(client, service, user='erin', workstation='EXCON')}"
    }
    result = client.post(
        "/v1/sync/push", json={"protocol": P, "events": [forged.to_wire()]}, headers=planner
    ).json()["results"][0]
    assert result["outcome"] == "rejected"
    assert result["reason"] == (
        "invalid: realm: exercise.started belongs to an exercise realm (exercise:<slug>), not live"
    )
    _still_up_and_empty(client, service)
