"""Realistic demo data: weeks of a joint control room's incidents, made as a sync pull would.

Everything comes from one seeded ``random.Random``, so a seed (and a fixed end) gives the same
events byte for byte: same ids, same hashes. Incidents follow the partnership's priorities
(night-time economy and ASB at weekend nights, violence, acquisitive crime, domestic abuse,
road danger at rush hours, counter-terrorism, council services by day) at the City's hotspots.

Each incident is planned as a person would record it, step by step against its own state
(:func:`check_draft` refuses anything a local user could not do, and every update cites the
value it saw as its ``base``). The steps of all incidents are then put in time order and
sealed workstation by workstation, so every demo workstation has a gap-free chain.

Every event is signed by its author, as nothing new is recorded unsigned: each invented
person has a key for their desk, certified by an authority made for the run
(:class:`DemoStaff`), whose private key is kept nowhere once the run is over. Each desk has
a role, and the plan gives each step to a desk whose role may record it (the authority
table's rules), so a demo call handler never closes an incident.
"""

from __future__ import annotations

import bisect
import heapq
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from osc_console.models.agencies import Agency, Classification, Visibility
from osc_console.models.authority import Role
from osc_console.models.clock import LONDON, Stamp, ms_to_iso
from osc_console.models.errors import DomainError
from osc_console.models.events import Author, Event, EventDraft, seal, sign_event
from osc_console.models.payloads import Kind
from osc_console.models.projection import IncidentState
from osc_console.models.reference import Place, ReferenceData
from osc_console.models.rules import check_draft
from osc_console.signing.authority import Authority
from osc_console.signing.documents import KeyCertificate
from osc_console.signing.keys import SigningKey
from osc_console.store.event_store import Store

BATCH_SIZE = 5000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
RECENT_MS = 12 * HOUR_MS  # incidents this young are often still open at the end


@dataclass(frozen=True)
class DemoSpec:
    incidents: int = 2000
    days: int = 14
    seed: int = 1
    end: datetime | None = None  # UTC end of the period; None = now rounded down to the minute
    realm: str = "live"


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`seed_store` wrote."""

    incidents: int
    events: int
    rejected: int
    duplicates: int
    open_incidents: int
    closed_incidents: int
    multi_agency: int
    start: str
    end: str
    by_lead_agency: dict[str, int] = field(default_factory=dict)
    by_group: dict[str, int] = field(default_factory=dict)
    by_visibility: dict[str, int] = field(default_factory=dict)
    by_workstation: dict[str, int] = field(default_factory=dict)


def generate_events(
    spec: DemoSpec, reference: ReferenceData, staff: DemoStaff | None = None
) -> Iterator[list[Event]]:
    """Yield batches (about 5,000 events each) of sealed events signed by ``staff``.

    The events are deterministic for a seed and the same staff (Ed25519 signatures are
    deterministic too); without ``staff``, a new one is made for the call, whose certificates
    are then out of reach: pass one, and ``staff.enrol`` a store, to apply the events.
    """
    yield from _Plan(spec, reference, staff).batches()


def seed_store(
    store: Store, spec: DemoSpec, progress: Callable[[int, int], None] | None = None
) -> DemoSummary:
    """Fill a store with :func:`generate_events` through ``store.apply_remote``.

    That is the bulk path a sync pull uses: each batch is one transaction, checked (every
    signature too) and projected exactly as events from other workstations are. The demo's
    staff are enrolled first: the store trusts the run's authority and holds each person's
    certificate. ``progress(done, total)`` is called after each batch.
    """
    if spec.realm != store.realm:
        raise ValueError(f"demo data for realm {spec.realm!r} cannot go into {store.realm!r}")
    plan = _Plan(spec, store.reference)
    plan.staff.enrol(store)
    total = len(plan.entries)
    stored = rejected = duplicates = 0
    for batch in plan.batches():
        result = store.apply_remote(batch)
        stored += len(result.stored)
        rejected += len(result.rejected)
        duplicates += len(result.duplicates)
        if progress is not None:
            progress(stored + rejected + duplicates, total)
    return plan.summary(stored, rejected, duplicates)


# ---- ids -------------------------------------------------------------------------------------


def _demo_uuid7(ms: int, rng: random.Random) -> str:
    """A UUIDv7 (RFC 9562) from a time and seeded random bits: reproducible, still unique."""
    rand = rng.getrandbits(74)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand >> 62) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b: 62 bits
    return str(uuid.UUID(int=value))


# ---- the room: desks, people, teams ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Desk:
    code: str
    agency: Agency
    role: Role  # what the people at this desk do: what they may record
    crew: tuple[str, ...]  # who sits here, one per watch (the watches rotate by shift)


_DESKS = {
    d.code: d
    for d in (
        # Corporation contact centre: council services, and non-emergency police calls.
        _Desk(
            "CR1",
            Agency.CORPORATION,
            Role.CALL_HANDLER,
            ("A. Patel", "L. Novak", "S. Okafor", "H. Quinn"),
        ),
        _Desk(
            "CR2",
            Agency.CORPORATION,
            Role.CALL_HANDLER,
            ("J. Mensah", "R. Kowalski", "E. Byrne", "T. Ahmed"),
        ),
        # Police control room call handlers (999) and dispatchers.
        _Desk(
            "CR3",
            Agency.POLICE,
            Role.CALL_HANDLER,
            ("C. Fraser", "M. Da Silva", "P. Lewis", "N. Hussain"),
        ),
        _Desk(
            "CR4",
            Agency.POLICE,
            Role.CALL_HANDLER,
            ("G. Ellis", "F. Mahmood", "K. Brennan", "I. Sato"),
        ),
        _Desk(
            "PD1",
            Agency.POLICE,
            Role.DISPATCHER,
            ("PC D. Walsh", "PC F. Omondi", "PC G. Turner", "PC Y. Chen"),
        ),
        _Desk(
            "PD2",
            Agency.POLICE,
            Role.DISPATCHER,
            ("PC K. Doyle", "PC B. Asante", "PC I. Marsh", "PC O. Reid"),
        ),
        # Corporation services dispatcher and the two duty managers.
        _Desk(
            "CD1",
            Agency.CORPORATION,
            Role.DISPATCHER,
            ("V. Hart", "W. Nwosu", "Z. Price", "U. Kaur"),
        ),
        _Desk(
            "DM1",
            Agency.POLICE,
            Role.DUTY_MANAGER,
            ("Insp R. Adeyemi", "Insp S. Clarke", "Insp M. Rossi", "Insp E. Foster"),
        ),
        _Desk(
            "DM2",
            Agency.CORPORATION,
            Role.DUTY_MANAGER,
            ("C. Whitfield", "B. Osei", "N. Campbell", "J. Moreno"),
        ),
    )
}
_POLICE_HANDLERS = ("CR3", "CR4")
_COUNCIL_HANDLERS = ("CR1", "CR2")
_POLICE_DISPATCH = ("PD1", "PD2")


class DemoStaff:
    """The demo's invented people, each with a key for their desk, certified by an authority
    made for this run (``Authority(SigningKey.generate(), "demo data")``).

    One key per person and desk, made once, not one per event. The authority's private key
    lives only in this object: once the run is over nobody can certify another demo key, and
    the people's keys are never written anywhere, so nobody can sign as them either.
    """

    def __init__(self, realm: str = "live", *, at: str) -> None:
        """``at``: when the keys are certified (before the first demo event)."""
        self.realm = realm
        self.authority = Authority(SigningKey.generate(), "demo data")
        self._authors: dict[tuple[str, str], Author] = {}
        self.certificates: list[KeyCertificate] = []
        for desk in _DESKS.values():
            for actor in desk.crew:
                key = SigningKey.generate()
                self.certificates.append(
                    self.authority.certify(
                        key.public_key,
                        key.key_id,
                        user=actor,
                        agency=desk.agency.value,
                        workstation=desk.code,
                        at=at,
                    )
                )
                self._authors[(desk.code, actor)] = Author(
                    actor, desk.agency, desk.code, realm, role=desk.role.value, signer=key
                )

    def author(self, desk: str, actor: str) -> Author:
        """``actor`` at ``desk``: their role and their key."""
        return self._authors[(desk, actor)]

    def enrol(self, store: Store) -> None:
        """Make ``store`` trust the run's authority and hold every person's certificate."""
        if self.authority.key_id not in store.authorities():
            store.trust_authority(
                self.authority.key_id, self.authority.public_key, self.authority.name
            )
        problems = store.add_certificates(self.certificates)
        if problems:
            raise ValueError(f"demo staff could not be enrolled: {problems[0]}")


_FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Chloe",
    "Daniel",
    "Ella",
    "Farid",
    "Grace",
    "Harry",
    "Imran",
    "Jade",
    "Kofi",
    "Laura",
    "Mohammed",
    "Niamh",
    "Oliver",
    "Priya",
    "Rhys",
    "Sofia",
    "Tom",
    "Uma",
    "Victor",
    "Wei",
    "Yusuf",
    "Zoe",
    "Callum",
    "Deborah",
    "Ewan",
    "Funmi",
    "Gareth",
    "Hannah",
    "Ibrahim",
    "Joanna",
    "Kwame",
    "Lucy",
    "Marek",
    "Nadia",
    "Owen",
    "Rosa",
    "Sanjay",
    "Tessa",
]
_SURNAMES = [
    "Abbott",
    "Bailey",
    "Carter",
    "Dawson",
    "Edwards",
    "Fletcher",
    "Gibson",
    "Holmes",
    "Iqbal",
    "Jenkins",
    "Khan",
    "Lambert",
    "Mitchell",
    "Nolan",
    "Owusu",
    "Parker",
    "Quinn",
    "Robinson",
    "Sharma",
    "Thompson",
    "Underwood",
    "Vaughan",
    "Watson",
    "Young",
    "Zielinski",
    "Barker",
    "Chowdhury",
    "Delaney",
    "Ferreira",
    "Grant",
    "Hayes",
    "Ingram",
    "Jordan",
    "Kerr",
    "Lowe",
    "Malik",
    "Norris",
    "Okoye",
    "Pearce",
    "Rahman",
]


# ---- time: the local calendar the patterns follow ----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hour:
    hour: int  # London local hour, 0-23
    weekday: int  # London local weekday, Monday 0
    night: int  # weekday of the evening the small hours belong to
    day: str  # London local date, YYYYMMDD
    shift: int  # running number of the 12-hour shift (07-19 and 19-07)


class _Calendar:
    """London local time for every UTC hour of the period (London offsets are whole hours)."""

    def __init__(self, start_ms: int, end_ms: int) -> None:
        self.base = start_ms - start_ms % HOUR_MS
        self.hours: list[_Hour] = []
        for slot in range((end_ms - self.base) // HOUR_MS + 2):
            local = datetime.fromtimestamp((self.base + slot * HOUR_MS) / 1000, LONDON)
            ordinal = local.toordinal()
            if local.hour < 7:
                shift = (ordinal - 1) * 2 + 1
            else:
                shift = ordinal * 2 + (1 if local.hour >= 19 else 0)
            night = (local.weekday() - 1) % 7 if local.hour < 6 else local.weekday()
            self.hours.append(
                _Hour(local.hour, local.weekday(), night, local.strftime("%Y%m%d"), shift)
            )

    def at(self, ms: int) -> _Hour:
        index = (ms - self.base) // HOUR_MS
        return self.hours[min(max(index, 0), len(self.hours) - 1)]


# When things happen. Per profile: its name; "night" when the small hours count towards the
# evening before (a Friday 01:00 is Thursday night); weights Monday to Sunday; then, indented,
# weights of each local hour from 00 to 23.
_PROFILE_TABLE = """
nte night .45 .7 .9 1.7 2.1 1.6 .35
    8 7 5 2.5 1 .4 .2 .2 .3 .3 .4 .6 1 1.1 .8 .8 1 1.8 2.6 3.2 4 6.5 8.5 9.5
