"""Every entry signed by its author: what the store refuses, and what an operator sees.

A new entry is written only by someone signed in with a key certified for them, at their
desk, in their organisation, and only if their role may record that kind of entry (the
authority table). An entry pulled from the server is applied only if its author's signature
checks out against the keys this store holds; one that does not is kept aside, with why,
and the rest of the page is applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.authority import AUTHORITY, NotPermittedError, Role, writers
from osc_console.models.clock import Stamp, from_iso
from osc_console.models.events import Author, Event, EventDraft, seal, sign_event
from osc_console.models.ids import uuid7
from osc_console.models.payloads import EXERCISE_KINDS, INCIDENT_FREE_KINDS, Kind
from osc_console.services.exercise import ExerciseRun
from osc_console.services.incidents import IncidentService
from osc_console.signing.authority import Authority
from osc_console.signing.keys import SigningKey
from osc_console.store.event_store import Store, UnsignedEntryError
from osc_console.store.integrity import check_store
from tests.conftest import knife_incident
from tests.models.test_payloads import VALID
from tests.signing import key_of, register, signed

JANE = Author("PC Jane Smith", Agency.POLICE, "CR1")
SAM = Author("Sam Okafor", Agency.CORPORATION, "CC1")
RAVI = Author("PC Ravi Patel", Agency.POLICE, "CR2")
EXERCISE = "exercise:city-flood"


@contextmanager
def refused_and_nothing_written(
    store: Store, error: type[Exception], message: str
) -> Iterator[None]:
    """Refused with exactly this message, leaving the log and the outbox as they were."""
    events, pending = store.event_count(), store.pending_count()
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        yield
    assert store.event_count() == events, "something was written"
    assert store.pending_count() == pending, "something was queued to send"


def desk(store: Store, author: Author, role: str) -> IncidentService:
    """``author`` signed in at their desk in ``role``, with their key certified here."""
    return IncidentService(store, signed(store, author, role))


@pytest.fixture
def knife(store: Store) -> str:
    """A joint incident a duty manager opened; its reference."""
    return desk(store, JANE, "duty_manager").open_incident(knife_incident()).incident.ref


# ---- (1) nothing new is written unsigned ------------------------------------------------------


def test_someone_not_signed_in_with_a_key_cannot_record_anything(store: Store) -> None:
    unsigned = IncidentService(store, Author("PC Alex Brown", Agency.POLICE, "CR3"))
    with refused_and_nothing_written(
        store,
        UnsignedEntryError,
        "PC Alex Brown is not signed in with a key: nothing new is recorded unsigned",
    ):
        unsigned.open_incident(knife_incident())


def test_a_key_without_a_role_records_nothing(store: Store) -> None:
    """Signed in with a key, but with no role granted: what may they record? Nothing."""
    keyed = signed(store, Author("PC Alex Brown", Agency.POLICE, "CR3"))
    no_role = replace(keyed, role=None)
    with refused_and_nothing_written(
        store,
        UnsignedEntryError,
        "PC Alex Brown is not signed in with a key: nothing new is recorded unsigned",
    ):
        IncidentService(store, no_role).open_incident(knife_incident())


def test_a_key_this_store_holds_no_certificate_for_records_nothing(store: Store) -> None:
    stranger = signed(None, Author("PC Alex Brown", Agency.POLICE, "CR3"))  # not registered
    with refused_and_nothing_written(
        store,
        UnsignedEntryError,
        "the key of PC Alex Brown is not registered in this store; sign in again",
    ):
        IncidentService(store, stranger).open_incident(knife_incident())


def test_what_a_signed_in_person_records_carries_their_signature(
    store: Store, police_desk: IncidentService, police: Author
) -> None:
    opened = police_desk.open_incident(knife_incident()).events[0]
    assert police.signer is not None
    assert opened.key_id == police.signer.key_id
    assert store.key_directory().event_problem(opened) is None
    held = store.event(opened.id)
    assert held is not None
    assert (held.key_id, held.sig) == (opened.key_id, opened.sig)  # kept as signed


# ---- (2) a role may record only what the authority table gives it ---------------------------


def test_a_call_handler_may_open_and_log_but_not_close(store: Store) -> None:
    handler = desk(store, JANE, "call_handler")
    ref = handler.open_incident(knife_incident()).incident.ref
    handler.add_log(ref, "Caller says he walked towards Lime Street")
    with refused_and_nothing_written(
        store,
        NotPermittedError,
        "not permitted: a call handler may not record incident.closed "
        "(only admins, dispatchers, duty managers)",
    ):
        handler.close(ref, "CL-NOCRIME", "Area searched, no trace")
    assert handler.find(ref).status == "open"
    # A dispatcher at the next desk closes it.
    closed = desk(store, RAVI, "dispatcher").close(ref, "CL-NOCRIME", "Area searched, no trace")
    assert closed.incident.status == "closed"


def test_a_call_handler_may_not_send_a_team(store: Store, knife: str) -> None:
    with refused_and_nothing_written(
        store,
        NotPermittedError,
        "not permitted: a call handler may not record assignment.made "
        "(only admins, dispatchers, duty managers)",
    ):
        desk(store, RAVI, "call_handler").assign(knife, "POL-RESP-A")
    assert desk(store, RAVI, "dispatcher").assign(knife, "POL-RESP-A").incident.assignments


def test_a_dispatcher_may_not_record_a_decision_or_reopen(store: Store, knife: str) -> None:
    dispatcher = desk(store, RAVI, "dispatcher")
    with refused_and_nothing_written(
        store,
        NotPermittedError,
        "not permitted: a dispatcher may not record decision.recorded (only admins, duty managers)",
    ):
        dispatcher.record_decision(knife, "Close Lime Street to traffic", "Crowd in the road")
    dispatcher.close(knife, "CL-NOCRIME", "Area searched, no trace")
    with refused_and_nothing_written(
        store,
        NotPermittedError,
        "not permitted: a dispatcher may not record incident.reopened (only admins, duty managers)",
    ):
        dispatcher.reopen(knife, "Second caller reports the same man")
    manager = desk(store, JANE, "duty_manager")
    assert manager.reopen(knife, "Second caller reports the same man").incident.status == "open"


def test_a_dispatcher_may_not_sign_a_shift_off(store: Store) -> None:
    """However the entry is made (a console offering it anyway, a script), the store says no."""
    sign_off = EventDraft(Kind.SHIFT_SIGNED_OFF, VALID[Kind.SHIFT_SIGNED_OFF])
    with refused_and_nothing_written(
        store,
        NotPermittedError,
        "not permitted: a dispatcher may not record shift.signed_off (only admins, duty managers)",
    ):
        store.append(sign_off, signed(store, RAVI, "dispatcher"))
    store.append(sign_off, signed(store, JANE, "duty_manager"))


def test_only_a_planner_runs_an_exercise(tmp_path: Path) -> None:
    from osc_console.models.scenario import load_shipped

    scenario = load_shipped("city-flood")
    with Store.open(tmp_path / "exercise.db", EXERCISE) as exercise:
        player = signed(exercise, JANE.in_realm(EXERCISE), "dispatcher")
        with refused_and_nothing_written(
            exercise,
            NotPermittedError,
            "not permitted: a dispatcher may not record exercise.started (only admins, planners)",
        ):
            ExerciseRun(exercise, scenario, player).start()
        planner = signed(
            exercise, Author("Ana Planner", Agency.POLICE, "EXCON", EXERCISE), "planner"
        )
        ExerciseRun(exercise, scenario, planner).start()
        assert [e.kind for e in exercise.iter_events()] == [Kind.EXERCISE_STARTED]


def _draft(kind: str, incident_id: str) -> EventDraft:
    """A well-formed entry of ``kind`` (about the incident, unless the kind is about none)."""
    about = None if kind in INCIDENT_FREE_KINDS else incident_id
    return EventDraft(kind, VALID[kind], incident_id=about)


def _article(label: str) -> str:
    return "an" if label[0] in "aeiou" else "a"


REFUSED = [
    pytest.param(kind, role, id=f"{role.value} {kind}")
    for kind in sorted(AUTHORITY)
    for role in Role
    if role.value not in writers(kind)
]


@pytest.mark.parametrize(("kind", "role"), REFUSED)
def test_every_kind_is_refused_to_every_role_the_table_leaves_out(
    tmp_path: Path, kind: str, role: Role
) -> None:
    realm = EXERCISE if kind in EXERCISE_KINDS else "live"
    with Store.open(tmp_path / "desk.db", realm) as store:
        incident = desk(store, JANE.in_realm(realm), "duty_manager").open_incident(knife_incident())
        author = signed(store, RAVI.in_realm(realm), role.value)
        allowed = sorted(
            "the workstation itself" if w == "workstation" else f"{Role(w).label}s"
            for w in writers(kind)
        )
        with refused_and_nothing_written(
            store,
            NotPermittedError,
            f"not permitted: {_article(role.label)} {role.label} may not record {kind} "
            f"(only {', '.join(allowed)})",
        ):
            store.append(_draft(kind, incident.incident.id), author)


def test_only_the_workstation_itself_records_a_failed_sign_in(store: Store) -> None:
    failure = EventDraft(Kind.SESSION_SIGN_IN_FAILED, VALID[Kind.SESSION_SIGN_IN_FAILED])
    with refused_and_nothing_written(
        store,
        NotPermittedError,
        "not permitted: a duty manager may not record session.sign_in_failed "
        "(only the workstation itself)",
    ):
        store.append(failure, signed(store, JANE, "duty_manager"))
    device = signed(store, Author("@CR1", Agency.POLICE, "CR1"), "workstation")
    recorded, _ = store.append(failure, device)
    assert (recorded.actor, recorded.kind) == ("@CR1", Kind.SESSION_SIGN_IN_FAILED)


# ---- (3) a key is its holder's only, at their desk, in their organisation ---------------------


@pytest.mark.parametrize(
    ("holder", "message"),
    [
        pytest.param(
            SAM,
            "the key in use belongs to Sam Okafor (corporation) at CC1, "
            "not to PC Jane Smith (police) at CR1",
            id="another person's",
        ),
        pytest.param(
            replace(JANE, workstation="CR2"),
            "the key in use belongs to PC Jane Smith (police) at CR2, "
            "not to PC Jane Smith (police) at CR1",
            id="her own, from another desk",
        ),
        pytest.param(
            replace(JANE, agency=Agency.CORPORATION),
            "the key in use belongs to PC Jane Smith (corporation) at CR1, "
            "not to PC Jane Smith (police) at CR1",
            id="certified for another organisation",
        ),
    ],
)
def test_a_key_certified_for_someone_else_records_nothing(
    store: Store, holder: Author, message: str
) -> None:
    register(store, holder)
    key = key_of(holder.actor, holder.agency.value, holder.workstation)
    borrowed = replace(JANE, role="duty_manager", signer=key)
    with refused_and_nothing_written(store, UnsignedEntryError, message):
        IncidentService(store, borrowed).open_incident(knife_incident())


def test_a_certificate_from_an_authority_not_trusted_here_is_not_taken(store: Store) -> None:
    rogue = Authority(SigningKey.generate(), "someone's laptop")
    key = SigningKey.generate()
    cert = rogue.certify(
        key.public_key,
        key.key_id,
        user=JANE.actor,
        agency=JANE.agency.value,
        workstation=JANE.workstation,
        at="2026-11-24T12:00:00.000Z",
    )
    assert store.add_certificates([cert]) == [
        f"key {key.key_id} is certified by {rogue.key_id}, an authority not trusted here"
    ]
    with refused_and_nothing_written(
        store,
        UnsignedEntryError,
        "the key of PC Jane Smith is not registered in this store; sign in again",
    ):
        IncidentService(store, replace(JANE, role="duty_manager", signer=key)).open_incident(
            knife_incident()
        )


# ---- (4) a pulled entry whose signature does not check out is kept aside -----------------------


def _after(last: Event, author: Author, payload: dict[str, Any], seq: int) -> Event:
    """A log entry on ``last``'s incident, sealed (not signed) as ``author`` at ``seq``."""
    return seal(
        EventDraft(Kind.LOG_ADDED, payload, incident_id=last.incident_id),
        author,
        event_id=uuid7(),
        hlc=str(Stamp(Stamp.parse(last.hlc).ms + 1000 * seq, 0)),
        recorded_at=last.recorded_at,
        device_seq=seq,
        prev_hash=last.content_hash,
    )


