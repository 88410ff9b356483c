"""New incident (Ctrl+N): a call logged in seconds, by keyboard, in the order the call goes.

Source, what it is, how urgent, where, what was said, who called; then who leads and who may
see it. Typing a place offers the gazetteer's names; a known place brings its coordinates and
its cameras, and a hint of earlier incidents there (repeat locations matter to the caller's
safety and to the partnership's hotspot work).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from osc_console.models.agencies import Agency, Classification, Visibility, visibilities_for
from osc_console.models.incident import Source, Status
from osc_console.models.payloads import MAX_SHORT, MAX_SUMMARY
from osc_console.models.reference import Place
from osc_console.models.users import Action
from osc_console.services.incidents import Location, NewIncident
from osc_console.store import queries
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import (
    agency_icon,
    alive,
    combo_choice,
    contains_completer,
    grade_icons,
    grade_items,
    make_combo,
    multi_line,
    muted,
    one_line,
    priority_icons,
    priority_items,
    search_combo,
    select_data,
    set_role,
    warning_label,
)
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession

SOURCE_LABELS = {
    Source.EMERGENCY_999: "999 emergency call",
    Source.NON_EMERGENCY_101: "101 non-emergency call",
    Source.PHONE: "Phone (other line)",
    Source.EMAIL: "Email",
    Source.WALK_IN: "Walk-in",
    Source.CCTV: "CCTV",
    Source.ANPR: "ANPR",
    Source.RADIO: "Radio",
    Source.PARTNER: "Partner agency",
    Source.SELF_INITIATED: "Self-initiated",
}
VISIBILITY_LABELS = {
    Visibility.JOINT: "Joint (both organisations)",
    Visibility.POLICE: "Police only",
    Visibility.CORPORATION: "Corporation only",
}
REPEAT_DAYS = 30
REPEAT_LIMIT = 20
REPEAT_SHOWN = 3
DEBOUNCE_MS = 300
NO_CAMERA = "(no camera)"


def status_label(status: str) -> str:
    try:
        return Status(status).value.replace("_", " ")
    except ValueError:
        return status


class NewIncidentDialog(QuickDialog):
    action = Action.OPEN_INCIDENT

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(session, "New incident", save_text="Open incident", parent=parent)
        self.reference = session.store.reference
        self.setMinimumWidth(600)
        agency = session.agency
        self._repeat_token = 0
        self.repeat_rows: list[queries.QueueRow] = []

        # ---- what came in ------------------------------------------------------------------
        self.source = make_combo("Source", [(SOURCE_LABELS[s], s.value) for s in Source])
        default_source = Source.EMERGENCY_999 if agency is Agency.POLICE else Source.PHONE
        select_data(self.source, default_source.value)
        self.add_field("source", "&Source", self.source)

        categories = sorted(self.reference.opening_categories(), key=lambda c: c.name)
        self.category = search_combo(
            "Category",
            [(f"{c.name} ({c.code})", c.code) for c in categories],
            "type to search, e.g. weapon, noise, ASB",
        )
        self.add_field("category", "&Category", self.category)

        self.grade = make_combo("Police grade", grade_items(), grade_icons())
        self.add_field("grade", "Police &grade", self.grade)
        self.priority = make_combo("Council priority", priority_items(), priority_icons())
        self.add_field("council_priority", "Council &priority", self.priority)

        # ---- where -------------------------------------------------------------------------
        self.location = one_line(
            "Location", "street, junction or landmark — or describe it", MAX_SHORT
        )
        places = sorted(self.reference.places)
        self.location.setCompleter(contains_completer(places, self.location))
        self.place_label = muted()
        self.place_label.setAccessibleName("Place details")
        self.place_label.hide()
        self.repeat_hint = warning_label()
        self.repeat_hint.setAccessibleName("Earlier incidents at this location")
        self.repeat_hint.hide()
        self.add_field(
            "location", "&Location", self.location, extra=[self.place_label, self.repeat_hint]
        )
        self.camera = make_combo("Camera", [(NO_CAMERA, None)])
        self.camera.setEnabled(False)
        self.add_field("camera", "Ca&mera", self.camera)

        # ---- what was said -----------------------------------------------------------------
        self.summary = multi_line("Summary", "what the caller reports, in a sentence or two")
        self.counter = muted(f"0/{MAX_SUMMARY} · Ctrl+Enter saves")
        self.counter.setAccessibleName("Summary length")
        self.counter.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        self.add_field("summary", "S&ummary", self.summary, extra=[self.counter])

        # ---- who called (personal data) ----------------------------------------------------
        caller_note = muted("Caller details are personal data: record only what the call needs.")
        caller_note.setAccessibleName("Caller details are personal data")
        self.form.addRow(caller_note)
        self.caller_name = one_line("Caller name", "optional")
        self.add_field("caller_name", "Caller &name", self.caller_name)
        self.caller_phone = one_line("Caller phone", "optional", 40)
        self.add_field("caller_phone", "Caller p&hone", self.caller_phone)
        self.caller_address = one_line("Caller address", "optional")
        self.add_field("caller_address", "Caller a&ddress", self.caller_address)

        # ---- who leads, who may see --------------------------------------------------------
        self.lead = make_combo(
            "Lead agency",
            [(a.label, a.value) for a in Agency],
            {a.value: agency_icon(a) for a in Agency},
        )
        select_data(self.lead, agency.value)
        self.add_field("lead_agency", "L&ead agency", self.lead)
        self.visibility = make_combo(
            "Visibility", [(VISIBILITY_LABELS[v], v.value) for v in visibilities_for(agency)]
        )
        select_data(self.visibility, Visibility.JOINT.value)
        self.add_field("visibility", "&Visibility", self.visibility)
        self.classification = make_combo(
            "Classification", [(c.value, c.value) for c in Classification]
        )
        self.add_field("classification", "Cl&assification", self.classification)

        self._repeat_timer = QtCore.QTimer(self)
        self._repeat_timer.setSingleShot(True)
        self._repeat_timer.setInterval(DEBOUNCE_MS)
        self._repeat_timer.timeout.connect(self._ask_repeats)

        self.category.currentTextChanged.connect(lambda _t: self.changed("category"))
        self.grade.currentIndexChanged.connect(self._grading_changed)
        self.priority.currentIndexChanged.connect(self._grading_changed)
        self.location.textChanged.connect(self._location_changed)
        self.summary.textChanged.connect(self._summary_changed)
        self.finish(self.source)

    # ---- reading the form --------------------------------------------------------------------
    def place(self) -> Place | None:
        """The gazetteer place the location names (any case), or None for free text."""
        text = self.location.text().strip().casefold()
        for name, place in self.reference.places.items():
            if name.casefold() == text:
                return place
        return None

    def location_value(self) -> Location:
        place = self.place()
        camera = self.camera.currentData() if place is not None else None
        if place is None:
            return Location(self.location.text().strip())
        return Location(place.name, place.lat, place.lon, camera)

    def caller(self) -> dict[str, str] | None:
        caller = {
            "name": self.caller_name.text().strip(),
            "phone": self.caller_phone.text().strip(),
            "address": self.caller_address.text().strip(),
        }
        clean = {k: v for k, v in caller.items() if v}
        return clean or None

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.category.currentText().strip():
            errors["category"] = "Choose a category."
        elif combo_choice(self.category) is None:
            errors["category"] = "Not a category: pick one from the list."
        if self.grade.currentData() is None and self.priority.currentData() is None:
            errors["council_priority"] = "Give a police grade or a council priority (or both)."
        if not self.location.text().strip():
            errors["location"] = "Say where: a street, junction, landmark or description."
        summary = self.summary.toPlainText()
        if not summary.strip():
            errors["summary"] = "Write a short summary of the call."
        elif len(summary) > MAX_SUMMARY:
            errors["summary"] = (
                f"{len(summary)} characters: shorten it to {MAX_SUMMARY}; "
                "put more in the log once it is open."
            )
        return errors

    def new_incident(self) -> NewIncident:
        return NewIncident(
            summary=self.summary.toPlainText().strip(),
            category=combo_choice(self.category) or "",
            source=self.source.currentData(),
            location=self.location_value(),
            lead_agency=Agency(self.lead.currentData()),
            grade=self.grade.currentData(),
            council_priority=self.priority.currentData(),
            caller=self.caller(),
            visibility=Visibility(self.visibility.currentData()),
            classification=Classification(self.classification.currentData()),
        )

    def work(self) -> Work:
        new = self.new_incident()
        return lambda service: service.open_incident(new)

    def focus_for(self, key: str) -> QtWidgets.QWidget:
        # "Grade or priority" is told under the pair; fixing it starts at the first.
        return self.grade if key == "council_priority" else super().focus_for(key)

    # ---- reacting ----------------------------------------------------------------------------
    def _grading_changed(self) -> None:
        self._touched.add("grade")
        self.changed("council_priority")

    def _summary_changed(self) -> None:
        length = len(self.summary.toPlainText())
        self.counter.setText(f"{length}/{MAX_SUMMARY} · Ctrl+Enter saves")
        set_role(self.counter, "error" if length > MAX_SUMMARY else "muted")
        self.changed("summary")

    def _location_changed(self) -> None:
        place = self.place()
        previous = self.camera.currentData()
        self.camera.clear()
        self.camera.addItem(NO_CAMERA, None)
        if place is None:
            text = self.location.text().strip()
            self.place_label.setText(
                "Not in the gazetteer: saved as typed, without coordinates." if text else ""
            )
            self.place_label.setVisible(bool(text))
            self.camera.setEnabled(False)
        else:
            count = len(place.cameras)
            cameras = f"{count} camera{'' if count == 1 else 's'}" if count else "no cameras"
            self.place_label.setText(
                f"{place.name} · {place.kind} · {place.lat:.4f}, {place.lon:.4f} · {cameras}"
            )
            self.place_label.show()
            for camera in place.cameras:
                self.camera.addItem(camera, camera)
            select_data(self.camera, previous)
            self.camera.setEnabled(bool(place.cameras))
        self.place_label.setAccessibleDescription(self.place_label.text())
        self.fit_height()
        self._repeat_token += 1  # an answer for the old text is no longer wanted
        self._repeat_timer.start()
        self.changed("location")

    def _ask_repeats(self) -> None:
        place = self.place()
        text = place.name if place is not None else self.location.text().strip()
        if not text:
            self._show_repeats([], self._repeat_token)
            return
        token = self._repeat_token
        since = datetime.now(UTC) - timedelta(days=REPEAT_DAYS)
        agency = self.session.agency
        self.session.read(
            lambda store: queries.repeat_locations(store.conn, text, since, agency, REPEAT_LIMIT),
            lambda rows: self._show_repeats(rows, token),
            lambda _message: None,  # a hint that cannot be had is simply not shown
        )

    def _show_repeats(self, rows: list[queries.QueueRow], token: int) -> None:
        if not alive(self) or token != self._repeat_token:
            return
        self.repeat_rows = list(rows)
        if not rows:
            self.repeat_hint.clear()
            self.repeat_hint.hide()
            return
        count = f"at least {len(rows)}" if len(rows) >= REPEAT_LIMIT else str(len(rows))
        noun = "incident" if len(rows) == 1 else "incidents"
        listed = [
            f"{r.ref} {self._category_name(r.category)} ({status_label(r.status)})"
            for r in rows[:REPEAT_SHOWN]
        ]
        more = len(rows) - REPEAT_SHOWN
        if more > 0:
            listed.append(f"and {more} more")
        text = f"{count} {noun} here in the last {REPEAT_DAYS} days: " + ", ".join(listed)
        self.repeat_hint.setText(text)
        self.repeat_hint.setAccessibleDescription(text)
        self.repeat_hint.show()
        self.fit_height()

    def _category_name(self, code: str | None) -> str:
        category = self.reference.categories.get(code or "")
        return category.name if category else (code or "uncategorised")
