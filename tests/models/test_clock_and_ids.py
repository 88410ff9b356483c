"""Time and identity: the hybrid clock that orders events, UUIDv7 ids, and London time.

The clock decides the order of everything in the log, so these tests play out what happens
in a control room: a workstation whose wall clock is corrected backwards, one that receives
entries from a colleague slightly ahead, and one that receives entries from a machine whose
clock is hours fast (which must not drag everybody's clock into the future).
"""

from __future__ import annotations

import re
import types
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osc_console.models import ids
from osc_console.models.agencies import Agency
from osc_console.models.clock import (
    LONDON,
    MAX_FORWARD_MS,
    HybridClock,
    Stamp,
    age_label,
    from_iso,
    is_iso_utc,
    is_stamp,
    local_label,
    london_date,
    ms_to_iso,
    to_iso,
)
from osc_console.models.events import Author, Event
from osc_console.models.ids import is_uuid, uuid7
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from tests.conftest import knife_incident
from tests.signing import register, signed

FAST_DESK = Author("PC Fast", Agency.POLICE, "CR9")
NOON_MS = int(datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp() * 1000)
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS


class WallClock:
    """A workstation's wall clock that a test can set, jump back, or leave stuck."""

    def __init__(self, ms: int = NOON_MS) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


# ---- the hybrid logical clock ------------------------------------------------------------------


def test_a_new_stamp_follows_the_wall_clock_when_it_moves_on() -> None:
    wall = WallClock()
    clock = HybridClock(wall=wall)
    assert clock.now() == Stamp(NOON_MS, 0)
    wall.ms += 1_500
    assert clock.now() == Stamp(NOON_MS + 1_500, 0)


def test_stamps_in_the_same_millisecond_count_up() -> None:
    clock = HybridClock(wall=WallClock())
    assert [clock.now() for _ in range(3)] == [
        Stamp(NOON_MS, 0),
        Stamp(NOON_MS, 1),
        Stamp(NOON_MS, 2),
    ]


def test_stamps_keep_increasing_when_the_wall_clock_is_corrected_backwards() -> None:
    wall = WallClock()
    clock = HybridClock(wall=wall)
    before = clock.now()
    wall.ms -= HOUR_MS  # NTP pulls the workstation's clock back an hour
    after = [clock.now() for _ in range(5)]
    assert all(stamp > before for stamp in after)
    assert after == sorted(set(after))
    assert [str(s) for s in after] == sorted(str(s) for s in after)
    # Once the wall clock catches up it is used again.
    wall.ms += 2 * HOUR_MS
    assert clock.now() == Stamp(NOON_MS + HOUR_MS, 0)


def test_a_clock_restarted_from_its_last_stamp_never_goes_back() -> None:
    wall = WallClock()
    last = HybridClock(wall=wall).now()
    wall.ms -= 10 * MINUTE_MS
    assert HybridClock(last=last, wall=wall).now() > last


def test_a_colleagues_stamp_slightly_ahead_moves_this_clock_past_it() -> None:
    wall = WallClock()
    clock = HybridClock(wall=wall)
    remote = Stamp(NOON_MS + 30_000, 4)  # their clock is 30 seconds fast
    assert clock.observe(remote) is True
    assert clock.last == remote
    reply = clock.now()
    assert reply > remote  # a reply typed after reading their entry sorts after it


def test_a_stamp_from_the_past_leaves_the_clock_where_it_was() -> None:
    clock = HybridClock(wall=WallClock())
    mine = clock.now()
    assert clock.observe(Stamp(NOON_MS - HOUR_MS, 9)) is True
    assert clock.last == mine


def test_a_stamp_hours_ahead_is_capped_and_does_not_drag_this_clock_forward() -> None:
    wall = WallClock()
    clock = HybridClock(wall=wall)
    far_ahead = Stamp(NOON_MS + 3 * HOUR_MS, 0)
    assert clock.observe(far_ahead) is False
    assert clock.last == Stamp(NOON_MS + MAX_FORWARD_MS, 0)
    assert clock.last.ms <= wall.ms + MAX_FORWARD_MS
    later = clock.now()
    assert later < far_ahead
    assert later.ms == NOON_MS + MAX_FORWARD_MS


def test_the_cap_is_a_setting_of_the_clock() -> None:
    clock = HybridClock(wall=WallClock(), max_forward_ms=1_000)
    assert clock.observe(Stamp(NOON_MS + 1_000, 0)) is True
    assert clock.observe(Stamp(NOON_MS + 1_001, 0)) is False
    assert clock.last == Stamp(NOON_MS + 1_000, 0)


