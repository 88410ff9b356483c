"""Fixtures for GUI tests: a real store in a temporary folder, the real worker and signals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency
from osc_console.models.users import Role, User
from osc_console.store.event_store import Store
from osc_console.ui.session import ConsoleSession
from osc_console.ui.signals import AppSignals
from osc_console.ui.tasks import DbWorker


def make_session(store: Store, user: User | None) -> ConsoleSession:
    session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
    if user is not None:
        session.sign_in(user)
    return session


@pytest.fixture
def dispatcher() -> User:
    return User("PC Jane Smith", Agency.POLICE, Role.DISPATCHER)


@pytest.fixture
def session(tmp_path: Path, dispatcher: User) -> Iterator[ConsoleSession]:
    store = Store.open(tmp_path / "ui-live.db")
    session = make_session(store, dispatcher)
    yield session
    session.worker.shutdown()
    store.close()


def wait_idle(qtbot: QtBot, session: ConsoleSession, timeout: int = 5000) -> None:
    """Wait until every queued store task has run and its result has reached the UI thread."""
    qtbot.waitUntil(lambda: session.worker.pending == 0, timeout=timeout)
