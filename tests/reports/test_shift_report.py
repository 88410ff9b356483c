"""Shift reports read back: the CSV's columns and rows, the PDF's text on every page."""

from __future__ import annotations

import ast
import csv
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from osc_console.models.agencies import Agency
from osc_console.models.events import Author
from osc_console.models.shift_log import ShiftLog
from osc_console.models.shifts import DEFAULT_PATTERNS
from osc_console.reports.pdf_pages import ReportError
from osc_console.reports.shift_report import (
    CSV_COLUMNS,
    EMPTY_SHIFT,
    write_csv,
    write_pdf,
)
from osc_console.services.shifts import ShiftService
from osc_console.store.event_store import Store
from tests.services.test_shift_log import Scene, log_for
from tests.signing import signed

REPORTS = Path(__file__).resolve().parents[2] / "osc_console" / "reports"
# In-process PDF exports need a Qt application; take pytest-qt's QApplication, because a
# bare QGuiApplication made by the report module would outlive this file and the widget
# tests that follow could not create theirs.
pytestmark = pytest.mark.usefixtures("qapp")


def pdf_pages(path: Path) -> list[str]:
    """Each page's text with runs of white space made one space (Qt places words singly)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def test_csv_has_the_columns_and_one_row_per_entry(scene: Scene, tmp_path: Path) -> None:
    log = log_for(scene, Agency.CORPORATION)
    path = write_csv(log, tmp_path / "late.csv")
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert (
        tuple(rows[0].keys())
        == CSV_COLUMNS
        == (
            "occurred (UTC)",
            "occurred (London)",
            "recorded (UTC)",
            "incident ref",
            "kind",
            "agency",
            "actor",
            "workstation",
            "text",
            "after_sign_off",
            "visibility",
            "classification",
        )
    )
    assert len(rows) == len(log.entries)
    assert [r["occurred (UTC)"] for r in rows] == [e.event.occurred_at for e in log.entries]
    assert all(r["visibility"] != "police" for r in rows)
    late = [r for r in rows if r["after_sign_off"] == "yes"]
    assert [r["text"] for r in late] == ["Late note: resident thanked the crew"]
    assert late[0]["occurred (London)"] == "2026-11-22 22:30:00 GMT"
    assert late[0]["recorded (UTC)"] == "2026-11-22T23:20:00.000Z"
    assert late[0]["incident ref"].startswith("20261122-")


@pytest.fixture
def late_pdf(scene: Scene, tmp_path: Path) -> tuple[ShiftLog, list[str]]:
    log = log_for(scene, Agency.CORPORATION)
    calls: list[tuple[int, int]] = []
    path = write_pdf(log, tmp_path / "late.pdf", progress=lambda d, t: calls.append((d, t)))
    pages = pdf_pages(path)
    assert calls[0] == (0, len(pages))
    assert calls[-1] == (len(pages), len(pages))
    return log, pages


def test_every_pdf_page_has_header_marking_and_page_number(
    late_pdf: tuple[ShiftLog, list[str]],
) -> None:
    _, pages = late_pdf
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert text.count("OFFICIAL") >= 2  # top and bottom
        assert "Shift log: Late shift of Sunday 22 November 2026" in text
        assert "Sun 22 Nov 2026 15:00 GMT – Sun 22 Nov 2026 23:00 GMT" in text
        assert "City of London JCCR" in text
        assert "Duty manager: A. Patel" in text


def test_pdf_sections_withheld_line_and_after_sign_off(
    late_pdf: tuple[ShiftLog, list[str]],
) -> None:
    _, pages = late_pdf
    text = " ".join(pages)
    for heading in ("Summary", "Timeline", "Incidents", "Handover", "Sign-off"):
        assert heading in text
    assert "3 police-only entries withheld" in text
    assert "after sign-off" in text
    assert "Late note: resident thanked the crew" in text
    assert "Signed off by: A. Patel at 23:04 GMT" in text
    assert "A: cordon stays; check the marker" in text
    assert "Acknowledged: R. Evans at 23:10 GMT" in text
    assert "PNC" not in text
    assert "Police-only intelligence" not in text


def test_the_marking_is_the_highest_classification_shown(scene: Scene, tmp_path: Path) -> None:
    from osc_console.models.agencies import Classification
    from osc_console.services.incidents import IncidentService

    scene.wall.at(20, 0)
    police = signed(scene.store, Author("PC Jane Smith", Agency.POLICE, "CR1"))
    IncidentService(scene.store, police).add_log(
        scene.a, "Named informant details", classification=Classification.OFFICIAL_SENSITIVE
    )
    log = log_for(scene, Agency.CORPORATION)
    assert log.classification is Classification.OFFICIAL_SENSITIVE
    pages = pdf_pages(write_pdf(log, tmp_path / "sensitive.pdf"))
    assert all(p.count("OFFICIAL-SENSITIVE") >= 2 for p in pages)


def test_an_empty_shift_says_so(tmp_path: Path) -> None:
    with Store.open(tmp_path / "empty.db") as store:
        service = ShiftService(store, Author("x", Agency.POLICE, "CR1"), patterns=DEFAULT_PATTERNS)
        log = service.shift_log(date(2026, 1, 5), "night")
    pages = pdf_pages(write_pdf(log, tmp_path / "empty.pdf"))
    assert EMPTY_SHIFT == "No entries were recorded in this shift."
    assert EMPTY_SHIFT in " ".join(pages)
    assert pages[0].count("OFFICIAL") >= 2
    assert "Page 1 of 1" in pages[0]
    rows = (tmp_path / "empty.csv").write_text("x") and write_csv(log, tmp_path / "empty.csv")
    assert rows.read_text(encoding="utf-8").splitlines() == [",".join(CSV_COLUMNS)]


@pytest.mark.parametrize("writer", [write_pdf, write_csv])
def test_an_unwritable_path_is_named(scene: Scene, tmp_path: Path, writer: object) -> None:
    log = log_for(scene, Agency.POLICE)
    missing = tmp_path / "no-such-folder" / "report.out"
    with pytest.raises(ReportError, match=re.escape(f"{missing}: cannot be written")):
        writer(log, missing)  # type: ignore[operator]
    with pytest.raises(ReportError, match="it is a folder"):
        writer(log, tmp_path)  # type: ignore[operator]
    assert not list(tmp_path.glob(".*report*"))  # no temporary file left behind


def test_reports_never_import_widgets() -> None:
    """The part of "Reports use Qt's PDF writer, never widgets" import-linter cannot check."""
    for source in REPORTS.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            assert not [n for n in names if n.startswith("PySide6.QtWidgets")], source


def test_a_pdf_export_loads_no_widgets(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from osc_console.models.agencies import Agency\n"
        "from osc_console.models.events import Author\n"
        "from osc_console.reports.shift_report import write_pdf\n"
        "from osc_console.services.shifts import ShiftService\n"
        "from osc_console.store.event_store import Store\n"
        f"store = Store.open(__import__('pathlib').Path({str(tmp_path)!r}) / 'x.db')\n"
        "log = ShiftService(store, Author('x', Agency.POLICE, 'CR1'), patterns=()).shift_log("
        "date(2026, 1, 5), 'night')\n"
        f"write_pdf(log, {str(tmp_path / 'x.pdf')!r})\n"
        "assert 'PySide6.QtWidgets' not in sys.modules, 'widgets loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF")