Action = tuple[str, int]
actions = st.lists(
    st.one_of(
        st.tuples(st.just("now"), st.just(0)),
        st.tuples(st.just("wall"), st.integers(-2 * HOUR_MS, 2 * HOUR_MS)),
        st.tuples(st.just("observe"), st.integers(-2 * HOUR_MS, 4 * HOUR_MS)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None, database=None)
@given(actions=actions)
def test_whatever_happens_every_stamp_issued_is_greater_than_all_before(
    actions: list[Action],
) -> None:
    wall = WallClock()
    clock = HybridClock(wall=wall)
    highest_wall = wall.ms
    issued: list[Stamp] = []
    followed: list[Stamp] = []  # remote stamps the clock accepted without capping
    for action, amount in actions:
        if action == "wall":
            wall.ms += amount
            highest_wall = max(highest_wall, wall.ms)
        elif action == "observe":
            remote = Stamp(wall.ms + amount, 0)
            accepted = clock.observe(remote)
            assert accepted == (amount <= MAX_FORWARD_MS)
            if accepted:
                followed.append(remote)
        else:
            stamp = clock.now()
            assert all(stamp > earlier for earlier in issued)
            assert all(stamp > remote for remote in followed)
            issued.append(stamp)
        # However far ahead the stamps it receives, the clock stays within the cap of the
        # latest wall time it has known.
        assert clock.last.ms <= highest_wall + MAX_FORWARD_MS
    assert [str(s) for s in issued] == sorted(str(s) for s in issued)


# ---- the stamp's text form ---------------------------------------------------------------------


def test_a_stamp_reads_as_fixed_width_text_and_back() -> None:
    stamp = Stamp(1_795_521_600_000, 42)
    assert str(stamp) == "1795521600000-000042"
    assert Stamp.parse(str(stamp)) == stamp
    assert is_stamp("1795521600000-000042")


@pytest.mark.parametrize(
    "text",
    ["", "1795521600000", "179552160000-000042", "1795521600000-", "abcdefghijklm-000001", 17],
)
def test_text_that_is_not_a_stamp_is_refused(text: object) -> None:
    assert not is_stamp(text)
    if isinstance(text, str):
        with pytest.raises(ValueError, match="not a clock stamp"):
            Stamp.parse(text)


stamps = st.builds(Stamp, st.integers(0, 10**13 - 1), st.integers(0, 10**6 - 1))


@settings(max_examples=300, database=None)
@given(a=stamps, b=stamps)
def test_stamps_sort_as_text_exactly_as_they_sort_as_numbers(a: Stamp, b: Stamp) -> None:
    assert (str(a) < str(b)) == (a < b)
    assert (str(a) == str(b)) == (a == b)


def test_a_clock_stuck_behind_a_stamp_for_a_million_events_still_sorts_as_text() -> None:
    # A clock held at a capped remote stamp (its wall clock behind) counts up in one
    # millisecond; a bulk import of a million entries there reaches the seventh digit.
    clock = HybridClock(last=Stamp(NOON_MS, 999_999), wall=WallClock(NOON_MS - 1))
    before = clock.last
    after = clock.now()
    assert after > before
    assert str(after) > str(before)


# ---- the store's clock -------------------------------------------------------------------------


@pytest.fixture
def fast_desk_events(tmp_path: Path) -> Iterator[list[Event]]:
    """Entries made on a workstation whose clock is three hours fast."""
    ahead = datetime.fromtimestamp((NOON_MS + 3 * HOUR_MS) / 1000, UTC)
    with Store.open(tmp_path / "fast.db", wall=lambda: ahead) as fast:
        IncidentService(fast, signed(fast, FAST_DESK)).open_incident(knife_incident())
        yield list(fast.iter_events())


def _noon() -> datetime:
    return datetime.fromtimestamp(NOON_MS / 1000, UTC)


def test_a_store_receiving_an_entry_hours_ahead_keeps_it_and_caps_its_clock(
    tmp_path: Path, fast_desk_events: list[Event]
) -> None:
    with Store.open(tmp_path / "live.db", wall=_noon) as store:
        register(store, FAST_DESK)
        result = store.apply_remote(fast_desk_events)
        assert len(result.stored) == 1
        assert result.clock_capped == result.stored
        assert store.clock.last.ms <= NOON_MS + MAX_FORWARD_MS
        desk = IncidentService(store, signed(store, Author("PC Jane Smith", Agency.POLICE, "CR1")))
        mine = desk.open_incident(knife_incident()).events[0]
        assert Stamp.parse(mine.hlc).ms <= NOON_MS + MAX_FORWARD_MS


def test_restarting_the_console_does_not_undo_the_cap_on_a_fast_clock(
    tmp_path: Path, fast_desk_events: list[Event]
) -> None:
    with Store.open(tmp_path / "live.db", wall=_noon) as store:
        register(store, FAST_DESK)
        store.apply_remote(fast_desk_events)
    with Store.open(tmp_path / "live.db", wall=_noon) as store:  # the console restarts
        desk = IncidentService(store, signed(store, Author("PC Jane Smith", Agency.POLICE, "CR1")))
        mine = desk.open_incident(knife_incident()).events[0]
        # Otherwise every entry typed here for the next three hours is stamped three hours
        # ahead, and drags every other workstation that receives it up to the cap.
        assert Stamp.parse(mine.hlc).ms <= NOON_MS + MAX_FORWARD_MS


# ---- UUIDv7 ids ------------------------------------------------------------------------------


@pytest.fixture
def id_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids made for a given time touch the module's memory of the last id: restore it after."""
    monkeypatch.setattr(ids, "_last_ms", ids._last_ms)
    monkeypatch.setattr(ids, "_last_rand_a", ids._last_rand_a)


def _time_of(identifier: str) -> int:
    return uuid.UUID(identifier).int >> 80


def test_an_id_is_a_version_7_rfc_9562_uuid() -> None:
    made = uuid.UUID(uuid7())
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert str(made) == str(made).lower()


@pytest.mark.usefixtures("id_state")
def test_an_id_carries_the_millisecond_it_was_made() -> None:
    assert _time_of(uuid7(NOON_MS)) == NOON_MS
    assert uuid.UUID(uuid7(NOON_MS)).version == 7


def test_an_id_made_now_carries_the_current_time() -> None:
    before = int(datetime.now(UTC).timestamp() * 1000)
    made = uuid7()
    after = int(datetime.now(UTC).timestamp() * 1000)
    assert before <= _time_of(made) <= after + 1


def test_a_hundred_thousand_ids_are_unique_and_in_the_order_they_were_made() -> None:
    made = [uuid7() for _ in range(100_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert all(is_uuid(m) for m in made[::1_000])


@pytest.mark.usefixtures("id_state")
def test_ids_for_later_times_sort_later() -> None:
    times = [NOON_MS + step for step in (0, 1, 2, 1_000, MINUTE_MS, HOUR_MS)]
    made = [uuid7(ms) for ms in times]
    assert made == sorted(made)


@pytest.mark.usefixtures("id_state")
def test_four_thousand_ids_in_one_millisecond_stay_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ids, "time", types.SimpleNamespace(time=lambda: NOON_MS / 1000))
    monkeypatch.setattr(ids, "_last_ms", NOON_MS)
    monkeypatch.setattr(ids, "_last_rand_a", 0)
    made = [uuid7() for _ in range(5_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    # The 12-bit counter holds 4095 more ids in this millisecond; then the next is borrowed.
    times = [_time_of(m) for m in made]
    assert times.count(NOON_MS) == 4_095
    assert times.count(NOON_MS + 1) == 905


@pytest.mark.usefixtures("id_state")
def test_an_id_made_for_another_time_does_not_change_the_time_of_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ids, "time", types.SimpleNamespace(time=lambda: NOON_MS / 1000))
    monkeypatch.setattr(ids, "_last_ms", 0)  # a fresh process
    monkeypatch.setattr(ids, "_last_rand_a", 0)
    uuid7(NOON_MS + 24 * HOUR_MS)  # e.g. an exercise scripted for tomorrow
    assert _time_of(uuid7()) == NOON_MS


@pytest.mark.parametrize(
    "text",
    [
        "019d36ff-6340-7d82-b082-532b629f6fbe".upper(),
        "{019d36ff-6340-7d82-b082-532b629f6fbe}",
        "019d36ff63407d82b082532b629f6fbe",
        "019d36ff-6340-7d82-b082-532b629f6fb",
        "not-an-id",
        "",
        None,
        42,
    ],
)
def test_only_the_lower_case_hyphenated_form_is_an_id(text: object) -> None:
    assert not is_uuid(text)


def test_a_lower_case_uuid_of_any_version_is_an_id() -> None:
    assert is_uuid("019d36ff-6340-7d82-b082-532b629f6fbe")
    assert is_uuid(str(uuid.uuid4()))


# ---- wall-clock times people see ---------------------------------------------------------------


def test_times_are_stored_as_utc_text_to_the_millisecond() -> None:
    moment = datetime(2026, 7, 15, 14, 32, 5, 678_901, tzinfo=timezone(timedelta(hours=1)))
    assert to_iso(moment) == "2026-07-15T13:32:05.678Z"
    assert ms_to_iso(0) == "1970-01-01T00:00:00.000Z"
    assert ms_to_iso(NOON_MS) == "2026-11-24T12:00:00.000Z"


def test_a_time_without_a_zone_cannot_be_stored() -> None:
    message = "naive datetimes are ambiguous; give a time zone"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        to_iso(datetime(2026, 7, 15, 14, 32))


@settings(max_examples=200, database=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2099, 12, 31),
        timezones=st.sampled_from([UTC, LONDON, timezone(timedelta(hours=-5))]),
    )
)
def test_a_stored_time_reads_back_as_the_same_instant(moment: datetime) -> None:
    stored = to_iso(moment)
    assert is_iso_utc(stored)
    back = from_iso(stored)
    assert back.tzinfo is not None
    expected = moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)
    assert back == expected
    assert to_iso(back) == stored


@pytest.mark.parametrize(
    ("typed", "utc"),
    [
        ("2026-01-15T09:00:00", "2026-01-15T09:00:00.000Z"),  # winter: GMT
        ("2026-07-15T09:00:00", "2026-07-15T08:00:00.000Z"),  # summer: BST
        ("2026-03-29T00:59:00", "2026-03-29T00:59:00.000Z"),  # just before the clocks go on
        ("2026-03-29T02:00:00", "2026-03-29T01:00:00.000Z"),  # just after
        ("2026-07-15T09:00:00+02:00", "2026-07-15T07:00:00.000Z"),  # a zone given is kept
        ("2026-07-15T09:00:00Z", "2026-07-15T09:00:00.000Z"),
    ],
)
def test_a_time_typed_without_a_zone_is_london_local_time(typed: str, utc: str) -> None:
    assert to_iso(from_iso(typed)) == utc


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2026-07-15T08:00:00.000Z", True),
        ("2026-07-15T08:00:00Z", True),
        ("2026-07-15T08:00:00.000", False),  # local, not UTC
        ("2026-07-15T08:00:00+00:00", False),
        ("yesterday Z", False),
        (None, False),
    ],
)
def test_what_counts_as_a_stored_utc_time(text: object, ok: bool) -> None:
    assert is_iso_utc(text) is ok


