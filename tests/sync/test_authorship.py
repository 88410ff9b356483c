"""Who did it, provably (issue 12), as the server judges it, on both backends.

Every pushed entry must come from the workstation the sign-in is for, be signed with a key
the server certified for its actor at that workstation (and that actor's agency), and be of a
kind the role its author held when it was recorded may write. Entries that fail are refused
with the reason; workstations check what they pull. Sign-in itself is held to account:
enrolled desks only, proofs used once, lockout after five failures, the same answer for an
unknown name, throttling per address that leaves sync alone, and break-glass recorded.

Entries a console's own checks would never let through are made here by hand
(``hand_made``): sealed and signed as a console that skipped its checks would send them.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.authority import NotPermittedError
from osc_console.models.events import (
    Author,
    Event,
    EventDraft,
    canonical_event_json,
    signed_message,
)
from osc_console.models.ids import uuid7
from osc_console.models.users import Role, User
from osc_console.server import schema
from osc_console.server.errors import ApiError
from osc_console.server.postgres_backend import PostgresBackend
from osc_console.server.rules import Caller, Checked
from osc_console.server.service import SyncService
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.server.storage import Backend
from osc_console.services.exercise import ExerciseRun
from osc_console.services.identity import SignInError, WorkstationIdentity, register_operator
from osc_console.services.incidents import IncidentService
from osc_console.services.shifts import ShiftService
from osc_console.signing.keys import SigningKey
from osc_console.signing.vault import TEST_COST
from osc_console.store import outbox
from osc_console.store.event_store import Store
from osc_console.store.keyring import Keyring
from osc_console.sync.protocol import PROTOCOL_VERSION
from osc_console.sync.transport import ServerUnreachableError, SignInNeededError
from tests.conftest import knife_incident
from tests.signing import signed
from tests.sync.harness import (
    FAST_POLICY,
    PASSWORD,
    ServerThread,
    add_users,
    author_at,
    check_invariants,
    desk,
    hand_made,
    http,
    make_service,
    make_workstation,
    operator_at,
    pg_schema,
    server_events,
    sign_in_at,
    signed_in,
)
from tests.sync.simnet import SimTransport

NOT_RECOGNISED = "user name or password not recognised"


# ---- entries made by hand ------------------------------------------------------------------


@dataclass(frozen=True)
class Models:
    """One entry of each role-restricted kind, as honest consoles write them (their content
    is copied into the entries made by hand below)."""

    opened: Event
    closed: Event
    reopened: Event
    decision: Event
    signed_off: Event
    started: Event


def _models(folder: Path) -> Models:
    """Written by a duty manager and a planner on scratch stores (a test authority)."""
    with Store.open(folder / "models-live.db") as store:
        manager = signed(store, Author("Insp. R. Shah", Agency.POLICE, "ZZ1"))
        writer = IncidentService(store, manager)
        opened = writer.open_incident(knife_incident()).events[0]
        closed = writer.close(opened.incident_id or "", "CL-NOCRIME", "No trace").events[0]
        reopened = writer.reopen(opened.incident_id or "", "Caller rang back").events[0]
        decision = writer.record_decision(
            opened.incident_id or "", "Close Leadenhall Street", "Crowd control"
        ).events[0]
        shifts = ShiftService(
            store, manager, user=User(manager.actor, Agency.POLICE, Role.DUTY_MANAGER)
        )
        window = shifts.current()
        signed_off = shifts.sign_off(window.day, window.name, "Quiet").event
    from osc_console.models.scenario import load_shipped

    scenario = load_shipped("city-flood")
    with Store.open(folder / "models-drill.db", scenario.realm) as store:
        planner = signed(
            store, Author("Ana Planner", Agency.CORPORATION, "ZZ2", scenario.realm, "planner")
        )
        ExerciseRun(store, scenario, planner, speed=600).start()
        started = next(e for e in store.iter_events() if e.kind == "exercise.started")
    return Models(opened, closed, reopened, decision, signed_off, started)


def _as(
    model: Event, author: Author, *, after: Event | None = None, device_seq: int | None = None
) -> Event:
    """``model``'s content as an entry by ``author`` (sealed and signed by hand)."""
    draft = EventDraft(
        model.kind,
        dict(model.payload),
        incident_id=model.incident_id,
        visibility=Visibility(model.visibility),
        base=dict(model.base),
        refs=tuple(model.refs),
        schema=model.schema,
    )
    return hand_made(draft, author, after=after, device_seq=device_seq)


def _log(author: Author, text: str, incident_id: str | None, **kw: Any) -> Event:
    return hand_made(EventDraft("log.added", {"text": text}, incident_id=incident_id), author, **kw)


def _push(service: SyncService, caller: Caller, *events: Event) -> list[tuple[str, str | None]]:
    """Push as the server receives it (the wire form); (outcome, reason) per event."""
    wire = json.loads(json.dumps([e.to_wire() for e in events]))
    return [(r.outcome.value, r.reason) for r in service.push(caller, PROTOCOL_VERSION, wire)]


def _planted(backend: Backend, caller: Caller, *events: Event) -> None:
    """Stored on the server without its checks: a tampered server database, or a server
    that is not what it should be. Pulling workstations must catch it themselves."""
    checked = [
        Checked(i, e.id, e, canonical_event_json(e, content_hash=e.content_hash))
        for i, e in enumerate(events)
    ]
    assert {r.outcome.value for r in backend.push(caller, checked)} == {"accepted"}


