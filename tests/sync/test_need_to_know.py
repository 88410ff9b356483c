"""Need-to-know, as a property: whatever the data, nobody receives what they may not see.

Random sets of joint, police-only and Corporation-only events from several workstations are
pushed; police and Corporation users then pull with random page sizes. Zero events of the
wrong visibility may ever be delivered, and every event they may see must be delivered
exactly once. Exercise sign-ins never receive live events, whatever they ask for.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.server.app import _page_json
from osc_console.server.service import ApiError, SyncService
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from osc_console.sync.protocol import PROTOCOL_VERSION
from tests.conftest import knife_incident
from tests.sync.harness import add_users, author_at, make_service, signed_in

AUTHORS = {
    "CR1": Agency.POLICE,
    "CR2": Agency.POLICE,
    "CC1": Agency.CORPORATION,
}

# (workstation, private?) for each incident, and how many log entries each gets.
DATASETS = st.lists(
    st.tuples(st.sampled_from(sorted(AUTHORS)), st.booleans(), st.integers(0, 3)),
    min_size=1,
    max_size=8,
)


def _fill(service: SyncService, folder: Path, dataset: list[tuple[str, bool, int]]) -> int:
    """Write the dataset on each workstation's own store and push it; returns events pushed."""
    stores = {code: Store.open(folder / f"{code}.db") for code in AUTHORS}
    desks: dict[str, IncidentService] = {}
    pushed = 0
    try:
        for code, private, entries in dataset:
            agency = AUTHORS[code]
            desk = desks.get(code)
            if desk is None:
                author = author_at(service, stores[code], code, agency, f"user-{code.lower()}")
                desk = desks[code] = IncidentService(stores[code], author)
            visibility = Visibility(agency.value) if private else Visibility.JOINT
            new = knife_incident(visibility=visibility)
            if agency is Agency.CORPORATION:
                new = knife_incident(
                    visibility=visibility,
                    category="ASB-GEN",
                    lead_agency=Agency.CORPORATION,
                    grade=None,
                    council_priority="routine",
                )
            opened = desk.open_incident(new)
            events = list(opened.events)
            for n in range(entries):
                # Some entries on a joint incident are restricted to the author's organisation.
                restricted = Visibility(agency.value) if n % 2 else None
                events.extend(
                    desk.add_log(opened.incident.id, f"entry {n}", visibility=restricted).events
                )
            caller = signed_in(service, f"user-{code.lower()}", code)
            wire = json.loads(json.dumps([e.to_wire() for e in events]))
            results = service.push(caller, PROTOCOL_VERSION, wire)
            assert {r.outcome.value for r in results} == {"accepted"}
            pushed += len(results)
    finally:
        for store in stores.values():
            store.close()
    return pushed


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(dataset=DATASETS, page=st.integers(1, 7))
def test_no_user_ever_receives_an_event_of_the_wrong_visibility(
    dataset: list[tuple[str, bool, int]], page: int
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="osc-ntk-"))
    backend = SqliteBackend(folder / "server.db")
    try:
        service = make_service(backend)
        add_users(service, *((f"user-{c.lower()}", a) for c, a in AUTHORS.items()))
        add_users(service, ("planner", Agency.POLICE))
        pushed = _fill(service, folder, dataset)
        everything = {
            json.loads(body)["id"]: json.loads(body)["visibility"]
            for _, body in backend.iter_bodies("live", [v.value for v in Visibility])
        }
        assert len(everything) == pushed

        for code, agency in (("CR1", Agency.POLICE), ("CC1", Agency.CORPORATION)):
            caller = signed_in(service, f"user-{code.lower()}", code)
            received: list[str] = []
            cursor = 0
            while True:
                raw = service.pull(caller, "live", cursor, page)
                # As it goes on the wire.
                keys = service.certificates(raw.key_ids)
                data = json.loads(
                    _page_json(raw, service.now(), keys, service.signing_since_signed())
                )
                for item in data["events"]:
                    assert can_see(agency, Visibility(item["visibility"])), (
                        f"{agency.value} received a {item['visibility']}-only event"
                    )
                    received.append(item["id"])
                assert data["next"] >= cursor
                cursor = data["next"]
                if not data["more"]:
                    break
            allowed = {i for i, v in everything.items() if can_see(agency, Visibility(v))}
            assert len(received) == len(set(received)), "an event was delivered twice"
            assert set(received) == allowed

        drill = signed_in(service, "planner", "EX1", "exercise:flood")
        assert backend.pull("exercise:flood", 0, 1000, drill.visibilities).rows == []
        with pytest.raises(ApiError, match="cannot read live"):
            service.pull(drill, "live", 0, 10)
    finally:
        backend.close()
