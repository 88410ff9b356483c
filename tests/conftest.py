"""Shared fixtures. Every test gets its own data folder; nothing touches the user's files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from osc_console.models.agencies import Agency
from osc_console.models.events import Author
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store.event_store import Store
from tests.signing import signed, trust


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OSC_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("OSC_USER", "OSC_AGENCY", "OSC_WORKSTATION", "OSC_REALM"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "live.db") as opened:
        yield trust(opened)


@pytest.fixture
def police(store: Store) -> Author:
    return signed(store, Author("PC Jane Smith", Agency.POLICE, "CR1"))


@pytest.fixture
def corporation(store: Store) -> Author:
    return signed(store, Author("Sam Okafor", Agency.CORPORATION, "CC1"))


@pytest.fixture
def police_desk(store: Store, police: Author) -> IncidentService:
    return IncidentService(store, police)


@pytest.fixture
def council_desk(store: Store, corporation: Author) -> IncidentService:
    return IncidentService(store, corporation)


def knife_incident(**overrides: object) -> NewIncident:
    """A typical Immediate police call, for tests that need one incident quickly."""
    fields: dict[str, object] = {
        "summary": "Man seen with a knife outside a bar",
        "category": "VAP-WEAPON",
        "source": "999",
        "location": Location("Leadenhall Street"),
        "lead_agency": Agency.POLICE,
        "grade": "immediate",
    }
    fields.update(overrides)
    return NewIncident(**fields)  # type: ignore[arg-type]