# ---- an entry in another's name, agency or workstation ---------------------------------------


def test_an_entry_in_another_actors_name_agency_or_workstation_is_refused_with_why(
    service: SyncService,
) -> None:
    bob = operator_at(service, "CC1", Agency.CORPORATION, "bob").author("live")
    dave = operator_at(service, "CC2", Agency.CORPORATION, "dave").author("live")
    incident = uuid7()
    # Bob, signed in at his own desk CC1, sends entries that claim to be someone else's.
    as_dave = _log(replace(bob, actor="dave"), "Dave says so", incident)
    with_daves_key = _log(replace(dave, workstation="CC1"), "Dave's key", incident, after=as_dave)
    as_police = _log(
        replace(bob, agency=Agency.POLICE), "Police say so", incident, after=with_daves_key
    )
    from_cc2 = _log(replace(bob, workstation="CC2"), "From CC2", incident)
    # None of them took a place in CC1's chain: Bob's own next entry is still its first.
    honest = _log(bob, "Bob's own note", incident)
    answers = _push(
        service,
        signed_in(service, "bob", "CC1"),
        as_dave,
        with_daves_key,
        as_police,
        from_cc2,
        honest,
    )
    assert answers == [
        ("rejected", "signature refused: signed with the key of bob at CC1, not of dave at CC1"),
        ("rejected", "signature refused: signed with the key of dave at CC2, not of dave at CC1"),
        ("rejected", "signature refused: bob is corporation staff; the entry claims police"),
        (
            "rejected",
            "not permitted: this sign-in is for workstation CC1; the entry was made at CC2, "
            "which only that workstation may send",
        ),
        ("accepted", None),
    ]
    assert set(server_events(service.backend, "live")) == {honest.id}
    # Nothing took a place in CC2's chain: Dave's own desk starts it.
    assert "CC2" not in service.backend.chains("live")
    own = _log(dave, "Dave at his own desk", incident)
    assert _push(service, signed_in(service, "dave", "CC2"), own) == [("accepted", None)]


def test_an_entry_in_the_name_of_someone_never_signed_in_there_is_refused(
    service: SyncService,
) -> None:
    """Unsigned, or signed with a key nobody certified: refused, never stored."""
    carol = operator_at(service, "CR2", Agency.POLICE, "carol").author("live")
    incident = uuid7()
    unsigned = _log(replace(carol, signer=None), "No signature", incident)
    stranger_key = SigningKey.generate()
    uncertified = _log(
        replace(carol, signer=stranger_key), "A key of my own", incident, after=unsigned
    )
    answers = _push(service, signed_in(service, "carol", "CR2"), unsigned, uncertified)
    assert answers == [
        (
            "rejected",
            "unsigned: every new entry must be signed by its author (written before this "
            "workstation signed its entries?)",
        ),
        (
            "rejected",
            f"signature refused: key {stranger_key.key_id} is not registered with this server",
        ),
    ]
    assert server_events(service.backend, "live") == {}


# ---- forged and altered signatures -----------------------------------------------------------


def test_a_forged_or_altered_signature_is_refused(service: SyncService) -> None:
    """Carol shares desk CR1 with Alice and tries to put words in Alice's mouth."""
    alice = operator_at(service, "CR1", Agency.POLICE, "alice").author("live")
    carol = operator_at(service, "CR1", Agency.POLICE, "carol").author("live")
    assert alice.signer is not None
    assert carol.signer is not None
    incident = uuid7()
    first = _log(alice, "Alice's real entry", incident)
    # Claims Alice's key, but signed with Carol's.
    claimed = _log(replace(alice, signer=None), "Alice agrees with Carol", incident, after=first)
    forged = replace(
        claimed,
        key_id=alice.signer.key_id,
        sig=carol.signer.sign(signed_message(claimed.content_hash)),
    )
    # Alice's real entry, its text changed and its hash made again; her signature kept.
    real = _log(alice, "Suspect detained", incident, after=forged)
    altered = replace(real, payload={"text": "Suspect released"})
    altered = replace(altered, content_hash=altered.computed_hash())
    # Changed without a new hash.
    changed = _log(alice, "Area searched", incident, after=altered)
    changed = replace(changed, payload={"text": "Area not searched"})
    answers = _push(service, signed_in(service, "carol", "CR1"), first, forged, altered, changed)
    assert answers == [
        ("accepted", None),
        (
            "rejected",
            "signature refused: its signature does not match its content (altered or forged)",
        ),
        (
            "rejected",
            "signature refused: its signature does not match its content (altered or forged)",
        ),
        ("rejected", "content hash does not match the event (changed?)"),
    ]
    assert set(server_events(service.backend, "live")) == {first.id}


# ---- the attack of the issue, replayed --------------------------------------------------------


