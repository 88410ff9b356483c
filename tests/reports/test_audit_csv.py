"""The audit CSV: both records in one table, and typed text that can never run as a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from osc_console.reports.audit_csv import (
    HEADER,
    SERVER,
    WORKSTATION,
    AuditCsvRow,
    audit_csv,
    neutralise,
    write_audit_csv,
)
from osc_console.reports.pdf_pages import ReportError

GLASS = AuditCsvRow(
    WORKSTATION,
    "0190a1b2-0000-7000-8000-000000000001",
    "2026-07-01T13:05:09.120Z",  # BST: 14:05 in London
    "Control Room",
    "CR2",
    "BREAK-GLASS sign-in as dispatcher by PC Bob Lee: server down",
    "PC Bob Lee",
    "signed",
    "",
    True,
)
CHANGE = AuditCsvRow(
    SERVER, "7", "2026-11-22T09:30:00.000Z", "Admin One", "", "role changed", "alice", "x -> y"
)


def parse(text: str) -> list[dict[str, str]]:
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == HEADER
    return [dict(zip(HEADER, line, strict=True)) for line in lines[1:]]


@pytest.mark.parametrize(
    "hostile",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(hostile: str) -> None:
    assert neutralise(hostile) == "'" + hostile
    row = AuditCsvRow(SERVER, "1", "2026-11-22T09:30:00.000Z", hostile, hostile, hostile, hostile)
    (written,) = parse(audit_csv([row]))
    for column in ("who", "workstation", "what", "subject"):
        assert written[column] == "'" + hostile


@pytest.mark.parametrize("safe", ["", "alice", "PC Bob Lee", "signed in as dispatcher", "a=b"])
def test_ordinary_text_is_written_as_recorded(safe: str) -> None:
    assert neutralise(safe) == safe


def test_both_records_in_one_table_with_utc_and_london_times() -> None:
    glass, change = parse(audit_csv([GLASS, CHANGE]))
    assert glass == {
        "source": "workstation",
        "reference": GLASS.reference,
        "when_utc": "2026-07-01T13:05:09.120Z",
        "when_london": "2026-07-01 14:05:09 BST",
        "who": "Control Room",
        "workstation": "CR2",
        "what": "BREAK-GLASS sign-in as dispatcher by PC Bob Lee: server down",
        "subject": "PC Bob Lee",
        "detail": "signed",
        "address": "",
        "break_glass": "yes",
    }
    assert change["source"] == "server"
    assert change["when_london"] == "2026-11-22 09:30:00 GMT"
    assert change["detail"] == "x -> y"
    assert change["break_glass"] == ""


def test_text_with_commas_quotes_and_new_lines_survives() -> None:
    tricky = 'he said "stop", then\nleft'
    row = AuditCsvRow(WORKSTATION, "1", "not a time", "a", "CR1", tricky)
    (written,) = parse(audit_csv([row]))
    assert written["what"] == tricky
    assert written["when_london"] == ""  # an unreadable time is left, never guessed


def test_the_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "audit.csv"
    assert write_audit_csv([GLASS, CHANGE], target) == target
    assert parse(target.read_text(encoding="utf-8"))[1]["what"] == "role changed"
    assert [p.name for p in tmp_path.iterdir()] == ["audit.csv"]  # no temporary file left
    with pytest.raises(ReportError, match="does not exist"):
        write_audit_csv([GLASS], tmp_path / "missing" / "audit.csv")
