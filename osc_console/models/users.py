"""People at the console: who they are, which organisation, and what their role lets them do.

Roles decide which actions are offered at all: an action a role may not take is not shown,
rather than shown and refused. What an action may write is the authority table's to say
(:mod:`osc_console.models.authority`); the actions here only name the entries each writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from osc_console.models.agencies import Agency
from osc_console.models.authority import Role, may_write
from osc_console.models.errors import ValidationError
from osc_console.models.payloads import EXERCISE_KINDS, Kind

__all__ = ["PERMISSIONS", "USER_NAME", "Action", "Role", "User", "make_user"]

USER_NAME = re.compile(r"^[\w][\w .'\-]{0,59}$", re.UNICODE)


class Action(StrEnum):
    OPEN_INCIDENT = "open_incident"
    LOG = "log"
    AMEND = "amend"
    DECIDE = "decide"
    ASSIGN = "assign"
    UPDATE_ASSIGNMENT = "update_assignment"
    WITHDRAW = "withdraw"
    CHANGE_GRADE = "change_grade"
    CHANGE_STATUS = "change_status"
    LINK = "link"
    CLOSE = "close"
    REOPEN = "reopen"
    RESOLVE_CONFLICT = "resolve_conflict"
    MANAGE_SHIFT = "manage_shift"
    MANAGE_USERS = "manage_users"
    RUN_EXERCISE = "run_exercise"
    REVIEW_AUDIT = "review_audit"


# The entries each action writes: a role may take the action when it may write all of them.
ACTION_KINDS: dict[Action, frozenset[str]] = {
    Action.OPEN_INCIDENT: frozenset({Kind.INCIDENT_OPENED}),
    Action.LOG: frozenset({Kind.LOG_ADDED}),
    Action.AMEND: frozenset({Kind.LOG_AMENDED}),
    Action.DECIDE: frozenset({Kind.DECISION_RECORDED}),
    Action.ASSIGN: frozenset({Kind.ASSIGNMENT_MADE}),
    Action.UPDATE_ASSIGNMENT: frozenset({Kind.ASSIGNMENT_STATUS}),
    Action.WITHDRAW: frozenset({Kind.ASSIGNMENT_WITHDRAWN}),
    Action.CHANGE_GRADE: frozenset({Kind.INCIDENT_UPDATED}),
    Action.CHANGE_STATUS: frozenset({Kind.INCIDENT_STATUS}),
    Action.LINK: frozenset({Kind.INCIDENT_LINKED, Kind.INCIDENT_UNLINKED}),
    Action.CLOSE: frozenset({Kind.INCIDENT_CLOSED}),
    Action.REOPEN: frozenset({Kind.INCIDENT_REOPENED}),
    Action.RESOLVE_CONFLICT: frozenset({Kind.CONFLICT_RESOLVED}),
    Action.MANAGE_SHIFT: frozenset(
        {Kind.SHIFT_HANDOVER, Kind.SHIFT_HANDOVER_ACKNOWLEDGED, Kind.SHIFT_SIGNED_OFF}
    ),
    Action.RUN_EXERCISE: EXERCISE_KINDS,
}

# Actions that write no entry of the log: accounts live with the authority (the server, or a
# standalone workstation), and the audit trail is read, not written.
_ACCOUNT_ACTIONS: dict[Action, frozenset[Role]] = {
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.REVIEW_AUDIT: frozenset({Role.ADMIN, Role.DUTY_MANAGER}),
}


def _permitted(role: Role, action: Action) -> bool:
    if action in _ACCOUNT_ACTIONS:
        return role in _ACCOUNT_ACTIONS[action]
    return all(may_write(role.value, kind) for kind in ACTION_KINDS[action])


PERMISSIONS: dict[Role, frozenset[Action]] = {
    role: frozenset(a for a in Action if _permitted(role, a)) for role in Role
}


@dataclass(frozen=True, slots=True)
class User:
    name: str
    agency: Agency
    role: Role

    def may(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.agency.label.split()[-1]} · {self.role.label})"


def make_user(name: str, agency: str, role: str) -> User:
    """A user from typed text, or a ValidationError naming the field that is wrong."""
    clean = " ".join(name.split())
    if not clean:
        raise ValidationError("name", "must not be empty")
    if not USER_NAME.match(clean):
        raise ValidationError(
            "name", "use letters, digits, spaces, dots, hyphens or apostrophes (at most 60)"
        )
    try:
        agency_value = Agency(agency)
    except ValueError:
        raise ValidationError("agency", f"{agency!r} is not a known agency") from None
    try:
        role_value = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationError("role", f"{role!r} is not one of {allowed}") from None
    return User(clean, agency_value, role_value)
