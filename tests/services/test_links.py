"""Linking incidents into a major-incident group: an add/remove set that converges.

SYNC.md's set rule: a removal removes only the link entries its author saw, so a link made at
the same time on another workstation survives, whatever order the events arrive in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.errors import DomainError, NotFoundError, ValidationError
from osc_console.models.events import Author
from osc_console.models.payloads import Kind, validate_payload
from osc_console.models.reference import reference_data
from osc_console.services.incidents import IncidentService
from osc_console.services.links import incident_group_timelines
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from osc_console.store.links import incident_group, linked_ids
from tests.conftest import knife_incident
from tests.signing import register, signed

LINK = "019d36ff-6340-7d82-b082-532b629f6fbe"


def _open_three(desk: IncidentService) -> list[str]:
    return [
        desk.open_incident(knife_incident(summary=f"Fight outside the bar, caller {n}")).incident.id
        for n in range(3)
    ]


def test_a_link_is_recorded_once_and_read_from_both_ends(
    store: Store, police_desk: IncidentService
) -> None:
    a, b, c = _open_three(police_desk)
    outcome = police_desk.link(a, b, note="Same fight")
    (event,) = outcome.events
    assert event.kind == Kind.INCIDENT_LINKED
    assert event.payload["other_ref"] == store.incident(b).ref  # type: ignore[union-attr]
    assert outcome.incident.links == {event.id: b}
    assert linked_ids(store.conn, a) == {b}
    assert linked_ids(store.conn, b) == {a}
    assert linked_ids(store.conn, c) == set()
    assert check_store(store).ok


def test_the_group_is_everything_reachable_through_links(
    store: Store, police_desk: IncidentService
) -> None:
    a, b, c = _open_three(police_desk)
    police_desk.link(a, b)
    police_desk.link(c, b)  # recorded on c: the group is read through b from either end
    for start in (a, b, c):
        group = incident_group(store.conn, start, Agency.POLICE)
        assert group[0] == start
        assert set(group) == {a, b, c}
    merged = incident_group_timelines(store, a, Agency.POLICE)
    assert [s.id for s, _ in merged if s] == incident_group(store.conn, a, Agency.POLICE)
    assert all(events and events[0].kind == Kind.INCIDENT_OPENED for _, events in merged)


def test_linking_to_itself_or_twice_is_refused_plainly(
    store: Store, police_desk: IncidentService
) -> None:
    a, b, _ = _open_three(police_desk)
    ref_a, ref_b = store.incident(a).ref, store.incident(b).ref  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="cannot be linked to itself"):
        police_desk.link(a, a)
    police_desk.link(a, b)
    with pytest.raises(DomainError, match=f"{ref_a} is already linked to {ref_b}"):
        police_desk.link(a, b)
    with pytest.raises(ValidationError, match=f"{ref_a} is already linked to {ref_b}"):
        police_desk.link(b, a)


def test_a_police_only_incident_cannot_be_linked_into_a_joint_one(
    store: Store, police_desk: IncidentService
) -> None:
    joint = police_desk.open_incident(knife_incident()).incident.id
    secret = police_desk.open_incident(knife_incident(visibility=Visibility.POLICE)).incident
    with pytest.raises(ValidationError, match="police-only and cannot be linked"):
        police_desk.link(joint, secret.id)
    police_desk.link(secret.id, joint)  # the other way round reveals nothing new


def test_unlinking_removes_the_links_seen_from_either_end(
    store: Store, police_desk: IncidentService
) -> None:
    a, b, _ = _open_three(police_desk)
    police_desk.link(a, b)
    outcome = police_desk.unlink(b, a, "Different fight after all")
    assert [e.kind for e in outcome.events] == [Kind.INCIDENT_UNLINKED]
    assert outcome.events[0].incident_id == a  # the link lives on a; so does its removal
    assert store.incident(a).links == {}  # type: ignore[union-attr]
    assert linked_ids(store.conn, b) == set()
    with pytest.raises(NotFoundError, match="is not linked to"):
        police_desk.unlink(a, b, "again")
    assert check_store(store).ok


@pytest.fixture
def desks(tmp_path: Path) -> Iterator[Callable[[str], tuple[Store, IncidentService]]]:
    """Workstations with their own stores; every desk's key is certified in every store, as
    the certificates a sync brings would tell them."""
    opened: list[Store] = []
    authors: list[Author] = []

    def make(code: str) -> tuple[Store, IncidentService]:
        store = Store.open(tmp_path / code / "live.db")
        author = signed(store, Author(f"Desk {code}", Agency.POLICE, code), "dispatcher")
        for other in opened:
            register(other, author)
        if authors:
            register(store, *authors)
        opened.append(store)
        authors.append(author)
        return store, IncidentService(store, author)

    yield make
    for store in opened:
        store.close()


def test_a_concurrent_link_survives_a_removal_that_did_not_see_it(
    desks: Callable[[str], tuple[Store, IncidentService]],
) -> None:
    one, desk_one = desks("CR1")
    two, desk_two = desks("CR2")
    a = desk_one.open_incident(knife_incident()).incident.id
    b = desk_one.open_incident(knife_incident(summary="Second caller")).incident.id
    two.apply_remote(one.iter_events())
    first = desk_one.link(a, b, note="seen by both").events[0]
    two.apply_remote([first])
    # CR2 removes the link it saw while CR1, offline, links the two again (a new entry).
    removal = desk_two.unlink(a, b, "Not the same fight").events[0]
    assert removal.payload["removes"] == [first.id]
    desk_one.unlink(a, b, "tidy up")  # CR1 removes its first link too, then links again
    again = desk_one.link(a, b, note="Same fight: CCTV confirms").events[0]
    # Both desks exchange everything, in opposite orders: the same set on both.
    one.apply_remote(list(two.iter_events()))
    two.apply_remote(list(reversed(list(one.iter_events()))))
    for store in (one, two):
        assert store.incident(a).links == {again.id: b}  # type: ignore[union-attr]
        assert linked_ids(store.conn, b) == {a}
        assert check_store(store).ok


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        (
            Kind.INCIDENT_LINKED,
            {"other": "nope", "other_ref": "20261122-CR1-0008"},
            "payload.other: must be an id (UUID)",
        ),
        (
            Kind.INCIDENT_LINKED,
            {"other": LINK, "other_ref": "fight"},
            "payload.other_ref: must look like 20261122-CR1-0007",
        ),
        (
            Kind.INCIDENT_UNLINKED,
            {"other": LINK, "removes": [], "reason": "x"},
            "payload.removes: must list the link entries removed (at least one id)",
        ),
        (
            Kind.INCIDENT_UNLINKED,
            {"other": LINK, "removes": LINK, "reason": "x"},
            "payload.removes: must list the link entries removed (at least one id)",
        ),
        (
            Kind.INCIDENT_UNLINKED,
            {"other": LINK, "removes": ["x"], "reason": "x"},
            "payload.removes: 'x' is not an id (UUID) of an incident.linked entry",
        ),
        (
            Kind.INCIDENT_UNLINKED,
            {"other": LINK, "removes": [LINK, LINK], "reason": "x"},
            "payload.removes: names the same link entry twice",
        ),
        (
            Kind.INCIDENT_UNLINKED,
            {"other": LINK, "removes": [LINK], "reason": " "},
            "payload.reason: must not be empty",
        ),
    ],
)
def test_link_payloads_are_refused_with_the_field_named(
    kind: str, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        validate_payload(kind, 1, payload, reference_data())
