"""Synthetic event histories for benchmarks: valid, chained, and fast to make.

The demo generator makes realistic data; benchmarks need millions of events quickly, so this
makes simpler ones (an opening, an assignment, log entries) with a realistic text vocabulary.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from osc_console.models.agencies import Agency
from osc_console.models.clock import Stamp, ms_to_iso
from osc_console.models.events import Author, Event, EventDraft, seal
from osc_console.models.ids import uuid7
from osc_console.models.reference import reference_data

_VOCABULARY = (
    "caller reports male female group youths fighting shouting bottle glass broken "
    "window bicycle stolen locked rack cctv camera operator tracking suspect heading "
    "north south east west towards junction station exit entrance pub bar club queue "
    "door staff security ambulance requested paramedics attending injured bleeding head "
    "wound conscious breathing officers arrived scene area searched no trace witness "
    "statement taken victim declined van parked obstruction highway pothole cyclist "
    "collision bus driver taxi lorry delivery noise music loud complaint resident flat "
    "estate rubbish dumped bags mattress fly tipping cleansing crew requested sweeper "
    "graffiti lighting column dark faulty repair scheduled rough sleeper welfare check "
    "outreach team contacted shelter offered accepted refused suspicious package "
    "unattended bag cordon evacuated counter terrorism advised stood down licence breach "
    "premises closing time door supervisors intoxicated refused entry shoplifting "
    "security guard detained store manager fraud card cloned cash machine "
)
WORDS = _VOCABULARY.split()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def synthetic_events(
    incidents: int,
    logs_per_incident: int,
    *,
    seed: int = 7,
    start: datetime | None = None,
    closed_share: float = 0.0,
    workstations: Sequence[str] = ("CR1", "CR2", "CR3", "CR4", "CR5", "CR6"),
) -> Iterator[Event]:
    """Events for ``incidents`` incidents, each opened, assigned and with log entries, by
    desks chosen at random from ``workstations`` (one desk: one unbroken chain)."""
    rng = random.Random(seed)
    ref = reference_data()
    places = list(ref.places.values())
    opening = [c.code for c in ref.opening_categories()]
    police_teams = [t.code for t in ref.teams.values() if t.agency is Agency.POLICE]
    heads: dict[str, tuple[int, str | None]] = dict.fromkeys(workstations, (0, None))
    ms = int((start or datetime(2026, 1, 1, tzinfo=UTC)).timestamp() * 1000)
    counter = 0

    def make(draft: EventDraft, workstation: str) -> Event:
        nonlocal ms, counter
        ms += rng.randint(1, 2000)
        seq, prev = heads[workstation]
        author = Author(f"operator {workstation}", Agency.POLICE, workstation)
        event = seal(
            draft,
            author,
            event_id=uuid7(ms),
            hlc=str(Stamp(ms, counter)),
            recorded_at=ms_to_iso(ms),
            device_seq=seq + 1,
            prev_hash=prev,
        )
        heads[workstation] = (seq + 1, event.content_hash)
        return event

    for number in range(incidents):
        incident_id = uuid7(ms)
        workstation = rng.choice(workstations)
        place = rng.choice(places)
        day = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y%m%d")
        yield make(
            EventDraft(
                "incident.opened",
                {
                    "ref": f"{day}-{workstation}-{number + 1:06d}",
                    "summary": sentence(rng, 8),
                    "category": rng.choice(opening),
                    "source": "999",
                    "grade": rng.choice(["immediate", "priority", "scheduled", "rwd"]),
                    "location": {"text": place.name, "lat": place.lat, "lon": place.lon},
                    "lead_agency": "police",
                },
                incident_id=incident_id,
            ),
            workstation,
        )
        yield make(
            EventDraft(
                "assignment.made",
                {"assignment_id": uuid7(ms), "team": rng.choice(police_teams)},
                incident_id=incident_id,
            ),
            rng.choice(workstations),
        )
        for _ in range(logs_per_incident):
            yield make(
                EventDraft(
                    "log.added",
                    {"text": sentence(rng, rng.randint(6, 30))},
                    incident_id=incident_id,
                ),
                rng.choice(workstations),
            )
        if rng.random() < closed_share:
            yield make(
                EventDraft(
                    "incident.closed",
                    {"closing_category": "CL-NOCRIME", "resolution": sentence(rng, 6)},
                    incident_id=incident_id,
                ),
                rng.choice(workstations),
            )
