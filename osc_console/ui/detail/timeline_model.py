"""The incident's timeline as a Qt list model, and the delegate that paints its entries.

One row per event the viewer may see, in clock order, with one exception: a ``log.amended``
entry sits immediately after the entry it amends (the original stays, marked "amended"), so a
reader at an inquiry sees what was written and how it was corrected side by side. Unknown
kinds and newer schemas are shown generically; nothing is ever dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from osc_console.models.agencies import Agency
from osc_console.models.clock import LONDON, from_iso, local_label
from osc_console.models.events import Event
from osc_console.models.incident import AssignmentStatus, Grade, Status
from osc_console.models.payloads import Kind, is_known
from osc_console.models.projection import IncidentState
from osc_console.models.reference import ReferenceData
from osc_console.ui.qt import QtCore
from osc_console.ui.theme import PRIORITY_BADGES, agency_colour

Qt = QtCore.Qt

# Entries that may be amended (the store refuses an amendment of anything else).
AMENDABLE_KINDS = frozenset({Kind.LOG_ADDED.value, Kind.DECISION_RECORDED.value})
_AMENDMENT_GAP = timedelta(minutes=1)

# ---- time and value formatting, shared by the detail widgets ------------------------------


def local_time(iso: str, *, today: datetime | None = None) -> str:
    """'14:05 BST' (with the date in front when it is not today in London)."""
    try:
        moment = from_iso(iso)
    except (TypeError, ValueError):
        return iso or "?"
    label = local_label(moment)
    now = (today or datetime.now(LONDON)).astimezone(LONDON)
    local = moment.astimezone(LONDON)
    if local.date() != now.date():
        return f"{local:%d %b} {label}"
    return label


def utc_time(iso: str) -> str:
    """'2026-11-22 13:05:12 UTC': the exact time, for tooltips and exports."""
    try:
        return from_iso(iso).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError):
        return iso or "?"


def agency_name(agency: str | None, *, short: bool = False) -> str:
    try:
        label = Agency(agency or "").label
    except ValueError:
        return agency or "unknown agency"
    if short:
        return {"police": "Police", "corporation": "Corporation"}.get(str(agency), label)
    return label


def category_name(code: Any, ref: ReferenceData) -> str:
    category = ref.categories.get(code) if isinstance(code, str) else None
    return category.name if category else str(code)


def team_name(code: Any, ref: ReferenceData) -> str:
    team = ref.team(code) if isinstance(code, str) else None
    return team.name if team else str(code)


def grade_label(grade: Any, priority: Any = None) -> str:
    if grade:
        try:
            return Grade(grade).label
        except ValueError:
            return str(grade)
    if priority:
        badge = PRIORITY_BADGES.get(str(priority))
        return badge.label if badge else str(priority)
    return "not graded"


def location_text(value: Any) -> str:
    if isinstance(value, Mapping):
        text = str(value.get("text") or "")
        camera = value.get("camera_id")
        return f"{text} (camera {camera})" if camera else text
    return str(value)


FIELD_LABELS = {
    "summary": "summary",
    "category": "category",
    "grade": "grade",
    "council_priority": "council priority",
    "location": "location",
    "lead_agency": "lead agency",
    "source": "source",
    "caller": "caller details",
}


def field_value(name: str, value: Any, ref: ReferenceData) -> str:
    """A field's value as an operator reads it."""
    if value is None:
        return "none"
    if name == "grade":
        return grade_label(value)
    if name == "council_priority":
        return grade_label(None, value)
    if name == "category":
        return category_name(value, ref)
    if name == "location":
        return location_text(value)
    if name == "lead_agency":
        return agency_name(value)
    if name == "summary":
        return f"“{value}”"
    if name == "caller":
        # Personal data: named in the Details tab, not repeated down the timeline.
        return "new details"
    return str(value)


# ---- sentences ----------------------------------------------------------------------------

_MISSING = object()


def _with(text: str, label: str, value: Any) -> str:
    return f"{text} — {label}: {value}" if value else text


def describe_event(
    event: Event,
    ref: ReferenceData,
    *,
    previous: Mapping[str, Any] | None = None,
    teams: Mapping[str, str] | None = None,
) -> str:
    """One human sentence per event; anything not understood is shown as it was recorded."""
    if not is_known(event.kind, event.schema):
        return generic_sentence(event)
    try:
        return _sentence(event, ref, previous or {}, teams or {})
    except (KeyError, TypeError, ValueError, AttributeError):
        return generic_sentence(event)


def generic_sentence(event: Event) -> str:
    payload = json.dumps(dict(event.payload), ensure_ascii=False, sort_keys=True, default=str)
    return f"{event.kind}: {payload}"


