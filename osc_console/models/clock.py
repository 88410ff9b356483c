"""Time: the hybrid logical clock that orders events, and the wall-clock helpers people see.

Ordering never uses wall clocks alone: a workstation whose clock is wrong would otherwise put
its entries in the wrong place. The HLC keeps causality (an event stamped after seeing another
always sorts after it) and stays close to real time. A remote stamp far in the future is kept
but may only pull our clock forward by ``max_forward_ms``: one bad clock must not drag every
workstation's stamps into the future.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
HLC_COUNTER_DIGITS = 6
COUNTER_LIMIT = 10**HLC_COUNTER_DIGITS
MAX_FORWARD_MS = 5 * 60 * 1000


@dataclass(frozen=True, order=True, slots=True)
class Stamp:
    """One HLC reading: physical milliseconds and a logical counter."""

    ms: int
    counter: int

    def __str__(self) -> str:
        return f"{self.ms:013d}-{self.counter:0{HLC_COUNTER_DIGITS}d}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        ms, _, counter = text.partition("-")
        if (
            len(ms) != 13
            or not ms.isdigit()
            or len(counter) != HLC_COUNTER_DIGITS
            or not counter.isdigit()
        ):
            raise ValueError(f"not a clock stamp: {text!r}")
        return cls(int(ms), int(counter))


def is_stamp(text: object) -> bool:
    if not isinstance(text, str):
        return False
    try:
        Stamp.parse(text)
    except ValueError:
        return False
    return True


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class HybridClock:
    """A hybrid logical clock (Kulkarni et al.) with a cap on how far remote stamps pull it."""

    def __init__(
        self,
        last: Stamp | None = None,
        wall: Callable[[], int] = wall_ms,
        max_forward_ms: int = MAX_FORWARD_MS,
    ) -> None:
        self._last = last or Stamp(0, 0)
        self._wall = wall
        self._max_forward_ms = max_forward_ms
        self._lock = threading.Lock()

    @property
    def last(self) -> Stamp:
        return self._last

    @property
    def max_forward_ms(self) -> int:
        return self._max_forward_ms

    def now(self) -> Stamp:
        """A stamp for a new local event, greater than every stamp issued or observed."""
        with self._lock:
            physical = self._wall()
            if physical > self._last.ms:
                self._last = Stamp(physical, 0)
            elif self._last.counter + 1 < COUNTER_LIMIT:
                self._last = Stamp(self._last.ms, self._last.counter + 1)
            else:  # the counter's text would grow a digit and sort wrongly: borrow a millisecond
                self._last = Stamp(self._last.ms + 1, 0)
            return self._last

    def observe(self, remote: Stamp) -> bool:
        """Advance past a received stamp. False when it was too far ahead and was capped."""
        with self._lock:
            physical = self._wall()
            limit = physical + self._max_forward_ms
            capped = remote.ms > limit
            seen = Stamp(limit, 0) if capped else remote
            self._last = max(self._last, seen)
            return not capped


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """UTC, millisecond precision, with a Z: sortable as text and readable in sqlite3."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; give a time zone")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def from_iso(text: str) -> datetime:
    """Parse a stored or typed ISO time. A time without a zone is London local time."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 in a zone east of UTC: not a time anyone meant
        raise ValueError(f"{text!r} is out of range") from None


def is_iso_utc(text: object) -> bool:
    if not isinstance(text, str) or not text.endswith("Z"):
        return False
    try:
        from_iso(text)
    except ValueError:
        return False
    return True


def ms_to_iso(ms: int) -> str:
    return to_iso(datetime.fromtimestamp(ms / 1000, UTC))


def london_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def local_label(moment: datetime) -> str:
    """'14:32 BST' style: London local time with its zone, as the console shows it."""
    local = moment.astimezone(LONDON)
    return local.strftime("%H:%M ") + (local.tzname() or "")


def age_label(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}"
    return f"{hours // 24}d"