@pytest.fixture
def remote_desk(tmp_path: Path) -> Iterator[IncidentService]:
    """PC Ravi Patel's workstation CR2, with a store of its own."""
    with Store.open(tmp_path / "cr2.db") as own:
        yield desk(own, RAVI, "dispatcher")


def test_a_pulled_entry_with_a_bad_signature_is_refused_and_the_rest_of_the_page_applied(
    store: Store, remote_desk: IncidentService
) -> None:
    register(store, RAVI)
    opened = remote_desk.open_incident(knife_incident())
    ref = opened.incident.ref
    first = remote_desk.add_log(ref, "Officers searching Lime Street").events[0]
    genuine = remote_desk.add_log(ref, "Suspect detained").events[0]
    last = remote_desk.add_log(ref, "Suspect taken to Bishopsgate").events[0]

    # Changed in transit, its hash made to match: the signature no longer does.
    altered = replace(genuine, payload={"text": "Suspect released without charge"})
    altered = replace(altered, content_hash=altered.computed_hash())
    # Claims to be Ravi's, signed with a key that is not Ravi's (someone else's, registered).
    mallory = signed(store, Author("PC Mallory Kent", Agency.POLICE, "CR9"), "dispatcher")
    assert mallory.signer is not None
    impersonated = sign_event(
        _after(last, RAVI, {"text": "Stand the cordon down"}, 10), mallory.signer
    )
    # Ravi's key id, but a signature that is not his: a forgery.
    forged = _after(last, RAVI, {"text": "Cordon lifted"}, 11)
    assert genuine.sig is not None
    forged = replace(forged, key_id=genuine.key_id, sig=genuine.sig)
    # Signed with a key no authority this store trusts has certified.
    stranger = sign_event(_after(last, RAVI, {"text": "All clear"}, 12), SigningKey.generate())
    assert stranger.key_id is not None
    # Ravi's own key, on an entry that says he is Corporation staff.
    posing = sign_event(
        _after(last, replace(RAVI, agency=Agency.CORPORATION), {"text": "Council on scene"}, 13),
        key_of(RAVI.actor, RAVI.agency.value, RAVI.workstation),
    )

    page = [*opened.events, first, altered, last, impersonated, forged, stranger, posing]
    result = store.apply_remote(page)

    assert result.stored == (opened.events[0].id, first.id, last.id)
    why = {r.event_id: r.reason for r in result.rejected}
    does_not_match = (
        "signature refused: its signature does not match its content (altered or forged)"
    )
    assert why == {
        altered.id: does_not_match,
        impersonated.id: "signature refused: signed with the key of PC Mallory Kent at CR9, "
        "not of PC Ravi Patel at CR2",
        forged.id: does_not_match,
        stranger.id: f"signature refused: signed with key {stranger.key_id}, "
        "which is not registered",
        posing.id: "signature refused: PC Ravi Patel is police staff; the entry claims corporation",
    }
    # Kept aside, with why, never dropped unseen.
    kept = sorted((r.event_id, r.kind, r.actor, r.reason) for r in store.refused_events())
    assert kept == sorted((e, "log.added", "PC Ravi Patel", reason) for e, reason in why.items())
    # What the operator sees: the genuine entries, none of the refused ones.
    here = store.incident_by_ref(ref)
    assert here is not None
    assert here.log_count == 2
    assert store.event(altered.id) is None
    report = check_store(store)
    assert report.ok, [str(p) for p in report.problems]
    assert sorted(w.subject for w in report.warnings if w.area == "refused") == sorted(
        f"event {e} (log.added, PC Ravi Patel at CR2)" for e in why
    )