def test_the_impersonation_and_chain_hijack_of_the_issue_do_no_harm(
    tmp_path: Path, server: ServerThread, service: SyncService
) -> None:
    police = make_workstation(tmp_path, "CR1", Agency.POLICE, http(server.url), user="alice")
    council = make_workstation(tmp_path, "CC1", Agency.CORPORATION, http(server.url), user="bob")
    reader = make_workstation(tmp_path, "CC2", Agency.CORPORATION, http(server.url), user="dave")
    opened = police.desk.open_incident(knife_incident())
    logged = police.desk.add_log(opened.incident.id, "Two units on the way")
    police.made.extend(e.id for e in (*opened.events, *logged.events))
    police.engine.sync_once()
    council.engine.sync_once()
    head = logged.events[-1]

    # The Corporation dispatcher, signed in as himself at his own desk.
    assert council.identity is not None
    bob = sign_in_at(service, council.identity, "bob")[0].author("live")
    request = council.identity.login_request("bob", PASSWORD, "live")
    token = council.transport.login(request).session.token
    as_officer = replace(bob, actor="alice", agency=Agency.POLICE, workstation="CR1")
    impersonation = _log(
        as_officer,
        "Suspect released without charge",
        opened.incident.id,
        after=head,
        device_seq=900,
    )
    # Then the next position of the officer's real chain, claiming her key.
    hijack = _log(as_officer, "Incident closed, no further action", opened.incident.id, after=head)
    hijack = replace(hijack, key_id=head.key_id)
    answer = council.transport.push(token, [impersonation, hijack])
    reason = (
        "not permitted: this sign-in is for workstation CC1; the entry was made at CR1, which "
        "only that workstation may send"
    )
    assert [(r.outcome.value, r.reason) for r in answer.results] == [
        ("rejected", reason),
        ("rejected", reason),
    ]
    # Nor can he sign in as the officer's desk: it proves itself with its own device key.
    with pytest.raises(SignInNeededError, match="this workstation could not prove it is CR1"):
        council.transport.login(replace(request, workstation="CR1"))

    # The officer's workstation keeps syncing: her later entries are accepted.
    later = police.desk.add_log(opened.incident.id, "Suspect detained at Bank")
    police.made.extend(e.id for e in later.events)
    police.engine.sync_once()
    assert police.store.pending_count() == 0
    assert outbox.refused(police.store) == []
    for station in (council, reader, police):
        station.engine.sync_once()

    forged = {impersonation.id, hijack.id}
    assert not forged & set(server_events(service.backend, "live"))
    chain = service.backend.chains("live")["CR1"]
    assert [digest for _, _, digest in chain] == [
        e.content_hash for e in (*opened.events, *logged.events, *later.events)
    ]
    for station in (police, council, reader):
        assert not forged & {e.id for e in station.store.iter_events()}
        assert not forged & {r.event_id for r in station.store.refused_events()}
    seen = reader.store.events_of(opened.incident.id)
    assert [e.payload.get("text") for e in seen if e.kind == "log.added"] == [
        "Two units on the way",
        "Suspect detained at Bank",
    ]
    check_invariants(service.backend, [police, council, reader])
    for station in (police, council, reader):
        station.close()


# ---- what each role may write ----------------------------------------------------------------

RESTRICTED = [
    # kind, who may not (user, role), who may (user, role), and why the first is refused
    (
        "closed",
        ("hal", "call_handler"),
        ("alice", "dispatcher"),
        "not permitted: a call handler may not record incident.closed "
        "(only admins, dispatchers, duty managers)",
    ),
    (
        "reopened",
        ("hal", "call_handler"),
        ("mo", "duty_manager"),
        "not permitted: a call handler may not record incident.reopened "
        "(only admins, duty managers)",
    ),
    (
        "decision",
        ("alice", "dispatcher"),
        ("mo", "duty_manager"),
        "not permitted: a dispatcher may not record decision.recorded (only admins, duty managers)",
    ),
    (
        "signed_off",
        ("alice", "dispatcher"),
        ("mo", "duty_manager"),
        "not permitted: a dispatcher may not record shift.signed_off (only admins, duty managers)",
    ),
    (
        "started",
        ("bob", "dispatcher"),
        ("erin", "planner"),
        "not permitted: a dispatcher may not record exercise.started (only admins, planners)",
    ),
]


@pytest.mark.parametrize("case", RESTRICTED, ids=[c[0] for c in RESTRICTED])
def test_a_role_restricted_kind_is_refused_to_a_role_that_may_not_write_it(
    service: SyncService,
    tmp_path: Path,
    case: tuple[str, tuple[str, str], tuple[str, str], str],
) -> None:
    model, refused, permitted, why = case
    add_users(service, ("hal", Agency.POLICE), role="call_handler")
    add_users(service, ("mo", Agency.POLICE), role="duty_manager")
    entry: Event = getattr(_models(tmp_path), model)
    realm = entry.realm
    for (user, role), code, outcome, reason in (
        (refused, "WS1", "rejected", why),
        (permitted, "WS2", "accepted", None),
    ):
        agency = service.accounts().find(user).agency  # type: ignore[union-attr]
        operator = operator_at(service, code, agency, user, realm)
        assert operator.role.value == role
        author = operator.author(realm)
        made = _as(entry, author)
        caller = signed_in(service, user, code, realm)
        assert _push(service, caller, made) == [(outcome, reason)]
        if outcome == "rejected":
            # The store of that person's own console refuses it too, for the same reason.
            with Store.open(tmp_path / f"{code}.db", realm) as store:
                register_operator(store, operator, desk(service, code, agency))
                draft = EventDraft(entry.kind, dict(entry.payload), incident_id=entry.incident_id)
                with pytest.raises(NotPermittedError) as refusal:
                    store.append(draft, author)
                assert str(refusal.value) == why
    assert service.backend.high_water() == 1  # the permitted one only


