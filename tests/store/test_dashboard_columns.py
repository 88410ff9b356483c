"""Migrations 4 and 5 fill, in SQL, projection columns that the store otherwise computes in
Python: on the same incidents both must give exactly the same values, or `osc-console check`
would report every migrated store as damaged."""

from __future__ import annotations

from datetime import UTC, datetime

from osc_console.services.demo import DemoSpec, seed_store
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from osc_console.store.migrations import DASHBOARD_TOTALS_FROM_INCIDENTS, MIGRATIONS
from tests.conftest import knife_incident

END = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
COLUMNS = "id, assign_ms, attend_ms, open_from_h, open_until_h"


def _statements(version: int, verb: str) -> list[str]:
    sql = next(m.sql for m in MIGRATIONS if m.version == version)
    return [s for s in sql.split(";") if s.strip().upper().startswith(verb)]


def test_migration_5_backfill_equals_the_projection(store: Store) -> None:
    seed_store(store, DemoSpec(incidents=400, days=4, seed=21, end=END))
    projected = store.execute_read(f"SELECT {COLUMNS} FROM incidents ORDER BY id")
    assert any(r[2] is not None for r in projected), "some incidents were attended"
    assert any(r[4] is not None for r in projected), "some incidents were closed"
    with store.conn:
        store.conn.execute(
            "UPDATE incidents SET assign_ms = NULL, attend_ms = NULL, open_from_h = NULL, "
            "open_until_h = NULL"
        )
        for statement in _statements(5, "UPDATE"):
            store.conn.execute(statement)
    assert store.execute_read(f"SELECT {COLUMNS} FROM incidents ORDER BY id") == projected


def test_migration_4_backfill_equals_the_link_projection(
    store: Store, police_desk: IncidentService
) -> None:
    a = police_desk.open_incident(knife_incident()).incident.id
    b = police_desk.open_incident(knife_incident()).incident.id
    c = police_desk.open_incident(knife_incident()).incident.id
    police_desk.link(a, b)
    police_desk.link(c, a)
    police_desk.unlink(a, c, "not the same event")
    projected = store.execute_read("SELECT * FROM incident_links ORDER BY link_event")
    assert len(projected) == 1
    with store.conn:
        store.conn.execute("DELETE FROM incident_links")
        for statement in _statements(4, "INSERT"):
            store.conn.execute(statement)
    assert store.execute_read("SELECT * FROM incident_links ORDER BY link_event") == projected
    assert check_store(store).ok


def test_migration_6_backfill_equals_the_totals_the_store_keeps(
    store: Store, police_desk: IncidentService
) -> None:
    seed_store(store, DemoSpec(incidents=400, days=4, seed=21, end=END))
    opened = police_desk.open_incident(knife_incident()).incident
    police_desk.change_grade(opened.id, "priority")
    police_desk.close(opened.id, "CL-NOCRIME", "Nothing found")
    kept = store.execute_read("SELECT * FROM dashboard_totals ORDER BY 1, 2, 3, 4, 5, 6")
    assert {r[0] for r in kept} == {"opened", "category", "open"}
    with store.conn:
        store.conn.execute("DELETE FROM dashboard_totals")
        store.conn.execute(f"INSERT INTO dashboard_totals {DASHBOARD_TOTALS_FROM_INCIDENTS}")
    assert store.execute_read("SELECT * FROM dashboard_totals ORDER BY 1, 2, 3, 4, 5, 6") == kept
