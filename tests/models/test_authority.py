"""The authority table: which role may write which kind of entry, and the actions it offers.

One table decides it for the console (what is offered), the store (what it refuses) and the
server (what it refuses at push). These tests pin the table's shape and what a person at the
console sees follow from it: a call handler is not offered Close, a dispatcher is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.authority import (
    AUTHORITY,
    WORKSTATION,
    NotPermittedError,
    Role,
    check_authority,
    may_write,
    writers,
)
from osc_console.models.payloads import AUDIT_KINDS, EXERCISE_KINDS, SCHEMAS, Kind
from osc_console.models.users import ACTION_KINDS, PERMISSIONS, Action, User

PRINCIPALS = {r.value for r in Role} | {WORKSTATION}


@contextmanager
def refused(message: str) -> Iterator[None]:
    """Refused with exactly this one-line message."""
    with pytest.raises(NotPermittedError, match=f"^{re.escape(message)}$"):
        yield


# ---- the table -------------------------------------------------------------------------------


def test_every_kind_of_entry_has_an_entry_in_the_authority_table() -> None:
    """A new kind added without saying who may write it could be written by nobody."""
    assert set(AUTHORITY) == {k.value for k in Kind} == set(SCHEMAS)


@pytest.mark.parametrize("kind", sorted(k.value for k in Kind))
def test_every_kind_names_who_may_write_it_and_only_known_roles(kind: str) -> None:
    assert writers(kind), f"nobody may write {kind}"
    assert writers(kind) <= PRINCIPALS


def test_only_the_workstation_itself_records_failed_sign_ins() -> None:
    assert writers(Kind.SESSION_SIGN_IN_FAILED) == {WORKSTATION}
    others = [k.value for k in Kind if k != Kind.SESSION_SIGN_IN_FAILED]
    assert [k for k in others if may_write(WORKSTATION, k)] == []


@pytest.mark.parametrize("role", list(Role))
def test_everyone_records_their_own_sessions(role: Role) -> None:
    own = AUDIT_KINDS - {Kind.SESSION_SIGN_IN_FAILED, Kind.ACCOUNT_CHANGED}
    assert all(may_write(role.value, kind) for kind in own)


def test_only_administrators_record_account_changes() -> None:
    assert writers(Kind.ACCOUNT_CHANGED) == {Role.ADMIN.value}


def test_only_planners_and_admins_run_exercises() -> None:
    for kind in EXERCISE_KINDS:
        assert writers(kind) == {Role.PLANNER.value, Role.ADMIN.value}, kind


# ---- what the store says when a role may not write an entry ---------------------------------


def test_a_call_handler_may_not_close_an_incident() -> None:
    with refused(
        "not permitted: a call handler may not record incident.closed "
        "(only admins, dispatchers, duty managers)"
    ):
        check_authority(Role.CALL_HANDLER, Kind.INCIDENT_CLOSED)
    check_authority(Role.DISPATCHER, Kind.INCIDENT_CLOSED)


def test_a_dispatcher_may_not_record_a_decision() -> None:
    with refused(
        "not permitted: a dispatcher may not record decision.recorded (only admins, duty managers)"
    ):
        check_authority(Role.DISPATCHER, Kind.DECISION_RECORDED)
    check_authority(Role.DUTY_MANAGER, Kind.DECISION_RECORDED)


def test_a_person_may_not_record_a_failed_sign_in_as_if_the_workstation_had() -> None:
    with refused(
        "not permitted: a duty manager may not record session.sign_in_failed "
        "(only the workstation itself)"
    ):
        check_authority(Role.DUTY_MANAGER, Kind.SESSION_SIGN_IN_FAILED)
    check_authority(WORKSTATION, Kind.SESSION_SIGN_IN_FAILED)


def test_a_kind_nobody_was_given_cannot_be_written_at_all() -> None:
    with refused("not permitted: nobody may write incident.merged (it has no authority)"):
        check_authority(Role.ADMIN, "incident.merged")


# ---- the actions a person is offered follow from the table ----------------------------------


def test_a_call_handler_is_not_offered_close_and_a_dispatcher_is() -> None:
    handler = User("Alex Brown", Agency.POLICE, Role.CALL_HANDLER)
    dispatcher = User("PC Jane Smith", Agency.POLICE, Role.DISPATCHER)
    assert not handler.may(Action.CLOSE)
    assert dispatcher.may(Action.CLOSE)
    assert handler.may(Action.OPEN_INCIDENT)
    assert handler.may(Action.LOG)


def test_only_admins_manage_users() -> None:
    assert {r for r in Role if Action.MANAGE_USERS in PERMISSIONS[r]} == {Role.ADMIN}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", sorted(ACTION_KINDS))
def test_an_action_is_offered_exactly_when_the_role_may_write_every_entry_it_makes(
    role: Role, action: Action
) -> None:
    may = all(may_write(role.value, kind) for kind in ACTION_KINDS[action])
    assert (action in PERMISSIONS[role]) == may


def test_every_action_that_writes_names_entries_in_the_table() -> None:
    for action, kinds in ACTION_KINDS.items():
        assert kinds, action
        assert kinds <= set(AUTHORITY), action