def test_a_role_an_administrator_grants_applies_from_the_next_sign_in(
    service: SyncService, tmp_path: Path
) -> None:
    add_users(service, ("hal", Agency.POLICE), role="call_handler")
    models = _models(tmp_path)
    identity = desk(service, "CR3", Agency.POLICE)
    handler, reply = sign_in_at(service, identity, "hal")
    session = service.authenticate(f"Bearer {reply.session.token}")
    service.admin.set_role("admin", "hal", "dispatcher")
    # Still the call handler's sign-in: the grant he holds says call handler.
    early = _as(models.closed, handler.author("live"))
    assert _push(service, session, early) == [
        (
            "rejected",
            "not permitted: a call handler may not record incident.closed "
            "(only admins, dispatchers, duty managers)",
        )
    ]
    # Signed in again, he holds the dispatcher's grant.
    dispatcher, _ = sign_in_at(service, identity, "hal")
    assert dispatcher.role is Role.DISPATCHER
    closed = _as(models.closed, dispatcher.author("live"), after=early)
    assert _push(service, signed_in(service, "hal", "CR3"), closed) == [("accepted", None)]
    # Sent again later, the early one keeps its answer.
    assert _push(service, signed_in(service, "hal", "CR3"), early)[0][0] == "rejected"
    audit = [(e.action, e.subject, e.detail) for e in service.admin.audit()]
    assert (
        "role changed",
        "hal",
        "call_handler -> dispatcher (from the next sign-in; signed out)",
    ) in audit


# ---- disabled accounts ----------------------------------------------------------------------


def test_a_disabled_accounts_entries_after_it_was_disabled_are_refused(
    tmp_path: Path, service: SyncService
) -> None:
    police = make_workstation(tmp_path, "CR1", Agency.POLICE, SimTransport(service), user="alice")
    opened = police.desk.open_incident(knife_incident())
    service.admin.disable("admin", "alice")
    time.sleep(0.002)  # recorded strictly after the revocation
    # Her console still holds her sign-in (offline, say): what she records now is refused.
    after = police.desk.add_log(opened.incident.id, "Written after she was disabled").events[0]
    with pytest.raises(ApiError) as refusal:
        sign_in_at(service, police.identity or desk(service, "CR1", Agency.POLICE), "alice")
    assert (refusal.value.status, refusal.value.message) == (
        403,
        "this account is disabled; ask an administrator",
    )
    police.engine.sign_in("carol", PASSWORD)  # the next operator at the desk syncs
    police.engine.sync_once()
    assert set(server_events(service.backend, "live")) == {opened.events[0].id}
    refused = outbox.refused(police.store)
    assert [(r.event_id, r.reason) for r in refused] == [
        (
            after.id,
            f"not permitted: alice held no grant at CR1 when this was recorded "
            f"({after.recorded_at}); sign in to the server first",
        )
    ]
    # The desk goes on: Carol's entries follow in its chain and are accepted.
    carol = IncidentService(
        police.store, author_at(service, police.store, "CR1", Agency.POLICE, "carol")
    )
    note = carol.add_log(opened.incident.id, "Carol takes over").events[0]
    police.engine.sync_once()
    assert note.id in server_events(service.backend, "live")
    assert police.store.pending_count() == 0
    police.close()


# ---- enrolled workstations, proofs used once ------------------------------------------------


def _login(client: httpx.Client, identity: WorkstationIdentity, user: str, **kw: Any) -> Any:
    body = identity.login_request(user, kw.pop("password", PASSWORD), "live").to_wire()
    body.update(kw)
    return client.post("/v1/auth/login", json=body)


def test_an_unenrolled_or_revoked_workstation_cannot_sign_in(
    tmp_path: Path, server: ServerThread, service: SyncService
) -> None:
    stranger = WorkstationIdentity(Keyring(tmp_path / "ZZ9.keys.db"), "ZZ9", kdf_cost=TEST_COST)
    enrolled = desk(service, "CR1", Agency.POLICE)
    # Another machine calling itself CR2, while CR2 is enrolled with a different key.
    desk(service, "CR2", Agency.POLICE)
    clone = WorkstationIdentity(Keyring(tmp_path / "CR2.keys.db"), "CR2", kdf_cost=TEST_COST)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        answer = _login(client, stranger, "alice")
        assert answer.status_code == 403
        assert answer.json()["error"] == (
            "workstation ZZ9 is not enrolled with this server: an administrator must enrol it "
            "(at this desk, or with 'osc-console workstation enrol')"
        )
        answer = _login(client, clone, "carol")
        assert answer.status_code == 401
        assert answer.json()["error"] == (
            "this workstation could not prove it is CR2: its key is not the one enrolled (ask "
            "an administrator to enrol it again)"
        )
        assert _login(client, enrolled, "alice").status_code == 200
        service.admin.revoke_workstation("admin", "CR1")
        answer = _login(client, enrolled, "alice")
        assert answer.status_code == 403
        assert answer.json()["error"] == (
            "workstation CR1 is revoked with this server: an administrator must enrol it "
            "(at this desk, or with 'osc-console workstation enrol')"
        )
    stranger.keyring.close()
    clone.keyring.close()


