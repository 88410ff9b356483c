"""Exercise events never reach the live store: refused when written and when received."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.events import Author, EventDraft, seal
from osc_console.models.payloads import Kind
from osc_console.paths import store_path
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store.event_store import Store
from tests.signing import register, sign, signed

REALM = "exercise:city-flood"
CONTROL = signed(None, Author("Exercise control", Agency.CORPORATION, "EXCON", REALM), "planner")
PLAYER = signed(None, Author("PC Jane Smith", Agency.POLICE, "CR1", REALM), "call_handler")
MESSAGE = EventDraft(
    Kind.EXERCISE_MESSAGE, {"text": "Gold group at T+55", "exercise_seconds": 60, "speed": 1}
)
STOPPED = EventDraft(
    Kind.EXERCISE_STOPPED,
    {"reason": "Real incident", "emergency": True, "exercise_seconds": 90, "speed": 1},
)


def test_a_live_store_refuses_to_write_an_exercise_event(tmp_path: Path) -> None:
    live_author = replace(CONTROL, realm="live")
    with Store.open(store_path(tmp_path, "live"), "live") as live:
        register(live, live_author)  # a planner with a key: refused for the realm alone
        with pytest.raises(ValidationError, match="belongs to an exercise realm"):
            live.append(MESSAGE, live_author)
        assert live.event_count() == 0
        assert live.pending_count() == 0  # nothing queued to sync either


def test_a_live_store_refuses_exercise_events_arriving_by_sync(tmp_path: Path) -> None:
    """Even one that claims the live realm (a faulty or hostile peer)."""
    with Store.open(tmp_path / "elsewhere.db", REALM) as other:
        register(other, CONTROL)
        exercise_event, _ = other.append(MESSAGE, CONTROL)
    # Sealed (and signed) without any store's checks, as a faulty peer might send it.
    live_event = sign(
        seal(
            MESSAGE,
            replace(CONTROL, realm="live"),
            event_id="019d36ff-6340-7000-8000-0000000000aa",
            hlc=exercise_event.hlc,
            recorded_at=exercise_event.recorded_at,
            device_seq=1,
            prev_hash=None,
        )
    )
    with Store.open(store_path(tmp_path, "live"), "live") as live:
        register(live, CONTROL)  # its signatures are good: refused for the realm alone
        result = live.apply_remote([exercise_event, live_event])
        assert result.stored == ()
        reasons = {r.event_id: r.reason for r in result.rejected}
        assert reasons[exercise_event.id] == f"belongs to realm {REALM}, not live"
        assert "belongs to an exercise realm" in reasons[live_event.id]
        assert live.event_count() == 0


def test_after_stop_nothing_more_is_recorded(tmp_path: Path) -> None:
    with Store.open(store_path(tmp_path, REALM), REALM) as store:
        register(store, PLAYER, CONTROL)
        desk = IncidentService(store, PLAYER)
        opened = desk.open_incident(
            NewIncident(
                summary="Water over the road",
                category="PS-FLOOD",
                source="999",
                location=Location("Bank junction"),
                lead_agency=Agency.POLICE,
                grade="immediate",
            )
        )
        assert store.exercise_ended() is None
        store.append(STOPPED, CONTROL)
        ended = store.exercise_ended()
        assert ended is not None
        assert ended.payload["reason"] == "Real incident"
        before = store.event_count()
        with pytest.raises(DomainError, match="the exercise city-flood has ended"):
            desk.add_log(opened.incident.ref, "Cordon in place")
        with pytest.raises(DomainError, match="has ended"):
            store.append(MESSAGE, CONTROL)
        assert store.event_count() == before


def test_a_live_store_never_has_an_ended_exercise(tmp_path: Path) -> None:
    with Store.open(store_path(tmp_path, "live"), "live") as live:
        assert live.exercise_ended() is None
