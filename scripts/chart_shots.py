"""The timeline and dashboard pictures of the README (called by scripts/screenshots.py).

The timeline shows a major incident: the demo's busiest multi-agency incident linked with
another call at the same place, merged on one chart, one entry selected in chart and log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from staff import STAFF

from osc_console.models.agencies import Agency
from osc_console.models.clock import to_iso
from osc_console.models.users import Role, User
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store

MORGAN = User("Insp. R. Morgan", Agency.POLICE, Role.DISPATCHER)


def _session(store: Store) -> Any:
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.signals import AppSignals
    from osc_console.ui.tasks import DbWorker

    session = ConsoleSession(store, DbWorker(), AppSignals(), "CR3")
    session.sign_in(STAFF.operator(store, MORGAN, "CR3"))
    return session


def major_incident(store: Store, end: datetime) -> tuple[str, str | None]:
    """A recent joint incident with the most agencies and entries, and another call to link."""
    row = store.conn.execute(
        "SELECT i.id, i.location, i.opened_at FROM incidents i WHERE i.visibility = 'joint' "
        "AND i.is_open = 1 AND i.opened_at >= ? "
        "ORDER BY (SELECT count(DISTINCT agency) FROM assignments a "
        "WHERE a.incident_id = i.id) DESC, i.log_count DESC LIMIT 1",
        [to_iso(end - timedelta(hours=5))],
    ).fetchone()
    other = store.conn.execute(
        "SELECT id FROM incidents WHERE visibility = 'joint' AND id != ? "
        "AND opened_at <= ? ORDER BY opened_at DESC LIMIT 1",
        [row[0], row[2]],
    ).fetchone()
    return str(row[0]), (str(other[0]) if other else None)


def shoot_timeline(
    app: Any, store: Store, out: Path, end: datetime, settle: Callable[..., None]
) -> Path:
    from osc_console.ui.detail.panel import IncidentDetailPanel

    incident, other = major_incident(store, end)
    if other is not None and not store.incident(incident).links:  # type: ignore[union-attr]
        morgan = STAFF.author(store, MORGAN.name, MORGAN.agency, "CR3", MORGAN.role.value)
        desk = IncidentService(store, morgan)
        desk.link(incident, other, note="Second caller about the same disturbance")
    session = _session(store)
    panel = IncidentDetailPanel(session)
    panel.resize(1500, 980)
    panel.show()
    panel.show_incident(incident)
    settle(app, session)
    panel.tabs.setCurrentWidget(panel.chart_tab)
    settle(app, session)
    panel.chart_tab.merge.setChecked(True)
    settle(app, session)
    model = panel.model
    decision = next(
        (r for r in range(model.rowCount()) if model.event_at(r).kind == "log.added"),  # type: ignore[union-attr]
        model.rowCount() - 1,
    )
    panel.timeline.setCurrentIndex(model.index(min(decision + 3, model.rowCount() - 1)))
    panel.chart_tab.splitter.setSizes([520, 300])
    settle(app, session)
    return _save(panel, session, out / "timeline.png")


def shoot_dashboard(
    app: Any, store: Store, out: Path, end: datetime, settle: Callable[..., None]
) -> Path:
    from osc_console.ui.dashboard.panel import DashboardPanel

    session = _session(store)
    panel = DashboardPanel(session)
    panel.resize(1600, 1000)
    panel.show()
    settle(app, session)
    hour = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    panel.set_period(hour - timedelta(days=7), hour)
    settle(app, session)
    return _save(panel, session, out / "dashboard.png")


def _save(panel: Any, session: Any, path: Path) -> Path:
    """The panel as drawn, then closed with its session's worker."""
    panel.grab().save(str(path))
    panel.close()
    session.worker.shutdown()
    return path
