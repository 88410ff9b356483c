"""The simplest journey through the foundation: open, assign, log, close, reopen, check."""

from __future__ import annotations

from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from tests.conftest import knife_incident


def test_a_call_from_open_to_reopen_is_all_in_the_log(
    store: Store, police_desk: IncidentService
) -> None:
    opened = police_desk.open_incident(knife_incident())
    ref = opened.incident.ref
    assert ref.endswith("-CR1-0001")
    assigned = police_desk.assign(ref, "POL-RESP-A")
    assert assigned.incident.status == "assigned"
    police_desk.add_log(ref, "Caller says the man walked towards Lime Street")
    closed = police_desk.close(ref, "CL-NOCRIME", "Area searched, no trace")
    assert closed.incident.status == "closed"
    reopened = police_desk.reopen(ref, "Second caller reports the same man")
    assert reopened.incident.status == "assigned"
    assert store.event_count() == 5
    assert check_store(store).ok
