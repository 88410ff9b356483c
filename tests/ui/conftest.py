"""Fixtures for GUI tests: a real store in a temporary folder, the real worker and signals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency
from osc_console.models.events import Author
from osc_console.models.payloads import SignInMethod
from osc_console.models.users import Role, User
from osc_console.services.identity import Operator
from osc_console.store.event_store import Store
from osc_console.ui.session import ConsoleSession
from osc_console.ui.signals import AppSignals
from osc_console.ui.tasks import DbWorker
from tests.signing import certificate, key_of, register


def operator_for(store: Store, user: User, workstation: str = "CR1") -> Operator:
    """``user`` signed in at ``workstation`` with a test key ``store`` holds a certificate of
    (as a real sign-in leaves things), for screens that write."""
    register(store, Author(user.name, user.agency, workstation, store.realm))
    return Operator(
        user.name,
        "",
        user.agency,
        user.role,
        workstation,
        key_of(user.name, user.agency.value, workstation),
        certificate(user.name, user.agency.value, workstation),
        SignInMethod.STANDALONE,
    )


def sign_in_as(session: ConsoleSession, user: User) -> None:
    session.sign_in(operator_for(session.store, user, session.workstation))


def make_session(store: Store, user: User | None) -> ConsoleSession:
    session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
    if user is not None:
        sign_in_as(session, user)
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
