"""The shift log against the events it is built from: counts, grouping, handover, sign-off,
"after sign-off" marks and what each organisation may see."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.events import Author
from osc_console.models.payloads import Kind
from osc_console.models.shift_log import ShiftLog
from osc_console.models.shifts import DEFAULT_PATTERNS
from osc_console.models.users import Role, User
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.services.shifts import ShiftService
from osc_console.store.event_store import Store
from tests.conftest import knife_incident
from tests.signing import signed

DAY = date(2026, 11, 22)  # GMT: London time is UTC
MANAGER = User("A. Patel", Agency.CORPORATION, Role.DUTY_MANAGER)
INCOMING = User("R. Evans", Agency.POLICE, Role.DUTY_MANAGER)


class Wall:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, hour: int, minute: int = 0) -> None:
        self.now = datetime(2026, 11, 22, 0, 0, tzinfo=UTC).replace(hour=hour % 24, minute=minute)
        if hour >= 24:
            self.now = self.now.replace(day=23)


@dataclass
class Scene:
    store: Store
    wall: Wall
    manager: ShiftService
    incoming: ShiftService
    a: str
    b: str
    c: str
    late_entry: str
    a_assignment: str


def service(store: Store, wall: Wall, user: User, workstation: str) -> ShiftService:
    author = signed(store, Author(user.name, user.agency, workstation), user.role.value)
    return ShiftService(store, author, user=user, patterns=DEFAULT_PATTERNS, clock=wall)


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    wall = Wall()
    with Store.open(tmp_path / "live.db", wall=wall) as store:
        police = IncidentService(
            store, signed(store, Author("PC Jane Smith", Agency.POLICE, "CR1"))
        )
        council = IncidentService(
            store, signed(store, Author("Sam Okafor", Agency.CORPORATION, "CC1"))
        )
        wall.at(14, 30)  # early shift: A opened before the late shift begins
        a = police.open_incident(knife_incident()).incident
        wall.at(14, 40)
        assigned = police.assign(a.ref, "POL-RESP-A")
        a_assignment = next(iter(assigned.incident.assignments))
        wall.at(15, 30)
        b = council.open_incident(
            NewIncident(
                summary="Overflowing litter bins",
                category="ADM-INFO",
                source="phone",
                location=Location("Leadenhall Street"),
                lead_agency=Agency.CORPORATION,
                council_priority="routine",
            )
        ).incident
        wall.at(15, 35)
        b_assignment = next(iter(police.assign(b.ref, "POL-RESP-A").incident.assignments))
        wall.at(16, 0)
        entry = police.add_log(a.ref, "Suspect seen heading east").events[-1]
        wall.at(16, 30)
        c = police.open_incident(
            knife_incident(summary="Police-only intelligence", visibility=Visibility.POLICE)
        ).incident
        wall.at(16, 45)
        police.add_log(c.ref, "Source says he carries a blade")
        wall.at(17, 0)
        police.update_assignment(b.ref, b_assignment, "completed")
        wall.at(17, 30)
        police.add_log(a.ref, "PNC check shows a warning marker", visibility=Visibility.POLICE)
        wall.at(18, 0)
        council.close(b.ref, "CL-NOCRIME", "Bins emptied")
        wall.at(19, 0)
        police.record_decision(a.ref, "Keep the cordon", "Crowd still present")
        wall.at(19, 30)
        police.amend_log(a.ref, entry.id, "Suspect seen heading west", "misheard")
        manager = service(store, wall, MANAGER, "CC1")
        incoming = service(store, wall, INCOMING, "CR2")
        wall.at(22, 50)
        manager.write_handover(DAY, "late", "A: cordon stays; check the marker")
        wall.at(23, 4)
        manager.sign_off(DAY, "late", "Quiet evening")
        wall.at(23, 10)
        incoming.acknowledge_handover(DAY, "late", "Received")
        wall.at(23, 20)  # recorded after the sign-off, about 22:30: part of the late shift
        late = council.add_log(
            b.ref, "Late note: resident thanked the crew", occurred_at="2026-11-22T22:30:00Z"
        ).events[-1]
        wall.at(23, 30)  # the night shift's: not in the late shift's log
        police.add_log(a.ref, "Night shift takes over the cordon")
        yield Scene(store, wall, manager, incoming, a.id, b.id, c.id, late.id, a_assignment)


def log_for(scene: Scene, viewer: Agency) -> ShiftLog:
    return scene.manager.shift_log(DAY, "late", viewer)


def test_counts_at_the_top(scene: Scene) -> None:
    police = log_for(scene, Agency.POLICE).counts
    assert (police.opened, police.closed, police.still_open) == (2, 1, 2)
    assert (police.assignments_outstanding, police.decisions, police.amendments) == (1, 1, 1)
    council = log_for(scene, Agency.CORPORATION).counts
    assert (council.opened, council.closed, council.still_open) == (1, 1, 1)
    assert (council.assignments_outstanding, council.decisions, council.amendments) == (1, 1, 1)


def test_stream_is_chronological_and_holds_only_the_window(scene: Scene) -> None:
    log = log_for(scene, Agency.POLICE)
    times = [e.event.occurred_at for e in log.entries]
    assert times == sorted(times)
    incident_entries = [e for e in log.entries if e.event.incident_id]
    assert all(
        "2026-11-22T15:00" <= e.event.occurred_at < "2026-11-22T23:00" for e in incident_entries
    )
    texts = [e.text for e in log.entries]
    assert "Night shift takes over the cordon" not in texts
    kinds = [e.event.kind for e in log.entries if e.event.incident_id is None]
    assert kinds == [Kind.SHIFT_HANDOVER, Kind.SHIFT_SIGNED_OFF, Kind.SHIFT_HANDOVER_ACKNOWLEDGED]


def test_grouped_by_incident_with_state_at_end_of_shift(scene: Scene) -> None:
    log = log_for(scene, Agency.POLICE)
    groups = {i.incident_id: i for i in log.incidents}
    assert set(groups) == {scene.a, scene.b, scene.c}
    a, b = groups[scene.a], groups[scene.b]
    assert a.status == "assigned"
    assert a.summary == "Man seen with a knife outside a bar"
    assert a.urgency_label == "I Immediate"
    assert [e.event.kind for e in a.entries] == [
        Kind.LOG_ADDED,
        Kind.LOG_ADDED,
        Kind.DECISION_RECORDED,
        Kind.LOG_AMENDED,
    ]
    assert b.status == "closed"
    assert b.urgency_label == "Council: routine"
    assert all(e.event.incident_id == scene.b for e in b.entries)


def test_handover_content_matches_the_events(scene: Scene) -> None:
    log = log_for(scene, Agency.POLICE)
    handover = {i.incident_id: i for i in log.handover}
    assert set(handover) == {scene.a, scene.c}  # B was closed at 18:00
    a = handover[scene.a]
    # Its last update before 23:00 is the amendment; the 23:30 entry is the next shift's.
    assert a.last_update is not None
    assert a.last_update.event.kind == Kind.LOG_AMENDED
    assert "heading west" in a.last_update.text
    assert [(o.assignment_id, o.team, o.status) for o in a.outstanding] == [
        (scene.a_assignment, "POL-RESP-A", "assigned")
    ]
    assert handover[scene.c].outstanding == ()
    assert log.handover_note is not None
    assert log.handover_note.note == "A: cordon stays; check the marker"
    assert log.handover_note.actor == "A. Patel"
    assert log.acknowledgement is not None
    assert log.acknowledgement.actor == "R. Evans"
    assert log.acknowledgement.note == "Received"


def test_handover_is_folded_to_the_end_of_the_shift(scene: Scene) -> None:
    """An incident closed after the shift ended still shows as open at handover."""
    scene.wall.at(23, 45)
    police = signed(scene.store, Author("PC Jane Smith", Agency.POLICE, "CR1"))
    IncidentService(scene.store, police).close(scene.a, "CL-NOCRIME", "Suspect arrested")
    log = log_for(scene, Agency.POLICE)
    assert scene.a in {i.incident_id for i in log.handover}
    assert {i.incident_id: i.status for i in log.incidents}[scene.a] == "assigned"


def test_entries_recorded_after_sign_off_are_marked(scene: Scene) -> None:
    log = log_for(scene, Agency.POLICE)
    assert log.sign_off is not None
    assert log.sign_off.actor == "A. Patel"
    assert log.sign_off.note == "Quiet evening"
    assert log.sign_off.who_when(DAY) == "A. Patel at 23:04 GMT"
    marked = [e.event.id for e in log.entries if e.after_sign_off]
    assert marked == [scene.late_entry]
    assert log.after_sign_off_count == 1
    assert log.duty_manager == "A. Patel"


def test_a_second_sign_off_is_refused_with_who_and_when(scene: Scene) -> None:
    scene.wall.at(23, 50)
    with pytest.raises(
        DomainError,
        match=r"^the late shift of 2026-11-22 was signed off by A\. Patel at 23:04 GMT$",
    ):
        scene.incoming.sign_off(DAY, "late")
    signed = [e for e in scene.store.iter_events() if e.kind == Kind.SHIFT_SIGNED_OFF]
    assert len(signed) == 1


def test_only_a_duty_manager_or_admin_may_write(scene: Scene) -> None:
    dispatcher = User("D. Brown", Agency.POLICE, Role.DISPATCHER)
    desk = service(scene.store, scene.wall, dispatcher, "CR3")
    with pytest.raises(DomainError, match="only a duty manager or an admin may sign off"):
        desk.sign_off(date(2026, 11, 22), "early")
    with pytest.raises(DomainError, match="nobody is signed in"):
        ShiftService(scene.store, Author("x", Agency.POLICE, "CR3"), clock=scene.wall).sign_off(
            DAY, "early"
        )
    admin = User("Root", Agency.POLICE, Role.ADMIN)
    service(scene.store, scene.wall, admin, "CR3").sign_off(DAY, "early")


def test_future_shifts_and_missing_notes_are_refused(scene: Scene) -> None:
    with pytest.raises(DomainError, match="the early shift of 2026-11-23 has not started yet"):
        scene.manager.sign_off(date(2026, 11, 23), "early")
    with pytest.raises(ValidationError, match="a handover note is needed for the night shift"):
        scene.manager.write_handover(DAY, "night", "   ")
    with pytest.raises(DomainError, match="no handover note has been written for the early shift"):
        scene.incoming.acknowledge_handover(DAY, "early")
    with pytest.raises(ValidationError, match=r"unknown shift 'brunch' \(early, late, night\)"):
        scene.manager.sign_off(DAY, "brunch")


def test_a_corporation_manager_sees_no_police_only_entry_and_is_told_how_many(
    scene: Scene,
) -> None:
    log = log_for(scene, Agency.CORPORATION)
    assert all(e.event.visibility != "police" for e in log.entries)
    assert scene.c not in {i.incident_id for i in (*log.incidents, *log.handover)}
    assert "PNC" not in " ".join(e.text for e in log.entries)
    # C's opening and log, and the police-only PNC entry on the joint incident A.
    assert dict(log.withheld) == {"police": 3}
    assert log.withheld_line is not None
    assert log.withheld_line.startswith("3 police-only entries withheld")
    police = log_for(scene, Agency.POLICE)
    assert police.withheld_total == 0
    assert police.withheld_line is None


def test_filters_for_the_view(scene: Scene) -> None:
    log = log_for(scene, Agency.POLICE)
    assert {e.event.agency for e in log.filtered(agency="corporation")} == {"corporation"}
    assert {e.event.actor for e in log.filtered(operator="PC Jane Smith")} == {"PC Jane Smith"}
    by_team = log.filtered(team="POL-RESP-A")
    assert {e.event.incident_id for e in by_team} == {scene.a, scene.b}


def test_an_empty_shift(tmp_path: Path) -> None:
    with Store.open(tmp_path / "empty.db") as store:
        log = ShiftService(store, Author("x", Agency.POLICE, "CR1"), patterns=DEFAULT_PATTERNS)
        empty = log.shift_log(date(2026, 1, 5), "night")
    assert empty.is_empty
    assert empty.counts.opened == 0
    assert empty.handover == ()
    assert empty.sign_off is None
