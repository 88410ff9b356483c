"""People at the console: who they are, which organisation, and what their role lets them do.

Roles decide which actions are offered at all: an action a role may not take is not shown,
rather than shown and refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from osc_console.models.agencies import Agency
from osc_console.models.errors import ValidationError

USER_NAME = re.compile(r"^[\w][\w .'\-]{0,59}$", re.UNICODE)


class Role(StrEnum):
    CALL_HANDLER = "call_handler"
    DISPATCHER = "dispatcher"
    DUTY_MANAGER = "duty_manager"
    PLANNER = "planner"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


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
    CLOSE = "close"
    REOPEN = "reopen"
    RESOLVE_CONFLICT = "resolve_conflict"
    MANAGE_USERS = "manage_users"
    RUN_EXERCISE = "run_exercise"


_EVERYONE = frozenset({Action.LOG, Action.AMEND})
_HANDLER = _EVERYONE | {Action.OPEN_INCIDENT, Action.CHANGE_GRADE}
_DISPATCHER = _HANDLER | {
    Action.ASSIGN,
    Action.UPDATE_ASSIGNMENT,
    Action.WITHDRAW,
    Action.CHANGE_STATUS,
    Action.CLOSE,
}
_MANAGER = _DISPATCHER | {Action.DECIDE, Action.REOPEN, Action.RESOLVE_CONFLICT}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.CALL_HANDLER: frozenset(_HANDLER),
    Role.DISPATCHER: frozenset(_DISPATCHER),
    Role.DUTY_MANAGER: frozenset(_MANAGER),
    Role.PLANNER: frozenset(_EVERYONE | {Action.OPEN_INCIDENT, Action.RUN_EXERCISE}),
    Role.ADMIN: frozenset(set(Action)),
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
