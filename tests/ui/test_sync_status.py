"""The sync status as the operator sees it, against a real server on 127.0.0.1.

Real widgets on a real temporary store, the console's own engine and a real uvicorn server on
SQLite. The server is started and stopped under the console's feet, its clock is moved to
expire a sign-in, and a user of the other organisation is refused an entry: each time the
status bar must say what is true, and nothing typed may be lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from pytestqt.qtbot import QtBot

from osc_console.app import Console, SyncOptions
from osc_console.models.agencies import Agency
from osc_console.server.service import SyncService
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.services.identity import Operator, register_operator
from osc_console.services.incidents import Outcome
from osc_console.services.workstation import open_door
from osc_console.signing.vault import TEST_COST
from osc_console.store import outbox
from osc_console.store.event_store import Store
from osc_console.sync.engine import Backoff, SyncStatus
from osc_console.ui.dialogs.fields import alive
from osc_console.ui.dialogs.server_sign_in import ServerSignInDialog
from osc_console.ui.main_window import MainWindow
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.signals import AppSignals
from osc_console.ui.sync_status import NO_SERVER, SyncLink, SyncStatusIndicator
from osc_console.ui.tasks import DbWorker
from osc_console.ui.theme import apply_theme, current_palette
from tests.conftest import knife_incident
from tests.sync.harness import (
    PASSWORD,
    ServerThread,
    add_users,
    free_port,
    http,
    make_service,
    make_workstation,
    server_events,
    sign_in_at,
    signed_in,
)
from tests.ui.conftest import wait_idle

T = TypeVar("T")
Key = QtCore.Qt.Key
CONSOLE_USER = "PC Jane Smith"  # the console's operator, a user of the server
OTHER_OFFICER = "PS Omar Reid"  # another user of the server, never signed in at this desk
WAIT = 10_000


class Wall:
    """The server's clock, moved by the test to make a sign-in expire."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Room:
    """A server that may or may not be running on a fixed port, workstation CR1 (enrolled
    with it) as the composition root builds it, and the console's session and links."""

    folder: Path
    backend: SqliteBackend
    service: SyncService
    wall: Wall
    console: Console
    port: int
    servers: list[ServerThread] = field(default_factory=list)
    links: list[SyncLink] = field(default_factory=list)
    sessions: list[ConsoleSession] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_server(self) -> ServerThread:
        server = ServerThread(self.service, port=self.port).start()
        self.servers.append(server)
        return server

    def sign_in(self, *, online: bool) -> ConsoleSession:
        """CONSOLE_USER signs in at the desk, as at the sign-in screen: online (the server
        must be running), or offline on what the desk kept of an earlier shift's sign-in
        (the server must be down). The console's session for the live realm."""
        door = self.console.door
        if not online:
            sign_in_at(self.service, door.identity, CONSOLE_USER)  # an earlier shift
        operator = door.gatekeeper.sign_in(CONSOLE_USER, PASSWORD, "live")
        assert isinstance(operator, Operator)
        assert (operator.token is not None) is online
        store = Store.open(self.folder / "live.db")
        register_operator(store, operator, door.identity)
        session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
        session.sign_in(operator)
        self.sessions.append(session)
        return session

    def link(self, session: ConsoleSession, **options: int) -> SyncLink:
        """The console's sync engine for ``session`` (adopting the sign-in made online)."""
        sync = SyncOptions(
            server=self.url, long_poll=0.5, backoff=Backoff(base=0.05, cap=0.2), **options
        )
        made = replace(self.console, sync=sync).sync_link(session)
        self.links.append(made)
        return made


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    wall = Wall()
    backend = SqliteBackend(tmp_path / "server.db")
    service = make_service(backend, wall=wall)
    add_users(service, (CONSOLE_USER, Agency.POLICE), (OTHER_OFFICER, Agency.POLICE))
    port = free_port()
    door = open_door(tmp_path, "CR1", f"http://127.0.0.1:{port}", kdf_cost=TEST_COST)
    # The administrator enrolled this workstation with the server.
    service.admin.enrol_workstation("test", "CR1", door.identity.device_key.public_key, "police")
    settings = QtCore.QSettings(str(tmp_path / "window.ini"), QtCore.QSettings.Format.IniFormat)
    console = Console(door, tmp_path, "CR1", settings, DbWorker())
    made = Room(tmp_path, backend, service, wall, console, port)
    yield made
    # Engines stop before the store closes, and no thread of this test outlives it.
    for link in made.links:
        link.stop(timeout=5)
        assert link.engine is not None
        assert not link.engine.running
    for session in made.sessions:
        session.worker.shutdown()
        session.store.close()
    for server in made.servers:
        server.stop()
    console.identity_worker.shutdown()
    door.close()
    backend.close()
    left = [t.name for t in threading.enumerate() if t.name.startswith("sync-")]
    assert not left, f"sync threads still running: {left}"


