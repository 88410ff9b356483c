"""Reading a major-incident group for the screens: each incident with its timeline.

Writing links is :meth:`IncidentService.link` / :meth:`IncidentService.unlink`; this module
only gathers what the merged timeline draws, on the database worker.
"""

from __future__ import annotations

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.events import Event
from osc_console.models.projection import IncidentState
from osc_console.store import queries
from osc_console.store.event_store import Store
from osc_console.store.links import incident_group


def incident_group_timelines(
    store: Store, incident_id: str, viewer: Agency
) -> list[tuple[IncidentState | None, list[Event]]]:
    """Every incident of the group (this one first) and the events ``viewer`` may see."""
    found: list[tuple[IncidentState | None, list[Event]]] = []
    for member in incident_group(store.conn, incident_id, viewer):
        state = store.incident(member)
        if state is None or not can_see(viewer, Visibility(state.visibility)):
            continue
        found.append((state, queries.timeline(store.conn, member, viewer)))
    return found