office day 1 1.05 1.05 1 .9 .3 .2
    .1 .08 .05 .05 .05 .1 .3 1 2.4 3 3.1 3 2.8 2.8 2.9 2.7 2.4 1.8 1 .6 .4 .3 .2 .15
rush day 1 1.05 1.05 1 .9 .45 .35
    .1 .08 .05 .05 .08 .2 .8 2.6 4 2.8 1.4 1.2 1.4 1.3 1.2 1.3 1.8 3.4 4 2.4 1.2 .8 .5 .25
retail day .9 1 1 1.05 1.1 .9 .6
    .1 .05 .05 .05 .05 .05 .2 .8 1.4 1.8 2.2 2.6 3.2 3.2 2.6 2.5 2.8 3 2.6 1.8 1 .6 .3 .2
day day 1 1 1 1 1.05 .8 .7
    .6 .5 .4 .3 .3 .4 .7 1.2 1.6 1.6 1.6 1.7 1.8 1.8 1.7 1.7 1.7 1.8 1.8 1.6 1.4 1.2 1 .8
evening night 1 .9 .9 1 1.2 1.4 1.3
    1.6 1.2 .8 .5 .3 .3 .5 .8 .9 .8 .8 .9 1 1 1 1.1 1.3 1.6 2 2.4 2.6 2.6 2.4 2
noise night .8 .8 .9 1.1 1.4 1.3 .7
    2.2 1.8 1 .5 .3 .3 .8 1.8 2 1.8 1.6 1.5 1.4 1.4 1.4 1.3 1.2 1 1 1 1.2 1.6 2.2 2.5
rough day 1 1 1 1 1 .8 .8
    .5 .4 .4 .4 .5 .9 1.8 2.8 2.6 2 1.5 1.2 1.1 1 1 1 1.1 1.2 1.3 1.4 1.5 1.5 1.2 .8
dusk day 1 1 1 1 1 1 1
    .6 .4 .3 .2 .2 .3 .8 1 .6 .4 .3 .3 .3 .3 .3 .4 .8 1.6 2.4 2.8 2.6 2.2 1.6 1
flat day 1 1 1 1 1 1 1
    1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1
"""


@dataclass(frozen=True, slots=True)
class _Profile:
    hourly: tuple[float, ...]
    weekly: tuple[float, ...]
    by_night: bool


def _parse_profiles(text: str) -> dict[str, _Profile]:
    lines = text.strip().splitlines()
    profiles = {}
    for head, hours in zip(lines[::2], lines[1::2], strict=True):
        name, when, *days = head.split()
        hourly = tuple(float(v) for v in hours.split())
        weekly = tuple(float(v) for v in days)
        if len(hourly) != 24 or len(weekly) != 7:
            raise ValueError(f"time profile {name}: needs 7 day and 24 hour weights")
        profiles[name] = _Profile(hourly, weekly, when == "night")
    return profiles


_PROFILES = _parse_profiles(_PROFILE_TABLE)


# ---- the incident mix ------------------------------------------------------------------------

Weights4 = tuple[float, float, float, float]  # most urgent first


@dataclass(frozen=True, slots=True)
class _Mix:
    """How one opening category happens: when, who leads, how urgent, who goes."""

    weight: float
    profile: tuple[tuple[str, float], ...]
    lead: tuple[tuple[str, float], ...]
    grades: Weights4 = (10, 35, 40, 15)
    priorities: Weights4 = (8, 25, 47, 20)
    teams: tuple[str, ...] = ("RESP",)  # first responders; those of the lead agency are used
    follow: tuple[str, ...] = ()  # desk-based follow-up by a specialist team
    partners: tuple[str, ...] = ()  # other agencies' teams, for multi-agency incidents
    multi: float = 0.2  # chance of a partner assignment
    police_only: float = 0.0
    corporation_only: float = 0.0
    sensitive: bool = False
    cctv: float = 0.08
    anpr: float = 0.0
    closing: tuple[tuple[str, float], ...] = (("CL-ADVICE", 1.0),)


# One record per opening category: "CODE weight profiles lead-agencies", then indented lines of
# "field values; field values". RESP is the police response team on watch, NBH the
# neighbourhood team for the area, LFB the nearer fire station.
_MIX_TABLE = """
ASB-NTE 9 nte police:.8,corporation:.2
    grades 6 40 42 12; teams RESP COL-CST; multi .5; cctv .25
    partners COL-CST COL-CLEANSE COL-LIC POL-LIC NBH
    closing CL-ADVICE:5 CL-UTL:3 CL-FPN:1 CL-ARREST:1 CL-DUPLICATE:.5
ASB-GEN 5 day:.6,evening:.4 police:.6,corporation:.4
    grades 3 25 45 27; teams RESP NBH COL-CST COL-WALKWAY; multi .4; cctv .15
    partners COL-CST COL-WALKWAY NBH; closing CL-ADVICE:5 CL-UTL:3 CL-FPN:1 CL-ARREST:.5
ASB-DRUNK 5 nte police
    grades 10 50 30 10; partners LAS-CITY COL-CLEANSE; multi .35; police_only .1; cctv .25
    closing CL-ADVICE:4 CL-UTL:2 CL-ARREST:1 CL-SAFEGUARD:1
VAP-ASSAULT 6 nte:.75,day:.25 police
    grades 30 45 20 5; partners LAS-CITY COL-CLEANSE; multi .5; police_only .25; cctv .2
    closing CL-CRIME:6 CL-ARREST:2 CL-UTL:1 CL-NOCRIME:1
VAP-WEAPON 1.2 nte:.6,day:.4 police
    grades 85 15 0 0; partners LAS-CITY BTP-CITY; multi .25; police_only .3; cctv .3
    closing CL-ARREST:3 CL-UTL:3 CL-FALSE-GI:2 CL-CRIME:1
VAP-SEXUAL 1.5 nte:.8,day:.2 police
    grades 25 45 27 3; follow POL-PPU; partners LAS-CITY; multi .1; police_only 1; sensitive
    cctv .05; closing CL-CRIME:5 CL-SAFEGUARD:2 CL-ARREST:1
VAP-SPIKING 1 nte police
    grades 20 50 27 3; partners LAS-CITY COL-LIC; multi .4; police_only .2; cctv .05
    closing CL-CRIME:5 CL-SAFEGUARD:2 CL-NOCRIME:1
HATE-CRIME .8 day police
    grades 8 35 45 12; partners COL-CST COL-CLEANSE; multi .25; police_only .35
    closing CL-CRIME:6 CL-ARREST:2 CL-UTL:1 CL-NOCRIME:1
ACQ-THEFT 5 nte:.5,retail:.5 police
    grades 4 25 41 30; follow POL-CCTV; partners BTP-CITY; multi .1; police_only .3; cctv .1
    closing CL-CRIME:7 CL-NODEPLOY:2 CL-ARREST:1
ACQ-ROBBERY 1.5 nte:.6,day:.4 police
    grades 38 45 17 0; follow POL-CCTV; partners LAS-CITY; multi .2; police_only .35
    cctv .2; anpr .1; closing CL-CRIME:6 CL-ARREST:2 CL-UTL:1 CL-NOCRIME:1
ACQ-BURGLARY 1.2 office:.7,flat:.3 police
    grades 10 35 50 5; follow POL-CCTV; partners COL-BARB-SEC COL-HWY; multi .15
    police_only .35; cctv 0; anpr .05; closing CL-CRIME:8 CL-ARREST:1
ACQ-CYCLE 4 rush:.6,office:.4 police
    grades 2 12 40 46; teams NBH; follow POL-CCTV; multi 0; police_only .3; cctv .1
    closing CL-CRIME:8 CL-NODEPLOY:2 CL-ARREST:.3
ACQ-SHOP 5 retail police
    grades 5 40 40 15; teams RESP NBH; partners COL-MKT-LDH; multi .1; police_only .3
    cctv .05; closing CL-CRIME:5 CL-ARREST:3 CL-NODEPLOY:1
ACQ-FRAUD 3 office police
    grades 2 8 35 55; teams POL-ECD; follow POL-CYBER; multi 0; police_only .6; cctv 0
    closing CL-REFERRED:5 CL-CRIME:3 CL-ADVICE:2
DA-INCIDENT 2.5 evening police
    grades 30 48 19 3; follow POL-PPU; partners LAS-CITY; multi .15; police_only 1; sensitive
    cctv 0; closing CL-CRIME:5 CL-SAFEGUARD:3 CL-ARREST:2
RD-COLLISION 2.5 rush:.8,day:.2 police
    grades 20 40 32 8; teams POL-RPU RESP; multi .7; cctv .15; anpr .05
    partners LAS-CITY COL-HWY TFL-LSTCC TFL-BUS; closing CL-NOCRIME:4 CL-CRIME:2 CL-REFERRED:1
RD-CYCLIST 3 rush police
    grades 30 45 20 5; teams POL-RPU RESP; partners LAS-CITY COL-HWY TFL-LSTCC; multi .75
    cctv .15; closing CL-CRIME:3 CL-NOCRIME:3 CL-REFERRED:1
RD-DANGER 1.5 rush:.6,evening:.4 police
    grades 12 38 33 17; teams POL-RPU; partners TFL-LSTCC; multi .1; police_only .2; cctv .2
    anpr .3
    closing CL-UTL:4 CL-ADVICE:2 CL-FPN:1 CL-CRIME:1
CT-SUSP-ITEM 2.5 day:.6,rush:.4 police
    grades 25 55 18 2; follow POL-CTSA; partners BTP-CITY LFB; multi .45; police_only 1
    sensitive; cctv .3; closing CL-CT-SAFE:8 CL-FALSE-GI:3 CL-HOAX:.2
CT-SUSP-BEH 1.5 day police
    grades 12 45 38 5; teams RESP POL-CCTV; follow POL-CTSA; multi 0; police_only 1
    sensitive; cctv .45; anpr .1; closing CL-FALSE-GI:4 CL-REFERRED:3 CL-UTL:2
CT-PREVENT .4 office police
    grades 0 10 60 30; teams POL-CTSA; multi 0; police_only 1; sensitive; cctv 0
    closing CL-REFERRED:4 CL-SAFEGUARD:2 CL-ADVICE:1
CS-NOISE 4 noise corporation
    priorities 5 25 50 20; teams COL-EH-NOISE; partners POL-LIC RESP; multi .25
    corporation_only .5; cctv 0; closing CL-ENF-NOTICE:3 CL-ADVICE:4 CL-UTL:1
CS-FLYTIP 3 office:.7,rough:.3 corporation
    priorities 3 22 55 20; teams COL-CLEANSE; partners NBH; multi .15; corporation_only .4
    cctv .05; closing CL-CLEANSED:6 CL-ENF-NOTICE:2
CS-CLEANSE 4 office:.6,rough:.4 corporation
    priorities 8 25 52 15; teams COL-CLEANSE; partners NBH; multi .08; corporation_only .45
    cctv .03
    closing CL-CLEANSED:8 CL-DUPLICATE:1
CS-HWY-DEFECT 3 office corporation
    priorities 10 30 45 15; teams COL-HWY; partners TFL-LSTCC; multi .15; corporation_only .45
    cctv 0; closing CL-REPAIR:8 CL-DUPLICATE:1
CS-HWY-OBSTRUCT 2.5 office:.6,rush:.4 corporation
    priorities 12 35 40 13; teams COL-HWY; partners NBH TFL-BUS; multi .3
    corporation_only .3; cctv .1; closing CL-ENF-NOTICE:3 CL-ADVICE:3 CL-UTL:1
CS-LIGHTING 1.5 dusk corporation
    priorities 5 25 50 20; teams COL-HWY; multi 0; corporation_only .5; cctv 0
    closing CL-REPAIR:8 CL-DUPLICATE:1
