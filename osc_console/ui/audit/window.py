"""The audit window: who was at the keyboard, for administrators and duty managers.

Two records answer that question. This workstation's log holds the sign-ins, sign-outs,
locks, failed attempts and break-glass uses of every workstation it syncs with, each signed
by whoever did it; the authority (the server) keeps its own record of account changes and the
sign-ins it saw. The first tab reads the log on the database worker and follows new audit
entries as they are written or pulled; the second asks the authority in the background when
this console can reach it, and says why not otherwise. One CSV export carries both.
"""

from __future__ import annotations

from pathlib import Path

from osc_console.models.changes import ChangeSet
from osc_console.models.payloads import AUDIT_KINDS
from osc_console.models.users import Action
from osc_console.reports.audit_csv import AuditCsvRow, write_audit_csv
from osc_console.services.administration import Administration, AuditLine
from osc_console.services.audit import AuditRecord, audit_trail, is_break_glass
from osc_console.ui.admin.calls import AuthorityCalls, read_record
from osc_console.ui.admin.models import RecordColumn, RecordTableModel
from osc_console.ui.admin.window import fit_columns, make_table
from osc_console.ui.audit.models import (
    AuditColumn,
    AuditFilter,
    AuditFilterProxy,
    AuditTrailTableModel,
    server_row,
    workstation_row,
)
from osc_console.ui.dialogs.fields import alive, make_combo, muted, set_role
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession

TRAIL_LIMIT = 5000  # the newest entries shown (the CSV carries the same)

NO_SERVER = (
    "The server's record (account changes, and the sign-ins it saw from every workstation) "
    "is shown when this console is signed in online to the server. It cannot be reached "
    "now, or you signed in offline."
)


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


