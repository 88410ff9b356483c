"""Keeps every console's view of the exercise current: the banner, messages, the end.

Exercise events arrive through the store: written here, written by another console on the
same store file, or (with a server) applied by sync. The watcher asks the store for the newest
exercise event's id every couple of seconds (one indexed read) and re-reads the exercise only
when it changed, and also at once when a local write says it added exercise events.
"""

from __future__ import annotations

from osc_console.models.changes import ChangeSet
from osc_console.models.exercise_log import ExerciseStatus
from osc_console.services.exercise import status_of
from osc_console.store.event_store import Store
from osc_console.store.exercise_queries import newest_exercise_event
from osc_console.ui.qt import QtCore
from osc_console.ui.session import ConsoleSession

POLL_MS = 2000


class ExerciseWatcher(QtCore.QObject):
    status_changed = QtCore.Signal(object)  # ExerciseStatus
    message_received = QtCore.Signal(object)  # PlayerMessage, newest first seen
    ended = QtCore.Signal(object)  # ExerciseStatus, once

    def __init__(self, session: ConsoleSession, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.status: ExerciseStatus | None = None
        self._newest: str | None = "(not read)"
        self._busy = False
        self._seen_messages = -1  # messages already held when the console opened are not news
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(POLL_MS)
        session.signals.changes_applied.connect(self._changes)
        self.poll()

    def _changes(self, changes: ChangeSet) -> None:
        if any(kind.startswith("exercise.") for kind in changes.kinds):
            self.poll()

    def poll(self) -> None:
        if self.session.worker.closed:  # the console is closing: nothing more to watch
            self.stop()
            return
        if self._busy:
            return
        self._busy = True
        known = self._newest

        def work(store: Store) -> tuple[str | None, ExerciseStatus | None]:
            newest = newest_exercise_event(store.conn)
            return newest, (status_of(store) if newest != known else None)

        self.session.read(work, self._read, self._failed)

    def _failed(self, _message: str) -> None:
        self._busy = False

    def _read(self, result: tuple[str | None, ExerciseStatus | None]) -> None:
        self._busy = False
        newest, status = result
        if status is None:
            return
        was_ended = self.status is not None and self.status.ended
        self._newest = newest
        self.status = status
        self.status_changed.emit(status)
        if self._seen_messages >= 0:
            for message in status.messages[self._seen_messages :]:
                self.message_received.emit(message)
        self._seen_messages = len(status.messages)
        if status.ended and not was_ended:
            self.ended.emit(status)

    def stop(self) -> None:
        self._timer.stop()
