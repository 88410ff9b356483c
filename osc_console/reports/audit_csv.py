"""The audit record as one CSV, for an inquiry or a reviewer's spreadsheet.

Both records go in one table with a ``source`` column, so that one attachment answers "who
was at the keyboard": ``workstation`` rows are this workstation's own audit entries (sign-in,
sign-out, locks, failed attempts, break-glass use, each signed by whoever did it) and
``server`` rows the authority's record (account changes, the sign-ins it saw). Times are
written in UTC, as recorded, and in London time with its zone, as people remember them.

Much of this text was typed by people, some of whom may mean harm: a user name tried at the
sign-in screen, a break-glass reason. A spreadsheet reads a cell that starts with ``=``,
``+``, ``-``, ``@`` (or a tab or carriage return before one) as a formula, so every such cell
is written with a leading apostrophe, which spreadsheets show as text and never run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from osc_console.models.clock import LONDON, from_iso
from osc_console.reports.files import atomic_file

HEADER = (
    "source",
    "reference",
    "when_utc",
    "when_london",
    "who",
    "workstation",
    "what",
    "subject",
    "detail",
    "address",
    "break_glass",
)
WORKSTATION = "workstation"
SERVER = "server"
# What makes a spreadsheet treat a cell as a formula (OWASP's list, with the full-width forms
# some spreadsheets also accept).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@dataclass(frozen=True, slots=True)
class AuditCsvRow:
    """One line of either record, already in words (the screen's words)."""

    source: str  # WORKSTATION or SERVER
    reference: str  # the event's id, or the authority's sequence number
    at: str  # ISO 8601 UTC, as recorded
    who: str
    workstation: str
    what: str
    subject: str = ""
    detail: str = ""
    address: str = ""
    break_glass: bool = False


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it and never evaluates."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def london(at: str) -> str:
    """'2026-11-22 14:05:09 GMT', or nothing when ``at`` is not a recorded time."""
    try:
        moment = from_iso(at)
    except ValueError:
        return ""
    return moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S %Z")


def cells(row: AuditCsvRow) -> list[str]:
    raw = [
        row.source,
        row.reference,
        row.at,
        london(row.at),
        row.who,
        row.workstation,
        row.what,
        row.subject,
        row.detail,
        row.address,
        "yes" if row.break_glass else "",
    ]
    return [neutralise(text) for text in raw]


def audit_csv(rows: Iterable[AuditCsvRow]) -> str:
    out = io.StringIO()
    _write(out, rows)
    return out.getvalue()


def write_audit_csv(rows: Iterable[AuditCsvRow], path: Path | str) -> Path:
    """Write UTF-8 CSV with a header row (:data:`HEADER`), whole or not at all (ReportError
    says why not). Returns the path written."""
    target = Path(path)
    with atomic_file(target, "w", encoding="utf-8", newline="") as stream:
        _write(stream, rows)
    return target


def _write(stream: IO[str], rows: Iterable[AuditCsvRow]) -> None:
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(cells(row))