def _sentence(
    event: Event, ref: ReferenceData, previous: Mapping[str, Any], teams: Mapping[str, str]
) -> str:
    p = event.payload
    kind = event.kind
    if kind == Kind.LOG_ADDED:
        return str(p["text"])
    if kind == Kind.LOG_AMENDED:
        return f"Amendment: {p['text']} — reason: {p['reason']}"
    if kind == Kind.DECISION_RECORDED:
        text = f"Decision: {p['decision']} — Rationale: {p['rationale']}"
        return f"{text} (decided by {p['decided_by']})" if p.get("decided_by") else text
    if kind == Kind.INCIDENT_OPENED:
        graded = grade_label(p.get("grade"), p.get("council_priority"))
        return (
            f"Opened: {p['summary']} ({category_name(p['category'], ref)}, {graded}) "
            f"at {location_text(p['location'])}"
        )
    if kind == Kind.INCIDENT_UPDATED:
        parts = []
        for name, value in dict(p["changes"]).items():
            label = FIELD_LABELS.get(name, name)
            text = f"Changed {label} to {field_value(name, value, ref)}"
            before = previous.get(name, _MISSING)
            if before is not _MISSING and name != "caller":
                text += f" (was {field_value(name, before, ref)})"
            parts.append(text)
        return "; ".join(parts)
    if kind == Kind.INCIDENT_STATUS:
        status = Status(p["status"]).value.replace("_", " ")
        return _with(f"Status changed to {status}", "reason", p.get("reason"))
    if kind == Kind.INCIDENT_CLOSED:
        return f"Closed as {category_name(p['closing_category'], ref)} — {p['resolution']}"
    if kind == Kind.INCIDENT_REOPENED:
        return f"Reopened — reason: {p['reason']}"
    if kind == Kind.ASSIGNMENT_MADE:
        return _with(f"Assigned {team_name(p['team'], ref)}", "note", p.get("note"))
    if kind == Kind.ASSIGNMENT_STATUS:
        team = teams.get(p["assignment_id"], "Assigned team")
        return _with(f"{team} {AssignmentStatus(p['status']).label}", "note", p.get("note"))
    if kind == Kind.ASSIGNMENT_WITHDRAWN:
        team = teams.get(p["assignment_id"], "Assigned team")
        return f"{team} withdrawn — reason: {p['reason']}"
    if kind == Kind.INCIDENT_LINKED:
        return _with(f"Linked to {p['other_ref']}", "note", p.get("note"))
    if kind == Kind.INCIDENT_UNLINKED:
        return f"Link removed — reason: {p['reason']}"
    if kind == Kind.CONFLICT_RESOLVED:
        name = str(p["field"])
        text = (
            f"Concurrent edit of {FIELD_LABELS.get(name, name)} resolved: "
            f"{field_value(name, p.get('value'), ref)}"
        )
        return _with(text, "reason", p.get("reason"))
    return generic_sentence(event)


# ---- the entries --------------------------------------------------------------------------


def amends_of(event: Event) -> str | None:
    if event.kind != Kind.LOG_AMENDED:
        return None
    target = event.payload.get("amends")
    return target if isinstance(target, str) else None


@dataclass(slots=True)
class TimelineEntry:
    """One row: an event and what the screen says about it."""

    event: Event
    text: str
    meta: str
    amends: str | None = None  # set when this row is placed under the entry it amends
    amended: bool = False
    conflict: bool = False
    tags: list[str] = field(default_factory=list)


def conflict_event_ids(state: IncidentState | None) -> frozenset[str]:
    if state is None:
        return frozenset()
    return frozenset(c.event_id for cands in state.conflicts.values() for c in cands)


def arrange(events: Sequence[Event]) -> list[Event]:
    """Clock order, with each amendment moved to just after the entry it amends.

    An amendment whose original is not here (not visible to this viewer, or not yet
    received) stays at its own place in the clock order: it is never dropped.
    """
    kinds = {e.id: e.kind for e in events}
    under: dict[str, list[Event]] = {}
    top: list[Event] = []
    for event in events:
        target = amends_of(event)
        if target is not None and kinds.get(target) in AMENDABLE_KINDS:
            under.setdefault(target, []).append(event)
        else:
            top.append(event)
    ordered: list[Event] = []
    for event in top:
        ordered.append(event)
        ordered.extend(under.get(event.id, ()))
    return ordered