class AuditWindow(QtWidgets.QWidget):
    """A top-level window for reviewers (``Action.REVIEW_AUDIT``)."""

    loaded = QtCore.Signal()  # the workstation's trail was read (or could not be)
    server_loaded = QtCore.Signal()  # the server's record was read (or could not be)
    export_finished = QtCore.Signal(str)  # "Saved <path>", or why not

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.session = session
        self.calls = AuthorityCalls("osc-audit")
        self.file_dialog: QtWidgets.QFileDialog | None = None
        self.tabs: QtWidgets.QTabWidget | None = None
        self.server: Administration | None = None
        self._in_flight = False
        self._dirty = False
        self._exporting = False
        self.setWindowTitle("Audit trail · OSC Console")
        self.setAccessibleName("Audit trail")
        self.resize(1100, 700)
        self.setMinimumSize(760, 440)

        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 10)
        outer.setSpacing(8)
        self.title = QtWidgets.QLabel("Audit trail")
        self.title.setProperty("role", "title")
        outer.addWidget(self.title)
        self.explanation = QtWidgets.QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setAccessibleName("Why nothing is shown")
        self.explanation.hide()
        outer.addWidget(self.explanation)

        self.permitted = session.may(Action.REVIEW_AUDIT)
        if self.permitted:
            self.title.setText(f"Audit trail · workstation {session.workstation}")
            self.server = session.server_audit()
            outer.addWidget(self._build_tabs(), 1)
        else:
            user = session.user
            who = f"Your role ({user.role.label})" if user else "Nobody signed in"
            text = f"{who} cannot review the audit trail: administrators and duty managers can."
            self.explanation.setText(text)
            self.explanation.show()
        outer.addLayout(self._build_footer())

        for keys, slot in (("F5", self.reload), ("Ctrl+W", self._close)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.activated.connect(slot)
        session.signals.operator_changed.connect(self._operator_changed)
        if self.permitted:
            session.signals.changes_applied.connect(self._changes_applied)
            self.trail_view.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
            self.reload()

    # ---- building ------------------------------------------------------------------------
    def _build_tabs(self) -> QtWidgets.QTabWidget:
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setAccessibleName("Audit records")
        self.tabs.addTab(self._build_trail(), "&Workstation record")
        self.tabs.addTab(self._build_server(), "&Server record")
        return self.tabs

    def _build_trail(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(page)
        column.setContentsMargins(6, 8, 6, 6)
        row = QtWidgets.QHBoxLayout()
        self.filter_combo = make_combo("Show", [(f.label, f) for f in AuditFilter])
        show = QtWidgets.QLabel("S&how")
        show.setBuddy(self.filter_combo)
        row.addWidget(show)
        row.addWidget(self.filter_combo)
        row.addStretch(1)
        self.count_label = muted("Loading…")
        self.count_label.setWordWrap(False)
        self.count_label.setAccessibleName("Entries shown")
        row.addWidget(self.count_label)
        column.addLayout(row)

        self.trail_model = AuditTrailTableModel(self)
        self.trail_proxy = AuditFilterProxy(self.trail_model)
        self.trail_view = make_table(self.trail_model, "Workstation record", self.trail_proxy)
        fit_columns(self.trail_view, AuditColumn.WHAT)
        self.trail_view.sortByColumn(AuditColumn.WHEN, QtCore.Qt.SortOrder.DescendingOrder)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self._filter_changed())
        column.addWidget(self.trail_view, 1)
        self.trail_problem = QtWidgets.QLabel()
        self.trail_problem.setProperty("role", "error")
        self.trail_problem.setWordWrap(True)
        self.trail_problem.hide()
        column.addWidget(self.trail_problem)
        return page

    def _build_server(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(page)
        column.setContentsMargins(6, 8, 6, 6)
        self.server_note = QtWidgets.QLabel()
        self.server_note.setWordWrap(True)
        self.server_note.setAccessibleName("Server record")
        column.addWidget(self.server_note)
        self.server_model = RecordTableModel(self)
        self.server_view = make_table(self.server_model, "Server record")
        fit_columns(self.server_view, RecordColumn.DETAIL)
        self.server_view.sortByColumn(0, QtCore.Qt.SortOrder.DescendingOrder)
        column.addWidget(self.server_view, 1)
        if self.server is None:
            self.server_note.setText(NO_SERVER)
            self.server_view.hide()
            column.addStretch(1)
        else:
            set_role(self.server_note, "muted")
            self.server_note.setText(f"The record kept by {self.server.where}: loading…")
        return page

    def _build_footer(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        hint = muted("F5 reads again · Ctrl+W closes")
        hint.setWordWrap(False)
        row.addWidget(hint)
        self.export_status = muted()
        self.export_status.setAccessibleName("Export")
        row.addWidget(self.export_status, 1)
        if self.permitted:
            self.export_button = QtWidgets.QPushButton("E&xport CSV…")
            self.export_button.setAccessibleName("Export CSV")
            self.export_button.setToolTip(
                "Save both records (whatever the filter) as one CSV file, with a source column"
            )
            self.export_button.setAutoDefault(False)
            self.export_button.clicked.connect(lambda _c=False: self.export_csv())
            row.addWidget(self.export_button)
        close = QtWidgets.QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(lambda _c=False: self._close())
        row.addWidget(close)
        return row

    # ---- reading -------------------------------------------------------------------------
    def reload(self) -> None:
        if not self.permitted:
            return
        self._read_trail()
        self._read_server()

    def _read_trail(self) -> None:
        if self._in_flight:
            self._dirty = True
            return
        self._in_flight = True
        self._dirty = False
        try:
            self.session.read(
                lambda store: audit_trail(store, TRAIL_LIMIT),
                self._trail_arrived,
                self._trail_failed,
            )
        except RuntimeError:  # the worker has shut down: the console is closing
            self._in_flight = False

    def _trail_arrived(self, records: list[AuditRecord]) -> None:
        if not alive(self):
            return
        self._in_flight = False
        self.trail_model.set_items(records)
        self.trail_problem.hide()
        self._count()
        self.loaded.emit()
        if self._dirty:
            self._read_trail()

    def _trail_failed(self, message: str) -> None:
        if not alive(self):
            return
        self._in_flight = False
        self.trail_problem.setText(f"The audit trail could not be read: {message}")
        self.trail_problem.show()
        self.loaded.emit()

    def _read_server(self) -> None:
        server = self.server
        if server is None:
            return
        after = self.server_model.last_seq
        self.calls.submit(
            lambda: read_record(server, after), self._server_arrived, self._server_failed
        )

    def _server_arrived(self, lines: list[AuditLine]) -> None:
        if not alive(self) or self.server is None:
            return
        self.server_model.add_lines(lines)
        count = len(self.server_model.items())
        self.server_note.setText(
            f"The record kept by {self.server.where}: {plural(count, 'entry', 'entries')}, "
            "newest first. London time; hover for UTC."
        )
        set_role(self.server_note, "muted")
        self.server_loaded.emit()

    def _server_failed(self, message: str) -> None:
        if not alive(self):
            return
        self.server_note.setText(f"The server's record could not be read: {message}")
        set_role(self.server_note, "error")
        self.server_loaded.emit()

    def _changes_applied(self, changes: ChangeSet) -> None:
        if alive(self) and changes.kinds & AUDIT_KINDS:
            self.reload()

    # ---- filtering -----------------------------------------------------------------------
    def set_filter(self, wanted: AuditFilter) -> None:
        index = self.filter_combo.findData(wanted)
        if index >= 0:
            self.filter_combo.setCurrentIndex(index)

    def _filter_changed(self) -> None:
        wanted = self.filter_combo.currentData()
        if isinstance(wanted, AuditFilter):
            self.trail_proxy.set_audit_filter(wanted)
            self._count()

    def _count(self) -> None:
        records = self.trail_model.items()
        total = len(records)
        shown = self.trail_proxy.rowCount()
        parts = [
            plural(total, "entry", "entries")
            if shown == total
            else f"{shown:,} of {plural(total, 'entry', 'entries')} shown"
        ]
        glass = sum(1 for r in records if is_break_glass(r.event))
        if glass:
            parts.append(f"⚠ {plural(glass, 'break-glass use')}")
        if total >= TRAIL_LIMIT:
            parts.append(f"the newest {TRAIL_LIMIT:,}")
        self.count_label.setText(" · ".join(parts))

    def shown_records(self) -> list[AuditRecord]:
        """The entries in the table as filtered and sorted now, top to bottom."""
        proxy = self.trail_proxy
        found = []
        for row in range(proxy.rowCount()):
            record = self.trail_model.record(proxy.mapToSource(proxy.index(row, 0)).row())
            if record is not None:
                found.append(record)
        return found

    # ---- export --------------------------------------------------------------------------
    def export_csv(self) -> None:
        """Ask where to save (a non-native dialog), then export there."""
        if not self.permitted or self._exporting:
            return
        dialog = QtWidgets.QFileDialog(self, "Export the audit record as CSV")
        dialog.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QtWidgets.QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setDefaultSuffix("csv")
        dialog.selectFile(str(Path.home() / f"audit-{self.session.workstation}.csv"))
        dialog.fileSelected.connect(lambda name: self.export_to(Path(name)))
        self.file_dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "file_dialog", None))
        dialog.open()

    def export_rows(self) -> list[AuditCsvRow]:
        """Both records, whole (the filter narrows the screen, never the evidence)."""
        rows = [workstation_row(r) for r in self.trail_model.items()]
        rows += [server_row(line) for line in self.server_model.items()]
        return rows

    def export_to(self, path: Path) -> None:
        if not self.permitted or self._exporting:
            return
        rows = self.export_rows()
        self._exporting = True
        self.export_button.setEnabled(False)
        set_role(self.export_status, "muted")
        self.export_status.setText("Exporting…")
        self.calls.submit(lambda: write_audit_csv(rows, path), self._exported, self._export_failed)

    def _exported(self, path: Path) -> None:
        if not alive(self):
            return
        self._exporting = False
        self.export_button.setEnabled(True)
        message = f"Saved {path}"
        self.export_status.setText(message)
        self.export_status.setToolTip(message)
        self.export_finished.emit(message)

    def _export_failed(self, message: str) -> None:
        if not alive(self):
            return
        self._exporting = False
        self.export_button.setEnabled(True)
        text = message[:1].upper() + message[1:]
        set_role(self.export_status, "error")
        self.export_status.setText(text)
        self.export_status.setToolTip(text)
        self.export_finished.emit(text)

    # ---- the session moving on -----------------------------------------------------------
    def _operator_changed(self, _operator: object) -> None:
        if alive(self) and not self.session.may(Action.REVIEW_AUDIT):
            self.close()

    def _close(self) -> None:
        self.close()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        if self.calls.closed:  # shown again after being closed: a new caller
            self.calls = AuthorityCalls("osc-audit")
            self.reload()
        super().showEvent(event)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.calls.shutdown()
        super().closeEvent(event)