CS-LIC-BREACH 1.5 nte corporation:.6,police:.4
    grades 2 25 55 18; priorities 5 35 45 15; teams COL-LIC POL-LIC; partners POL-LIC COL-LIC
    multi .4; corporation_only .1; cctv .05; closing CL-ENF-NOTICE:3 CL-ADVICE:3 CL-REFERRED:1
CS-FOOD 1.2 office corporation
    priorities 3 25 52 20; teams COL-EH-FOOD; multi 0; corporation_only .7; cctv 0
    closing CL-ENF-NOTICE:2 CL-ADVICE:4
CS-TRADING 1.2 retail corporation
    priorities 3 30 50 17; teams COL-TS; partners NBH; multi .2; corporation_only .4; cctv .05
    closing CL-ENF-NOTICE:3 CL-UTL:2 CL-ADVICE:1
PS-DANGEROUS .6 day corporation
    priorities 40 40 15 5; teams COL-BC-DS; partners LFB RESP; multi .45; cctv .05
    closing CL-REPAIR:5 CL-ENF-NOTICE:2 CL-FALSE-GI:1
PS-FLOOD .5 flat corporation
    priorities 40 40 15 5; teams COL-HWY; follow COL-EP; partners LFB TFL-LSTCC RESP
    multi .45; cctv .05; closing CL-REFERRED:4 CL-REPAIR:3
PS-EVENT 1 day:.5,evening:.5 police:.6,corporation:.4
    grades 10 40 40 10; priorities 15 40 35 10; teams RESP COL-WALKWAY; multi .45; cctv .2
    partners COL-EP BTP-CITY TFL-BUS RESP COL-WALKWAY
    closing CL-ADVICE:4 CL-NOCRIME:1 CL-REFERRED:1
PS-FIRE .6 flat fire
    grades 80 20 0 0; teams LFB; partners RESP LAS-CITY COL-BC-DS; multi .55; cctv .1
    closing CL-FALSE-GI:4 CL-REFERRED:3
WF-ROUGH 3 rough corporation
    priorities 8 30 47 15; teams COL-RS-OUT; partners LAS-CITY NBH; multi .3
    corporation_only .3; cctv .05; closing CL-SAFEGUARD:3 CL-REFERRED:3 CL-UTL:2 CL-ADVICE:1
WF-CONCERN 3 day:.6,nte:.4 police
    grades 20 45 28 7; partners LAS-CITY COL-RS-OUT BTP-CITY; multi .5; police_only .35
    cctv .1; closing CL-SAFEGUARD:4 CL-UTL:2 CL-REFERRED:2
WF-MEDICAL 1.5 day:.6,nte:.4 ambulance
    grades 75 25 0 0; teams LAS-CITY; partners RESP LFB; multi .35; cctv .1
    closing CL-REFERRED:6 CL-FALSE-GI:1
ADM-INFO 2 office police:.5,corporation:.5
    grades 0 0 15 85; priorities 0 5 40 55; teams -; multi 0; corporation_only .3
    police_only .1; cctv 0; closing ADM-INFO:5 CL-ADVICE:3 CL-REFERRED:1
