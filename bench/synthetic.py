"""Synthetic event histories for benchmarks: valid, chained, and fast to make.

The demo generator makes realistic data; benchmarks need millions of events quickly, so this
makes simpler ones (an opening, an assignment, log entries) with a realistic text vocabulary.

Every event is signed by its author, as everything recorded now is: the benchmark's people
(:class:`BenchStaff`) each have one key per desk, certified by an authority made for the run.
A store must be enrolled (``staff.enrol(store)``) before it is given their events.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from osc_console.models.agencies import Agency
from osc_console.models.clock import Stamp, ms_to_iso
from osc_console.models.events import Author, Event, EventDraft, seal, sign_event
from osc_console.models.ids import uuid7
from osc_console.models.reference import reference_data
from osc_console.signing.authority import Authority
from osc_console.signing.documents import KeyCertificate
from osc_console.signing.keys import SigningKey
from osc_console.store.event_store import Store

if TYPE_CHECKING:
    from osc_console.models.users import User
    from osc_console.services.identity import Operator

# Certificates dated before any benchmark's events, however far back a history starts.
CERTIFIED_AT = "2000-01-01T00:00:00.000Z"


class BenchStaff:
    """The benchmark's people: one key per person and desk, made on first use and certified
    by an authority made for the run (its private key never leaves this process)."""

    def __init__(self, name: str = "benchmark") -> None:
        self.authority = Authority(SigningKey.generate(), name)
        self._authors: dict[tuple[str, str, str], Author] = {}
        self._certificates: dict[tuple[str, str, str], KeyCertificate] = {}

    def author(
        self,
        actor: str,
        agency: Agency,
        workstation: str,
        *,
        role: str = "dispatcher",
        realm: str = "live",
    ) -> Author:
        """``actor`` at ``workstation`` in ``role``, signing with their key."""
        person = (actor, agency.value, workstation)
        held = self._authors.get(person)
        if held is None:
            key = SigningKey.generate()
            self._certificates[person] = self.authority.certify(
                key.public_key,
                key.key_id,
                user=actor,
                agency=agency.value,
                workstation=workstation,
                at=CERTIFIED_AT,
            )
            held = self._authors[person] = Author(actor, agency, workstation, signer=key)
        return replace(held, realm=realm, role=role)

    def certificate(self, author: Author) -> KeyCertificate:
        return self._certificates[(author.actor, author.agency.value, author.workstation)]

    @property
    def certificates(self) -> list[KeyCertificate]:
        return list(self._certificates.values())

    def operator(self, store: Store, user: User, workstation: str) -> Operator:
        """``user`` signed in at ``workstation`` (as a standalone sign-in leaves them), their
        key's certificate in ``store``: for a console session that writes."""
        from osc_console.models.payloads import SignInMethod
        from osc_console.services.identity import Operator

        author = self.author(user.name, user.agency, workstation, role=user.role.value)
        self.enrol(store)
        assert isinstance(author.signer, SigningKey)
        return Operator(
            user.name,
            user.name,
            user.agency,
            user.role,
            workstation,
            author.signer,
            self.certificate(author),
            SignInMethod.STANDALONE,
        )

    def enrol(self, store: Store) -> Store:
        """``store`` trusts the run's authority and holds every key made so far."""
        if self.authority.key_id not in store.authorities():
            store.trust_authority(
                self.authority.key_id, self.authority.public_key, self.authority.name
            )
        problems = store.add_certificates(self.certificates)
        if problems:
            raise RuntimeError(f"the benchmark's staff could not be enrolled: {problems[0]}")
        return store


# The people synthetic_events signs as when it is given none: enrol a store with it.
STAFF = BenchStaff()

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
    staff: BenchStaff = STAFF,
) -> Iterator[Event]:
    """Events for ``incidents`` incidents, each opened, assigned and with log entries, by
    desks chosen at random from ``workstations`` (one desk: one unbroken chain), each signed
    by the dispatcher at that desk.

    The dispatchers' keys are made by this call (not when the first event is asked for), so
    ``staff.enrol(store)`` any time after it and before applying the events.
    """
    authors = {
        w: staff.author(f"operator {w}", Agency.POLICE, w, role="dispatcher") for w in workstations
    }
    return _synthetic(
        incidents,
        logs_per_incident,
        authors,
        seed=seed,
        start=start,
        closed_share=closed_share,
    )


def _synthetic(
    incidents: int,
    logs_per_incident: int,
    authors: dict[str, Author],
    *,
    seed: int,
    start: datetime | None,
    closed_share: float,
) -> Iterator[Event]:
    workstations = list(authors)
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
        author = authors[workstation]
        assert author.signer is not None
        event = sign_event(
            seal(
                draft,
                author,
                event_id=uuid7(ms),
                hlc=str(Stamp(ms, counter)),
                recorded_at=ms_to_iso(ms),
                device_seq=seq + 1,
                prev_hash=prev,
            ),
            author.signer,
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
