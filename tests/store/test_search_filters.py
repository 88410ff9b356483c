"""Search across incidents and log text with filters; typed FTS syntax is plain text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from osc_console.models.agencies import Agency, Visibility
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from osc_console.store.search import SearchFilter, search_incidents
from tests.conftest import knife_incident


@pytest.fixture
def three(
    store: Store, police_desk: IncidentService, council_desk: IncidentService
) -> dict[str, str]:
    knife = police_desk.open_incident(knife_incident()).incident
    police_desk.add_log(knife.id, "Suspect dropped the blade in a bin on Lime Street")
    police_desk.assign(knife.id, "POL-RESP-A")
    bins = council_desk.open_incident(
        knife_incident(
            summary="Overflowing bins outside the market",
            category="CS-CLEANSE",
            lead_agency=Agency.CORPORATION,
            grade=None,
            council_priority="routine",
        )
    ).incident
    council_desk.add_log(bins.id, "Crew report the bin is full of glass; a blade found too")
    secret = police_desk.open_incident(
        knife_incident(summary="Informant meeting", visibility=Visibility.POLICE)
    ).incident
    police_desk.add_log(secret.id, "Blade handed over by informant")
    return {"knife": knife.id, "bins": bins.id, "secret": secret.id}


def ids(results: list) -> set[tuple[str, bool]]:  # type: ignore[type-arg]
    return {(r.incident_id, r.event_id is not None) for r in results}


def test_words_match_summaries_and_log_text_with_the_entry_named(
    store: Store, three: dict[str, str]
) -> None:
    found = search_incidents(store.conn, SearchFilter(Agency.POLICE, "blade"))
    assert ids(found) == {(three["knife"], True), (three["bins"], True), (three["secret"], True)}
    entry = next(r for r in found if r.incident_id == three["knife"])
    assert store.event(entry.event_id).payload["text"].startswith("Suspect dropped")  # type: ignore[arg-type,union-attr]
    assert "[blade]" in entry.snippet.lower()


def test_the_corporation_never_finds_police_only_entries(
    store: Store, three: dict[str, str]
) -> None:
    found = search_incidents(store.conn, SearchFilter(Agency.CORPORATION, "blade"))
    assert three["secret"] not in {r.incident_id for r in found}


@pytest.mark.parametrize(
    "typed", ['blade"', "blade*", "blade)", "(blade", "blade(", "blade:", "^blade", "-blade"]
)
def test_fts_syntax_typed_by_a_user_is_plain_text(
    store: Store, three: dict[str, str], typed: str
) -> None:
    found = search_incidents(store.conn, SearchFilter(Agency.POLICE, typed))
    assert three["knife"] in {r.incident_id for r in found}


def test_only_punctuation_finds_nothing_and_raises_nothing(
    store: Store, three: dict[str, str]
) -> None:
    assert search_incidents(store.conn, SearchFilter(Agency.POLICE, '"*()')) == []


def test_filters_narrow_the_matches(store: Store, three: dict[str, str]) -> None:
    def find(**kwargs: object) -> set[str]:
        f = SearchFilter(Agency.POLICE, "blade", **kwargs)  # type: ignore[arg-type]
        return {r.incident_id for r in search_incidents(store.conn, f)}

    assert find(lead_agency=Agency.CORPORATION) == {three["bins"]}
    assert find(team="POL-RESP-A") == {three["knife"]}
    assert find(category="CS-CLEANSE") == {three["bins"]}
    assert find(grade="routine") == {three["bins"]}
    assert find(grade="immediate") == {three["knife"], three["secret"]}
    now = datetime.now(UTC)
    assert find(opened_from=now - timedelta(hours=1), opened_to=now + timedelta(hours=1)) == set(
        three.values()
    )
    assert find(opened_to=now - timedelta(hours=1)) == set()


def test_filters_alone_list_incidents_newest_first(store: Store, three: dict[str, str]) -> None:
    found = search_incidents(store.conn, SearchFilter(Agency.POLICE, "", grade="immediate"))
    assert [r.incident_id for r in found] == [three["secret"], three["knife"]]
    assert all(r.event_id is None for r in found)
