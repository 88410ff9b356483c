"""Reference data shipped in ``resources/``: teams, the category taxonomy, the gazetteer.

Loaded with importlib.resources so the console finds it wherever it is installed. The data
is read once and shared: it is immutable and small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from osc_console.models.agencies import Agency


@dataclass(frozen=True, slots=True)
class Team:
    code: str
    name: str
    agency: Agency
    kind: str
    callsign: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """A category is for opening (what was reported), closing (what it was), or both."""

    code: str
    name: str
    group: str
    opening: bool
    closing: bool
    agencies: tuple[Agency, ...]


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    kind: str
    lat: float
    lon: float
    cameras: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReferenceData:
    teams: dict[str, Team]
    categories: dict[str, Category]
    places: dict[str, Place]

    def team(self, code: str) -> Team | None:
        return self.teams.get(code)

    def opening_categories(self) -> list[Category]:
        return [c for c in self.categories.values() if c.opening]

    def closing_categories(self) -> list[Category]:
        return [c for c in self.categories.values() if c.closing]


def _load_json(name: str) -> Any:
    text = resources.files("osc_console.resources").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def reference_data() -> ReferenceData:
    teams = {
        t["code"]: Team(t["code"], t["name"], Agency(t["agency"]), t["kind"], t.get("callsign"))
        for t in _load_json("teams.json")["teams"]
    }
    categories = {
        c["code"]: Category(
            c["code"],
            c["name"],
            c["group"],
            bool(c["opening"]),
            bool(c["closing"]),
            tuple(Agency(a) for a in c.get("agencies", [])),
        )
        for c in _load_json("categories.json")["categories"]
    }
    places = {
        p["name"]: Place(
            p["name"], p["kind"], float(p["lat"]), float(p["lon"]), tuple(p.get("cameras", []))
        )
        for p in _load_json("gazetteer.json")["places"]
    }
    return ReferenceData(teams, categories, places)