def test_a_refused_entry_stays_refused_when_the_page_comes_again(
    store: Store, remote_desk: IncidentService
) -> None:
    register(store, RAVI)
    opened = remote_desk.open_incident(knife_incident()).events[0]
    tampered = replace(opened, payload={**opened.payload, "summary": "Nothing happened"})
    tampered = replace(tampered, content_hash=tampered.computed_hash())
    for _ in range(2):
        result = store.apply_remote([tampered])
        assert result.stored == ()
        assert store.event_count() == 0
    assert [r.event_id for r in store.refused_events()] == [opened.id]


# ---- (5) an unsigned entry is refused unless someone vouches for it ---------------------------


def _unsigned_opening(
    recorded_at: str = "2026-11-24T12:00:00.000Z", after: Event | None = None
) -> Event:
    """An opening by workstation CR7 with no signature: written before signing existed, or by
    a program that skips it. ``after``: the CR7 entry before it in the chain."""
    return seal(
        EventDraft(Kind.INCIDENT_OPENED, VALID[Kind.INCIDENT_OPENED], incident_id=uuid7()),
        Author("PC Old Timer", Agency.POLICE, "CR7"),
        event_id=uuid7(),
        hlc=f"{int(from_iso(recorded_at).timestamp() * 1000):013d}-000000",
        recorded_at=recorded_at,
        device_seq=after.device_seq + 1 if after else 1,
        prev_hash=after.content_hash if after else None,
    )