def test_a_sign_in_proof_is_good_once_and_only_while_fresh(
    server: ServerThread, service: SyncService
) -> None:
    identity = desk(service, "CR1", Agency.POLICE)
    body = identity.login_request("alice", PASSWORD, "live").to_wire()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.post("/v1/auth/login", json=body).status_code == 200
        again = client.post("/v1/auth/login", json=body)
        assert (again.status_code, again.json()["error"]) == (
            401,
            "this sign-in proof was used already; sign in again",
        )
        real = identity.wall
        identity.wall = lambda: datetime.now(UTC) - timedelta(minutes=10)
        try:
            stale = client.post(
                "/v1/auth/login", json=identity.login_request("alice", PASSWORD, "live").to_wire()
            )
        finally:
            identity.wall = real
        assert (stale.status_code, stale.json()["error"]) == (
            401,
            "this workstation's clock is more than 5 min from the server's: set it right, then "
            "sign in again",
        )
        # Someone who saw a proof cannot use it for another person or realm either.
        other = {**identity.login_request("alice", PASSWORD, "live").to_wire(), "user": "carol"}
        answer = client.post("/v1/auth/login", json=other)
        assert answer.status_code == 401
        assert answer.json()["error"].startswith("this workstation could not prove it is CR1")


# ---- guessing passwords ---------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(
    server: ServerThread, service: SyncService
) -> None:
    identity = desk(service, "CR1", Agency.POLICE)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        answers = [_login(client, identity, "alice", password=f"wrong {n}") for n in range(1, 6)]
        assert [a.status_code for a in answers] == [401] * 5
        assert [a.json()["error"] for a in answers[:4]] == [NOT_RECOGNISED] * 4
        assert answers[4].json()["error"] == (
            f"{NOT_RECOGNISED}; after 5 failures in a row the account is locked for 15 min"
        )
        locked = _login(client, identity, "alice")  # even the right password
        assert locked.status_code == 403
        message = locked.json()["error"]
        assert message.startswith("this account is locked after 5 failed sign-ins until ")
        assert message.endswith("; an administrator can unlock it")
        service.admin.unlock("admin", "alice")
        assert _login(client, identity, "alice").status_code == 200
    actions = [(e.action, e.subject) for e in service.admin.audit()]
    assert ("account unlocked", "alice") in actions
    assert actions.count(("sign-in failed", "alice")) == 5


