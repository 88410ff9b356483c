"""Calls to the authority off the UI thread, answered on it.

The authority may be a server across the room's network (a slow or lost connection must not
freeze the console) or this workstation's own accounts file. Calls run one at a time, in
order, on their own thread (never the database worker's: a slow server must not hold up the
log); each answer comes back through a queued signal and its callback runs on the UI thread,
with a refusal as the authority's own sentence.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from osc_console.services.administration import Administration, AuditLine
from osc_console.ui.qt import QtCore
from osc_console.ui.session import describe_error

T = TypeVar("T")
log = logging.getLogger(__name__)

AUDIT_PAGE = 1000  # what the authority gives at most per request
RECORD_LIMIT = 50_000  # lines read at most in one go

Done = Callable[[Any], None]
Failed = Callable[[str], None]


class _Bridge(QtCore.QObject):
    # (token, (result, error)): wrapped in a tuple, as ui/tasks.py explains (a bare None
    # through a queued `object` argument upsets PySide6's reference counts).
    finished = QtCore.Signal(int, object)
    busy_changed = QtCore.Signal(bool)


class AuthorityCalls:
    """A serial background caller whose answers land on the UI thread."""

    def __init__(self, name: str = "osc-authority") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._bridge = _Bridge()
        self._bridge.finished.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._tokens = itertools.count(1)
        self._closed = False

    @property
    def busy_changed(self) -> Any:
        """(bool) True when a call starts with none in flight, False when the last ends."""
        return self._bridge.busy_changed

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(
        self, work: Callable[[], T], done: Callable[[T], None] | None, failed: Failed | None
    ) -> bool:
        """Run ``work`` in the background; False (and nothing runs) once shut down."""
        if self._closed:
            return False
        token = next(self._tokens)
        self._callbacks[token] = (done, failed)
        if len(self._callbacks) == 1:
            self._bridge.busy_changed.emit(True)
        bridge = self._bridge  # the closure keeps the bridge alive while the call runs

        def run() -> None:
            try:
                result = work()
            except Exception as exc:  # delivered to the UI thread as a sentence
                bridge.finished.emit(token, (None, exc))
            else:
                bridge.finished.emit(token, (result, None))

        self._executor.submit(run)
        return True

    def _deliver(self, token: int, outcome: tuple[object, object]) -> None:
        result, error = outcome
        done, failed = self._callbacks.pop(token, (None, None))
        try:
            if isinstance(error, BaseException):
                if failed is not None:
                    failed(describe_error(error))
                else:
                    log.error("authority call failed", exc_info=error)
            elif done is not None:
                done(result)
        finally:
            if not self._callbacks:
                self._bridge.busy_changed.emit(False)

    def shutdown(self) -> None:
        """Stop taking calls; one in flight finishes on its own and its answer is dropped
        if its window has gone (never wait for a slow server on the UI thread)."""
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)


def read_record(admin: Administration, after: int = 0) -> list[AuditLine]:
    """The authority's record after line ``after``, oldest first, a page at a time (run in
    the background: a long record takes several requests)."""
    lines: list[AuditLine] = []
    while len(lines) < RECORD_LIMIT:
        page = admin.audit(after)
        lines.extend(page)
        if len(page) < AUDIT_PAGE:
            break
        after = max(line.seq for line in page)
    return lines
