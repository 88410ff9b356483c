"""``osc-console check``: prove the file is what the log says it is.

It verifies SQLite's own integrity, every event's content hash, every author's signature
(against the key certificates held, each checked against a trusted authority), every
workstation chain, and rebuilds every projection from the log to compare with what is stored.
Any difference is a bug or tampering, and is named: the event, the incident, the field.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from osc_console.models.errors import ValidationError
from osc_console.models.events import Event, check_envelope
from osc_console.models.payloads import is_known, validate_payload
from osc_console.models.projection import fold
from osc_console.signing.directory import KeyDirectory, directory_of, event_problems
from osc_console.store import rows
from osc_console.store.event_store import Store
from osc_console.store.migrations import DASHBOARD_TOTALS_FROM_INCIDENTS


@dataclass(frozen=True, slots=True)
class Problem:
    area: str  # "sqlite" | "event" | "chain" | "projection" | "search"
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.area}: {self.subject}: {self.message}"


@dataclass(slots=True)
class CheckReport:
    events: int = 0
    incidents: int = 0
    chains: int = 0
    signed: int = 0
    unsigned: int = 0  # written before signing existed
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "incidents": self.incidents,
            "chains": self.chains,
            "signed": self.signed,
            "unsigned": self.unsigned,
            "problems": [vars_of(p) for p in self.problems],
            "warnings": [vars_of(p) for p in self.warnings],
        }


def vars_of(problem: Problem) -> dict[str, str]:
    return {"area": problem.area, "subject": problem.subject, "message": problem.message}


Progress = Callable[[str], None]


def check_store(store: Store, progress: Progress | None = None) -> CheckReport:
    report = CheckReport()
    say = progress or (lambda _: None)
    say("SQLite integrity")
    _sqlite(store.conn, report)
    if not report.ok:
        return report  # a damaged file: reading further would only repeat the same fault
    say("structure")
    _structure(store, report)
    say("events and chains")
    _events(store, report)
    say("projections")
    _projections(store, report)
    say("dashboard totals")
    _dashboard_totals(store.conn, report)
    say("search index")
    store.index_pending()  # bring the index up to the log first: a backlog is not a fault
    _search(store.conn, report)
    return report


def _sqlite(conn: sqlite3.Connection, report: CheckReport) -> None:
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        result = [f"the file is damaged: {exc}"]
    if result != ["ok"]:
        for line in result[:20]:
            report.problems.append(Problem("sqlite", "integrity_check", line))


# What makes the log append-only and searchable; a missing one is a fault, whatever the data.
_REQUIRED_TRIGGERS = {
    "events_no_update": "the log is no longer protected against UPDATE",
    "events_no_delete": "the log is no longer protected against DELETE",
    "incidents_fts_update": "incident search would miss edited summaries and locations",
    "incidents_fts_delete": "incident search would keep removed incidents",
    "key_certificates_no_update": "the authors' keys are no longer protected against change",
    "key_certificates_no_delete": "the authors' keys are no longer protected against removal",
    "pre_signing_no_update": "the record of entries from before signing is no longer protected",
    "pre_signing_no_delete": "the record of entries from before signing is no longer protected",
}
_REQUIRED_TABLES = (
    "meta",
    "events",
    "incidents",
    "assignments",
    "outbox",
    "users",
    "dashboard_totals",
    "authorities",
    "key_certificates",
    "refused_events",
    "pre_signing",
)


def _structure(store: Store, report: CheckReport) -> None:
    db = store.db
    tables = set(db.table_names())
    for table in _REQUIRED_TABLES:
        if table not in tables:
            report.problems.append(Problem("sqlite", f"table {table}", "is missing"))
    triggers = {t.name for t in db.triggers}
    for name, why in _REQUIRED_TRIGGERS.items():
        if name not in triggers:
            report.problems.append(Problem("sqlite", f"trigger {name}", f"is missing: {why}"))


def _directory(store: Store, report: CheckReport) -> KeyDirectory:
    """The certificates held, each checked afresh against the trusted authorities."""
    authorities = store.authorities_held()
    certs = store.certificates_held()
    directory = directory_of(authorities, certs)
    for cert in certs:
        if cert.key_id not in directory.certificates:
            problem = KeyDirectory(dict(authorities), dict(directory.certificates))
            why = problem.certificate_problem(cert) or "does not verify"
            report.problems.append(Problem("signature", f"key {cert.key_id} of {cert.user}", why))
    return directory


def _signatures(
    store: Store, events: list[Event], directory: KeyDirectory, local: set[str], report: CheckReport
) -> None:
    since = store.meta("signing.since") or ""
    unsigned = [e.id for e in events if e.sig is None]
    before = store.pre_signing(unsigned) if unsigned else set()
    for event, problem in zip(events, event_problems(events, directory), strict=True):
        subject = f"event {event.id} ({event.kind}, {event.actor} at {event.workstation})"
        if problem is None:
            report.signed += 1
        elif problem == "unsigned":
            report.unsigned += 1
            if event.id not in before:
                where = "written here" if event.workstation in local else "received"
                report.problems.append(
                    Problem(
                        "signature",
                        subject,
                        f"unsigned, though {where} after signing began ({since}) and never "
                        "vouched for as older: altered, or written around the program",
                    )
                )
        else:
            report.problems.append(Problem("signature", subject, problem))


def _events(store: Store, report: CheckReport) -> None:
    chains: dict[str, list[tuple[int, str | None, str, str]]] = {}
    directory = _directory(store, report)
    local_chains = {
        r[0].removeprefix("chain.")
        for r in store.conn.execute("SELECT key FROM meta WHERE key LIKE 'chain.%'")
    }
    page: list[Event] = []
    for event in store.iter_events():
        page.append(event)
        if len(page) >= 5000:
            _signatures(store, page, directory, local_chains, report)
            page = []
        report.events += 1
        subject = f"event {event.id} ({event.kind})"
        computed = event.computed_hash()
        if computed != event.content_hash:
            report.problems.append(
                Problem(
                    "event",
                    subject,
                    f"content hash mismatch: stored {event.content_hash[:12]}…, computed "
                    f"{computed[:12]}… — the event was changed after it was written",
                )
            )
        try:
            check_envelope(event.to_wire())
            if is_known(event.kind, event.schema):
                validate_payload(event.kind, event.schema, event.payload, store.reference)
        except ValidationError as exc:
            report.problems.append(Problem("event", subject, f"invalid: {exc}"))
        if event.realm != store.realm:
            report.problems.append(
                Problem("event", subject, f"belongs to realm {event.realm}, not {store.realm}")
            )
        chains.setdefault(event.workstation, []).append(
            (event.device_seq, event.prev_hash, event.content_hash, event.id)
        )
    _signatures(store, page, directory, local_chains, report)
    if report.unsigned:
        report.warnings.append(
            Problem("signature", "log", f"{report.unsigned} events unsigned (before signing)")
        )
    for refused in store.refused_events():
        report.warnings.append(
            Problem(
                "refused",
                f"event {refused.event_id} ({refused.kind}, {refused.actor} at "
                f"{refused.workstation})",
                f"received from the server and refused here: {refused.reason}",
            )
        )
    local = {
        r[0].removeprefix("chain.")
        for r in store.conn.execute("SELECT key FROM meta WHERE key LIKE 'chain.%'")
    }
    report.chains = len(chains)
    for workstation, links in sorted(chains.items()):
        links.sort()
        expected_seq = 1
        previous_hash: str | None = None
        for seq, prev_hash, digest, event_id in links:
            if seq != expected_seq:
                missing = f"#{expected_seq}" + (f"–#{seq - 1}" if seq - 1 > expected_seq else "")
                target = report.problems if workstation in local else report.warnings
                why = (
                    ""
                    if workstation in local
                    else " (not held here: not visible, or not yet synced)"
                )
                target.append(Problem("chain", workstation, f"events {missing} missing{why}"))
            elif previous_hash is not None and prev_hash != previous_hash:
                report.problems.append(
                    Problem(
                        "chain",
                        workstation,
                        f"event #{seq} ({event_id}) does not follow #{seq - 1}: prev_hash "
                        "differs from the previous event's hash",
                    )
                )
            expected_seq = seq + 1
            previous_hash = digest


def _projections(store: Store, report: CheckReport) -> None:
    conn = store.conn
    stored = {
        r[0]: r for r in conn.execute(f"SELECT {', '.join(rows.INCIDENT_COLUMNS)} FROM incidents")
    }
    incident_ids = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT incident_id FROM events WHERE incident_id IS NOT NULL"
        )
    ]
    expected_assignments: dict[str, tuple[Any, ...]] = {}
    expected_links: set[tuple[str, str, str]] = set()
    for incident_id in incident_ids:
        state = fold(store.events_of(incident_id), store.reference)
        if state is None or not state.opened:
            report.warnings.append(
                Problem(
                    "projection", f"incident {incident_id}", "its opening event is not held here"
                )
            )
            continue
        report.incidents += 1
        expected = rows.incident_row(state)
        actual = stored.pop(incident_id, None)
        if actual is None:
            report.problems.append(
                Problem("projection", f"incident {state.ref}", "missing from incidents")
            )
            continue
        for name, want, got in zip(rows.INCIDENT_COLUMNS, expected, actual, strict=True):
            if want != got:
                detail = (
                    _state_difference(want, got)
                    if name == "state"
                    else f"{got!r}, log says {want!r}"
                )
                report.problems.append(
                    Problem("projection", f"incident {state.ref}", f"{name} is {detail}")
                )
        for row in rows.assignment_rows(state):
            expected_assignments[row[0]] = row
        expected_links.update(rows.link_rows(state))
    refs: dict[str, int] = {}
    for (ref,) in conn.execute("SELECT ref FROM incidents"):
        refs[ref] = refs.get(ref, 0) + 1
    for ref, count in sorted(refs.items()):
        if count > 1:
            report.warnings.append(
                Problem(
                    "projection",
                    f"reference {ref}",
                    f"used by {count} incidents: two workstations share a code",
                )
            )
    for incident_id in stored:
        report.problems.append(
            Problem("projection", f"incident {incident_id}", "in incidents but no event opened it")
        )
    actual_assignments = {
        r[0]: r
        for r in conn.execute(f"SELECT {', '.join(rows.ASSIGNMENT_COLUMNS)} FROM assignments")
    }
    if actual_assignments != expected_assignments:
        for key in sorted(set(actual_assignments) | set(expected_assignments)):
            if actual_assignments.get(key) != expected_assignments.get(key):
                report.problems.append(
                    Problem(
                        "projection",
                        f"assignment {key}",
                        f"stored {actual_assignments.get(key)!r}, "
                        f"log says {expected_assignments.get(key)!r}",
                    )
                )

    actual_links = set(
        conn.execute(f"SELECT {', '.join(rows.LINK_COLUMNS)} FROM incident_links").fetchall()
    )
    for link, incident_id, other in sorted(actual_links ^ expected_links):
        held = (
            "stored but the log has no such link"
            if ((link, incident_id, other) in actual_links)
            else "in the log but not stored"
        )
        report.problems.append(
            Problem("projection", f"link {link}", f"{incident_id} -> {other}: {held}")
        )


def _dashboard_totals(conn: sqlite3.Connection, report: CheckReport) -> None:
    """The kept dashboard totals against the same totals worked out afresh from the
    incidents (which _projections has checked against the log). A total of 0 and no total
    are the same figure."""
    query = "SELECT figure, span, bucket, visibility, lead_agency, key, n FROM ({}) WHERE n != 0"
    kept = {r[:6]: r[6] for r in conn.execute(query.format("SELECT * FROM dashboard_totals"))}
    fresh = {r[:6]: r[6] for r in conn.execute(query.format(DASHBOARD_TOTALS_FROM_INCIDENTS))}
    differing = sorted(k for k in set(kept) | set(fresh) if kept.get(k, 0) != fresh.get(k, 0))
    for figure, span, bucket, visibility, lead, key in differing[:20]:
        unit = "hour" if span == "h" else "day"
        subject = (
            f"dashboard {figure} total, {unit} {bucket}, {visibility} incidents, "
            f"lead {lead or 'none'}" + (f", {key}" if key else "")
        )
        held = (figure, span, bucket, visibility, lead, key)
        report.problems.append(
            Problem(
                "projection",
                subject,
                f"kept as {kept.get(held, 0)}, the incidents give {fresh.get(held, 0)}",
            )
        )
    if len(differing) > 20:
        report.problems.append(
            Problem("projection", "dashboard totals", f"{len(differing) - 20} more differ")
        )


def _state_difference(want: str, got: str) -> str:
    expected, actual = json.loads(want), json.loads(got)
    for key in sorted(set(expected) | set(actual)):
        if expected.get(key) != actual.get(key):
            return f"different in {key}: stored {actual.get(key)!r}, log says {expected.get(key)!r}"
    return "different"


def _search(conn: sqlite3.Connection, report: CheckReport) -> None:
    for table in ("incidents_fts", "log_fts"):
        try:
            conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            report.problems.append(
                Problem("search", table, f"index does not match its table ({exc})")
            )