"""


def _pairs(text: str, separator: str = ",") -> tuple[tuple[str, float], ...]:
    """'a:.6,b:.4' -> (('a', 0.6), ('b', 0.4)); a bare name weighs 1."""
    pairs = []
    for item in text.split(separator):
        if item:
            name, _, weight = item.partition(":")
            pairs.append((name, float(weight or 1)))
    return tuple(pairs)


def _parse_mix(text: str) -> dict[str, _Mix]:
    records: list[tuple[str, dict[str, Any]]] = []
    for raw in text.strip().splitlines():
        if not raw.startswith(" "):
            code, weight, profile, lead = raw.split()
            records.append(
                (code, {"weight": float(weight), "profile": _pairs(profile), "lead": _pairs(lead)})
            )
            continue
        fields = records[-1][1]
        for part in raw.split(";"):
            name, *values = part.split()
            if name in ("grades", "priorities"):
                fields[name] = tuple(float(v) for v in values)
            elif name in ("teams", "follow", "partners"):
                fields[name] = tuple(v for v in values if v != "-")
            elif name == "closing":
                fields[name] = _pairs(" ".join(values), " ")
            elif name == "sensitive":
                fields[name] = True
            else:
                fields[name] = float(values[0])
    return {code: _Mix(**fields) for code, fields in records}


_MIX = _parse_mix(_MIX_TABLE)

_GRADES = ("immediate", "priority", "scheduled", "rwd")
_PRIORITIES = ("urgent", "high", "routine", "low")

# (assign delay, travel to scene, time on scene) in seconds, by urgency 0-3 (grade or priority).
Range = tuple[int, int]
Tempo = tuple[Range, Range, Range]
_POLICE_TEMPO: tuple[Tempo, ...] = (
    ((60, 300), (180, 900), (900, 4800)),
    ((300, 2700), (300, 1800), (900, 4200)),
    ((1800, 12600), (1200, 7200), (1200, 3600)),
    ((900, 7200), (600, 3600), (600, 2400)),
)
_COUNCIL_TEMPO: tuple[Tempo, ...] = (
    ((300, 1200), (600, 2400), (1200, 3600)),
    ((600, 3600), (1800, 7200), (1200, 3600)),
    ((1800, 10800), (3600, 12600), (900, 3600)),
    ((3600, 14400), (3600, 16200), (900, 2400)),
)
_EMERGENCY_TEMPO: Tempo = ((60, 240), (300, 1100), (900, 3600))
_TRANSPORT_TEMPO: Tempo = ((300, 1200), (600, 1800), (900, 3600))
# Teams that work from a desk: they acknowledge and complete, they do not travel.
_OFFICE_TEAMS = frozenset({"POL-ECD", "POL-CYBER", "POL-CCTV", "POL-CTSA", "POL-PPU", "COL-EP"})
_LOG_COUNTS = (18, 22, 20, 14, 10, 7, 5, 4)  # weights of 1..8 log entries per incident

# Where things happen: weights of each kind of place per category group, then hotspots.
_KIND_WEIGHTS: dict[str, dict[str, float]] = {
    "asb_nte": {"market": 2.5, "station": 1.5, "landmark": 0.6, "junction": 0.6, "estate": 0.4},
    "violence": {"market": 1.5, "station": 1.5, "landmark": 0.5, "junction": 0.5, "estate": 0.8},
    "acquisitive": {"market": 1.5, "station": 2, "landmark": 0.9, "junction": 0.4, "estate": 0.4},
    "domestic_abuse": {
        "street": 0.1,
        "landmark": 0,
        "market": 0,
        "station": 0,
        "junction": 0,
        "estate": 15,
    },
    "road_danger": {"junction": 4, "station": 0.3, "landmark": 0, "market": 0, "estate": 0},
    "counter_terrorism": {
        "street": 0.5,
        "junction": 0.3,
        "landmark": 2.5,
        "station": 3,
        "estate": 0.1,
    },
    "council_services": {
        "street": 1.5,
        "junction": 0.5,
        "landmark": 0.4,
        "market": 1.2,
        "station": 0.4,
        "estate": 2.5,
    },
    "public_safety": {
        "junction": 0.6,
        "landmark": 1.2,
        "market": 0.8,
        "station": 1.2,
        "estate": 0.6,
    },
    "welfare": {"junction": 0.3, "market": 0.5, "station": 2.5, "estate": 0.5},
}
_HOTSPOTS = {
    "Liverpool Street station": 6,
    "Bishopsgate": 7,
    "Leadenhall Market": 6,
    "Cheapside": 5,
    "Bank junction": 5,
    "Liverpool Street": 4,
    "Aldgate High Street": 2.5,
    "Broadgate Circle": 2.5,
    "Fleet Street": 2,
    "One New Change": 2,
}
_REPEAT_SHARE = 0.15  # incidents at one of their group's repeat locations (repeat victims, venues)

# ---- words ---------------------------------------------------------------------------------

_SUMMARIES: dict[str, tuple[str, ...]] = {
    "ASB-NTE": (
        "Group of {n} males shouting and throwing bottles outside {venue}, {place}",
        "Door staff at {venue} request help with an ejected customer refusing to leave",
        "Large crowd spilling into the carriageway outside {venue}; glass in the road",
        "Rowdy group urinating in a doorway on {place} and abusing passers-by",
        "Disturbance at closing time outside {venue}; {person} at the centre of it",
        "Stag party causing a nuisance on {place}, climbing on street furniture",
    ),
    "ASB-GEN": (
        "Youths on e-scooters riding on the footway and abusing pedestrians, {place}",
        "Group of {n} youths in a stairwell smoking cannabis, {place}",
        "Aggressive begging reported near the {place} entrance",
        "Person shouting at and harassing commuters at {place}",
        "Graffiti being sprayed on shop shutters, {place}",
    ),
    "ASB-DRUNK": (
        "Intoxicated male unable to stand outside {venue}",
        "Drunk female asleep on a bench, friends have left her, {place}",
        "Intoxicated man abusive to station staff at {place}",
        "Man lying in the road, very drunk, {place}",
    ),
    "VAP-ASSAULT": (
        "Fight in progress outside {venue}, {n} males involved, one on the floor",
        "Male punched in the face in the queue at {venue}; suspect {person}",
        "Door supervisor assaulted at {venue}; suspect held by staff",
        "Road rage: cyclist and driver of a {vehicle} fighting, {place}",
        "Shop worker assaulted at {shop}, suspect left towards {direction}",
    ),
    "VAP-WEAPON": (
        "Male seen with a knife in his waistband, {person}, heading towards {place}",
        "Man brandishing a broken bottle outside {venue}",
        "Caller reports a male with a large knife threatening people, {place}",
        "Possible firearm seen in a bag; caller unsure. Suspect {person}",
    ),
    "VAP-SEXUAL": (
        "Female reports being sexually touched in a crowded bar, {venue}",
        "Male following a lone female and making sexual comments, {place}",
        "Indecent exposure reported near {place}",
        "Woman reports being followed from {venue} by {person}",
    ),
    "VAP-SPIKING": (
        "Female believes her drink was spiked at {venue}; feeling unwell",
        "Possible needle spiking: customer reports a sharp pain in her arm at {venue}",
        "Two friends feel drugged after drinks at {venue}; door staff holding the glasses",
    ),
    "HATE-CRIME": (
        "Racially abusive comments made to a taxi driver by a passenger, {place}",
        "Homophobic abuse shouted at a couple on {place}",
        "Religiously aggravated abuse towards a worshipper near {place}",
        "Offensive graffiti targeting a faith group found on a wall, {place}",
    ),
    "ACQ-THEFT": (
        "Phone snatched from hand by a rider on an e-bike, {place}",
        "Bag stolen from the back of a chair at {venue}",
        "Pickpocket on the concourse at {place}; wallet taken",
        "Phone taken from a café table by {person}, {place}",
    ),
    "ACQ-ROBBERY": (
        "Robbery: victim threatened and watch taken by {person}, {place}",
        "Two males demanded a phone and wallet from a lone male, {place}",
        "Delivery rider robbed of his moped, {place}",
    ),
    "ACQ-BURGLARY": (
        "Office burglary discovered by the cleaner; laptops missing, {place}",
        "Break-in at {shop}, {place}; shutter forced overnight",
        "Residential burglary, {place}; rear window forced",
    ),
    "ACQ-CYCLE": (
        "{bike} stolen from the stands at {place}; lock cut",
        "Male seen cutting a bike lock at {place}",
        "Cycle theft: {bike} taken from railings, {place}",
    ),
    "ACQ-SHOP": (
        "Shoplifter detained by security at {shop}, {place}",
        "Known shoplifter back at {shop}; staff ask for attendance",
        "Razors and cosmetics stolen from {shop} by {person}",
    ),
    "ACQ-FRAUD": (
        "Courier fraud: caller told to withdraw cash for 'the bank'",
        "Card skimming device suspected on a cash machine, {place}",
        "Invoice fraud reported by a City firm; £{amount} paid to a false account",
        "Older resident targeted by a rogue trader, {place}",
    ),
    "DA-INCIDENT": (
        "Female reports her partner shouting and threatening her, {place}",
        "Neighbour hears screaming and banging from a flat, {place}",
        "Ex-partner outside the address in breach of a non-molestation order",
        "Male reports being assaulted by his partner, {place}",
    ),
    "RD-COLLISION": (
        "RTC: {vehicle} in collision with a {vehicle2}, {place}; no injuries reported",
        "Two-vehicle collision blocking the junction, {place}",
        "{vehicle} has hit a bollard, fluid leaking, {place}",
    ),
    "RD-CYCLIST": (
        "Cyclist in collision with a {vehicle} at {place}; cyclist on the ground",
        "Pedestrian struck by a cyclist at the crossing, head injury, {place}",
        "Cyclist knocked off by a turning {vehicle}, {place}",
    ),
    "RD-DANGER": (
        "{vehicle} driving at speed through red lights on {place}",
        "Cyclists racing through the pedestrian area, {place}",
        "Vehicle driving the wrong way along {place}",
    ),
    "CT-SUSP-ITEM": (
        "Unattended {item} at {place}; owner not found",
        "Suspicious {item} left under a bench, {place}",
        "Staff report a {item} left in reception, nobody claiming it, {place}",
    ),
    "CT-SUSP-BEH": (
        "Male filming security arrangements at the {place} entrance for a long time",
        "Person photographing CCTV cameras and barriers, {place}",
        "Vehicle circling {place} repeatedly; driver taking notes",
    ),
    "CT-PREVENT": (
        "Employer raises a Prevent concern about a colleague's extremist comments",
        "College tutor concerned about a student's online material",
        "Extremist stickers reported on lamp posts, {place}",
    ),
    "CS-NOISE": (
        "Loud music from {venue} after licensed hours, {place}",
        "Construction noise before permitted hours, {place}",
        "Party noise from a flat, {place}",
        "Drilling through the night from building works, {place}",
        "Rooftop plant humming all night, {place}",
    ),
    "CS-FLYTIP": (
        "Mattress and bin bags dumped at {place}",
        "Trade waste dumped in a doorway, {place}",
        "Builder's rubble fly-tipped on {place}",
    ),
    "CS-CLEANSE": (
        "Broken glass across the footway, {place}",
        "Overflowing litter bins, {place}",
        "Vomit and spilt drinks outside {venue}, {place}",
        "Used needles found in a doorway, {place}",
        "Graffiti removal requested, {place}",
    ),
    "CS-HWY-DEFECT": (
        "Pothole in the carriageway, {place}; cyclists swerving round it",
        "Loose paving slab, trip hazard, {place}",
        "Missing drain cover, {place}",
        "Damaged bollard, {place}",
    ),
    "CS-HWY-OBSTRUCT": (
        "Skip on the highway without lights, {place}",
        "Scaffold blocking the footway with no covered walkway, {place}",
        "Delivery lorry blocking the bus lane, {place}",
    ),
    "CS-LIGHTING": (
        "Street light out, {place}; area very dark",
        "Several lamps flickering along {place}",
        "Lighting column damaged and leaning, {place}",
    ),
    "CS-LIC-BREACH": (
        "{venue} still serving after licensed hours, {place}",
        "Door supervisors at {venue} not wearing their badges",
        "Tables and chairs outside {venue} beyond the pavement licence area",
    ),
    "CS-FOOD": (
        "Customer reports food poisoning after eating at a takeaway, {place}",
        "Rodent seen in the kitchen of a café, {place}",
        "Food stall selling from an unrefrigerated van, {place}",
    ),
    "CS-TRADING": (
        "Unlicensed street trader selling from a trolley, {place}",
        "Ice-cream van trading without consent near {place}",
        "Counterfeit goods being sold outside {place}",
    ),
    "PS-DANGEROUS": (
        "Masonry fallen from a building onto the footway, {place}",
        "Hoarding blown loose in the wind, {place}",
        "Crack opening in a wall next to building works, {place}",
    ),
    "PS-FLOOD": (
        "Water gushing from the road surface, suspected burst main, {place}",
        "Flooding in the underpass after heavy rain, {place}",
    ),
    "PS-EVENT": (
        "Crowd building for an event at {place}; barriers inadequate",
        "Protest group blocking {place}",
        "Queue for a venue spilling into the road, {place}",
    ),
    "PS-FIRE": (
        "Smoke seen coming from basement vents, {place}",
        "Bin fire, {place}",
        "Fire alarm sounding and a smell of burning, {place}",
    ),
    "WF-ROUGH": (
        "Rough sleeper in a doorway, {place}; not responding to passers-by",
        "Person sleeping rough at {place}, appears unwell",
        "Member of the public concerned for a rough sleeper, {place}",
    ),
    "WF-CONCERN": (
        "Distressed person on the bridge parapet, {place}",
        "Older male confused and lost, {place}",
        "Colleague has not been heard from since yesterday; concern for welfare",
        "Vulnerable female alone and upset outside {venue}",
    ),
    "WF-MEDICAL": (
        "Male collapsed on the footway, {place}; breathing",
        "Person has fallen down the stairs at {place}",
        "Cyclist unwell with chest pains, {place}",
    ),
    "ADM-INFO": (
        "Caller asking about road closures for this weekend's event",
        "Lost property enquiry: phone left in a taxi near {place}",
        "Business asking for crime prevention advice, {place}",
        "Request for CCTV footage for an insurance claim, {place}",
    ),
}

# First entry by the call handler: what else the caller said.
# First note by the call handler (what else the caller said), then general notes, for
# incidents the police lead and for those the Corporation leads.
_CALL_DETAILS = (
    "Caller adds: {person} was seen nearby.",
    "Caller is staying on scene and can be called back.",
    "Caller states it has been going on for about {minutes} minutes.",
    "Caller does not want to be seen speaking to police.",
    "Second caller reporting the same thing.",
    "Informant works at {place}; will meet officers at the entrance.",
    "Caller rang off before further details could be taken.",
    "Caller describes {person}.",
)
_COUNCIL_CALL_DETAILS = (
    "Caller adds: it has been like this since early this morning.",
    "Caller is happy to be contacted for an update.",
    "Caller will email photos.",
    "Caller says it is a danger to people walking past.",
    "Caller is the building manager at {place}.",
    "Second report of the same problem.",
)
_GENERAL_LOGS = (
    "Caller recontacted: {recontact}.",
    "CCTV operator has {camera} on the location; {cctv_obs}.",
    "Awaiting update from the attending unit.",
    "Reviewed by {dm}: resourcing appropriate.",
    "Further call from a member of the public; {recontact}.",
    "Informant does not wish to be contacted further.",
    "Passed to {partner_org} for information.",
)
_COUNCIL_LOGS = (
    "Caller recontacted: the problem is still there.",
    "Another report received from a neighbouring business.",
    "Contractor informed; awaiting an arrival time.",
    "Photos received from the caller by email.",
    "Passed to {partner_org} for information.",
    "Reviewed by {dm}: priority confirmed.",
    "Caller updated with the expected attendance time.",
)
# Updates relayed from police units, by the incident's group.
_UNIT_LOGS: dict[str, tuple[str, ...]] = {
    "asb_nte": (
        "{callsign} on scene: group dispersed, words of advice given.",
        "{callsign}: section 35 dispersal notice given to {n} males.",
        "{callsign}: area quiet on arrival, no trace.",
        "{callsign}: door staff say the male went towards {direction}.",
    ),
    "violence": (
        "{callsign} on scene: victim has a cut above the eye, LAS requested.",
        "{callsign}: suspect held by door staff, officers taking over.",
        "{callsign}: victim declined medical attention; details taken.",
        "{callsign}: suspect described as {person}; area search under way.",
    ),
    "acquisitive": (
        "{callsign}: victim details taken; crime report to follow.",
        "{callsign}: suspect detained by store security; goods recovered (£{amount}).",
        "{callsign}: CCTV shows the suspect leaving towards {direction}.",
        "{callsign}: frame number recorded; victim given a crime reference.",
    ),
    "domestic_abuse": (
        "{callsign}: both parties separated. DASH risk assessment: {risk} risk.",
        "{callsign}: children present at the address; safeguarding referral to follow.",
        "{callsign}: suspect left before police arrived; circulated.",
    ),
    "road_danger": (
        "{callsign}: one lane blocked; traffic management in place.",
        "{callsign}: cyclist conveyed to the Royal London by LAS.",
        "{callsign}: vehicles moved to the side; details exchanged.",
        "{callsign}: driver breath-tested, negative.",
    ),
    "counter_terrorism": (
        "{callsign}: HOT protocol applied. Hidden? No. Obviously suspicious? No. Typical? Yes.",
        "{callsign}: cordon of {cordon} m in place; {place} partly evacuated.",
        "{callsign}: owner traced on CCTV; item returned.",
        "{callsign}: person spoken to and account checked; no further concerns.",
    ),
    "council_services": (
        "{callsign}: officers attended in support; no offences disclosed.",
        "{callsign}: person responsible identified and spoken to.",
    ),
    "public_safety": (
        "{callsign} on scene: area cordoned; pedestrians diverted.",
        "{callsign}: traffic held while the area is made safe.",
    ),
    "welfare": (
        "{callsign}: person taken to St Bartholomew's Hospital by LAS.",
        "{callsign}: found safe and well; taken home.",
        "{callsign}: person calm and talking to officers; family contacted.",
    ),
    "admin": ("{callsign}: enquiry dealt with.",),
}
# Updates from other teams, by team and category, by team, or by the kind of team.
_TEAM_LOGS: dict[str, tuple[str, ...]] = {
    "cleansing": (
        "{callsign} attended: area cleansed, glass removed.",
        "{callsign}: waste cleared and the footway jet-washed.",
        "{callsign}: sharps removed safely and disposed of.",
        "{callsign}: waste photographed and searched for evidence before clearance.",
    ),
    "highways": (
        "{callsign} attended: defect made safe with barriers; repair ordered.",
        "{callsign}: road surface inspected; temporary repair done.",
        "{callsign}: carriageway checked and swept; signs put out.",
    ),
    "COL-HWY/CS-LIGHTING": (
        "{callsign}: lamp checked; the fault is in the supply, electrician booked.",
        "{callsign}: lighting column isolated and made safe.",
        "{callsign}: lamp replaced and working.",
    ),
    "COL-HWY/CS-HWY-OBSTRUCT": (
        "{callsign}: skip owner told to light and move it tonight.",
        "{callsign}: scaffold contractor told to open a covered walkway.",
        "{callsign}: vehicle owner traced and asked to move it.",
    ),
    "COL-HWY/PS-FLOOD": (
        "{callsign}: road closed; the water company is on its way to isolate the main.",
        "{callsign}: sandbags placed; drains being cleared.",
    ),
    "COL-EH-NOISE": (
        "{callsign}: noise witnessed from the street; warning letter to follow.",
        "{callsign}: music turned down after the officer spoke to the manager.",
        "{callsign}: works stopped; contractor reminded of permitted hours.",
    ),
    "COL-EH-FOOD": (
        "{callsign}: premises inspected; hygiene rating review booked.",
        "{callsign}: samples taken for analysis.",
    ),
    "licensing": (
        "{callsign}: premises visited and the licence holder spoken to.",
        "{callsign}: licence conditions checked; breach noted for review.",
    ),
    "markets": (
        "{callsign}: trader moved on; goods seized.",
        "{callsign}: no trader found on arrival.",
        "{callsign}: market staff assisting; area checked.",
    ),
    "outreach": (
        "{callsign}: spoke to the person; hostel place offered and declined.",
        "{callsign}: person engaged well; assessment booked for tomorrow.",
        "{callsign}: person not found at the location; will check again on the morning round.",
    ),
    "ambulance": (
        "{callsign}: patient assessed and conveyed to the Royal London.",
        "{callsign}: patient treated at scene and discharged.",
        "{callsign}: patient conveyed to St Bartholomew's Hospital.",
    ),
    "fire": (
        "{callsign}: crew in attendance; small fire extinguished.",
        "{callsign}: building checked with a thermal camera; no fire found.",
        "{callsign}: area made safe; handing back to police.",
    ),
    "roads": ("{callsign}: signals adjusted to ease traffic around the closure.",),
    "bus_operations": ("{callsign}: buses diverted; routes curtailed for now.",),
    "transport_policing": ("{callsign}: officers checking the station and platforms.",),
    "building_control": (
        "{callsign}: structure inspected; loose masonry removed.",
        "{callsign}: area cordoned; owner instructed to make it safe.",
    ),
    "emergency_planning": ("{callsign}: duty emergency planning officer informed, monitoring.",),
    "community_safety": (
        "{callsign}: patrol attended; advice given to those present.",
        "{callsign}: residents and premises spoken to; ASB case opened.",
    ),
    "security": ("{callsign}: security patrol attended; area checked.",),
    "cctv": (
        "{callsign}: footage reviewed; subject seen leaving towards {direction}.",
        "{callsign}: footage reviewed; nothing of evidential value.",
    ),
    "counter_terrorism": (
        "{callsign}: CTSA reviewed; no further concerns.",
        "{callsign}: referral assessed and passed to the Prevent team.",
    ),
    "public_protection": (
        "{callsign}: risk assessment reviewed; follow-up visit booked.",
        "{callsign}: victim contacted; safety plan agreed.",
    ),
    "economic_crime": (
        "{callsign}: victim statement taken; enquiries with the bank under way.",
        "{callsign}: report passed to Action Fraud with a crime number.",
    ),
    "cyber": ("{callsign}: devices checked; advice on account security given.",),
}
_POLICE_ON_STREET = frozenset({"response", "neighbourhood", "roads"})
# Who an incident is passed to, by group.
_PARTNER_ORGS: dict[str, tuple[str, ...]] = {
    "asb_nte": ("the venue's licence holder", "the Community Safety Team", "Licensing"),
    "violence": ("Victim Support", "the Community Safety Team"),
    "acquisitive": ("Action Fraud", "the Business Crime Reduction Partnership", "Victim Support"),
    "domestic_abuse": ("the IDVA service", "Children's Social Care", "Victim Support"),
    "road_danger": ("TfL", "the Road Danger Reduction team"),
    "counter_terrorism": ("the Prevent team", "Counter Terrorism Policing"),
    "council_services": ("the managing agent", "the building owner", "the contractor"),
    "public_safety": ("Thames Water", "UK Power Networks", "the building owner"),
    "welfare": ("the outreach team", "Adult Social Care", "the person's GP"),
    "admin": ("the Community Safety Team", "the relevant department"),
}
_POLICE_INTEL = (
    "Local intelligence: the named male is known for {previous}.",
    "PNC check on the named person: {previous}.",
    "Intelligence log: vehicle linked to {previous}.",
)
_AMEND_REASONS = (
    "Typing error corrected",
    "Wrong callsign recorded",
    "Description corrected after the caller recontacted",
    "Location detail corrected",
    "Time of the update corrected",
)
_DECISIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "asb_nte": (
        (
            "Section 34 dispersal authorised for the {place} area until 06:00",
            "Repeated disorder by the same groups tonight; dispersal is proportionate.",
        ),
        (
            "Request a licensing review of {venue}",
            "Third incident at the premises this month; licensing objectives at risk.",
        ),
    ),
    "violence": (
        (
            "Crime scene cordon at {place} until CSI attends",
            "Serious assault with CCTV and forensic opportunities to preserve.",
        ),
        (
            "Deploy all available response units to {place}",
            "Report of a weapon and several people involved; risk to the public is high.",
        ),
    ),
    "counter_terrorism": (
        (
            "Cordon of {cordon} m around the item at {place}; nearby exits closed",
            "Item not typical for the location and owner not traced within 20 minutes; "
            "HOT principles applied pending specialist advice.",
        ),
        (
            "Stand down the cordon; item deemed safe",
            "Specialist examination found personal belongings only.",
        ),
    ),
    "road_danger": (
        (
            "Close {place} in both directions for collision investigation",
            "Serious injury collision; investigation needed. Diversion agreed with TfL.",
        ),
    ),
    "domestic_abuse": (
        (
            "Positive action: arrest on reasonable grounds",
            "Injuries visible, high DASH risk and children present at the address.",
        ),
    ),
    "council_services": (
        (
            "Authorise out-of-hours emergency clearance by contractor",
            "Obstruction is an immediate danger to pedestrians; costs to be recovered.",
        ),
        (
            "Serve an abatement notice on the premises",
            "Statutory nuisance witnessed by an officer on two occasions.",
        ),
    ),
    "public_safety": (
        (
            "Open liaison with Emergency Planning and notify TfL",
            "Disruption likely to last more than two hours across a main route.",
        ),
    ),
    "welfare": (
        (
            "Keep officers with the person until LAS arrives",
            "Person vulnerable, cold and intoxicated; real risk of harm if left.",
        ),
    ),
    "acquisitive": (
        (
            "Task CCTV to trace the suspect's route",
            "Good description and a known route; early CCTV gives the best chance of arrest.",
        ),
    ),
    "admin": (("No deployment; advice by phone", "Information request only."),),
}
_RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "CL-CRIME": (
        "Crime recorded, crime reference {crime_ref}.",
        "Crime recorded ({crime_ref}); victim given Victim Support details.",
    ),
    "CL-NOCRIME": ("No offences disclosed; advice given to all parties.",),
    "CL-NODEPLOY": ("Dealt with by phone; advice given, no deployment needed.",),
    "CL-REFERRED": ("Referred to {partner_org}.", "Passed to {partner_org} to follow up."),
    "CL-DUPLICATE": ("Duplicate of an earlier incident; details added there.",),
    "CL-HOAX": ("Call found to be malicious; caller's number recorded.",),
    "CL-FALSE-GI": ("False alarm with good intent; nothing found.",),
    "CL-CLEANSED": ("Area cleansed by the Street Cleansing crew; photographs on file.",),
    "CL-ENF-NOTICE": ("{notice} issued.", "{notice} served on the responsible person."),
    "CL-UTL": ("Area searched; unable to locate.", "No trace on arrival; area checked."),
    "CL-ARREST": (
        "{n_small} arrested for {offence}; taken to Bishopsgate custody.",
        "Suspect arrested for {offence}.",
    ),
    "CL-FPN": ("Fixed penalty notice issued for {fpn}.",),
    "CL-SAFEGUARD": (
        "Safeguarding referral submitted.",
        "Adult safeguarding referral made; person supported by partners.",
    ),
    "CL-REPAIR": ("Made safe; permanent repair scheduled within {n} working days.",),
    "CL-ADVICE": ("Advice given; no further action.", "Words of advice given to those involved."),
    "CL-CT-SAFE": ("Item examined and deemed safe; cordon stood down.",),
    "ADM-INFO": ("Information given; no further action.",),
}
_VOCAB: dict[str, tuple[str, ...]] = {
    "venue": (
        "The Gilded Lamb",
        "Vault Nine",
        "The Copper Still",
        "Bar Meridian",
        "The Lamp & Ledger",
        "Cellar 42",
        "The Pewter Tankard",
        "The Ironmonger's Arms",
        "Bar Lumen",
        "The Old Clerk",
    ),
    "shop": (
        "the convenience store",
        "a phone shop",
        "the pharmacy",
        "the express supermarket",
        "a sandwich shop",
        "the cosmetics store",
        "the off-licence",
        "an outdoor clothing shop",
    ),
    "item": ("black rucksack", "blue holdall", "wheeled suitcase", "taped cardboard box"),
    "vehicle": (
        "white van",
        "black saloon car",
        "private hire car",
        "delivery moped",
        "tipper lorry",
        "black cab",
        "bus",
        "refuse lorry",
        "grey estate car",
    ),
    "vehicle2": ("parked car", "taxi", "cyclist", "bus", "delivery van", "motorcycle"),
    "bike": ("Folding bike", "Carbon road bike", "Black e-bike", "Hybrid bike", "Cargo bike"),
    "direction": ("Liverpool Street", "Bank", "Aldgate", "Moorgate", "St Paul's", "the river"),
    "recontact": (
        "situation unchanged",
        "the suspect has now left",
        "no answer, voicemail left",
        "more people gathering",
        "things have calmed down",
    ),
    "cctv_obs": (
        "nothing of note at present",
        "group visible, monitoring",
        "subject tracked towards the station",
        "footage saved for evidence",
    ),
    "risk": ("standard", "medium", "high"),
    "previous": (
        "previous public order offences",
        "shoplifting in the City last month",
        "no trace",
        "a recent domestic incident",
        "an open warrant, now executed",
    ),
    "notice": (
        "Community Protection Warning",
        "Abatement notice",
        "Fixed penalty notice for fly-tipping",
        "Licensing warning letter",
        "Section 59 warning",
    ),
    "offence": ("assault", "theft", "public order", "possession of an offensive weapon"),
    "fpn": ("littering", "urinating in the street", "cycling on the footway"),
    "gender": ("male", "female"),
    "age": ("late teens", "early 20s", "mid 20s", "30s", "40s", "50s", "about 60"),
    "clothes": (
        "dark hoodie",
        "grey tracksuit",
        "black puffer jacket",
        "navy suit",
        "hi-vis jacket",
        "red coat",
        "green parka",
        "white trainers and a black cap",
        "denim jacket",
    ),
}
_STATION_SPOTS = ("main concourse", "ticket hall", "taxi rank", "bus stops outside", "entrance")
_LANDMARK_SPOTS = ("main entrance", "steps", "side entrance", "piazza")
_ESTATE_BLOCKS = ("Block A", "Block B", "Block C", "North Tower", "East Wing", "South Terrace")


class _Fills(dict[str, str]):
    """Values for template fields, made on first use and kept, so one incident tells one story."""

    def __init__(self, rng: random.Random, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        value: str
        if key == "person":
            value = (
                f"{rng.choice(_VOCAB['gender'])}, {rng.choice(_VOCAB['age'])}, "
                f"{rng.choice(_VOCAB['clothes'])}"
            )
        elif key in ("n", "n_small"):
            value = str(rng.randint(2, 6) if key == "n" else rng.randint(1, 3))
        elif key == "minutes":
            value = str(rng.choice((5, 10, 15, 20, 30, 45)))
        elif key == "amount":
            value = f"{rng.choice((45, 80, 120, 260, 900, 2400, 18500, 64000)):,}"
        elif key == "cordon":
            value = str(rng.choice((50, 100, 100, 200)))
        elif key == "crime_ref":
            value = f"CoL/{rng.randint(10000, 99999)}/{rng.choice(('24', '25', '26'))}"
        elif key in _VOCAB:
            value = rng.choice(_VOCAB[key])
        else:
            value = key.replace("_", " ")
        self[key] = value
        return value


_ASSIGN_NOTES = (
    "Please attend and update",
    "Make contact with the caller on arrival",
    "Attend as soon as free",
    "For attendance and a crime report",
    "Review cameras and advise",
)
_REGRADE_WHY = {
    True: (
        "weapon now mentioned",
        "caller reports injuries",
        "suspect still on scene",
        "vulnerable person involved",
    ),
    False: (
        "suspect has left the area",
        "no injuries confirmed",
        "caller now safe at home",
        "situation has calmed",
    ),
}
_STATUS_REASONS = {
    "in_progress": ("Call handler dealing by phone", "Enquiries being made by the desk"),
    "resolved": ("All units clear", "Dealt with; awaiting closing review", "Partners clear"),
}
_WITHDRAW_REASONS = (
    "Stood down: another unit dealt with it",
    "Diverted to an Immediate call",
    "No longer required: caller says all is well",
)
_REOPEN_REASONS = (
    "Caller rang back: the suspect has returned",
    "Further report at the same location",
    "Duty manager review: more enquiries needed",
    "Problem not fully dealt with; caller still affected",
)
_SENIOR = ("Ch Insp", "Supt", "Assistant Director", "Head of Community Safety")


def _now_to_the_minute() -> datetime:
    now = datetime.now(UTC)
    return now.replace(second=0, microsecond=0)


def _cumulate(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _between(rng: random.Random, bounds: Range) -> int:
    """Milliseconds between two bounds in seconds, skewed towards the quicker end."""
    low, high = bounds
    return int(rng.triangular(low, high, low + (high - low) * 0.3) * 1000)


def _tempo(agency: Agency, level: int) -> Tempo:
    if agency is Agency.POLICE:
        return _POLICE_TEMPO[level]
    if agency is Agency.CORPORATION:
        return _COUNCIL_TEMPO[level]
    if agency is Agency.TRANSPORT:
        return _TRANSPORT_TEMPO
    return _EMERGENCY_TEMPO


def _token_agency(token: str, reference: ReferenceData) -> Agency | None:
    if token in ("RESP", "NBH"):
        return Agency.POLICE
    if token == "LFB":
        return Agency.FIRE
    team = reference.teams.get(token)
    return None if team is None else team.agency


def _visible_to(agency: Agency, visibility: Visibility) -> bool:
    """Whether a team of this agency may be sent to an incident of this visibility."""
    if visibility is Visibility.POLICE:
        return agency is not Agency.CORPORATION
    if visibility is Visibility.CORPORATION:
        return agency is not Agency.POLICE
    return True


@dataclass(slots=True)
class _Job:
    """One assignment's planned course: when it is made and what happens to it."""

    assignment_id: str
    team: str
    agency: Agency
    desk: str
    made: int
    course: list[tuple[int, str]] = field(default_factory=list)  # (ms, status)

    @property
    def on_scene(self) -> int | None:
        return next((ms for ms, status in self.course if status == "on_scene"), None)

    @property
    def finished(self) -> int:
        return self.course[-1][0] if self.course else self.made