def test_an_unknown_name_gets_the_same_answers_and_the_same_work_as_a_known_one(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime.now(UTC)
    service = make_service(backend, wall=lambda: moment)  # a still clock: same lock times
    add_users(service, ("alice", Agency.POLICE))
    identity = desk(service, "CR1", Agency.POLICE)
    identity.wall = lambda: moment
    from osc_console.server import signin

    work: list[tuple[str, ...]] = []
    real = signin.verify_password

    def counted(password: str, stored: str) -> bool:
        work.append(tuple(stored.split("$")[:4]))  # scheme and cost of the hash checked
        return real(password, stored)

    monkeypatch.setattr(signin, "verify_password", counted)

    def attempts(user: str) -> tuple[list[tuple[int, str]], list[list[tuple[str, ...]]]]:
        answers, costs = [], []
        for password in [*(f"guess {n}" for n in range(5)), PASSWORD]:
            work.clear()
            try:
                service.login(identity.login_request(user, password, "live").to_wire(), "a")
                answers.append((200, "signed in"))
            except ApiError as exc:
                answers.append((exc.status, exc.message))
            costs.append(list(work))
        return answers, costs

    known, known_work = attempts("alice")
    unknown, unknown_work = attempts("nobody")
    assert unknown == known
    assert known[-1][0] == 403  # locked, the right password notwithstanding
    assert unknown_work == known_work
    assert [len(w) for w in known_work] == [1, 1, 1, 1, 1, 0]


def test_a_flood_of_wrong_sign_ins_from_one_address_is_told_to_wait_and_sync_goes_on(
    backend: Backend, tmp_path: Path
) -> None:
    service = make_service(backend, policy=replace(FAST_POLICY, address_failures=3))
    add_users(service, ("alice", Agency.POLICE), ("carol", Agency.POLICE))
    running = ServerThread(service).start()
    try:
        with Store.open(tmp_path / "CR2.db") as store:
            writer = IncidentService(
                store, author_at(service, store, "CR2", Agency.POLICE, "carol")
            )
            events = list(writer.open_incident(knife_incident()).events)
            events += writer.add_log(events[0].incident_id or "", "Units on the way").events
        carol = desk(service, "CR2", Agency.POLICE)
        guesser = desk(service, "CR1", Agency.POLICE)
        with httpx.Client(base_url=running.url, timeout=10) as client:
            token = _login(client, carol, "carol").json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            for user in ("alice", "nobody", "alice"):
                assert _login(client, guesser, user, password="guess").status_code == 401
            waited = _login(client, guesser, "alice")  # the right password, too late
            assert waited.status_code == 429
            retry = int(waited.headers["Retry-After"])
            assert retry >= 1
            assert waited.json()["error"] == (
                f"too many failed sign-ins from this address; wait {retry} s and try again"
            )
            # The signed-in user's sync is answered as before.
            pushed = client.post(
                "/v1/sync/push",
                json={"protocol": PROTOCOL_VERSION, "events": [e.to_wire() for e in events]},
                headers=headers,
            )
            assert pushed.status_code == 200
            assert [r["outcome"] for r in pushed.json()["results"]] == ["accepted", "accepted"]
            pulled = client.get("/v1/sync/pull?after=0", headers=headers)
            assert pulled.status_code == 200
            assert [e["id"] for e in pulled.json()["events"]] == [e.id for e in events]
        # Another address is not held up by this one.
        body = guesser.login_request("alice", PASSWORD, "live").to_wire()
        assert service.login(body, "10.1.2.3").session.user == "alice"
    finally:
        running.stop()


# ---- what a workstation pulls -----------------------------------------------------------------


def test_a_pulled_entry_with_a_bad_signature_is_not_applied_and_is_shown(
    tmp_path: Path, service: SyncService
) -> None:
    police = make_workstation(tmp_path, "CR1", Agency.POLICE, SimTransport(service), user="alice")
    reader = make_workstation(tmp_path, "CR2", Agency.POLICE, SimTransport(service), user="carol")
    opened = police.desk.open_incident(knife_incident()).events[0]
    police.engine.sync_once()
    alice = police.author
    real = _log(alice, "Suspect detained", opened.incident_id, after=opened)
    altered = replace(real, payload={"text": "Suspect released"})
    altered = replace(altered, content_hash=altered.computed_hash())
    claimed = _log(alice, "Carol was right", opened.incident_id, after=altered)
    forged = replace(claimed, sig=SigningKey.generate().sign(signed_message(claimed.content_hash)))
    _planted(service.backend, signed_in(service, "alice", "CR1"), altered, forged)

    reader.engine.sync_once()
    assert reader.store.event(opened.id) is not None
    assert reader.store.event(altered.id) is None
    assert reader.store.event(forged.id) is None
    why = "signature refused: its signature does not match its content (altered or forged)"
    assert [(r.event_id, r.actor, r.reason) for r in reader.store.refused_events()] == [
        (altered.id, "alice", why),
        (forged.id, "alice", why),
    ]
    assert reader.engine.state.alarms[-1] == (
        f"2 events from the server could not be stored here: {why}"
    )
    police.close()
    reader.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def made_before_signing(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Backend, list[Event]]]:
    """A server database made at schema 1 (before signing), holding two unsigned entries of
    workstation CR8; opened by this program, it is upgraded. Yields it and those entries."""
    with Store.open(tmp_path / "model.db") as store:
        model = IncidentService(store, signed(store, Author("PC Old", Agency.POLICE, "ZZ1")))
        content = model.open_incident(knife_incident()).events[0]
    old = Author("PC Old", Agency.POLICE, "CR8")  # no key: before signing existed
    opened = _as(content, old)
    logged = _log(old, "Written before signing", opened.incident_id, after=opened)
    rows = [
        (
            n,
            e.id,
            e.realm,
            e.workstation,
            e.device_seq,
            e.visibility,
            e.content_hash,
            canonical_event_json(e, content_hash=e.content_hash),
            e.recorded_at,
        )
        for n, e in enumerate((opened, logged), start=1)
    ]
    insert = (
        "INSERT INTO events (seq, id, realm, workstation, device_seq, visibility, "
        "content_hash, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    setup = [
        "INSERT INTO counter (id, seq) VALUES (1, 2)",
        "INSERT INTO server_meta (key, value) VALUES ('server_id', 'made-at-schema-1')",
        f"INSERT INTO chains (realm, workstation, device_seq, content_hash) VALUES "
        f"('live', 'CR8', 2, '{logged.content_hash}')",
    ]
    if request.param == "sqlite":
        path = tmp_path / "old-server.db"
        with sqlite3.connect(path) as conn:
            conn.executescript(schema.TABLES.format(BIG="INTEGER"))
            for statement in setup:
                conn.execute(statement)
            conn.executemany(insert, rows)
        made: Backend = SqliteBackend(path)
        yield made, [opened, logged]
        made.close()
    else:
        with pg_schema() as dsn:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(schema.TABLES.format(BIG="BIGINT"))
                for statement in setup:
                    conn.execute(statement)
                conn.cursor().executemany(insert.replace("?", "%s"), rows)
            made = PostgresBackend(dsn)
            yield made, [opened, logged]
            made.close()


