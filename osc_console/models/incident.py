"""Incident vocabulary: sources, grades, priorities, statuses and the lifecycle rules."""

from __future__ import annotations

import re
from enum import StrEnum

REF_PATTERN = re.compile(r"^\d{8}-[A-Z0-9]{2,8}-\d{4,}$")
WORKSTATION_CODE = re.compile(r"^[A-Z0-9]{2,8}$")
REALM_PATTERN = re.compile(r"^(live|exercise:[a-z0-9][a-z0-9-]{0,39})$")


class Source(StrEnum):
    EMERGENCY_999 = "999"
    NON_EMERGENCY_101 = "101"
    PHONE = "phone"
    EMAIL = "email"
    WALK_IN = "walk-in"
    CCTV = "cctv"
    ANPR = "anpr"
    RADIO = "radio"
    PARTNER = "partner"
    SELF_INITIATED = "self-initiated"


class Grade(StrEnum):
    """Police response grade. The letter goes beside the colour: never colour alone."""

    IMMEDIATE = "immediate"
    PRIORITY = "priority"
    SCHEDULED = "scheduled"
    RESOLUTION_WITHOUT_DEPLOYMENT = "rwd"

    @property
    def letter(self) -> str:
        return {"immediate": "I", "priority": "P", "scheduled": "S", "rwd": "R"}[self.value]

    @property
    def rank(self) -> int:
        """Urgency order, most urgent first; used to sort the queue."""
        return list(Grade).index(self)

    @property
    def label(self) -> str:
        return {
            "immediate": "Immediate",
            "priority": "Priority",
            "scheduled": "Scheduled",
            "rwd": "Resolution without deployment",
        }[self.value]


def urgency(grade: str | None, priority: str | None) -> int:
    """One sort key for police grades and council priorities, most urgent first.

    Police grades take even slots and council priorities odd ones, so an urgent council job
    sorts between Immediate and Priority police incidents. 0 means Immediate, and only that.
    """
    ranks = []
    if grade:
        ranks.append(Grade(grade).rank * 2)
    if priority:
        ranks.append(CouncilPriority(priority).rank * 2 + 1)
    return min(ranks) if ranks else 99


# An open incident is "ageing" once it has waited longer than its urgency's target:
# Immediate 15 minutes; Priority (and urgent council work) 1 hour; anything else 24 hours.
AGEING_TARGET_MINUTES = ((0, 15), (2, 60))
DEFAULT_AGEING_MINUTES = 24 * 60


def ageing_target_minutes(urgency_key: int) -> int:
    for most_urgent, minutes in AGEING_TARGET_MINUTES:
        if urgency_key <= most_urgent:
            return minutes
    return DEFAULT_AGEING_MINUTES


class CouncilPriority(StrEnum):
    """The Corporation's service priority, for incidents a council team leads."""

    URGENT = "urgent"
    HIGH = "high"
    ROUTINE = "routine"
    LOW = "low"

    @property
    def rank(self) -> int:
        return list(CouncilPriority).index(self)


class Status(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def precedence(self) -> int:
        """Which of two concurrent transitions stands: the one further along the lifecycle."""
        return list(Status).index(self)


# Changes made with ``incident.status``. Closing and reopening have their own events, because
# each carries what a duty manager must record (closing category and resolution, a reason).
STATUS_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.ASSIGNED: frozenset({Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.ASSIGNED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.IN_PROGRESS}),
    Status.CLOSED: frozenset(),
}


class AssignmentStatus(StrEnum):
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def is_active(self) -> bool:
        return self not in (
            AssignmentStatus.COMPLETED,
            AssignmentStatus.DECLINED,
            AssignmentStatus.WITHDRAWN,
        )

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


ASSIGNMENT_TRANSITIONS: dict[AssignmentStatus, frozenset[AssignmentStatus]] = {
    AssignmentStatus.ASSIGNED: frozenset(
        {
            AssignmentStatus.ACKNOWLEDGED,
            AssignmentStatus.EN_ROUTE,
            AssignmentStatus.ON_SCENE,
            AssignmentStatus.COMPLETED,
            AssignmentStatus.DECLINED,
        }
    ),
    AssignmentStatus.ACKNOWLEDGED: frozenset(
        {
            AssignmentStatus.EN_ROUTE,
            AssignmentStatus.ON_SCENE,
            AssignmentStatus.COMPLETED,
            AssignmentStatus.DECLINED,
        }
    ),
    AssignmentStatus.EN_ROUTE: frozenset({AssignmentStatus.ON_SCENE, AssignmentStatus.COMPLETED}),
    AssignmentStatus.ON_SCENE: frozenset({AssignmentStatus.COMPLETED}),
    AssignmentStatus.COMPLETED: frozenset(),
    AssignmentStatus.DECLINED: frozenset(),
    AssignmentStatus.WITHDRAWN: frozenset(),
}
