"""One serial database worker, so the UI thread never waits on SQLite.

Every store call from a widget goes through :meth:`DbWorker.submit`: the function runs on the
worker thread (one at a time, in order, so the store sees one writer) and its result comes
back to the UI thread through a queued signal, where the callback runs.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from osc_console.ui.qt import QtCore

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Bridge(QtCore.QObject):
    # (token, (result, error)): the pair is wrapped in a tuple because PySide6 mis-counts
    # references to a bare None passed through an `object` argument of a queued signal,
    # which crashes the interpreter at exit ("deallocating None").
    finished = QtCore.Signal(int, object)


class DbWorker(QtCore.QObject):
    """Runs store work off the UI thread and delivers results on it."""

    busy_changed = QtCore.Signal(bool)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="osc-db")
        self._bridge = _Bridge()
        self._bridge.finished.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)
        self._callbacks: dict[
            int, tuple[Callable[[Any], None] | None, Callable[[BaseException], None] | None]
        ] = {}
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False

    def submit(
        self,
        work: Callable[[], T],
        done: Callable[[T], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> Future[Any]:
        if self._closed:
            raise RuntimeError("the database worker has shut down")
        token = next(self._tokens)
        self._callbacks[token] = (done, failed)
        with self._lock:
            self._pending += 1
            first = self._pending == 1
        if first:
            self.busy_changed.emit(True)

        def run() -> None:
            try:
                result = work()
            except BaseException as exc:  # delivered to the UI thread, never lost
                self._bridge.finished.emit(token, (None, exc))
            else:
                self._bridge.finished.emit(token, (result, None))

        return self._executor.submit(run)

    def _deliver(self, token: int, outcome: tuple[object, object]) -> None:
        result, error = outcome
        done, failed = self._callbacks.pop(token, (None, None))
        with self._lock:
            self._pending -= 1
            idle = self._pending == 0
        try:
            if error is not None:
                if failed is not None:
                    failed(error)  # type: ignore[arg-type]
                else:
                    log.error("background task failed", exc_info=error)  # type: ignore[arg-type]
            elif done is not None:
                done(result)
        finally:
            if idle:
                self.busy_changed.emit(False)

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def closed(self) -> bool:
        """Shut down: nothing more can be submitted."""
        return self._closed

    def shutdown(self) -> None:
        """Finish queued work, then stop the thread (called before the store is closed)."""
        self._closed = True
        self._executor.shutdown(wait=True)