def test_entries_from_before_signing_stay_valid_and_a_later_unsigned_one_is_refused(
    tmp_path: Path, made_before_signing: tuple[Backend, list[Event]]
) -> None:
    backend, before = made_before_signing
    service = make_service(backend)
    add_users(service, ("alice", Agency.POLICE), ("carol", Agency.POLICE))
    assert service.signing_since() == 2
    # The server no longer takes a new unsigned entry...
    old = Author("PC Old", Agency.POLICE, "CR8")
    late = _log(old, "Written after signing began", before[0].incident_id, after=before[1])
    caller = signed_in(service, "carol", "CR8")
    assert _push(service, caller, late)[0][0] == "rejected"
    # ...and a workstation refuses one a server hands out all the same.
    # (The refused one took no place in CR8's chain: this one claims the same position.)
    sneaked = _log(old, "Sneaked in", before[0].incident_id, after=before[1], counter=1)
    _planted(backend, caller, sneaked)
    police = make_workstation(tmp_path, "CR1", Agency.POLICE, SimTransport(service), user="alice")
    police.engine.sync_once()
    held = {e.id: e for e in police.store.iter_events()}
    assert {e.id for e in before} <= set(held)
    assert all(not held[e.id].is_signed for e in before)
    assert sneaked.id not in held
    assert [(r.event_id, r.reason) for r in police.store.refused_events()] == [
        (sneaked.id, "unsigned: new entries must be signed by their author")
    ]
    police.close()
    # Someone with the server's database moves where signing began, to vouch for a planted
    # entry. The server states the figure signed as it stood at its first start, and never
    # again: the change is ignored, and the planted entry refused.
    backend_execute = backend._execute  # one statement, as the backends run them
    backend_execute("UPDATE server_meta SET value = '50' WHERE key = 'signing_since'", ())
    planted = _log(old, "Planted later", before[0].incident_id, after=sneaked, counter=2)
    _planted(backend, caller, planted)
    fresh = make_workstation(tmp_path, "CR3", Agency.POLICE, SimTransport(service), user="carol")
    fresh.engine.sync_once()
    assert fresh.store.event(planted.id) is None
    assert {e.id for e in fresh.store.iter_events() if not e.is_signed} == {e.id for e in before}
    fresh.close()
    # Changing the signed statement itself breaks its signature: a workstation takes no
    # unsigned entry on it, and says so.
    statement = backend.meta("signing_since_statement")
    assert statement is not None
    backend_execute(
        "UPDATE server_meta SET value = ? WHERE key = 'signing_since_statement'",
        ("50:" + statement.partition(":")[2],),
    )
    other = make_workstation(tmp_path, "CR5", Agency.POLICE, SimTransport(service), user="carol")
    other.engine.sync_once()
    assert not [e for e in other.store.iter_events() if not e.is_signed]
    assert any("does not verify" in alarm for alarm in other.engine.state.alarms)
    other.close()


# ---- break glass -----------------------------------------------------------------------------


def test_break_glass_signs_in_offline_its_entries_are_accepted_and_its_use_recorded(
    tmp_path: Path, service: SyncService
) -> None:
    glass_password = "river over the embankment"
    service.admin.add_user(
        "admin",
        "room-glass",
        "police",
        "dispatcher",
        glass_password,
        break_glass=True,
        must_change=False,
    )
    # Never seen online, a desk does not know the account.
    fresh = desk(service, "CR5", Agency.POLICE)
    with pytest.raises(SignInError, match="not a break-glass account this workstation knows"):
        fresh.sign_in_break_glass("room-glass", glass_password, "Sgt. J. Patel", "Server down")
    # A desk where someone signed in online learns it.
    police = make_workstation(tmp_path, "CR1", Agency.POLICE, SimTransport(service), user="alice")
    reader = make_workstation(tmp_path, "CR2", Agency.POLICE, SimTransport(service), user="carol")
    identity = police.identity
    assert identity is not None
    assert [b.user for b in identity.break_glass_accounts()] == ["room-glass"]

    transport = police.transport
    assert isinstance(transport, SimTransport)
    transport.partitioned = True
    with pytest.raises(SignInError):
        identity.sign_in_break_glass("room-glass", "not it at all", "Sgt. J. Patel", "Down")
    operator = identity.sign_in_break_glass(
        "room-glass", glass_password, "Sgt. J. Patel", "Server room flooded"
    )
    register_operator(police.store, operator, identity)
    glass = IncidentService(police.store, operator.author("live"))
    opened = glass.open_incident(knife_incident()).events[0]
    with pytest.raises(ServerUnreachableError):
        police.engine.sync_once()

    transport.partitioned = False
    police.engine.sync_once()
    assert police.store.pending_count() == 0
    assert outbox.refused(police.store) == []
    assert opened.id in server_events(service.backend, "live")
    used = [e for e in service.admin.audit() if e.action == "break-glass used"]
    assert [(e.subject, e.workstation) for e in used] == [("room-glass", "CR1")]
    reader.engine.sync_once()
    assert reader.store.event(opened.id) is not None
    assert reader.store.refused_events() == []
    for station in (police, reader):
        station.close()


# ---- what a role change and a revocation reach ------------------------------------------------


def test_a_role_changed_at_the_next_sign_in_does_not_judge_what_was_written_just_before(
    service: SyncService,
) -> None:
    """A duty manager records a decision offline, is made a call handler, and signs in again
    minutes later to sync: the decision was his to record, and is accepted."""
    add_users(service, ("ray", Agency.POLICE), role="duty_manager")
    ray = operator_at(service, "CR6", Agency.POLICE, "ray").author("live")
    decision = hand_made(
        EventDraft(
            "decision.recorded",
            {"decision": "Close Bank junction", "rationale": "Flooding"},
            incident_id=uuid7(),
        ),
        ray,
    )
    service.admin.set_role("root", "ray", "call_handler")
    caller = signed_in(service, "ray", "CR6")  # a new grant, as a call handler, just after
    assert caller.role == "call_handler"
    assert _push(service, caller, decision) == [("accepted", None)]
    # What he records as a call handler from now is judged as such.
    later = hand_made(
        EventDraft(
            "decision.recorded",
            {"decision": "Reopen", "rationale": "Dry"},
            incident_id=decision.incident_id,
        ),
        ray,
        after=decision,
    )
    (outcome, reason) = _push(service, caller, later)[0]
    assert outcome == "rejected"
    assert reason is not None
    assert reason.startswith("not permitted: a call handler may not record decision.recorded")


