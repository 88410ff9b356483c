"""`osc-console check`: a healthy store checks clean, and tampering with the file is named.

The tampering is done the way someone with the file would do it: with the stdlib sqlite3
module, dropping the append-only triggers first.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from osc_console.cli import main
from osc_console.models.agencies import Agency, Visibility
from osc_console.models.events import Author
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from tests.conftest import knife_incident
from tests.signing import register, signed

POLICE = Author("PC Jane Smith", Agency.POLICE, "CR1")
COUNCIL = Author("Sam Okafor", Agency.CORPORATION, "CC1")


def busy_shift(store: Store) -> dict[str, str]:
    """A few hours of a shift: several incidents, teams, amendments, a close and a reopen."""
    police = IncidentService(store, signed(store, POLICE))
    council = IncidentService(store, signed(store, COUNCIL))
    knife = police.open_incident(knife_incident()).incident.ref
    police.assign(knife, "POL-RESP-A")
    first = police.add_log(knife, "Suspect wearing a blue jacket").events[0]
    police.amend_log(knife, first.id, "Suspect wearing a red jacket", "caller corrected")
    police.add_log(knife, "Known to officers", visibility=Visibility.POLICE)
    council.add_log(knife, "CCTV has him on camera at Lime Street")
    assignment = next(iter(police.find(knife).assignments))
    police.update_assignment(knife, assignment, "on_scene")
    police.record_decision(knife, "Search the market", "Last seen heading there")

    paving = council.open_incident(
        NewIncident(
            summary="Broken paving slab, trip hazard",
            category="CS-HWY-DEFECT",
            source="phone",
            location=Location("Cheapside"),
            lead_agency=Agency.CORPORATION,
            council_priority="high",
        )
    ).incident.ref
    council.assign(paving, "COL-HWY")
    withdrawn = next(iter(council.find(paving).assignments))
    council.withdraw_assignment(paving, withdrawn, "Wrong team")
    council.assign(paving, "COL-HWY")
    council.close(paving, "CL-REPAIR", "Slab made safe")
    council.reopen(paving, "Second slab loose")
    council.change_grade(paving, "scheduled")

    theft = police.open_incident(
        knife_incident(
            summary="Bicycle stolen from a rack",
            category="ACQ-CYCLE",
            grade="scheduled",
            visibility=Visibility.POLICE,
        )
    ).incident.ref
    police.close(theft, "CL-CRIME", "Crime reference issued")
    return {"knife": knife, "paving": paving, "theft": theft, "first_entry": first.id}


@pytest.fixture
def shift(tmp_path: Path) -> dict[str, str]:
    with Store.open(tmp_path / "live.db") as store:
        return busy_shift(store)


def tamper(path: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())
    conn.close()


def run_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["check", "--data-dir", str(tmp_path), *extra])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out


def test_a_healthy_store_checks_clean(tmp_path: Path) -> None:
    with Store.open(tmp_path / "live.db") as store:
        busy_shift(store)
        report = check_store(store)
        assert report.problems == []
        assert report.warnings == []
        assert report.ok
        assert report.events == store.event_count()
        assert (report.signed, report.unsigned) == (report.events, 0)  # each by its author
        assert report.incidents == 3
        assert report.chains == 2


def test_the_check_command_passes_a_healthy_store(
    tmp_path: Path, shift: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_check(tmp_path, capsys)
    assert code == 0
    assert out.splitlines() == [
        "OK — 17 events (17 signed, 0 unsigned before signing), 3 incidents, "
        "2 workstation chains checked",
    ]


def test_an_edited_log_entry_fails_the_check_and_is_named(
    tmp_path: Path, shift: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    entry = shift["first_entry"]
    tamper(
        tmp_path / "live.db",
        "DROP TRIGGER events_no_update",
        "UPDATE events SET payload = json_set(payload, '$.text', 'Suspect wearing nothing "
        "suspicious') WHERE id = ?",
        params=(entry,),
    )

    code, out = run_check(tmp_path, capsys)

    assert code == 1
    assert f"PROBLEM event: event {entry} (log.added): content hash mismatch" in out
    line = next(x for x in out.splitlines() if entry in x and "content hash" in x)
    assert line.endswith("the event was changed after it was written")
    assert out.splitlines()[-1].startswith("FAILED: ")


def test_an_edited_log_entry_is_named_in_the_json_report(
    tmp_path: Path, shift: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    entry = shift["first_entry"]
    tamper(
        tmp_path / "live.db",
        "DROP TRIGGER events_no_update",
        "UPDATE events SET payload = json_set(payload, '$.text', 'Nothing seen') WHERE id = ?",
        params=(entry,),
    )
    code, out = run_check(tmp_path, capsys, "--json")
    report = json.loads(out)
    assert code == 1
    assert report["ok"] is False
    assert {
        "area": "event",
        "subject": f"event {entry} (log.added)",
    }.items() <= next(p for p in report["problems"] if p["subject"].startswith("event ")).items()


def test_a_deleted_event_breaks_the_chain_and_is_named(
    tmp_path: Path, shift: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "live.db"
    with sqlite3.connect(path) as conn:
        victim = conn.execute(
            "SELECT id FROM events WHERE workstation = 'CR1' AND device_seq = 3"
        ).fetchone()[0]
        assert conn.execute(
            "SELECT count(*) FROM events WHERE workstation = 'CR1' AND device_seq > 3"
        ).fetchone()[0]
    conn.close()
    tamper(
        path, "DROP TRIGGER events_no_delete", "DELETE FROM events WHERE id = ?", params=(victim,)
    )

    code, out = run_check(tmp_path, capsys)

    assert code == 1
    assert "PROBLEM chain: CR1: events #3 missing" in out.splitlines()


def test_a_changed_incident_row_is_named_with_the_field_and_both_values(
    tmp_path: Path, shift: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ref = shift["knife"]
    tamper(
        tmp_path / "live.db",
        "UPDATE incidents SET summary = 'Lost umbrella handed in' WHERE ref = ?",
        params=(ref,),
    )

    code, out = run_check(tmp_path, capsys)

    assert code == 1
    assert (
        f"PROBLEM projection: incident {ref}: summary is 'Lost umbrella handed in', "
        "log says 'Man seen with a knife outside a bar'"
    ) in out.splitlines()
    assert out.splitlines()[-1].startswith("FAILED: 1 problem(s) — ")


def test_a_missing_incident_row_is_named(
    tmp_path: Path, shift: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ref = shift["theft"]
    tamper(tmp_path / "live.db", "DELETE FROM incidents WHERE ref = ?", params=(ref,))
    code, out = run_check(tmp_path, capsys)
    assert code == 1
    assert f"PROBLEM projection: incident {ref}: missing from incidents" in out.splitlines()


def test_a_gap_in_another_workstations_chain_is_only_a_warning(tmp_path: Path) -> None:
    """A Corporation replica never receives police-only events, so their chain has holes."""
    ravi = Author("PC Ravi Patel", Agency.POLICE, "CR2")
    with Store.open(tmp_path / "police" / "live.db") as police_store:
        desk = IncidentService(police_store, signed(police_store, ravi))
        ref = desk.open_incident(knife_incident()).incident.ref
        desk.add_log(ref, "Known to officers", visibility=Visibility.POLICE)
        desk.add_log(ref, "Suspect detained")
        pulled = [e for e in police_store.iter_events() if e.visibility != "police"]
    assert [e.device_seq for e in pulled] == [1, 3]

    with Store.open(tmp_path / "council" / "live.db") as council_store:
        register(council_store, ravi)
        assert len(council_store.apply_remote(pulled).stored) == 2
        report = check_store(council_store)
    assert report.ok
    assert [str(w) for w in report.warnings] == [
        "chain: CR2: events #2 missing (not held here: not visible, or not yet synced)"
    ]