@pytest.mark.parametrize(
    ("utc", "local_date"),
    [
        ("2026-01-15T23:30:00Z", date(2026, 1, 15)),  # GMT: the same day
        ("2026-07-15T23:30:00Z", date(2026, 7, 16)),  # BST: already tomorrow in London
        ("2026-10-24T23:30:00Z", date(2026, 10, 25)),  # the night the clocks go back
        ("2026-10-25T23:30:00Z", date(2026, 10, 25)),
    ],
)
def test_the_london_date_of_a_moment(utc: str, local_date: date) -> None:
    assert london_date(from_iso(utc)) == local_date


def test_people_see_london_time_with_its_zone() -> None:
    assert local_label(from_iso("2026-07-15T13:32:00Z")) == "14:32 BST"
    assert local_label(from_iso("2026-01-15T14:32:00Z")) == "14:32 GMT"


@pytest.mark.parametrize(
    ("delta", "label"),
    [
        (timedelta(seconds=-30), "0m"),
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=59), "59m"),
        (timedelta(hours=1), "1h00"),
        (timedelta(hours=47, minutes=59), "47h59"),
        (timedelta(hours=48), "2d"),
        (timedelta(days=9, hours=23), "9d"),
    ],
)
def test_an_incident_age_is_short_enough_for_a_queue_column(delta: timedelta, label: str) -> None:
    assert age_label(delta) == label


@pytest.mark.parametrize(
    ("utc", "day"),
    [
        (datetime(2026, 7, 15, 23, 30, tzinfo=UTC), "20260716"),  # 00:30 BST the next day
        (datetime(2026, 1, 15, 23, 30, tzinfo=UTC), "20260115"),  # 23:30 GMT the same day
    ],
)
def test_an_incident_reference_carries_the_london_date(
    tmp_path: Path, utc: datetime, day: str
) -> None:
    with Store.open(tmp_path / "live.db", wall=lambda: utc) as store:
        desk = IncidentService(store, signed(store, Author("PC Jane Smith", Agency.POLICE, "CR1")))
        first = desk.open_incident(knife_incident()).incident.ref
        second = desk.open_incident(knife_incident()).incident.ref
    assert (first, second) == (f"{day}-CR1-0001", f"{day}-CR1-0002")