def build_entries(
    events: Sequence[Event],
    state: IncidentState | None,
    ref: ReferenceData,
    *,
    today: datetime | None = None,
) -> list[TimelineEntry]:
    """Every event as an entry, in display order. ``events`` must be in clock order."""
    # Walk in clock order to know each update's previous value and each assignment's team.
    current: dict[str, Any] = {}
    set_by: dict[str, dict[str, Any]] = {}  # event id -> the field values it set
    previous: dict[str, dict[str, Any]] = {}
    teams: dict[str, str] = {}
    if state is not None:
        teams.update({a.id: team_name(a.team, ref) for a in state.assignments.values()})
    for event in events:
        p = event.payload
        if not is_known(event.kind, event.schema):
            continue  # its fields may mean something else in a schema we do not know
        try:
            if event.kind == Kind.INCIDENT_OPENED:
                values = {k: p.get(k) for k in FIELD_LABELS if k in p}
                set_by[event.id] = values
                current.update(values)
            elif event.kind == Kind.INCIDENT_UPDATED:
                changes = dict(p["changes"])
                before: dict[str, Any] = {}
                for name in changes:
                    seen = set_by.get(event.base.get(name, ""), {})
                    if name in seen:
                        before[name] = seen[name]  # what this author saw when changing it
                    elif name in current:
                        before[name] = current[name]
                previous[event.id] = before
                set_by[event.id] = changes
                current.update(changes)
            elif event.kind == Kind.CONFLICT_RESOLVED:
                set_by[event.id] = {p["field"]: p.get("value")}
                current[p["field"]] = p.get("value")
            elif event.kind == Kind.ASSIGNMENT_MADE:
                teams[p["assignment_id"]] = team_name(p["team"], ref)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a payload this program does not understand; shown generically below
    ordered = arrange(events)
    amended = {a for e in ordered if (a := amends_of(e)) is not None}
    conflicts = conflict_event_ids(state)
    incident_visibility = state.visibility if state is not None else "joint"
    entries = []
    for event in ordered:
        entry = TimelineEntry(
            event=event,
            text=describe_event(event, ref, previous=previous.get(event.id), teams=teams),
            meta=meta_line(event, today=today),
            amended=event.id in amended and event.kind in AMENDABLE_KINDS,
            conflict=event.id in conflicts,
        )
        entry.tags = _tags(entry, incident_visibility)
        entries.append(entry)
    _mark_placement(entries)
    return entries


def _mark_placement(entries: list[TimelineEntry]) -> None:
    """An amendment counts as placed under its original only when it directly follows it."""
    anchor: str | None = None
    for entry in entries:
        target = amends_of(entry.event)
        if target is not None and target == anchor:
            entry.amends = target
        else:
            entry.amends = None
            anchor = entry.event.id if entry.event.kind in AMENDABLE_KINDS else None


def meta_line(event: Event, *, today: datetime | None = None) -> str:
    """'14:05 BST · Police · A. Patel · CR1 · on behalf of X · recorded 14:09'."""
    parts = [
        local_time(event.occurred_at, today=today),
        agency_name(event.agency, short=True),
        event.actor,
        event.workstation,
    ]
    behalf = event.payload.get("on_behalf_of") if event.kind == Kind.LOG_ADDED else None
    if behalf:
        parts.append(f"on behalf of {behalf}")
    try:
        gap = abs(from_iso(event.recorded_at) - from_iso(event.occurred_at))
    except (TypeError, ValueError):
        gap = timedelta(0)
    if gap > _AMENDMENT_GAP:
        parts.append(f"recorded {local_time(event.recorded_at, today=today)}")
    return " · ".join(parts)


def _tags(entry: TimelineEntry, incident_visibility: str) -> list[str]:
    tags = []
    event = entry.event
    if entry.conflict:
        tags.append("⚠ concurrent edit")
    if entry.amended:
        tags.append("amended")
    if event.visibility != incident_visibility:
        tags.append(f"{event.visibility} only")
    if event.classification != "OFFICIAL":
        tags.append(event.classification)
    return tags


def tooltip(event: Event) -> str:
    return "\n".join(
        [
            f"Event {event.id}",
            f"Kind: {event.kind} (schema {event.schema})",
            f"Clock: {event.hlc}",
            f"Occurred: {utc_time(event.occurred_at)}",
            f"Recorded: {utc_time(event.recorded_at)}",
            f"By: {event.actor} ({agency_name(event.agency)}) at workstation {event.workstation}",
            f"Visibility: {event.visibility} · {event.classification}",
        ]
    )


# ---- the model ----------------------------------------------------------------------------

_USER = int(Qt.ItemDataRole.UserRole)


class TimelineRole(IntEnum):
    EVENT_ID = _USER + 1
    KIND = _USER + 2
    AGENCY = _USER + 3
    OCCURRED = _USER + 4
    AMENDS = _USER + 5
    IS_AMENDED = _USER + 6
    CONFLICT = _USER + 7
    META = _USER + 8
    TAGS = _USER + 9
    AGENCY_COLOUR = _USER + 10


EventIdRole = int(TimelineRole.EVENT_ID)
KindRole = int(TimelineRole.KIND)
AgencyRole = int(TimelineRole.AGENCY)
OccurredRole = int(TimelineRole.OCCURRED)
AmendsRole = int(TimelineRole.AMENDS)
IsAmendedRole = int(TimelineRole.IS_AMENDED)
ConflictRole = int(TimelineRole.CONFLICT)
MetaRole = int(TimelineRole.META)
TagsRole = int(TimelineRole.TAGS)
AgencyColourRole = int(TimelineRole.AGENCY_COLOUR)