@dataclass(slots=True)
class _Step:
    """Something to record at a time; what exactly is decided against the state then."""

    ms: int
    tag: str
    desk: str
    data: Any = None


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the summary needs to know about one incident."""

    lead: str
    group: str
    visibility: str
    closed: bool
    agencies: frozenset[str]


# One planned event: (recorded ms, incident number, step number, desk, actor, draft, event id).
_Entry = tuple[int, int, int, str, str, EventDraft, str]


class _Plan:
    """Every incident's events, planned, then sorted into time order; sealed lazily in batches."""

    def __init__(
        self, spec: DemoSpec, reference: ReferenceData, staff: DemoStaff | None = None
    ) -> None:
        if spec.incidents < 0 or spec.days < 1:
            raise ValueError("a demo needs at least one day and a count of incidents")
        if staff is not None and staff.realm != spec.realm:
            raise ValueError(f"demo staff for realm {staff.realm!r} cannot write {spec.realm!r}")
        end = spec.end if spec.end is not None else _now_to_the_minute()
        if end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        self.spec = spec
        self.ref = reference
        self.rng = random.Random(spec.seed)
        self.end_ms = int(end.timestamp() * 1000)
        self.start_ms = self.end_ms - spec.days * DAY_MS
        self.calendar = _Calendar(self.start_ms, self.end_ms)
        self.staff = staff or DemoStaff(spec.realm, at=ms_to_iso(self.start_ms))
        self.entries: list[_Entry] = []
        self.facts: list[_Facts] = []
        self._refs: Counter[tuple[str, str]] = Counter()
        self._slots = self._slot_weights()
        self._places = self._place_weights()
        self._repeats = self._repeat_locations()
        self.officers = [
            f"PC {self.rng.randint(100, 999)} {self.rng.choice(_FIRST_NAMES)[0]}. "
            f"{self.rng.choice(_SURNAMES)}"
            for _ in range(40)
        ]
        self._plan_all()

    # ---- tables built once ----------------------------------------------------------------
    def _slot_weights(self) -> dict[str, list[float]]:
        """Cumulative weights of each hour of the period, per time profile."""
        tables = {}
        for name, p in _PROFILES.items():
            tables[name] = _cumulate(
                [
                    p.hourly[h.hour] * p.weekly[h.night if p.by_night else h.weekday]
                    for h in self.calendar.hours
                ]
            )
        return tables

    def _place_weights(self) -> dict[str, tuple[list[Place], dict[str, list[float]]]]:
        """Per category group: places and cumulative weights, all and those with cameras."""
        places = sorted(self.ref.places.values(), key=lambda p: p.name)
        tables = {}
        for group in sorted({c.group for c in self.ref.categories.values() if c.opening}):
            kinds = _KIND_WEIGHTS.get(group, {})
            hot = group != "domestic_abuse"
            weights = [
                kinds.get(p.kind, 1.0) * (_HOTSPOTS.get(p.name, 1.0) if hot else 1.0)
                for p in places
            ]
            by_camera = {"": _cumulate(weights)}
            for prefix in ("ROS-", "ANPR-"):
                by_camera[prefix] = _cumulate(
                    [
                        w if any(c.startswith(prefix) for c in p.cameras) else 0.0
                        for p, w in zip(places, weights, strict=True)
                    ]
                )
            tables[group] = (places, by_camera)
        return tables

    def _repeat_locations(self) -> dict[str, list[tuple[Place, dict[str, Any], Any]]]:
        """A few places per group that call again and again: repeat victims, problem venues."""
        repeats: dict[str, list[tuple[Place, dict[str, Any], Any]]] = {}
        for group in self._places:
            found = []
            for _ in range(4):
                place = self._pick_place(group, "")
                caller = self._caller() if group in ("domestic_abuse", "council_services") else None
                found.append((place, self._location(place, group, None), caller))
            repeats[group] = found
        return repeats

    # ---- small pickers --------------------------------------------------------------------
    def _weighted(self, options: Sequence[tuple[str, float]]) -> str:
        roll = self.rng.random() * sum(w for _, w in options)
        for value, weight in options:
            roll -= weight
            if roll < 0:
                return value
        return options[-1][0]

    def _pick_place(self, group: str, camera_kind: str) -> Place:
        """A place for an incident of this group; with a camera of that kind if one is given."""
        places, tables = self._places[group]
        table = tables[camera_kind] if tables[camera_kind][-1] > 0 else tables[""]
        return places[bisect.bisect_right(table, self.rng.random() * table[-1])]

    def _location(self, place: Place, group: str, camera_kind: str | None) -> dict[str, Any]:
        rng = self.rng
        text = place.name
        roll = rng.random()
        if place.kind == "station" and roll < 0.5:
            text = f"{place.name} – {rng.choice(_STATION_SPOTS)}"
        elif place.kind == "estate" and (group == "domestic_abuse" or roll < 0.5):
            text = f"Flat {rng.randint(1, 160)}, {rng.choice(_ESTATE_BLOCKS)}, {place.name}"
        elif place.kind == "street" and roll < 0.4:
            text = f"{rng.randint(1, 180)} {place.name}"
        elif place.kind in ("landmark", "market") and roll < 0.3:
            text = f"{place.name} – {rng.choice(_LANDMARK_SPOTS)}"
        location: dict[str, Any] = {
            "text": text,
            "lat": round(place.lat + rng.uniform(-0.0007, 0.0007), 6),
            "lon": round(place.lon + rng.uniform(-0.0011, 0.0011), 6),
        }
        if camera_kind is not None:
            cameras = [c for c in place.cameras if c.startswith(camera_kind)]
            if cameras:
                location["camera_id"] = rng.choice(cameras)
        return location

    def _caller(self) -> dict[str, str]:
        """An invented caller; numbers from Ofcom's ranges kept free for drama."""
        rng = self.rng
        if rng.random() < 0.7:
            phone = f"07700 900{rng.randint(0, 999):03d}"
        else:
            phone = f"020 7946 0{rng.randint(0, 999):03d}"
        caller = {"name": f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}", "phone": phone}
        if rng.random() < 0.2:
            caller["notes"] = rng.choice(_CALLER_NOTES)
        return caller

    def author(self, desk: str, ms: int) -> Author:
        """Who sits at ``desk`` on the watch at ``ms``."""
        crew = _DESKS[desk].crew
        return self.staff.author(desk, crew[self.calendar.at(ms).shift % len(crew)])

    def _team(self, token: str, place: Place, ms: int, busy: set[str]) -> str:
        """A team code: RESP is the response team on watch (or the next free), NBH by area."""
        if token == "RESP":
            shift = self.calendar.at(ms).shift
            for offset in range(4):
                code = f"POL-RESP-{'ABCD'[(shift + offset) % 4]}"
                if code not in busy:
                    return code
        if token == "NBH":
            return "POL-NBH-BSG" if place.lon > -0.092 else "POL-NBH-SNH"
        if token == "LFB":
            return "LFB-WCH" if place.lon > -0.082 else "LFB-DOW"
        return token

    # ---- incidents ------------------------------------------------------------------------
    def _plan_all(self) -> None:
        codes = [c for c in _MIX if c in self.ref.categories]
        weights = [_MIX[c].weight for c in codes]
        chosen = self.rng.choices(codes, weights=weights, k=self.spec.incidents)
        openings = sorted(
            (self._opening_ms(self._weighted(_MIX[code].profile)), code) for code in chosen
        )
        for number, (ms, code) in enumerate(openings):
            self._incident(number, ms, code)
        self.entries.sort(key=lambda e: (e[0], e[1], e[2]))

    def _opening_ms(self, profile: str) -> int:
        table = self._slots[profile]
        while True:
            slot = bisect.bisect_right(table, self.rng.random() * table[-1])
            ms = self.calendar.base + slot * HOUR_MS + self.rng.randrange(HOUR_MS)
            if self.start_ms <= ms < self.end_ms:
                return ms

    def _incident(self, number: int, t0: int, code: str) -> None:
        rng = self.rng
        mix = _MIX[code]
        group = self.ref.categories[code].group
        lead = Agency(self._weighted(mix.lead))
        grade = priority = None
        if lead is Agency.CORPORATION:
            priority = self._weighted(list(zip(_PRIORITIES, mix.priorities, strict=True)))
            urgency = _PRIORITIES.index(priority)
        else:
            grade = self._weighted(list(zip(_GRADES, mix.grades, strict=True)))
            urgency = _GRADES.index(grade)
        visibility = Visibility.JOINT
        if lead is Agency.POLICE and rng.random() < mix.police_only:
            visibility = Visibility.POLICE
        elif lead is Agency.CORPORATION and rng.random() < mix.corporation_only:
            visibility = Visibility.CORPORATION
        classification = (
            Classification.OFFICIAL_SENSITIVE if mix.sensitive else Classification.OFFICIAL
        )

        source = self._source(mix, lead, grade)
        camera_kind = {"cctv": "ROS-", "anpr": "ANPR-"}.get(source)
        repeat_caller = None
        if camera_kind is None and rng.random() < _REPEAT_SHARE:
            place, location, repeat_caller = rng.choice(self._repeats[group])
            location = dict(location)
        else:
            place = self._pick_place(group, camera_kind or "")
            location = self._location(place, group, camera_kind)
            if camera_kind is not None and "camera_id" not in location:
                source = "999" if grade == "immediate" else "101" if grade else "phone"
        caller: dict[str, str] | None = None
        if source in ("999", "101", "phone", "email", "walk-in"):
            if repeat_caller is not None:
                caller = dict(repeat_caller)
            elif rng.random() < 0.72:
                caller = self._caller()

        opener = self._opening_desk(lead, visibility, source)
        manager = "DM2" if lead is Agency.CORPORATION else "DM1"
        if visibility is not Visibility.JOINT:
            manager = "DM1" if visibility is Visibility.POLICE else "DM2"
        fills = {
            "place": place.name,
            "camera": location.get("camera_id") or next(iter(place.cameras), "the nearest camera"),
            "dm": self.author(manager, t0).actor,
            "partner_org": rng.choice(_PARTNER_ORGS.get(group, _PARTNER_ORGS["admin"])),
        }
        incident_id = _demo_uuid7(t0, rng)
        builder = _Incident(
            self,
            number=number,
            incident_id=incident_id,
            visibility=visibility,
            classification=classification,
            fixed=fills,
            t0=t0,
        )
        summary = rng.choice(_SUMMARIES[code]).format_map(builder.fills)
        day = self.calendar.at(t0).day
        self._refs[(day, opener)] += 1
        builder.record(
            t0,
            opener,
            Kind.INCIDENT_OPENED,
            {
                "ref": f"{day}-{opener}-{self._refs[(day, opener)]:04d}",
                "summary": summary[0].upper() + summary[1:],
                "category": code,
                "source": source,
                "grade": grade,
                "council_priority": priority,
                "location": location,
                "lead_agency": lead.value,
                "caller": caller,
            },
        )
        context = _Context(mix, group, lead, urgency, place, t0, opener, manager)
        builder.run(self._steps(builder, context), t0)
        state = builder.state
        self.facts.append(
            _Facts(
                lead.value,
                group,
                visibility.value,
                state.is_closed,
                frozenset(a.agency for a in state.assignments.values() if a.agency),
            )
        )

    def _source(self, mix: _Mix, lead: Agency, grade: str | None) -> str:
        rng = self.rng
        if rng.random() < mix.anpr:
            return "anpr"
        if rng.random() < mix.cctv:
            return "cctv"
        if lead in (Agency.FIRE, Agency.AMBULANCE):
            return self._weighted((("999", 6), ("partner", 4)))
        if lead is Agency.CORPORATION:
            return self._weighted(
                (
                    ("phone", 60),
                    ("email", 22),
                    ("self-initiated", 9),
                    ("walk-in", 4),
                    ("partner", 5),
                )
            )
        return self._weighted(_POLICE_SOURCES[grade or "scheduled"])

    def _opening_desk(self, lead: Agency, visibility: Visibility, source: str) -> str:
        rng = self.rng
        if visibility is Visibility.CORPORATION:
            return "CD1" if source == "self-initiated" else rng.choice(_COUNCIL_HANDLERS)
        if source in ("radio", "self-initiated"):
            return "CD1" if lead is Agency.CORPORATION else rng.choice(_POLICE_DISPATCH)
        if visibility is Visibility.POLICE or source in ("999", "cctv", "anpr"):
            return rng.choice(_POLICE_HANDLERS)
        if lead is Agency.CORPORATION:
            return rng.choice(_COUNCIL_HANDLERS)
        # The joint room's pilot: the Corporation contact centre answers most 101 calls.
        if rng.random() < 0.6:
            return rng.choice(_COUNCIL_HANDLERS)
        return rng.choice(_POLICE_HANDLERS)

    def _steps(self, builder: _Incident, c: _Context) -> list[_Step]:
        """What will happen after the opening, each at its time (causes before effects)."""
        rng = self.rng
        mix = c.mix
        visibility = builder.visibility
        police_desk = rng.choice(_POLICE_DISPATCH)
        lead_desk = "CD1" if c.lead is Agency.CORPORATION else police_desk
        steps: list[_Step] = []
        jobs: list[_Job] = []
        busy: set[str] = set()

        def send(token: str, at: int, level: int, *, desk_work: bool = False) -> _Job | None:
            if len(jobs) >= 3:  # a handful of teams at most, as in the room
                return None
            code = self._team(token, c.place, at, busy)
            team = self.ref.teams.get(code)
            if team is None or code in busy or not _visible_to(team.agency, visibility):
                return None
            busy.add(code)
            if team.agency is Agency.POLICE:
                desk = police_desk
            elif team.agency is Agency.CORPORATION:
                desk = "CD1"
            else:
                desk = lead_desk
            job = _Job(_demo_uuid7(at, rng), code, team.agency, desk, at)
            self._progress(job, level, desk_work=desk_work or code in _OFFICE_TEAMS)
            jobs.append(job)
            steps.append(_Step(at, "assign", desk, job))
            steps.extend(_Step(ms, "status", desk, (job, status)) for ms, status in job.course)
            return job

        own = [t for t in mix.teams if _token_agency(t, self.ref) is c.lead] or list(mix.teams)
        deploy = bool(own) and not (c.urgency == 3 and rng.random() < 0.85)
        if deploy:
            delay = _between(rng, _tempo(c.lead, c.urgency)[0])
            first = send(rng.choice(own), c.t0 + delay, c.urgency)
            if first is not None:
                if first.course and first.course[-1][1] == "declined":
                    if c.lead is not Agency.POLICE:
                        busy.discard(first.team)
                    send(own[0], first.finished + _between(rng, (60, 600)), c.urgency)
                elif c.urgency == 0 and c.lead is Agency.POLICE and rng.random() < 0.3:
                    send("RESP", first.made + _between(rng, (20, 240)), 0)
            if mix.follow and rng.random() < 0.5:
                anchor = (first.on_scene if first else None) or c.t0 + 10 * MINUTE_MS
                send(rng.choice(mix.follow), anchor + _between(rng, (300, 3600)), 2, desk_work=True)
        partners = [t for t in mix.partners if _token_agency(t, self.ref) not in (c.lead, None)]
        if partners and rng.random() < mix.multi:
            anchor = jobs[0].made if jobs else c.t0
            send(rng.choice(partners), anchor + _between(rng, (60, 1500)), min(c.urgency, 2))

        if jobs:
            active_end = max(j.finished for j in jobs)
        else:
            # Dealt with on the phone by the call handler; the status is the dispatcher's to set
            # (a call handler may not change it).
            active_end = c.t0 + _between(rng, (300, 5400))
            if rng.random() < 0.25:
                steps.append(_Step(c.t0 + _between(rng, (60, 240)), "in_progress", lead_desk))

        if rng.random() < 0.05:  # grade or priority changed once more is known
            at = c.t0 + _between(rng, (60, 1500))
            if at < active_end:
                steps.append(_Step(at, "regrade", lead_desk))

        # Log entries: the call handler's first note, then updates as they come in.
        count = rng.choices(range(1, 9), weights=_LOG_COUNTS)[0]
        steps.append(_Step(c.t0 + _between(rng, (30, 240)), "log_call", c.opener))
        on_scene = [j for j in jobs if j.on_scene is not None]
        for _ in range(count - 1):
            if on_scene and rng.random() < 0.6:
                job = rng.choice(on_scene)
                start = job.on_scene or job.made
                at = start + _between(rng, (30, max(60, (job.finished - start) // 1000)))
                steps.append(_Step(at, "log_unit", job.desk, job))
            else:
                at = c.t0 + _between(rng, (60, max(120, (active_end - c.t0) // 1000)))
                steps.append(_Step(at, "log", rng.choice((c.opener, lead_desk, lead_desk))))
        if rng.random() < (0.3 if c.group == "counter_terrorism" else 0.04):
            # Taken while the first team is at the scene, or while the desk works the call.
            start, stop = c.t0, active_end
            if on_scene:
                start, stop = on_scene[0].on_scene or on_scene[0].made, on_scene[0].finished
            at = start + _between(rng, (60, max(120, (stop - start) // 1000)))
            steps.append(_Step(at, "decision", c.manager))

        # Left open: awaiting a call back, an appointment, a partner, a supervisor's review.
        # The newer the incident, the likelier it is still in the queue at the end.
        # Urgent work is rarely left hanging; the long tail is scheduled and council work.
        fresh = max(0.0, 1 - (self.end_ms - c.t0) / RECENT_MS)
        stale = 0.005 if c.urgency <= 1 else 0.03
        if rng.random() < stale + 0.6 * fresh:
            return steps
        close_at = active_end
        if jobs and rng.random() < 0.35:
            close_at += _between(rng, (30, 600))
            steps.append(_Step(close_at, "resolved", lead_desk))
        close_at += _between(rng, (120, 2700))
        # Closed by the lead dispatcher, sometimes by the duty manager (never a call handler).
        closer = c.manager if rng.random() < 0.1 else lead_desk
        closing = self._closing(mix, deployed=bool(jobs))
        steps.append(_Step(close_at, "close", closer, closing))
        if rng.random() < 0.012:
            reopen_at = close_at + _between(rng, (1200, 6 * 3600))
            steps.append(_Step(reopen_at, "reopen", c.manager))  # the duty manager's judgement
            steps.append(_Step(reopen_at + _between(rng, (30, 300)), "log", lead_desk))
            last = reopen_at + _between(rng, (600, 3600))
            busy.clear()
            if deploy and rng.random() < 0.6:
                again = send(own[0], reopen_at + _between(rng, (120, 900)), c.urgency)
                if again is not None:
                    last = again.finished
            if rng.random() < 0.8:
                steps.append(_Step(last + _between(rng, (120, 1800)), "close", lead_desk, closing))
        return steps

    def _progress(self, job: _Job, level: int, *, desk_work: bool) -> None:
        """The assignment's course: acknowledged, en route, on scene, completed (or not)."""
        rng = self.rng
        _, travel, work = _tempo(job.agency, level)
        t = job.made
        course = job.course
        if desk_work or rng.random() < 0.7:
            t += _between(rng, (20, 180))
            course.append((t, "acknowledged"))
        if desk_work:  # reviewed and completed from a desk: no travel
            course.append((t + _between(rng, (900, 4 * 3600)), "completed"))
            return
        roll = rng.random()
        if roll < 0.03:
            course.append((t + _between(rng, (10, 120)), "declined"))
            return
        if roll < 0.07:
            course.append((t + _between(rng, (60, 600)), "withdrawn"))
            return
        if job.agency is not Agency.CORPORATION or rng.random() < 0.5:
            course.append((t + _between(rng, (5, 90)), "en_route"))
        arrive = max(course[-1][0] if course else t, t + _between(rng, travel)) + 1000
        course.append((arrive, "on_scene"))
        course.append((arrive + _between(rng, work), "completed"))

    def _closing(self, mix: _Mix, *, deployed: bool) -> str:
        options = [(code, w) for code, w in mix.closing if code in self.ref.categories]
        if not deployed:
            options = [(code, w) for code, w in options if code not in _DEPLOYED_ONLY]
            options.append(("CL-NODEPLOY", 3.0))
        return self._weighted(options)

    # ---- sealing --------------------------------------------------------------------------
    def batches(self) -> Iterator[list[Event]]:
        """Seal and sign in time order: each desk's chain gap-free, its clock strictly
        increasing, each event signed by its author's key."""
        heads: dict[str, tuple[int, str | None, Stamp]] = {}
        batch: list[Event] = []
        author_of = self.staff.author
        for ms, _, _, desk, actor, draft, event_id in self.entries:
            seq, prev, last = heads.get(desk, (0, None, Stamp(0, 0)))
            stamp = Stamp(ms, 0) if ms > last.ms else Stamp(last.ms, last.counter + 1)
            author = author_of(desk, actor)
            assert author.signer is not None  # every demo author has a key
            event = sign_event(
                seal(
                    draft,
                    author,
                    event_id=event_id,
                    hlc=str(stamp),
                    recorded_at=ms_to_iso(ms),
                    device_seq=seq + 1,
                    prev_hash=prev,
                ),
                author.signer,
            )
            heads[desk] = (seq + 1, event.content_hash, stamp)
            batch.append(event)
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch

    def summary(self, stored: int, rejected: int, duplicates: int) -> DemoSummary:
        closed = sum(1 for f in self.facts if f.closed)
        return DemoSummary(
            incidents=len(self.facts),
            events=stored,
            rejected=rejected,
            duplicates=duplicates,
            open_incidents=len(self.facts) - closed,
            closed_incidents=closed,
            multi_agency=sum(1 for f in self.facts if len(f.agencies) > 1),
            start=ms_to_iso(self.start_ms),
            end=ms_to_iso(self.end_ms),
            by_lead_agency=dict(sorted(Counter(f.lead for f in self.facts).items())),
            by_group=dict(sorted(Counter(f.group for f in self.facts).items())),
            by_visibility=dict(sorted(Counter(f.visibility for f in self.facts).items())),
            by_workstation=dict(sorted(Counter(e[3] for e in self.entries).items())),
        )


_POLICE_SOURCES: dict[str, tuple[tuple[str, float], ...]] = {
    "immediate": (("999", 85), ("radio", 7), ("partner", 5), ("self-initiated", 3)),
    "priority": (("999", 25), ("101", 55), ("radio", 8), ("partner", 5), ("walk-in", 3)),
    "scheduled": (("101", 70), ("email", 12), ("walk-in", 10), ("partner", 4)),
    "rwd": (("101", 60), ("email", 28), ("walk-in", 10), ("phone", 2)),
}
_DEPLOYED_ONLY = frozenset({"CL-ARREST", "CL-UTL", "CL-FPN", "CL-CLEANSED", "CL-CT-SAFE"})
_CALLER_NOTES = (
    "Works at the premises",
    "Passing motorist",
    "Happy to give a statement",
    "Prefers contact by text",
    "Hard of hearing: speak clearly",
)


@dataclass(frozen=True, slots=True)
class _Context:
    mix: _Mix
    group: str
    lead: Agency
    urgency: int
    place: Place
    t0: int
    opener: str
    manager: str


class _Incident:
    """Records one incident's events as people would, each checked against its state."""

    def __init__(
        self,
        plan: _Plan,
        *,
        number: int,
        incident_id: str,
        visibility: Visibility,
        classification: Classification,
        fixed: dict[str, str],
        t0: int,
    ) -> None:
        self.plan = plan
        self.t0 = t0
        self.rng = plan.rng
        self.number = number
        self.incident_id = incident_id
        self.visibility = visibility
        self.classification = classification
        self.fixed = fixed
        self.fills = _Fills(plan.rng, fixed)
        self.state = IncidentState(id=incident_id)
        self._opened = False
        self._step = 0
        self._entries: set[str] = set()  # log entries an amendment may point at
        self._said: set[str] = set()  # templates used so far

    def record(
        self,
        ms: int,
        desk: str,
        kind: str,
        payload: dict[str, Any],
        *,
        base: dict[str, str] | None = None,
        visibility: Visibility | None = None,
        occurred_ms: int | None = None,
    ) -> str:
        """Check the entry as the store would for a local user, fold it in, plan it."""
        author = self.plan.author(desk, ms)
        draft = EventDraft(
            kind,
            payload,
            incident_id=self.incident_id,
            visibility=visibility or self.visibility,
            classification=self.classification,
            occurred_at=None if occurred_ms is None else ms_to_iso(occurred_ms),
            base=base or {},
        )
        try:
            check_draft(draft, author, self.state if self._opened else None, self._entry_incident)
        except DomainError as exc:  # a bug in this generator, never in the data it is given
            raise RuntimeError(f"demo plan broke a rule ({kind} by {desk}): {exc}") from exc
        event_id = _demo_uuid7(ms, self.rng)
        self.state.apply(
            Event(
                id=event_id,
                realm=author.realm,
                incident_id=self.incident_id,
                kind=kind,
                schema=1,
                payload=payload,
                actor=author.actor,
                agency=author.agency.value,
                workstation=desk,
                hlc=f"{ms:013d}-000000",
                recorded_at="",
                occurred_at="",
                visibility=draft.visibility,
                classification=draft.classification,
                base=draft.base,
                refs=tuple(draft.base.values()),
                device_seq=1,
                prev_hash=None,
                content_hash="",
            ),
            self.plan.ref,
        )
        self._opened = True
        if kind == Kind.LOG_ADDED:
            self._entries.add(event_id)
        self.plan.entries.append((ms, self.number, self._step, desk, author.actor, draft, event_id))
        self._step += 1
        return event_id

    def _pick(self, templates: Sequence[str]) -> str:
        """A template not yet used on this incident, if there is one: people do not repeat."""
        fresh = [t for t in templates if t not in self._said] or list(templates)
        template = self.rng.choice(fresh)
        self._said.add(template)
        return template

    def _entry_incident(self, entry_id: str) -> str | None:
        return self.incident_id if entry_id in self._entries else None

    def run(self, steps: list[_Step], t0: int) -> None:
        """Record the steps in time order, up to the end of the period."""
        queue = [(s.ms, n, s) for n, s in enumerate(steps)]
        heapq.heapify(queue)
        order = len(queue)
        last = t0
        end = self.plan.end_ms
        while queue:
            ms, _, step = heapq.heappop(queue)
            if ms <= last:  # one thing at a time on one incident: keeps causes before effects
                ms = last + self.rng.randint(1000, 15000)
            if ms > end:
                return
            last = ms
            follow = self._do(ms, step)
            if follow is not None:
                order += 1
                heapq.heappush(queue, (follow.ms, order, follow))

    def _do(self, ms: int, step: _Step) -> _Step | None:
        """Record one step; returns a step it leads to (an amendment, an explanation)."""
        rng = self.rng
        state = self.state
        tag = step.tag
        if tag == "assign":
            job: _Job = step.data
            payload: dict[str, Any] = {"assignment_id": job.assignment_id, "team": job.team}
            if rng.random() < 0.3:
                payload["note"] = rng.choice(_ASSIGN_NOTES)
            self.record(ms, step.desk, Kind.ASSIGNMENT_MADE, payload)
        elif tag == "status":
            job, status = step.data
            seen = {"assignment": state.assignments[job.assignment_id].status_event}
            if status == "withdrawn":
                payload = {"assignment_id": job.assignment_id}
                payload["reason"] = rng.choice(_WITHDRAW_REASONS)
                self.record(ms, step.desk, Kind.ASSIGNMENT_WITHDRAWN, payload, base=seen)
            else:
                payload = {"assignment_id": job.assignment_id, "status": status}
                if status == "declined":
                    payload["note"] = "No units free"
                self.record(ms, step.desk, Kind.ASSIGNMENT_STATUS, payload, base=seen)
        elif tag in ("log_call", "log", "log_unit"):
            return self._log(ms, step)
        elif tag == "amend":
            amends, template, visibility = step.data
            fresh = _Fills(rng, {**self.fixed, "callsign": self.fills.get("callsign", "unit")})
            payload = {
                "amends": amends,
                "text": template.format_map(fresh),
                "reason": rng.choice(_AMEND_REASONS),
            }
            self.record(ms, step.desk, Kind.LOG_AMENDED, payload, visibility=visibility)
        elif tag == "decision":
            decision, rationale = rng.choice(_DECISIONS.get(self._group, _DECISIONS["admin"]))
            author = self.plan.author(step.desk, ms)
            decided_by = author.actor
            if rng.random() < 0.3:
                decided_by = f"{rng.choice(_SENIOR)} {rng.choice(_SURNAMES)}"
            payload = {
                "decision": decision.format_map(self.fills),
                "rationale": rationale,
                "decided_by": decided_by,
            }
            self.record(ms, step.desk, Kind.DECISION_RECORDED, payload)
        elif tag == "regrade":
            return self._regrade(ms, step)
        elif tag == "explain":
            self.record(ms, step.desk, Kind.LOG_ADDED, {"text": step.data})
        elif tag in ("in_progress", "resolved"):
            payload = {"status": tag, "reason": rng.choice(_STATUS_REASONS[tag])}
            seen = {"status": state.status_event}
            self.record(ms, step.desk, Kind.INCIDENT_STATUS, payload, base=seen)
        elif tag == "close":
            closing = step.data
            resolution = rng.choice(_RESOLUTIONS.get(closing, _RESOLUTIONS["CL-ADVICE"]))
            payload = {"closing_category": closing, "resolution": resolution.format_map(self.fills)}
            self.record(ms, step.desk, Kind.INCIDENT_CLOSED, payload)
        elif tag == "reopen":
            payload = {"reason": rng.choice(_REOPEN_REASONS)}
            self.record(ms, step.desk, Kind.INCIDENT_REOPENED, payload)
        return None

    @property
    def _group(self) -> str:
        return self.plan.ref.categories[self.state.value("category")].group

    def _log(self, ms: int, step: _Step) -> _Step | None:
        rng = self.rng
        visibility = self.visibility
        on_behalf_of = None
        council = self.state.value("lead_agency") == Agency.CORPORATION.value
        if step.tag == "log_call":
            template = self._pick(_COUNCIL_CALL_DETAILS if council else _CALL_DETAILS)
        elif step.tag == "log_unit":
            job: _Job = step.data
            team = self.plan.ref.teams[job.team]
            self.fills["callsign"] = team.callsign or team.name
            if team.agency is Agency.POLICE and team.kind in _POLICE_ON_STREET:
                templates = _UNIT_LOGS.get(self._group, _UNIT_LOGS["admin"])
            else:
                category = self.state.value("category")
                templates = (
                    _TEAM_LOGS.get(f"{team.code}/{category}")
                    or _TEAM_LOGS.get(team.code)
                    or _TEAM_LOGS.get(team.kind, ("{callsign}: attended.",))
                )
            template = self._pick(templates)
            if rng.random() < 0.5:
                if job.agency is Agency.POLICE:
                    on_behalf_of = rng.choice(self.plan.officers)
                else:
                    on_behalf_of = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}"
        else:
            template = self._pick(_COUNCIL_LOGS if council else _GENERAL_LOGS)
            author = self.plan.author(step.desk, ms)
            if (
                visibility is Visibility.JOINT
                and author.agency is Agency.POLICE
                and rng.random() < 0.08
            ):
                template = rng.choice(_POLICE_INTEL)
                visibility = Visibility.POLICE
        payload: dict[str, Any] = {"text": template.format_map(self.fills)}
        if on_behalf_of is not None:
            payload["on_behalf_of"] = on_behalf_of
        occurred = None
        if rng.random() < 0.1:  # logged late: it happened a few minutes before it was typed
            occurred = max(self.t0 + 1000, ms - _between(rng, (120, 900)))
        event_id = self.record(
            ms, step.desk, Kind.LOG_ADDED, payload, visibility=visibility, occurred_ms=occurred
        )
        if rng.random() < 0.03:
            return _Step(
                ms + _between(rng, (60, 1800)), "amend", step.desk, (event_id, template, visibility)
            )
        return None

    def _regrade(self, ms: int, step: _Step) -> _Step | None:
        rng = self.rng
        state = self.state
        name = "grade" if state.value("grade") else "council_priority"
        scale = _GRADES if name == "grade" else _PRIORITIES
        current = scale.index(state.value(name))
        up = current == len(scale) - 1 or (current > 0 and rng.random() < 0.6)
        new = scale[current - 1 if up else current + 1]
        self.record(
            ms,
            step.desk,
            Kind.INCIDENT_UPDATED,
            {"changes": {name: new}},
            base={name: state.stamp_of(name) or state.opened_event},
        )
        label = "Grade" if name == "grade" else "Priority"
        text = f"{label} changed from {scale[current]} to {new}: {rng.choice(_REGRADE_WHY[up])}."
        return _Step(ms + _between(rng, (20, 90)), "explain", step.desk, text)
