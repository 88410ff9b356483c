"""The incident queue: table model over store queries, and the panel an operator drives."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.clock import now_utc, to_iso
from osc_console.models.events import Author
from osc_console.models.users import Role, User
from osc_console.services.incidents import IncidentService, Location, Outcome
from osc_console.store import queries
from osc_console.store.queries import QueueFilter, QueueOrder, StatusFilter
from osc_console.ui.qt import QtCore, QtGui
from osc_console.ui.queue.panel import QueuePanel, footer_text, search_text
from osc_console.ui.queue.table_model import IncidentTableModel, QueueColumn, QueueRole
from osc_console.ui.session import ConsoleSession
from tests.conftest import knife_incident
from tests.signing import signed
from tests.ui.conftest import make_session, wait_idle

Qt = QtCore.Qt
DISPLAY = Qt.ItemDataRole.DisplayRole


# ---- helpers -----------------------------------------------------------------------------
def ago(minutes: float) -> str:
    return to_iso(now_utc() - timedelta(minutes=minutes))


def write(
    session: ConsoleSession,
    action: Callable[[IncidentService], Outcome],
    author: Author | None = None,
) -> Outcome:
    """Call the service and tell the UI, as a local write does (as ``author``, signed and
    registered in the store, or as the signed-in person).

    The call runs on the database worker (waiting for it here), so the test's writes never
    interleave with the queue's reads on the store's one connection.
    """
    done: list[Outcome] = []

    def work() -> None:
        writer = session.author if author is None else signed(session.store, author)
        done.append(action(IncidentService(session.store, writer)))

    session.worker.submit(work).result(timeout=10)
    assert done, "the write was refused (see the log)"
    session.announce(done[0].changes)
    return done[0]


def open_incident(session: ConsoleSession, **overrides: Any) -> Outcome:
    return write(session, lambda desk: desk.open_incident(knife_incident(**overrides)))


def settle(qtbot: QtBot, session: ConsoleSession, model: IncidentTableModel) -> None:
    """Wait until the id list is current and every row the views asked for has arrived."""
    qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)
    wait_idle(qtbot, session)
    for row in range(model.rowCount()):
        model.data(model.index(row, QueueColumn.REF))
    wait_idle(qtbot, session)
    qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)


def ids_in_view(model: IncidentTableModel) -> list[str]:
    return [model.incident_id(row) or "" for row in range(model.rowCount())]


def column(model: IncidentTableModel, col: QueueColumn) -> list[str]:
    return [model.data(model.index(row, col)) for row in range(model.rowCount())]


@pytest.fixture
def make_model(
    qtbot: QtBot, session: ConsoleSession
) -> Iterator[Callable[..., IncidentTableModel]]:
    made: list[IncidentTableModel] = []

    def make(**kwargs: Any) -> IncidentTableModel:
        model = IncidentTableModel(session, **kwargs)
        made.append(model)
        settle(qtbot, session, model)
        return model

    yield make
    wait_idle(qtbot, session)


@pytest.fixture
def panel(qtbot: QtBot, session: ConsoleSession) -> QueuePanel:
    widget = QueuePanel(session)
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    qtbot.waitExposed(widget)
    settle(qtbot, session, widget.model)
    return widget


@pytest.fixture
def spy_ids(monkeypatch: pytest.MonkeyPatch) -> list[QueueFilter]:
    """Every filter the model asked the store for ids with."""
    asked: list[QueueFilter] = []
    real = queries.queue_ids

    def spy(conn: Any, f: QueueFilter) -> list[str]:
        asked.append(f)
        return real(conn, f)

    monkeypatch.setattr(queries, "queue_ids", spy)
    return asked


# ---- the model ---------------------------------------------------------------------------
def test_model_passes_the_qt_model_tester_through_loads_and_refreshes(
    qtbot: QtBot, qtmodeltester: Any, session: ConsoleSession, make_model: Any
) -> None:
    for minutes in (30, 10, 5):
        open_incident(session, occurred_at=ago(minutes))
    open_incident(session, grade="scheduled", summary="Broken window at a shop front")
    model = make_model()
    assert model.rowCount() == 4
    qtmodeltester.check(model, force_py=True)
    last = model.incident_id(3)
    pinned = QtCore.QPersistentModelIndex(model.index(3, QueueColumn.STATUS))
    # The tester stays attached: a layout change with rows moving and arriving is checked too.
    with qtbot.waitSignal(model.loaded, timeout=5000):
        newest = open_incident(session, occurred_at=ago(60)).incident.id
    settle(qtbot, session, model)
    assert model.rowCount() == 5
    assert model.incident_id(0) == newest
    # Persistent indexes (selections, a view's current row) follow their incident.
    assert pinned.row() == 4
    assert pinned.column() == QueueColumn.STATUS
    assert model.incident_id(pinned.row()) == last


def test_queue_lists_the_most_urgent_first_then_the_oldest(
    session: ConsoleSession, make_model: Any
) -> None:
    scheduled = open_incident(session, grade="scheduled", occurred_at=ago(90)).incident.id
    young = open_incident(session, occurred_at=ago(5)).incident.id
    priority = open_incident(session, grade="priority", occurred_at=ago(50)).incident.id
    old = open_incident(session, occurred_at=ago(40)).incident.id
    model = make_model()
    assert ids_in_view(model) == [old, young, priority, scheduled]
    assert column(model, QueueColumn.GRADE) == [
        "I Immediate",
        "I Immediate",
        "P Priority",
        "S Scheduled",
    ]
    assert model.row_of(priority) == 2
    assert model.incident_id(3) == scheduled
    assert model.incident_id(4) is None


def test_rows_show_what_an_operator_reads_and_the_roles_views_use(
    session: ConsoleSession, make_model: Any
) -> None:
    outcome = open_incident(session, occurred_at=ago(27))
    write(session, lambda desk: desk.assign(outcome.incident.id, "POL-RESP-A"))
    model = make_model()
    row = model.row_of(outcome.incident.id)
    assert row == 0
    ref = outcome.incident.ref

    def cell(col: QueueColumn, role: int = DISPLAY) -> Any:
        return model.data(model.index(0, col), role)

    assert cell(QueueColumn.REF) == ref.split("-", 1)[1]
    assert cell(QueueColumn.AGE) == "27m"
    assert cell(QueueColumn.CATEGORY) == "Person with a weapon"
    assert cell(QueueColumn.LOCATION) == "Leadenhall Street"
    assert cell(QueueColumn.STATUS) == "Assigned"
    assert cell(QueueColumn.LEAD) == "Police"
    assert cell(QueueColumn.TEAMS) == "Response Team A"
    assert isinstance(cell(QueueColumn.GRADE, Qt.ItemDataRole.DecorationRole), QtGui.QIcon)
    assert ref in cell(QueueColumn.LOCATION, Qt.ItemDataRole.ToolTipRole)
    assert "Man seen with a knife" in cell(QueueColumn.REF, Qt.ItemDataRole.ToolTipRole)
    assert "UTC" in cell(QueueColumn.AGE, Qt.ItemDataRole.ToolTipRole)
    assert cell(QueueColumn.GRADE, Qt.ItemDataRole.AccessibleTextRole) == "Immediate"
    assert cell(QueueColumn.REF, QueueRole.IncidentIdRole) == outcome.incident.id
    assert cell(QueueColumn.REF, QueueRole.GradeRole) == "immediate"
    assert cell(QueueColumn.REF, QueueRole.SummaryRole) == "Man seen with a knife outside a bar"
    assert cell(QueueColumn.REF, QueueRole.OpenedAtRole) == outcome.incident.opened_at
    assert cell(QueueColumn.REF, QueueRole.AgeingRole) is True
    assert model.headerData(QueueColumn.GRADE, Qt.Orientation.Horizontal) == "Grade"


def test_grade_shape_differs_as_well_as_colour(session: ConsoleSession, make_model: Any) -> None:
    open_incident(session, grade="immediate")
    open_incident(session, grade="priority")
    model = make_model()
    images = [
        model.data(model.index(row, QueueColumn.GRADE), Qt.ItemDataRole.DecorationRole)
        .pixmap(12, 12)
        .toImage()
        for row in range(2)
    ]
    # A square fills its corner; a triangle leaves it empty.
    assert images[0].pixelColor(2, 10).alpha() > 0
    assert images[1].pixelColor(2, 3).alpha() == 0
    hues = [image.pixelColor(6, 8).hue() for image in images]
    assert hues[0] != hues[1]


def test_a_changed_incident_repaints_only_its_own_row(
    qtbot: QtBot, session: ConsoleSession, make_model: Any
) -> None:
    first = open_incident(session, occurred_at=ago(20)).incident.id
    second = open_incident(session, grade="priority").incident.id
    model = make_model()
    row = model.row_of(second)
    assert row == 1
    assert model.data(model.index(row, QueueColumn.GRADE)) == "P Priority"
    painted: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: painted.append((top.row(), bottom.row())))
    with qtbot.waitSignal(model.dataChanged, timeout=5000):
        write(session, lambda desk: desk.change_grade(second, "scheduled"))
    wait_idle(qtbot, session)
    assert model.data(model.index(row, QueueColumn.GRADE)) == "S Scheduled"
    assert painted
    assert set(painted) == {(row, row)}
    assert ids_in_view(model) == [first, second]


def test_a_conflicted_incident_is_flagged_on_its_ref(
    session: ConsoleSession, make_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_incident(session)
    real = queries.rows_by_id

    def conflicted(conn: Any, ids: list[str]) -> dict[str, queries.QueueRow]:
        from dataclasses import replace

        return {k: replace(v, has_conflict=True) for k, v in real(conn, ids).items()}

    monkeypatch.setattr(queries, "rows_by_id", conflicted)
    model = make_model()
    index = model.index(0, QueueColumn.REF)
    assert isinstance(model.data(index, Qt.ItemDataRole.DecorationRole), QtGui.QIcon)
    assert "⚠" in model.data(index, Qt.ItemDataRole.ToolTipRole)


def test_ages_count_live_and_flag_what_is_past_its_target(
    qtbot: QtBot, session: ConsoleSession, make_model: Any
) -> None:
    clock = [now_utc()]
    immediate = open_incident(session, occurred_at=to_iso(clock[0] - timedelta(minutes=20)))
    priority = open_incident(
        session, grade="priority", occurred_at=to_iso(clock[0] - timedelta(minutes=20))
    )
    model = make_model(now=lambda: clock[0])
    late, fine = (model.row_of(immediate.incident.id), model.row_of(priority.incident.id))
    assert late is not None
    assert fine is not None

    def at(row: int, role: int = DISPLAY, col: QueueColumn = QueueColumn.AGE) -> Any:
        return model.data(model.index(row, col), role)

    assert at(late) == "20m"
    assert at(late, QueueRole.AgeingRole) is True
    assert at(late, Qt.ItemDataRole.BackgroundRole) is not None
    assert at(late, Qt.ItemDataRole.FontRole).bold()
    assert at(fine, QueueRole.AgeingRole) is False
    assert at(fine, Qt.ItemDataRole.BackgroundRole) is None

    clock[0] += timedelta(minutes=45)
    ages: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: ages.append((top.column(), bottom.column())))
    model.set_tick_interval(20)
    qtbot.waitUntil(lambda: (QueueColumn.AGE, QueueColumn.AGE) in ages, timeout=5000)
    assert at(late) == "1h05"
    assert at(fine) == "1h05"
    assert at(fine, QueueRole.AgeingRole) is True  # Priority's target is an hour
    # The age column for every row; whole rows only for the one that has just begun ageing.
    assert (QueueColumn.AGE, QueueColumn.AGE) in ages
    assert (0, len(QueueColumn) - 1) in ages


def test_rows_are_fetched_lazily_a_page_at_a_time(
    qtbot: QtBot,
    session: ConsoleSession,
    make_model: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from synthetic import STAFF, synthetic_events

    start = now_utc() - timedelta(days=2)
    events = synthetic_events(600, 0, seed=11, start=start)
    STAFF.enrol(session.store)  # the store holds the certificates of the keys that signed them
    assert session.store.apply_remote(events).rejected == ()
    fetched: list[list[str]] = []
    real = queries.rows_by_id

    def spy(conn: Any, ids: list[str]) -> dict[str, queries.QueueRow]:
        fetched.append(list(ids))
        return real(conn, ids)

    monkeypatch.setattr(queries, "rows_by_id", spy)
    model = IncidentTableModel(session)
    qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)
    assert model.rowCount() == 600
    wait_idle(qtbot, session)
    assert fetched == []  # holding ids only: nothing is read before a view asks

    painted: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: painted.append((top.row(), bottom.row())))
    assert model.data(model.index(450, QueueColumn.LOCATION)) == "…"
    assert model.data(model.index(451, QueueColumn.REF)) == "…"  # same page: asked once
    wait_idle(qtbot, session)
    assert len(fetched) == 1
    assert fetched[0] == ids_in_view(model)[400:600]
    assert painted == [(400, 599)]
    assert model.data(model.index(450, QueueColumn.LOCATION)) != "…"
    assert model.data(model.index(10, QueueColumn.REF)) == "…"
    wait_idle(qtbot, session)
    assert len(fetched) == 2
    assert fetched[1] == ids_in_view(model)[0:200]
    assert model.data(model.index(10, QueueColumn.REF)) != "…"
    assert model.data(model.index(300, QueueColumn.REF)) == "…"  # rows 200-399: never asked


# ---- the panel ---------------------------------------------------------------------------
def click_header(qtbot: QtBot, panel: QueuePanel, col: QueueColumn) -> None:
    header = panel.table.horizontalHeader()
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QtCore.QPoint(x, header.height() // 2)
    )


def test_header_clicks_sort_through_the_store(
    qtbot: QtBot, session: ConsoleSession, spy_ids: list[QueueFilter]
) -> None:
    outcomes = [open_incident(session, grade=g) for g in ("scheduled", "immediate", "priority")]
    refs = sorted(o.incident.ref for o in outcomes)
    widget = QueuePanel(session)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    qtbot.waitExposed(widget)
    settle(qtbot, session, widget.model)
    model = widget.model
    assert spy_ids[-1].order is QueueOrder.URGENCY
    assert column(model, QueueColumn.GRADE)[0] == "I Immediate"

    def full_refs() -> list[str]:
        return [model.queue_row(r).ref for r in range(model.rowCount())]  # type: ignore[union-attr]

    click_header(qtbot, widget, QueueColumn.REF)
    qtbot.waitUntil(lambda: spy_ids[-1].order is QueueOrder.REF, timeout=5000)
    settle(qtbot, session, model)
    assert not spy_ids[-1].descending
    assert full_refs() == refs
    click_header(qtbot, widget, QueueColumn.REF)
    qtbot.waitUntil(lambda: spy_ids[-1].descending, timeout=5000)
    settle(qtbot, session, model)
    assert full_refs() == refs[::-1]
    click_header(qtbot, widget, QueueColumn.GRADE)
    qtbot.waitUntil(lambda: spy_ids[-1].order is QueueOrder.URGENCY, timeout=5000)
    settle(qtbot, session, model)
    assert column(model, QueueColumn.GRADE) == ["I Immediate", "P Priority", "S Scheduled"]
    click_header(qtbot, widget, QueueColumn.AGE)  # the first click: the oldest first
    qtbot.waitUntil(lambda: spy_ids[-1].order is QueueOrder.OLDEST, timeout=5000)
    settle(qtbot, session, model)
    assert full_refs() == refs


def pick(combo: Any, data: object) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def test_status_filter_and_a_closed_incident_leaving_the_open_queue(
    qtbot: QtBot, session: ConsoleSession, panel: QueuePanel
) -> None:
    kept = open_incident(session).incident.id
    gone = open_incident(session, grade="priority").incident.id
    model = panel.model
    settle(qtbot, session, model)
    assert set(ids_in_view(model)) == {kept, gone}
    assert panel.select_incident(gone)
    # The incident the operator is on is closed elsewhere: it leaves the open queue, and the
    # panel says that nothing is selected rather than silently pointing at another incident.
    with qtbot.waitSignal(panel.incident_selected, timeout=5000) as cleared:
        write(session, lambda desk: desk.close(gone, "CL-NOCRIME", "Advice given"))
    assert cleared.args == [""]
    assert ids_in_view(model) == [kept]
    assert panel.current_incident_id() is None
    pick(panel.status_combo, StatusFilter.CLOSED)
    qtbot.waitUntil(lambda: ids_in_view(model) == [gone], timeout=5000)
    pick(panel.status_combo, StatusFilter.ALL)
    qtbot.waitUntil(lambda: set(ids_in_view(model)) == {kept, gone}, timeout=5000)
    pick(panel.status_combo, StatusFilter.OPEN)
    qtbot.waitUntil(lambda: ids_in_view(model) == [kept], timeout=5000)


def test_team_and_agency_filters(qtbot: QtBot, session: ConsoleSession, panel: QueuePanel) -> None:
    police = open_incident(session).incident.id
    council = open_incident(
        session,
        summary="Rubbish bags dumped",
        category="CS-FLYTIP",
        lead_agency=Agency.CORPORATION,
        grade=None,
        council_priority="routine",
    ).incident.id
    write(session, lambda desk: desk.assign(police, "POL-RESP-A"))
    write(session, lambda desk: desk.assign(council, "COL-CLEANSE"))
    model = panel.model
    settle(qtbot, session, model)
    assert len(ids_in_view(model)) == 2
    pick(panel.team_combo, "COL-CLEANSE")
    qtbot.waitUntil(lambda: ids_in_view(model) == [council], timeout=5000)
    pick(panel.team_combo, "POL-RESP-A")
    qtbot.waitUntil(lambda: ids_in_view(model) == [police], timeout=5000)
    # Agency headings group the teams and cannot be chosen.
    headings = panel.team_combo.model()
    flags = [headings.flags(headings.index(r, 0)) for r in range(headings.rowCount())]
    assert sum(1 for f in flags if not f & Qt.ItemFlag.ItemIsSelectable) >= 2
    panel.team_combo.setCurrentIndex(0)
    pick(panel.agency_combo, Agency.CORPORATION)
    qtbot.waitUntil(lambda: ids_in_view(model) == [council], timeout=5000)


def test_mine_shows_only_incidents_i_opened(
    qtbot: QtBot, session: ConsoleSession, panel: QueuePanel
) -> None:
    mine = open_incident(session).incident.id
    write(
        session,
        lambda desk: desk.open_incident(knife_incident(summary="Fight outside the station")),
        author=Author("PC Raj Patel", Agency.POLICE, "CR2", role="dispatcher"),
    )
    model = panel.model
    qtbot.waitUntil(lambda: len(ids_in_view(model)) == 2, timeout=5000)
    panel.mine_check.setChecked(True)
    qtbot.waitUntil(lambda: ids_in_view(model) == [mine], timeout=5000)
    panel.mine_check.setChecked(False)
    qtbot.waitUntil(lambda: len(ids_in_view(model)) == 2, timeout=5000)


def test_search_finds_log_text_and_never_fails_on_search_syntax(
    qtbot: QtBot, session: ConsoleSession, panel: QueuePanel, spy_ids: list[QueueFilter]
) -> None:
    knife = open_incident(session).incident.id
    bike = open_incident(
        session,
        summary="Bicycle stolen from a rack",
        category="ACQ-CYCLE",
        location=Location("Cheapside"),
        grade="scheduled",
    ).incident.id
    write(session, lambda desk: desk.add_log(bike, "Suspect wore a green parka"))
    model = panel.model
    failures: list[str] = []
    model.load_failed.connect(failures.append)
    qtbot.waitUntil(lambda: len(ids_in_view(model)) == 2, timeout=5000)

    qtbot.keyClicks(panel.search_edit, "parka")
    assert model.queue_filter().search is None  # debounced: not a query on every key
    qtbot.waitUntil(lambda: ids_in_view(model) == [bike], timeout=5000)
    assert [f.search for f in spy_ids if f.search] == ["parka"]

    panel.search_edit.clear()
    qtbot.keyClicks(panel.search_edit, '"knife* AND (')
    qtbot.waitUntil(lambda: ids_in_view(model) == [knife], timeout=5000)
    settle(qtbot, session, model)
    qtbot.waitUntil(lambda: "matching" in panel.footer.text(), timeout=5000)
    assert panel.footer.text().startswith("1 open")

    for typed in ('"', "NEAR(", "*", "bike OR", "knife NOT"):
        panel.search_edit.setText(typed)
        panel.search_edit.returnPressed.emit()
        settle(qtbot, session, model)
    assert failures == []
    assert search_text('"knife* AND (') == '"knife* ('
    assert search_text("  ") is None


def test_a_corporation_user_never_sees_a_police_only_incident(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    joint = open_incident(session, summary="Knife seen near the market").incident.id
    secret = open_incident(
        session, summary="Knife: covert operation briefing", visibility=Visibility.POLICE
    )
    council = make_session(session.store, User("Sam Okafor", Agency.CORPORATION, Role.DISPATCHER))
    try:
        model = IncidentTableModel(council)
        settle(qtbot, council, model)
        assert ids_in_view(model) == [joint]
        # Whatever filter a caller asks for, the viewer is the signed-in agency.
        model.set_filter(QueueFilter(viewer=Agency.POLICE, status=StatusFilter.ALL))
        settle(qtbot, council, model)
        assert ids_in_view(model) == [joint]
        model.set_filter(QueueFilter(viewer=Agency.POLICE, search="covert"))
        settle(qtbot, council, model)
        assert ids_in_view(model) == []
        with qtbot.waitSignal(model.loaded, timeout=5000):
            council.announce(secret.changes)
        assert secret.incident.id not in ids_in_view(model)
        # The police session sees both.
        police = IncidentTableModel(session)
        settle(qtbot, session, police)
        assert set(ids_in_view(police)) == {joint, secret.incident.id}
    finally:
        wait_idle(qtbot, council)
        council.worker.shutdown()


def test_a_new_incident_appears_and_the_selection_stays_put(
    qtbot: QtBot, session: ConsoleSession, panel: QueuePanel
) -> None:
    open_incident(session, occurred_at=ago(30))
    chosen = open_incident(session, grade="priority").incident.id
    model = panel.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5000)
    with qtbot.waitSignal(panel.incident_selected, timeout=2000) as selected:
        assert panel.select_incident(chosen)
    assert selected.args == [chosen]
    assert panel.current_incident_id() == chosen
    announced: list[str] = []
    panel.incident_selected.connect(announced.append)

    newer = open_incident(session, occurred_at=ago(45)).incident.id  # sorts above
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5000)
    settle(qtbot, session, model)
    assert ids_in_view(model)[0] == newer
    assert panel.current_incident_id() == chosen
    rows = panel.table.selectionModel().selectedRows()
    assert [model.incident_id(i.row()) for i in rows] == [chosen]
    assert panel.table.currentIndex().row() == model.row_of(chosen) == 2
    assert announced == []  # still the same incident: nobody is told it changed


def test_an_incident_is_selected_as_soon_as_it_is_loaded(
    qtbot: QtBot, session: ConsoleSession, panel: QueuePanel
) -> None:
    seen: list[str] = []
    session.signals.incident_selected.connect(seen.append)
    done: list[Outcome] = []

    def opened(outcome: Outcome) -> None:  # what the new-incident dialog does once saved
        done.append(outcome)
        panel.select_incident(outcome.incident.id)

    session.perform(lambda desk: desk.open_incident(knife_incident()), opened)
    qtbot.waitUntil(lambda: bool(done) and panel.current_incident_id() is not None, timeout=5000)
    assert panel.current_incident_id() == done[0].incident.id
    assert seen == [done[0].incident.id]  # forwarded to the app-wide signal


def test_keyboard_navigation_and_focus(
    qtbot: QtBot, session: ConsoleSession, panel: QueuePanel
) -> None:
    for minutes in (30, 20, 10):
        open_incident(session, occurred_at=ago(minutes))
    model = panel.model
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5000)
    panel.select_next()
    assert panel.current_incident_id() == model.incident_id(0)
    panel.select_next()
    panel.select_next()
    panel.select_next()  # stops at the last row
    assert panel.current_incident_id() == model.incident_id(2)
    panel.select_previous()
    assert panel.current_incident_id() == model.incident_id(1)
    panel.focus_search()
    assert panel.search_edit.hasFocus()
    qtbot.keyClick(panel.search_edit, Qt.Key.Key_Down)
    assert panel.table.hasFocus()
    assert not panel.select_incident("0190a1b2-0000-7000-8000-000000000000")
    for widget in (
        panel.status_combo,
        panel.agency_combo,
        panel.team_combo,
        panel.mine_check,
        panel.search_edit,
        panel.table,
        panel.footer,
    ):
        assert widget.accessibleName(), widget


def test_footer_counts_follow_the_status_filter(
    qtbot: QtBot, session: ConsoleSession, panel: QueuePanel
) -> None:
    open_incident(session, occurred_at=ago(20))  # Immediate, past its 15 minutes
    open_incident(session)
    open_incident(session, grade="priority")
    closed = open_incident(session, grade="scheduled").incident.id
    write(session, lambda desk: desk.close(closed, "CL-NOCRIME", "Advice given"))
    qtbot.waitUntil(lambda: panel.footer.text() == "3 open · 2 Immediate · 1 ageing", timeout=5000)
    pick(panel.status_combo, StatusFilter.CLOSED)
    qtbot.waitUntil(lambda: panel.footer.text() == "1 closed · 0 Immediate", timeout=5000)
    pick(panel.status_combo, StatusFilter.ALL)
    qtbot.waitUntil(
        lambda: panel.footer.text() == "4 incidents · 2 Immediate · 1 ageing", timeout=5000
    )


def test_footer_wording() -> None:
    f = QueueFilter(viewer=Agency.POLICE, status=StatusFilter.ALL)
    assert footer_text(queries.QueueCounts(1, 0, 0), f) == "1 incident · 0 Immediate · 0 ageing"
    assert (
        footer_text(queries.QueueCounts(1312, 18, 4), QueueFilter(viewer=Agency.POLICE))
        == "1,312 open · 18 Immediate · 4 ageing"
    )


def test_todays_refs_are_short_and_other_days_keep_their_date() -> None:
    from osc_console.ui.queue.format import short_ref

    assert short_ref("20261124-CR1-0042", today="20261124") == "CR1-0042"
    assert short_ref("20261122-CR1-0042", today="20261124") == "22/11 CR1-0042"
    assert short_ref("not-a-ref", today="20261124") == "not-a-ref"
