"""The console's session: who is signed in, where, and the one path from widgets to the store.

Widgets never touch the store directly: reads go through :meth:`read` and writes through
:meth:`perform`, both on the database worker. A write announces itself on the save-state signal
("saving", then "saved" or "failed" with the reason) and its ChangeSet on ``changes_applied``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from osc_console.models.agencies import Agency
from osc_console.models.changes import ChangeSet
from osc_console.models.clock import LONDON
from osc_console.models.errors import DomainError
from osc_console.models.events import Author
from osc_console.models.users import Action, User
from osc_console.services.administration import Administration
from osc_console.services.identity import Operator
from osc_console.services.incidents import IncidentService, Outcome
from osc_console.store.errors import StoreError
from osc_console.store.event_store import Store
from osc_console.ui.signals import AppSignals
from osc_console.ui.tasks import DbWorker

T = TypeVar("T")


def not_saved(message: str) -> str:
    """'Not saved: …' once, whether or not the reason already starts by saying so."""
    if message.lower().startswith("not saved"):
        return message[:1].upper() + message[1:]
    return f"Not saved: {message}"


def describe_error(error: BaseException) -> str:
    """What the operator reads when something is refused or cannot be saved."""
    if isinstance(error, DomainError | StoreError):
        return str(error)
    return f"unexpected error: {error.__class__.__name__}: {error}"


class ConsoleSession:
    def __init__(
        self, store: Store, worker: DbWorker, signals: AppSignals, workstation: str
    ) -> None:
        self.store = store
        self.worker = worker
        self.signals = signals
        self.workstation = workstation
        self.operator: Operator | None = None
        # While the console is locked nothing is written in anyone's name (the guard sets it).
        self.locked = False
        # Set by the composition root: the authority's accounts, for an administrator
        # (None: not available, e.g. offline with a server).
        self.administration: Callable[[], Administration | None] = lambda: None
        # Set by the composition root: the server's own audit record, for reviewers.
        self.server_audit: Callable[[], Administration | None] = lambda: None

    # ---- who -----------------------------------------------------------------------------
    @property
    def realm(self) -> str:
        return self.store.realm

    @property
    def user(self) -> User | None:
        return self.operator.person if self.operator is not None else None

    @property
    def agency(self) -> Agency:
        return self.operator.agency if self.operator else Agency.CORPORATION

    @property
    def author(self) -> Author:
        """The signed-in person, with their key: everything written is signed by them."""
        if self.operator is None:
            raise DomainError("nobody is signed in")
        if self.locked:
            raise DomainError("the console is locked: unlock it first")
        return self.operator.author(self.store.realm)

    def may(self, action: Action) -> bool:
        return self.user is not None and self.user.may(action)

    def sign_in(self, operator: Operator | None) -> None:
        """Who is at the keyboard now (None: nobody, after signing out)."""
        self.operator = operator
        self.signals.operator_changed.emit(operator)

    # ---- the two doors -------------------------------------------------------------------
    def read(
        self,
        work: Callable[[Store], T],
        done: Callable[[T], None],
        failed: Callable[[str], None] | None = None,
    ) -> None:
        store = self.store
        self.worker.submit(
            lambda: work(store),
            done,
            (lambda exc: failed(describe_error(exc))) if failed else None,
        )

    def perform(
        self,
        work: Callable[[IncidentService], Outcome],
        done: Callable[[Outcome], None] | None = None,
        failed: Callable[[str], None] | None = None,
    ) -> None:
        """Run a write; the operator sees 'saving' at once and 'saved' only once it is durable."""
        service = IncidentService(self.store, self.author)
        self.signals.save_state.emit("saving", "Saving…")

        def ok(outcome: Outcome) -> None:
            stamp = datetime.now(LONDON).strftime("%H:%M:%S")
            self.signals.save_state.emit("saved", f"Saved {stamp}")
            self.signals.changes_applied.emit(outcome.changes)
            if done is not None:
                done(outcome)

        def bad(error: BaseException) -> None:
            message = describe_error(error)
            self.signals.save_state.emit("failed", not_saved(message))
            if failed is not None:
                failed(message)

        self.worker.submit(lambda: work(service), ok, bad)

    def announce(self, changes: ChangeSet) -> None:
        self.signals.changes_applied.emit(changes)

    def run(
        self,
        work: Callable[[Store], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[str], None] | None = None,
    ) -> None:
        """Store work that is not an incident write (users, checkpoints)."""
        store = self.store
        self.worker.submit(
            lambda: work(store),
            done,
            (lambda exc: failed(describe_error(exc))) if failed else None,
        )