def test_an_unsigned_pulled_entry_is_refused(store: Store) -> None:
    old = _unsigned_opening()
    result = store.apply_remote([old])
    assert result.stored == ()
    assert [(r.event_id, r.reason) for r in result.rejected] == [
        (old.id, "unsigned: new entries must be signed by their author")
    ]
    assert [(r.event_id, r.reason) for r in store.refused_events()] == [
        (old.id, "unsigned: new entries must be signed by their author")
    ]
    assert store.incident(old.incident_id) is None


def test_an_unsigned_entry_is_taken_when_the_server_vouches_it_predates_signing(
    store: Store, remote_desk: IncidentService
) -> None:
    register(store, RAVI)
    old = _unsigned_opening("2026-11-24T12:00:00.000Z")
    signing_began = "2026-11-25T00:00:00.000Z"
    late = _unsigned_opening("2026-11-26T09:00:00.000Z", after=old)
    signed_entry = remote_desk.open_incident(knife_incident()).events[0]

    result = store.apply_remote(
        [old, late, signed_entry], unsigned_ok=lambda e: e.recorded_at < signing_began
    )

    assert result.stored == (old.id, signed_entry.id)
    assert [(r.event_id, r.reason) for r in result.rejected] == [
        (late.id, "unsigned: new entries must be signed by their author")
    ]
    held = store.event(old.id)
    assert held is not None
    assert not held.is_signed
    assert store.incident(old.incident_id) is not None


def test_a_vouch_does_not_excuse_a_bad_signature(
    store: Store, remote_desk: IncidentService
) -> None:
    """Vouching covers only entries with no signature at all, never one that fails."""
    register(store, RAVI)
    opened = remote_desk.open_incident(knife_incident()).events[0]
    altered = replace(opened, payload={**opened.payload, "summary": "Nothing happened"})
    altered = replace(altered, content_hash=altered.computed_hash())
    result = store.apply_remote([altered], unsigned_ok=lambda e: True)
    assert result.stored == ()
    assert [r.reason for r in result.rejected] == [
        "signature refused: its signature does not match its content (altered or forged)"
    ]
