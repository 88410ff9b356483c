"""The audit window and the break-glass notice as a duty manager uses them.

Audit entries are written to a real temporary store the way the console writes them (the
``services.audit`` functions, signed by the person's test key; a break-glass sign-in and a
workstation's own record of a failed attempt built as the console builds them); the server's
record comes from a real standalone authority. Each check reads the widgets, or the CSV file
the export wrote.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency
from osc_console.models.authority import WORKSTATION
from osc_console.models.changes import ChangeSet
from osc_console.models.clock import LONDON, from_iso
from osc_console.models.events import Author, EventDraft
from osc_console.models.payloads import Kind, LockReason, SignOutReason
from osc_console.models.users import Role, User
from osc_console.reports.audit_csv import HEADER
from osc_console.services import audit
from osc_console.services.administration import LocalAdministration
from osc_console.services.identity import WorkstationIdentity
from osc_console.services.local_authority import LocalAuthority
from osc_console.signing.documents import device_actor
from osc_console.signing.vault import TEST_COST
from osc_console.store.event_store import Store
from osc_console.store.keyring import Keyring
from osc_console.ui.audit import AuditWindow, BreakGlassNotice
from osc_console.ui.audit.models import AuditColumn, AuditFilter
from osc_console.ui.audit.window import NO_SERVER
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession
from tests.signing import signed
from tests.ui.conftest import make_session, operator_for, sign_in_as

MANAGER = User("A. Patel", Agency.POLICE, Role.DUTY_MANAGER)
DISPATCHER = User("PC Jane Smith", Agency.POLICE, Role.DISPATCHER)
GLASS = User("Control Room", Agency.POLICE, Role.DISPATCHER)
HOSTILE = '=HYPERLINK("http://evil.example","click")'


def break_glass(store: Store, declared: str = "PC Bob Lee", workstation: str = "CR2") -> ChangeSet:
    """A break-glass sign-in at ``workstation``, as that console records it."""
    operator = operator_for(store, GLASS, workstation)
    payload = {
        "method": "break_glass",
        "role": "dispatcher",
        "declared_name": declared,
        "reason": "server down; relief dispatcher for the night",
    }
    _, changes = store.append(
        EventDraft(Kind.SESSION_SIGNED_IN, payload), operator.author(store.realm)
    )
    return changes


def failed_sign_in(store: Store, user: str, consecutive: int, locked_until: str | None) -> None:
    """What a workstation records itself (its device key) when a sign-in fails."""
    device = signed(
        store, Author(device_actor("CR1"), Agency.POLICE, "CR1", store.realm), role=WORKSTATION
    )
    payload = {
        "user": user,
        "reason": "wrong password",
        "consecutive": consecutive,
        "locked_until": locked_until,
    }
    store.append(EventDraft(Kind.SESSION_SIGN_IN_FAILED, payload), device)


@dataclass
class Trail:
    store: Store
    sessions: list[ConsoleSession]

    def session(self, user: User) -> ConsoleSession:
        made = make_session(self.store, user)
        self.sessions.append(made)
        return made


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[Trail]:
    """A shift's worth of audit entries: a sign-in, an idle lock and unlock, two failed
    attempts (the second locking the name), a break-glass use at CR2 and a sign-out."""
    store = Store.open(tmp_path / "audit.db")
    jane = operator_for(store, DISPATCHER)
    audit.signed_in(store, jane)
    audit.locked(store, jane, LockReason.IDLE, 10)
    audit.unlocked(store, jane)
    failed_sign_in(store, "bob", 1, None)
    failed_sign_in(store, "bob", 5, "2026-11-22T15:00:00.000Z")
    break_glass(store)
    audit.signed_out(store, jane, SignOutReason.SIGNED_OUT)
    made = Trail(store, [])
    yield made
    for session in made.sessions:
        session.worker.shutdown()
    store.close()


@pytest.fixture
def authority(tmp_path: Path) -> Iterator[LocalAuthority]:
    keyring = Keyring.open(tmp_path)
    local = LocalAuthority(tmp_path, WorkstationIdentity(keyring, "CR1", kdf_cost=TEST_COST))
    local.create_first_administrator("Admin One", "police", "a long enough password")
    yield local
    local.close()
    keyring.close()


@pytest.fixture
def open_window(qtbot: QtBot) -> Callable[[ConsoleSession], AuditWindow]:
    def build(session: ConsoleSession) -> AuditWindow:
        window = AuditWindow(session)
        qtbot.addWidget(window)
        if not window.permitted:
            window.show()
            return window
        with qtbot.waitSignal(window.loaded, timeout=5000):
            window.show()
        return window

    return build


def rows(window: AuditWindow) -> list[list[str]]:
    proxy = window.trail_view.model()
    return [
        [str(proxy.index(r, c).data()) for c in range(proxy.columnCount())]
        for r in range(proxy.rowCount())
    ]


# ---- the workstation's record ----------------------------------------------------------------
def test_the_trail_lists_who_did_what_where_newest_first(
    qtmodeltester: Any, trail: Trail, open_window: Callable[[ConsoleSession], AuditWindow]
) -> None:
    window = open_window(trail.session(MANAGER))
    assert window.title.text() == "Audit trail · workstation CR1"
    shown = rows(window)
    assert [r[AuditColumn.WHAT] for r in shown] == [
        "signed out",
        "⚠ BREAK-GLASS sign-in as dispatcher by PC Bob Lee: server down; relief dispatcher "
        "for the night",
        "failed sign-in as bob: wrong password (5 in a row); locked until 15:00 GMT",
        "failed sign-in as bob: wrong password (1 in a row)",
        "console unlocked",
        "console locked after 10 min idle",
        "signed in as dispatcher",
    ]
    assert [r[AuditColumn.WHO] for r in shown] == [
        "PC Jane Smith",
        "Control Room",
        "the workstation itself (CR1)",
        "the workstation itself (CR1)",
        "PC Jane Smith",
        "PC Jane Smith",
        "PC Jane Smith",
    ]
    assert [r[AuditColumn.WORKSTATION] for r in shown][1] == "CR2"
    # When: London time with its zone; UTC (and the signature) on hover.
    (newest,) = [r for r in audit.audit_trail(trail.store) if r.what == "signed out"]
    local = from_iso(newest.event.recorded_at).astimezone(LONDON)
    when = window.trail_view.model().index(0, AuditColumn.WHEN)
    assert when.data() == local.strftime("%d %b %Y %H:%M:%S %Z")
    tip = when.data(QtCore.Qt.ItemDataRole.ToolTipRole)
    assert tip.endswith("UTC · signed")
    assert window.count_label.text() == "7 entries · ⚠ 1 break-glass use"
    qtmodeltester.check(window.trail_model, force_py=True)


def test_break_glass_rows_stand_out_by_colour_and_by_a_mark(
    trail: Trail, open_window: Callable[[ConsoleSession], AuditWindow]
) -> None:
    window = open_window(trail.session(MANAGER))
    proxy = window.trail_view.model()
    glass = proxy.index(1, AuditColumn.WHAT)
    plain = proxy.index(0, AuditColumn.WHAT)
    background = QtCore.Qt.ItemDataRole.BackgroundRole
    assert glass.data(background) is not None
    assert plain.data(background) is None
    assert glass.data().startswith("⚠ BREAK-GLASS")  # never colour alone
    icon = proxy.index(1, AuditColumn.WHEN).data(QtCore.Qt.ItemDataRole.DecorationRole)
    assert icon is not None


def test_the_filters_narrow_the_trail_and_the_count_says_so(
    trail: Trail, open_window: Callable[[ConsoleSession], AuditWindow]
) -> None:
    window = open_window(trail.session(MANAGER))
    window.set_filter(AuditFilter.BREAK_GLASS)
    assert [r[AuditColumn.WHO] for r in rows(window)] == ["Control Room"]
    assert window.count_label.text() == "1 of 7 entries shown · ⚠ 1 break-glass use"
    window.set_filter(AuditFilter.FAILED)
    assert len(rows(window)) == 2
    assert all(r[AuditColumn.WHAT].startswith("failed sign-in as bob") for r in rows(window))
    window.set_filter(AuditFilter.LOCKS)
    assert [r[AuditColumn.WHAT][:22] for r in rows(window)] == [
        "failed sign-in as bob:",  # the one that locked the name
        "console unlocked",
        "console locked after 1",
    ]
    # The combo is what the reviewer uses: choosing "All entries" shows everything again.
    window.filter_combo.setCurrentIndex(window.filter_combo.findData(AuditFilter.ALL))
    assert len(rows(window)) == 7


def test_new_audit_entries_appear_as_they_are_written(
    qtbot: QtBot, trail: Trail, open_window: Callable[[ConsoleSession], AuditWindow]
) -> None:
    session = trail.session(MANAGER)
    window = open_window(session)
    with qtbot.waitSignal(window.loaded, timeout=5000):
        session.announce(break_glass(trail.store, "PC Ann Cole", "CR3"))
    assert len(rows(window)) == 8
    assert rows(window)[0][AuditColumn.WORKSTATION] == "CR3"
    assert window.count_label.text() == "8 entries · ⚠ 2 break-glass uses"
    # Other writes (an incident's log) do not make it read again.
    session.announce(ChangeSet(("x",), kinds=frozenset({"log.added"})))
    assert not window._in_flight


def test_a_dispatcher_is_offered_nothing(
    trail: Trail, open_window: Callable[[ConsoleSession], AuditWindow]
) -> None:
    window = open_window(trail.session(DISPATCHER))
    assert window.tabs is None
    assert window.explanation.text() == (
        "Your role (dispatcher) cannot review the audit trail: administrators and duty "
        "managers can."
    )
    assert [b.text() for b in window.findChildren(QtWidgets.QPushButton)] == ["Close"]


# ---- the server's record, and the export -----------------------------------------------------
def test_without_a_server_the_second_tab_says_why(
    trail: Trail, open_window: Callable[[ConsoleSession], AuditWindow]
) -> None:
    window = open_window(trail.session(MANAGER))
    assert window.tabs is not None
    assert window.tabs.tabText(1) == "&Server record"
    assert window.server_note.text() == NO_SERVER
    assert not window.server_view.isVisibleTo(window)


def test_the_server_record_and_the_csv_export_carry_both_records(
    qtbot: QtBot,
    tmp_path: Path,
    trail: Trail,
    authority: LocalAuthority,
    open_window: Callable[[ConsoleSession], AuditWindow],
) -> None:
    # Someone typed a formula as their name at the break-glass screen.
    break_glass(trail.store, HOSTILE, "CR3")
    session = trail.session(MANAGER)
    session.server_audit = lambda: LocalAdministration(authority.service, "Admin One")
    window = AuditWindow(session)
    qtbot.addWidget(window)
    with (
        qtbot.waitSignal(window.loaded, timeout=5000),
        qtbot.waitSignal(window.server_loaded, timeout=5000),
    ):
        window.show()
    server = window.server_model
    assert server.rowCount() == 2
    assert server.index(0, 2).data() == "workstation enrolled"
    assert server.index(1, 2).data() == "account created"
    assert window.server_note.text().startswith(
        "The record kept by this workstation (standalone): 2 entries"
    )
    window.set_filter(AuditFilter.BREAK_GLASS)  # the export is whole, whatever is shown

    target = tmp_path / "audit.csv"
    click_export(qtbot, window, target)
    with target.open(encoding="utf-8", newline="") as stream:
        found = list(csv.reader(stream))
    assert tuple(found[0]) == HEADER
    body = [dict(zip(HEADER, line, strict=True)) for line in found[1:]]
    assert [r["source"] for r in body] == ["workstation"] * 8 + ["server"] * 2
    glass = [r for r in body if r["break_glass"] == "yes"]
    assert [r["workstation"] for r in glass] == ["CR3", "CR2"]
    assert glass[0]["subject"] == "'" + HOSTILE  # neutralised: shown as text, never run
    assert glass[1]["subject"] == "PC Bob Lee"
    assert glass[1]["who"] == "Control Room"
    assert glass[1]["what"].startswith("BREAK-GLASS sign-in as dispatcher by PC Bob Lee")
    assert glass[1]["when_london"].endswith(("GMT", "BST"))
    assert glass[1]["detail"] == "signed"
    assert body[-1]["what"] == "account created"
    assert body[-1]["who"] == "first run at CR1"
    assert body[-1]["subject"] == "Admin One"
    assert window.export_status.text() == f"Saved {target}"


def click_export(qtbot: QtBot, window: AuditWindow, target: Path) -> None:
    """Export CSV… as the reviewer does it: the button, then a file name in the dialog."""
    qtbot.mouseClick(window.export_button, QtCore.Qt.MouseButton.LeftButton)
    dialog = window.file_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    with qtbot.waitSignal(window.export_finished, timeout=5000):
        dialog.selectFile(str(target))
        dialog.accept()


# ---- the notice ------------------------------------------------------------------------------
def wait_notice(qtbot: QtBot, notice: BreakGlassNotice) -> None:
    qtbot.waitUntil(lambda: not notice._in_flight, timeout=5000)


def test_the_notice_tells_a_duty_manager_of_break_glass_use(qtbot: QtBot, trail: Trail) -> None:
    session = trail.session(MANAGER)
    notice = BreakGlassNotice(session)
    qtbot.addWidget(notice)
    wait_notice(qtbot, notice)
    (use,) = [r for r in audit.audit_trail(trail.store) if audit.is_break_glass(r.event)]
    at = from_iso(use.event.recorded_at).astimezone(LONDON)
    today = at.date() == datetime.now(UTC).astimezone(LONDON).date()
    hour = at.strftime("%H:%M") if today else at.strftime("%a %H:%M")
    assert notice.text() == f"⚠ Break-glass used: 1 in the last 7 days (CR2, {hour})"
    assert not notice.isHidden()
    assert "PC Bob Lee on Control Room" in notice.toolTip()
    # Clicking it asks for the audit trail (the main window opens it).
    notice.show()
    with qtbot.waitSignal(notice.clicked, timeout=1000):
        qtbot.mouseClick(notice, QtCore.Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(notice.clicked, timeout=1000):
        notice.setFocus()
        qtbot.keyClick(notice, QtCore.Qt.Key.Key_Return)
    # A second use, written now, is counted when it is announced.
    with qtbot.waitSignal(notice.updated, timeout=5000):
        session.announce(break_glass(trail.store, "PC Ann Cole", "CR3"))
    assert notice.text().startswith("⚠ Break-glass used: 2 in the last 7 days (latest CR3, ")


HEADERS: list[QtWidgets.QWidget] = []  # kept alive for the test that made them


@pytest.fixture(autouse=True)
def _forget_headers() -> Iterator[None]:
    yield
    HEADERS.clear()


def in_header(qtbot: QtBot, session: ConsoleSession, **kw: Any) -> BreakGlassNotice:
    """A notice in a shown header, as the main window holds it (it shows and hides itself)."""
    header = QtWidgets.QWidget()
    HEADERS.append(header)
    layout = QtWidgets.QHBoxLayout(header)
    notice = BreakGlassNotice(session, header, **kw)
    layout.addWidget(notice)
    qtbot.addWidget(header)
    header.show()
    wait_notice(qtbot, notice)
    return notice


def test_the_notice_is_hidden_from_dispatchers_and_when_there_is_nothing_to_say(
    qtbot: QtBot, tmp_path: Path, trail: Trail
) -> None:
    session = trail.session(MANAGER)
    notice = in_header(qtbot, session)
    assert notice.isVisible()
    sign_in_as(session, DISPATCHER)  # a shift change at the desk
    wait_notice(qtbot, notice)
    assert not notice.isVisible()
    assert notice.text() == ""
    sign_in_as(session, MANAGER)
    qtbot.waitUntil(notice.isVisible, timeout=5000)

    assert not in_header(qtbot, trail.session(DISPATCHER)).isVisible()

    # A week later the use has gone out of the notice's seven days.
    later = in_header(
        qtbot, trail.session(MANAGER), clock=lambda: datetime.now(UTC) + timedelta(days=8)
    )
    assert not later.isVisible()

    # And a workstation where nobody used it says nothing at all.
    empty = Store.open(tmp_path / "empty.db")
    quiet_session = make_session(empty, MANAGER)
    try:
        assert not in_header(qtbot, quiet_session).isVisible()
    finally:
        quiet_session.worker.shutdown()
        empty.close()
