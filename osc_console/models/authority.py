"""The one authority table: which role may write which kind of entry.

Three doors read it and nothing else: the console (what to offer), the store (what it refuses
at append) and the server (what it refuses at push, judged by the role the author held when
the entry was recorded). A new kind of entry is added here, or nobody may write it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from osc_console.models.errors import DomainError
from osc_console.models.payloads import Kind


class Role(StrEnum):
    CALL_HANDLER = "call_handler"
    DISPATCHER = "dispatcher"
    DUTY_MANAGER = "duty_manager"
    PLANNER = "planner"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# Not a role anyone is granted: a workstation itself, signing with its enrolled device key,
# records what happened at its keyboard when nobody could sign in (failed attempts).
WORKSTATION = "workstation"

_HANDLER = frozenset({Role.CALL_HANDLER})
_DISPATCH = frozenset({Role.DISPATCHER, Role.DUTY_MANAGER, Role.ADMIN})
_MANAGE = frozenset({Role.DUTY_MANAGER, Role.ADMIN})
_PLAN = frozenset({Role.PLANNER, Role.ADMIN})
_EVERYONE = frozenset(Role)

AUTHORITY: Mapping[str, frozenset[str]] = {
    # Taking calls: anyone on the floor opens an incident; planners open them in exercises.
    Kind.INCIDENT_OPENED: _EVERYONE,
    Kind.INCIDENT_UPDATED: _HANDLER | _DISPATCH,
    Kind.LOG_ADDED: _EVERYONE,
    Kind.LOG_AMENDED: _EVERYONE,
    # Deploying and closing: dispatchers and those above them.
    Kind.INCIDENT_STATUS: _DISPATCH,
    Kind.INCIDENT_CLOSED: _DISPATCH,
    Kind.ASSIGNMENT_MADE: _DISPATCH,
    Kind.ASSIGNMENT_STATUS: _DISPATCH,
    Kind.ASSIGNMENT_WITHDRAWN: _DISPATCH,
    Kind.INCIDENT_LINKED: _DISPATCH,
    Kind.INCIDENT_UNLINKED: _DISPATCH,
    # Judgement: duty managers.
    Kind.INCIDENT_REOPENED: _MANAGE,
    Kind.DECISION_RECORDED: _MANAGE,
    Kind.CONFLICT_RESOLVED: _MANAGE,
    Kind.SHIFT_HANDOVER: _MANAGE,
    Kind.SHIFT_HANDOVER_ACKNOWLEDGED: _MANAGE,
    Kind.SHIFT_SIGNED_OFF: _MANAGE,
    # Exercise control: planners.
    Kind.EXERCISE_STARTED: _PLAN,
    Kind.EXERCISE_PAUSED: _PLAN,
    Kind.EXERCISE_RESUMED: _PLAN,
    Kind.EXERCISE_SPEED_CHANGED: _PLAN,
    Kind.EXERCISE_INJECT_RELEASED: _PLAN,
    Kind.EXERCISE_MESSAGE: _PLAN,
    Kind.EXERCISE_STOPPED: _PLAN,
    # The audit trail: each person records their own sessions; the workstation its failures.
    Kind.SESSION_SIGNED_IN: _EVERYONE,
    Kind.SESSION_SIGNED_OUT: _EVERYONE,
    Kind.SESSION_LOCKED: _EVERYONE,
    Kind.SESSION_UNLOCKED: _EVERYONE,
    Kind.SESSION_SIGN_IN_FAILED: frozenset({WORKSTATION}),
    # Administrators record what they changed of accounts and workstations.
    Kind.ACCOUNT_CHANGED: frozenset({Role.ADMIN}),
}


_ROLES = frozenset(r.value for r in Role)


class NotPermittedError(DomainError):
    """The author's role may not write this kind of entry."""


def may_write(principal: str, kind: str) -> bool:
    """``principal`` is a role's value, or :data:`WORKSTATION` for a device's own entries."""
    return principal in AUTHORITY.get(kind, frozenset())


def check_authority(principal: str, kind: str) -> None:
    if kind not in AUTHORITY:
        raise NotPermittedError(f"not permitted: nobody may write {kind} (it has no authority)")
    if not may_write(principal, kind):
        who = Role(principal).label if principal in _ROLES else principal
        allowed = sorted(
            Role(r).label + "s" if r != WORKSTATION else "the workstation itself"
            for r in AUTHORITY[kind]
        )
        article = "an" if who[:1] in "aeiou" else "a"
        raise NotPermittedError(
            f"not permitted: {article} {who} may not record {kind} (only {', '.join(allowed)})"
        )


def writers(kind: str) -> frozenset[str]:
    return AUTHORITY.get(kind, frozenset())