# ---- helpers ---------------------------------------------------------------------------------
def open_window(
    qtbot: QtBot, session: ConsoleSession, folder: Path, link: SyncLink | None
) -> MainWindow:
    settings = QtCore.QSettings(str(folder / "window.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings, sync=link)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.detail_ready, timeout=WAIT):
        window.show()
    return window


def on_worker(session: ConsoleSession, work: Callable[[Store], T]) -> T:
    """Read the store on its own worker thread, so the test never races the window's reads."""
    box: list[T] = []
    session.worker.submit(lambda: box.append(work(session.store))).result(timeout=10)
    return box[0]


def perform(qtbot: QtBot, session: ConsoleSession, work: Callable[..., Outcome]) -> Outcome:
    done: list[Outcome] = []
    session.perform(work, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
    return done[0]


def show_incident(qtbot: QtBot, window: MainWindow, incident_id: str) -> None:
    qtbot.waitUntil(lambda: window.queue.model.row_of(incident_id) is not None, timeout=WAIT)
    window.queue.select_incident(incident_id)
    assert window.detail is not None
    detail = window.detail
    qtbot.waitUntil(lambda: detail.quick_entry.incident_id == incident_id, timeout=WAIT)


def log_entries(qtbot: QtBot, window: MainWindow, texts: list[str]) -> None:
    """Typed into the log line and saved with Enter, as the operator does."""
    assert window.detail is not None
    entry = window.detail.quick_entry
    for text in texts:
        qtbot.keyClicks(entry.line, text)
        with qtbot.waitSignal(entry.saved, timeout=WAIT):
            qtbot.keyClick(entry.line, Key.Key_Return)


def prompt(qtbot: QtBot, indicator: SyncStatusIndicator) -> ServerSignInDialog:
    """The server sign-in prompt, once it is on screen."""

    def shown() -> bool:
        dialog = indicator.sign_in_dialog
        return dialog is not None and alive(dialog) and dialog.isVisible()

    qtbot.waitUntil(shown, timeout=WAIT)
    dialog = indicator.sign_in_dialog
    assert dialog is not None
    assert not dialog.isModal()  # the queue and the log stay usable
    return dialog


def answer(qtbot: QtBot, dialog: ServerSignInDialog, password: str, user: str = "") -> None:
    if user:
        dialog.user_edit.clear()
        qtbot.keyClicks(dialog.user_edit, user)
    qtbot.keyClicks(dialog.password, password)
    qtbot.keyClick(dialog.password, Key.Key_Return)


def header_text(window: MainWindow) -> str:
    doc = QtGui.QTextDocument()
    doc.setHtml(window.header.connection.text())
    return doc.toPlainText()


def pending_ids(session: ConsoleSession) -> set[str]:
    return {e.id for e in on_worker(session, lambda s: outbox.pending(s, 1000))}


def all_ids(session: ConsoleSession) -> set[str]:
    return {e.id for e in on_worker(session, lambda s: list(s.iter_events()))}


# ---- tests -----------------------------------------------------------------------------------
def test_offline_to_online_drains_the_waiting_entries_to_zero(qtbot: QtBot, room: Room) -> None:
    # Nothing listens on the port yet: the operator signs in offline, the console starts
    # offline.
    session = room.sign_in(online=False)
    opened = perform(qtbot, session, lambda desk: desk.open_incident(knife_incident()))
    link = room.link(session)
    window = open_window(qtbot, session, room.folder, link)
    indicator = window.sync_status
    assert indicator.text() == "Connecting…"
    link.start()

    # First start: the server wants a sign-in; the user name is the console's own.
    dialog = prompt(qtbot, indicator)
    assert dialog.user_edit.text() == CONSOLE_USER
    assert "Everything you log meanwhile is kept on this workstation" in dialog.intro.text()
    answer(qtbot, dialog, PASSWORD)
    qtbot.waitUntil(lambda: indicator.text().startswith("Offline · 1 waiting"), timeout=WAIT)
    assert indicator.state is not None
    assert indicator.state.retry_in is not None
    qtbot.waitUntil(lambda: "retrying" in indicator.text(), timeout=WAIT)

    # Three entries logged while offline: saved here, counted as waiting at once.
    show_incident(qtbot, window, opened.incident.id)
    log_entries(qtbot, window, ["Caller still on the line", "Two units sent", "On scene"])
    qtbot.waitUntil(lambda: indicator.text().startswith("Offline · 4 waiting"), timeout=WAIT)
    assert header_text(window).endswith(indicator.text())
    made = all_ids(session)
    assert len(made) == 4
    assert pending_ids(session) == made

    # The server comes up on that port: the console goes online and the queue drains.
    room.start_server()
    qtbot.waitUntil(lambda: indicator.text() == "Online · 0 waiting", timeout=WAIT)
    assert indicator.state is not None
    assert indicator.state.status is SyncStatus.ONLINE
    assert indicator.state.last_success is not None
    assert pending_ids(session) == set()
    assert set(server_events(room.backend, "live")) == made
    assert header_text(window).endswith("Online · 0 waiting")

    # The details say who and where, and when it last worked (London time).
    qtbot.mouseClick(indicator, QtCore.Qt.MouseButton.LeftButton)
    popup = indicator.popup
    assert popup is not None
    assert popup.isVisible()
    assert popup.values["server"].text() == room.url
    assert popup.values["user"].text() == CONSOLE_USER
    assert popup.values["waiting"].text() == "0 entries not yet on the server"
    assert popup.values["last"].text().endswith("(just now)")
    assert popup.values["status"].text().startswith("Online")
    qtbot.mouseClick(popup.sync_now_button, QtCore.Qt.MouseButton.LeftButton)
    assert not popup.isVisible()


def test_an_expired_sign_in_asks_again_and_keeps_what_was_logged_meanwhile(
    qtbot: QtBot, room: Room
) -> None:
    room.start_server()
    session = room.sign_in(online=True)
    opened = perform(qtbot, session, lambda desk: desk.open_incident(knife_incident()))
    link = room.link(session)
    window = open_window(qtbot, session, room.folder, link)
    indicator = window.sync_status
    link.start()
    # The engine syncs as the operator signed in online: no second sign-in is asked for.
    qtbot.waitUntil(lambda: indicator.text() == "Online · 0 waiting", timeout=WAIT)
    assert indicator.sign_in_dialog is None

    # Thirteen hours on, the server's twelve-hour sign-in has expired. The desk signs in by
    # the same clock as the server (a sign-in more than minutes adrift is refused); the
    # console's own clock, and its store's, stay behind.
    room.wall.offset = timedelta(hours=13)
    room.console.door.identity.wall = room.wall
    dialog = prompt(qtbot, indicator)
    assert "expired" in dialog.intro.text()
    assert indicator.text().startswith("Sign-in needed")

    # The prompt does not block the log: two entries go in while it is open, and stay.
    show_incident(qtbot, window, opened.incident.id)
    log_entries(qtbot, window, ["Suspect detained", "Scene handed to CID"])
    qtbot.waitUntil(lambda: indicator.text().startswith("Sign-in needed · 2 waiting"), timeout=WAIT)
    meanwhile = pending_ids(session)
    assert len(meanwhile) == 2
    assert not meanwhile & set(server_events(room.backend, "live"))

    # A wrong password is refused and asked for again, the entries still kept.
    answer(qtbot, prompt(qtbot, indicator), "not the password")
    qtbot.waitUntil(
        lambda: "did not accept" in prompt(qtbot, indicator).banner_text(), timeout=WAIT
    )
    assert pending_ids(session) == meanwhile

    answer(qtbot, prompt(qtbot, indicator), PASSWORD)
    qtbot.waitUntil(lambda: indicator.text().startswith("Online · 0 waiting"), timeout=WAIT)
    assert pending_ids(session) == set()
    assert meanwhile <= set(server_events(room.backend, "live"))
    assert all_ids(session) == set(server_events(room.backend, "live"))

    # The server's clock is now 13 h ahead of this one: the details warn about it.
    qtbot.waitUntil(lambda: "check clock" in indicator.text(), timeout=WAIT)
    indicator.show_details()
    assert indicator.popup is not None
    assert "behind the server" in indicator.popup.values["clock"].text()


def test_not_now_puts_the_sign_in_off_until_asked_for_from_the_details(
    qtbot: QtBot, room: Room
) -> None:
    # Signed in offline (the server was down when the shift began); it is up now.
    session = room.sign_in(online=False)
    room.start_server()
    opened = perform(qtbot, session, lambda desk: desk.open_incident(knife_incident()))
    link = room.link(session)
    window = open_window(qtbot, session, room.folder, link)
    indicator = window.sync_status
    shown: list[str] = []
    indicator.summary_changed.connect(lambda _colour, text, _tip: shown.append(text))
    link.start()
    dialog = prompt(qtbot, indicator)
    qtbot.mouseClick(dialog.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.text() == "Not now"

    # The engine keeps trying (and says "syncing" as it does) on each entry logged: the
    # operator is not asked again, and the status bar does not flicker.
    shown.clear()
    show_incident(qtbot, window, opened.incident.id)
    log_entries(qtbot, window, ["Door staff holding one male", "Ambulance requested"])
    qtbot.waitUntil(lambda: indicator.text() == "Sign-in needed · 3 waiting", timeout=WAIT)
    # The engine's own recount comes after its next try (it says "syncing" first).
    qtbot.waitUntil(lambda: link.state is not None and link.state.pending == 3, timeout=WAIT)
    assert all(text.startswith("Sign-in needed") for text in shown), shown
    current = indicator.sign_in_dialog
    assert current is None or not alive(current) or not current.isVisible()

    # Asked for from the details, the prompt comes back; signed in, everything goes.
    indicator.show_details()
    assert indicator.popup is not None
    assert indicator.popup.sign_in_button.isDefault()
    qtbot.mouseClick(indicator.popup.sign_in_button, QtCore.Qt.MouseButton.LeftButton)
    assert not indicator.popup.isVisible()
    answer(qtbot, prompt(qtbot, indicator), PASSWORD)
    qtbot.waitUntil(lambda: indicator.text() == "Online · 0 waiting", timeout=WAIT)
    assert all_ids(session) == set(server_events(room.backend, "live"))


def test_the_details_list_a_refused_entry_with_the_servers_reason(qtbot: QtBot, room: Room) -> None:
    # The operator works offline on the grant this desk holds for her; meanwhile an
    # administrator disables her account. The server takes the incident she opened before
    # that, refuses the entry she logged after it, and says why. (The server judges need-to-
    # know by the author's own organisation, not the sign-in's: a Corporation user syncing
    # a police desk's police-only entry is no longer a refusal.)
    session = room.sign_in(online=False)
    room.start_server()
    opened = perform(qtbot, session, lambda desk: desk.open_incident(knife_incident()))
    room.service.admin.disable("Admin", CONSOLE_USER)
    qtbot.wait(20)  # recorded after the revocation, by the millisecond
    perform(qtbot, session, lambda desk: desk.add_log(opened.incident.id, "Informant calls back"))
    link = room.link(session)
    window = open_window(qtbot, session, room.folder, link)
    indicator = window.sync_status
    link.start()
    # Another officer of the room signs in to the server from the prompt.
    answer(qtbot, prompt(qtbot, indicator), PASSWORD, user=OTHER_OFFICER)
    qtbot.waitUntil(lambda: indicator.text() == "Online · 0 waiting · 1 refused", timeout=WAIT)

    refused = on_worker(session, outbox.refused)
    assert len(refused) == 1
    assert refused[0].reason.startswith(f"not permitted: {CONSOLE_USER} held no grant at CR1")
    qtbot.mouseClick(indicator, QtCore.Qt.MouseButton.LeftButton)
    popup = indicator.popup
    assert popup is not None
    assert popup.isVisible()
    qtbot.waitUntil(lambda: popup.refused_list.count() == 1, timeout=WAIT)
    shown = popup.refused_list.item(0).text()
    assert shown.startswith(f"Log entry on {opened.incident.ref}")
    assert refused[0].reason in shown
    assert popup.refused_title.text() == "Refused by the server (1): kept here, not shared"
    assert popup.values["user"].text() == OTHER_OFFICER
    # Refused is never dropped: it stays in the store, out of the waiting count.
    assert refused[0].event_id in all_ids(session)
    assert pending_ids(session) == set()


def test_a_large_first_sync_shows_progress_and_fills_the_queue(qtbot: QtBot, room: Room) -> None:
    server = room.start_server()
    add_users(room.service, ("carol", Agency.POLICE))
    other = make_workstation(room.folder, "CC1", Agency.POLICE, http(server.url), user="carol")
    try:
        opened = other.desk.open_incident(knife_incident(summary="Fight outside a pub"))
        for n in range(149):
            other.desk.add_log(opened.incident.id, f"Update {n}")
        other.engine.sync_once()
    finally:
        other.close()

    # Small pages and a low threshold make 150 events "a long history".
    session = room.sign_in(online=True)
    link = room.link(session, pull_limit=10, progress_threshold=50)
    window = open_window(qtbot, session, room.folder, link)
    indicator = window.sync_status
    seen: list[tuple[bool, str, int, str]] = []

    def record(_state: object) -> None:
        # As each state reaches the UI thread: the bar may be up for a few frames only.
        bar = indicator.progress
        seen.append((bar.isVisible(), bar.text(), bar.value(), indicator.text()))

    link.state_changed.connect(record)
    assert not indicator.progress.isVisible()
    link.start()  # as the operator signed in online: no second sign-in
    qtbot.waitUntil(lambda: window.queue.model.row_of(opened.incident.id) is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: indicator.text() == "Online · 0 waiting", timeout=WAIT)

    shown = [(text, value, words) for visible, text, value, words in seen if visible]
    assert len(shown) >= 5, f"the progress bar did not follow a 150-event first sync: {seen}"
    assert all(text == f"First sync {value}%" for text, value, _ in shown)
    assert all(words == f"Syncing {value}%" for _, value, words in shown)
    values = [value for _, value, _ in shown]
    assert values == sorted(values)
    assert 0 < values[0] < values[-1] <= 100
    assert not indicator.progress.isVisible()
    assert len(all_ids(session)) == 150
    assert indicator.sign_in_dialog is None


def test_without_a_server_the_console_says_it_is_working_offline(
    qtbot: QtBot, session: ConsoleSession, tmp_path: Path
) -> None:
    window = open_window(qtbot, session, tmp_path, None)
    indicator = window.sync_status
    assert indicator.text() == NO_SERVER
    assert header_text(window).endswith(NO_SERVER)
    assert not indicator.progress.isVisible()

    perform(qtbot, session, lambda desk: desk.open_incident(knife_incident()))
    wait_idle(qtbot, session)
    qtbot.waitUntil(lambda: "1 not yet shared" in indicator.toolTip(), timeout=WAIT)
    assert indicator.text() == NO_SERVER

    indicator.show_details()
    popup = indicator.popup
    assert popup is not None
    assert popup.isVisible()
    assert popup.values["server"].text().startswith("none")
    assert popup.values["waiting"].text() == "1 entry not yet shared"
    assert not popup.sync_now_button.isVisible()
    assert not popup.sign_in_button.isVisible()
    assert indicator.sign_in_dialog is None
    popup.close()

    # The night and day themes both colour the mark from their own palette.
    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    before = current_palette()
    try:
        window.toggle_theme()
        after = current_palette()
        assert after.name != before.name
        qtbot.waitUntil(
            lambda: indicator.look is not None and indicator.look.colour == after.muted,
            timeout=WAIT,
        )
        assert after.window in indicator.styleSheet()
    finally:
        apply_theme(app, before.name)


def test_an_entry_received_with_a_signature_that_fails_is_not_applied_and_is_shown(
    qtbot: QtBot, room: Room
) -> None:
    """The server's database was tampered with: an entry whose text was changed after its
    author signed it comes down with a pull. The console does not apply it, and says so."""
    import json

    from osc_console.models.events import EventDraft, canonical_event_json, event_hash
    from osc_console.server.rules import Checked
    from tests.sync.harness import author_at, hand_made

    with Store.open(room.folder / "other.db") as other:
        author = author_at(room.service, other, "CR4", Agency.POLICE, OTHER_OFFICER)
        genuine = hand_made(EventDraft("log.added", {"text": "Door forced"}), author)
    altered = replace(genuine, payload={"text": "Door found open"})
    altered = replace(altered, content_hash=event_hash(altered))  # rehashed, signature kept
    caller = signed_in(room.service, OTHER_OFFICER, "CR4")
    body = canonical_event_json(altered, content_hash=altered.content_hash)
    assert json.loads(body)["sig"] == genuine.sig
    stored = room.backend.push(caller, [Checked(0, altered.id, altered, body)])
    assert [r.outcome.value for r in stored] == ["accepted"]  # planted past the server's checks

    room.start_server()
    session = room.sign_in(online=True)
    link = room.link(session)
    window = open_window(qtbot, session, room.folder, link)
    indicator = window.sync_status
    link.start()
    qtbot.waitUntil(lambda: indicator.text() == "Online · 0 waiting", timeout=WAIT)
    assert altered.id not in all_ids(session)
    qtbot.mouseClick(indicator, QtCore.Qt.MouseButton.LeftButton)
    popup = indicator.popup
    assert popup is not None
    qtbot.waitUntil(lambda: popup.received_list.count() == 1, timeout=WAIT)
    assert popup.received_title.text() == (
        "Received from the server and refused here (1): not applied"
    )
    shown = popup.received_list.item(0).text()
    assert shown.startswith(f"Log entry by {OTHER_OFFICER} at CR4, ")
    assert shown.endswith(
        "signature refused: its signature does not match its content (altered or forged)"
    )
