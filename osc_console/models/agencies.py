"""Agencies, who may see what, and protective markings."""

from __future__ import annotations

from enum import StrEnum


class Agency(StrEnum):
    POLICE = "police"
    CORPORATION = "corporation"
    FIRE = "fire"
    AMBULANCE = "ambulance"
    TRANSPORT = "transport"

    @property
    def label(self) -> str:
        return _AGENCY_LABELS[self]

    @property
    def colour(self) -> str:
        """The agency's fixed colour, used everywhere it appears (chips, lanes, charts)."""
        return _AGENCY_COLOURS[self]

    @property
    def is_partner(self) -> bool:
        return self not in (Agency.POLICE, Agency.CORPORATION)


_AGENCY_LABELS = {
    Agency.POLICE: "City of London Police",
    Agency.CORPORATION: "City of London Corporation",
    Agency.FIRE: "London Fire Brigade",
    Agency.AMBULANCE: "London Ambulance Service",
    Agency.TRANSPORT: "Transport partners",
}

# Chosen to stay distinguishable for the common colour-vision deficiencies (Okabe-Ito palette).
_AGENCY_COLOURS = {
    Agency.POLICE: "#0072B2",
    Agency.CORPORATION: "#E69F00",
    Agency.FIRE: "#D55E00",
    Agency.AMBULANCE: "#009E73",
    Agency.TRANSPORT: "#CC79A7",
}


class Visibility(StrEnum):
    """Which organisation may hold an event. Enforced on every replica and by the server."""

    JOINT = "joint"
    POLICE = "police"
    CORPORATION = "corporation"


class Classification(StrEnum):
    OFFICIAL = "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"

    @property
    def rank(self) -> int:
        return 1 if self is Classification.OFFICIAL_SENSITIVE else 0


def can_see(agency: Agency, visibility: Visibility) -> bool:
    """Need-to-know: joint is for everyone; police and corporation only for their own staff."""
    if visibility is Visibility.JOINT:
        return True
    return agency.value == visibility.value


def visibilities_for(agency: Agency) -> tuple[Visibility, ...]:
    return tuple(v for v in Visibility if can_see(agency, v))
