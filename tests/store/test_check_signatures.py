"""`osc-console check` verifies every signature: an event edited in the file and given a
freshly computed hash is named, as is one stripped of its signature, and a forged key
certificate."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

from osc_console.models.events import event_hash
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from tests.conftest import knife_incident


def _rewrite_newest(store: Store, change: dict[str, object], *, keep_sig: bool) -> str:
    """What someone with the file and sqlite3 could do: edit the newest event's payload,
    compute its hash afresh (so the hash and the chain still agree), and put it back."""
    newest = max(store.iter_events(), key=lambda e: e.device_seq)
    edited = replace(newest, payload={**newest.payload, **change})
    digest = event_hash(edited)
    conn = sqlite3.connect(store.path)
    conn.executescript("DROP TRIGGER events_no_update;")
    conn.execute(
        "UPDATE events SET payload = ?, content_hash = ?, sig = ?, key_id = ? WHERE id = ?",
        (
            json.dumps(edited.payload, sort_keys=True, separators=(",", ":")),
            digest,
            newest.sig if keep_sig else None,
            newest.key_id if keep_sig else None,
            newest.id,
        ),
    )
    conn.commit()
    conn.executescript(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT "
        "RAISE(ABORT, 'events are append-only: correct an entry with log.amended'); END;"
    )
    conn.close()
    return newest.id


def test_check_names_an_event_edited_and_rehashed_whose_signature_no_longer_matches(
    store: Store, police_desk: IncidentService
) -> None:
    opened = police_desk.open_incident(knife_incident())
    police_desk.add_log(opened.incident.id, "Suspect detained")
    assert check_store(store).ok
    edited = _rewrite_newest(store, {"text": "Suspect released"}, keep_sig=True)

    report = check_store(store)

    assert not report.ok
    problems = [str(p) for p in report.problems if p.area == "signature"]
    assert problems == [
        f"signature: event {edited} (log.added, PC Jane Smith at CR1): its signature does not "
        "match its content (altered or forged)"
    ]


def test_check_names_an_event_of_this_workstation_stripped_of_its_signature(
    store: Store, police_desk: IncidentService
) -> None:
    opened = police_desk.open_incident(knife_incident())
    police_desk.add_log(opened.incident.id, "Suspect detained")
    store.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('chain.CR1', 'local')")
    edited = _rewrite_newest(store, {"text": "Nothing happened"}, keep_sig=False)

    report = check_store(store)

    assert not report.ok
    (problem,) = [p for p in report.problems if p.area == "signature"]
    assert problem.subject == f"event {edited} (log.added, PC Jane Smith at CR1)"
    assert problem.message.startswith("unsigned, though written here after signing began")
    assert report.unsigned == 1


def test_check_refuses_a_key_certificate_that_no_trusted_authority_signed(
    store: Store, police_desk: IncidentService
) -> None:
    police_desk.open_incident(knife_incident())
    conn = sqlite3.connect(store.path)
    conn.executescript("DROP TRIGGER key_certificates_no_update;")
    conn.execute("UPDATE key_certificates SET agency = 'corporation'")  # a forged claim
    conn.commit()
    conn.close()

    report = check_store(store)

    assert not report.ok
    areas = {(p.area, p.subject.split(" of ")[0]) for p in report.problems}
    assert ("sqlite", "trigger key_certificates_no_update") in areas
    messages = [p.message for p in report.problems if p.area == "signature"]
    assert any("does not verify" in m for m in messages)
    assert any("not registered" in m for m in messages)  # the events signed with it fail too


def test_an_unsigned_event_never_vouched_for_is_named_whoever_deleted_the_chain_records(
    store: Store, police_desk: IncidentService
) -> None:
    """Only the events the store held when it was upgraded, and those the server vouched for
    when they were pulled, may be unsigned; deleting the record of which chains are local
    changes nothing."""
    opened = police_desk.open_incident(knife_incident())
    police_desk.add_log(opened.incident.id, "Suspect detained")
    edited = _rewrite_newest(store, {"text": "Suspect released"}, keep_sig=False)
    conn = sqlite3.connect(store.path)
    conn.execute("DELETE FROM meta WHERE key LIKE 'chain.%'")
    conn.commit()
    conn.close()

    report = check_store(store)

    assert not report.ok
    (problem,) = [p for p in report.problems if p.area == "signature"]
    assert problem.subject == f"event {edited} (log.added, PC Jane Smith at CR1)"
    assert "never vouched for as older" in problem.message