def test_revoking_a_workstation_ends_its_sign_ins_at_once(service: SyncService) -> None:
    identity = desk(service, "CR7", Agency.POLICE)
    _, reply = sign_in_at(service, identity, "alice")
    authorization = f"Bearer {reply.session.token}"
    assert service.authenticate(authorization).workstation == "CR7"
    service.admin.revoke_workstation("root", "CR7")
    with pytest.raises(ApiError, match="this sign-in is not recognised; sign in again"):
        service.authenticate(authorization)
    with pytest.raises(ApiError, match="workstation CR7 is revoked with this server"):
        sign_in_at(service, identity, "alice")


# ---- break glass: only its password, only its organisation ------------------------------------


def test_a_break_glass_key_not_certified_with_the_accounts_password_is_refused(
    service: SyncService,
) -> None:
    """Someone at the desk with its files (the device key) but not the break-glass password
    cannot make a key the server takes as the account's."""
    from osc_console.signing.documents import KeyCertificate

    service.admin.add_user(
        "admin",
        "room-glass",
        "police",
        "duty_manager",
        "river over the embankment",
        break_glass=True,
        must_change=False,
    )
    identity = desk(service, "CR4", Agency.POLICE)
    caller = signed_in(service, "alice", "CR4")
    forged_key = SigningKey.generate()
    by_device = KeyCertificate(
        key_id=forged_key.key_id,
        public_key=forged_key.public_key,
        user="room-glass",
        agency="police",
        workstation="CR4",
        issued_at=service.now(),
        issuer=identity.device_key.key_id,
        break_glass=True,
    ).signed_by(identity.device_key)
    with pytest.raises(ApiError) as refused:
        service.push(caller, PROTOCOL_VERSION, [], [by_device.to_wire()])
    assert refused.value.status == 400
    assert refused.value.message.startswith(
        "certificates: only a key made at this workstation for a break-glass account of its "
        "organisation, certified with that account's password"
    )
    # The right password makes the account's key, and the desk's own break-glass sign-in works.
    bundle = {b.user: b for b in identity.break_glass_accounts()}["room-glass"]
    assert bundle.certificate.workstation == "*"  # it certifies keys; it signs no entry
    with pytest.raises(SignInError, match="not recognised"):
        identity.sign_in_break_glass("room-glass", "a guessed password here", "X", "Y")
    operator = identity.sign_in_break_glass(
        "room-glass", "river over the embankment", "Sgt. J. Patel", "Server down"
    )
    service.push(caller, PROTOCOL_VERSION, [], [operator.certificate.to_wire()])
    assert service.authorship.certificate(operator.certificate.key_id) is not None


def test_a_desk_learns_only_its_own_organisations_break_glass_accounts(
    service: SyncService,
) -> None:
    service.admin.add_user(
        "admin",
        "police-glass",
        "police",
        "duty_manager",
        "river over the embankment",
        break_glass=True,
        must_change=False,
    )
    service.admin.add_user(
        "admin",
        "council-glass",
        "corporation",
        "dispatcher",
        "cheapside in the snow",
        break_glass=True,
        must_change=False,
    )
    council = desk(service, "CC4", Agency.CORPORATION)
    sign_in_at(service, council, "bob")
    assert [b.user for b in council.break_glass_accounts()] == ["council-glass"]
    police = desk(service, "CR4", Agency.POLICE)
    sign_in_at(service, police, "alice")
    assert [b.user for b in police.break_glass_accounts()] == ["police-glass"]
    # Disabled: forgotten at the desk's next sign-in.
    service.admin.disable("admin", "police-glass")
    sign_in_at(service, police, "alice")
    assert police.break_glass_accounts() == []


def test_a_desk_shared_by_both_organisations_reads_each_ones_history_in_full(
    tmp_path: Path, service: SyncService
) -> None:
    """A Corporation operator syncs at a shared desk, then a police officer takes it over:
    the police-only entries the Corporation sign-in was never given are pulled in full."""
    police = make_workstation(tmp_path, "CR2", Agency.POLICE, SimTransport(service), user="carol")
    secret = police.desk.open_incident(knife_incident(visibility=Visibility.POLICE)).incident
    police.engine.sync_once()
    police.close()

    shared = make_workstation(tmp_path, "CR1", Agency.POLICE, SimTransport(service), user="bob")
    shared.engine.sync_once()  # bob: Corporation, sees nothing of the police-only incident
    assert shared.store.incident(secret.id) is None
    identity = shared.identity
    assert identity is not None
    _, reply = sign_in_at(service, identity, "alice")  # the desk changes hands
    shared.engine.adopt(reply)
    shared.engine.sync_once()
    assert shared.store.incident(secret.id) is not None
    assert shared.engine.verify().agree
    shared.close()


def test_offline_a_grant_copied_from_another_persons_row_proves_nothing(
    service: SyncService,
) -> None:
    add_users(service, ("ray", Agency.POLICE), role="duty_manager")
    identity = desk(service, "CR9", Agency.POLICE)
    sign_in_at(service, identity, "alice")
    sign_in_at(service, identity, "ray")
    keyring = identity.keyring
    alice, ray = keyring.person("alice"), keyring.person("ray")
    assert alice is not None
    assert ray is not None
    keyring.keep(replace(alice, grant=ray.grant))  # someone with the file edits it
    with pytest.raises(SignInError, match="the grant held for alice does not verify"):
        identity.sign_in_offline("alice", PASSWORD)