class TimelineListModel(QtCore.QAbstractListModel):
    """The events of one incident, one row each, in the order described above."""

    EventIdRole = EventIdRole
    KindRole = KindRole
    AgencyRole = AgencyRole
    OccurredRole = OccurredRole
    AmendsRole = AmendsRole
    IsAmendedRole = IsAmendedRole
    ConflictRole = ConflictRole
    MetaRole = MetaRole
    TagsRole = TagsRole
    AgencyColourRole = AgencyColourRole

    def __init__(self, reference: ReferenceData, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._ref = reference
        self._events: list[Event] = []  # clock order, as the store gave them
        self._state: IncidentState | None = None
        self._entries: list[TimelineEntry] = []
        self._rows: dict[str, int] = {}

    # ---- reading -------------------------------------------------------------------------
    def rowCount(
        self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex | None = None
    ) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._entries)

    def flags(self, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(
        self,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        event = entry.event
        role = int(role)
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(event)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return " · ".join([entry.meta, *entry.tags, entry.text])
        if role == EventIdRole:
            return event.id
        if role == KindRole:
            return event.kind
        if role == AgencyRole:
            return event.agency
        if role == OccurredRole:
            return event.occurred_at
        if role == AmendsRole:
            return entry.amends
        if role == IsAmendedRole:
            return entry.amended
        if role == ConflictRole:
            return entry.conflict
        if role == MetaRole:
            return entry.meta
        if role == TagsRole:
            return list(entry.tags)
        if role == AgencyColourRole:
            return agency_colour(event.agency)
        return None

    def roleNames(self) -> dict[int, QtCore.QByteArray]:
        names = dict(super().roleNames())
        for role in TimelineRole:
            names[int(role)] = QtCore.QByteArray(role.name.lower().encode())
        return names

    def row_of(self, event_id: str) -> int:
        """The row showing an event, or -1."""
        return self._rows.get(event_id, -1)

    def event_at(self, row: int) -> Event | None:
        return self._entries[row].event if 0 <= row < len(self._entries) else None

    def entry_at(self, row: int) -> TimelineEntry | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    @property
    def events(self) -> list[Event]:
        return list(self._events)

    @property
    def state(self) -> IncidentState | None:
        return self._state

    # ---- changing ------------------------------------------------------------------------
    def set_events(self, events: Iterable[Event], state: IncidentState | None) -> None:
        """Show these events (clock order). Rows already shown stay put; new ones are inserted
        at their place, so selection and scroll position survive a reload."""
        events = list(events)
        same_incident = state is not None and self._state is not None and state.id == self._state.id
        self._state = state
        self._reconcile(events, reset=not same_incident)

    def append(self, event: Event) -> int:
        """Add one event (a local save, before the reload confirms it). Returns its row."""
        if event.id in self._rows or any(e.id == event.id for e in self._events):
            return self.row_of(event.id)
        events = [*self._events, event]
        events.sort(key=lambda e: e.order_key)
        self._reconcile(events, reset=False)
        return self.row_of(event.id)

    def clear(self) -> None:
        self._state = None
        self._reconcile([], reset=True)

    def _reconcile(self, events: list[Event], *, reset: bool) -> None:
        new = build_entries(events, self._state, self._ref)
        old_ids = [e.event.id for e in self._entries]
        new_ids = [e.event.id for e in new]
        if reset or not _is_subsequence(old_ids, new_ids):
            self.beginResetModel()
            self._events = events
            self._entries = new
            self._rows = {e.event.id: i for i, e in enumerate(new)}
            self.endResetModel()
            return
        old = set(old_ids)
        for row, entry in enumerate(new):
            if entry.event.id in old:
                continue
            # Rows 0..row-1 already equal new[0..row-1]: this one goes exactly here.
            self.beginInsertRows(QtCore.QModelIndex(), row, row)
            self._entries.insert(row, entry)
            self.endInsertRows()
        # Inserting shifted rows; now refresh the derived text (previous values, marks, flags).
        changed = [i for i, entry in enumerate(new) if _differs(self._entries[i], entry)]
        self._events = events
        self._entries = new
        self._rows = {e.event.id: i for i, e in enumerate(new)}
        if changed:
            self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))


def _is_subsequence(small: Sequence[str], big: Sequence[str]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _differs(a: TimelineEntry, b: TimelineEntry) -> bool:
    return (a.text, a.meta, a.amends, a.amended, a.conflict, a.tags) != (
        b.text,
        b.meta,
        b.amends,
        b.amended,
        b.conflict,
        b.tags,
    )
