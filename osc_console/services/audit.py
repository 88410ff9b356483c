"""The audit trail of who was at the keyboard: sign-in, sign-out, lock, unlock, switches,
failed attempts, break-glass use and administrators' account changes, each an entry of the
log (signed like every other), never part of an incident's log or a shift's stream; reviewed
on the audit screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from osc_console.models.changes import ChangeSet
from osc_console.models.clock import from_iso, local_label
from osc_console.models.events import Event, EventDraft
from osc_console.models.payloads import (
    AUDIT_KINDS,
    Kind,
    LockReason,
    SignInMethod,
    SignOutReason,
)
from osc_console.services.identity import Operator, WorkstationIdentity
from osc_console.store.event_store import Store


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of the audit trail as the review screen shows it."""

    event: Event

    @property
    def what(self) -> str:
        return describe(self.event)


def signed_in(store: Store, operator: Operator, *, replaces: str | None = None) -> ChangeSet:
    payload: dict[str, object] = {
        "method": operator.method.value,
        "role": operator.role.value,
        "grant_expires": operator.grant.expires_at if operator.grant else None,
        "replaces": replaces,
    }
    if operator.method is SignInMethod.BREAK_GLASS:
        payload["declared_name"] = operator.declared_name
        payload["reason"] = operator.reason
    return _write(store, operator, Kind.SESSION_SIGNED_IN, payload)


def signed_out(store: Store, operator: Operator, reason: SignOutReason) -> ChangeSet:
    return _write(store, operator, Kind.SESSION_SIGNED_OUT, {"reason": reason.value})


def locked(
    store: Store, operator: Operator, reason: LockReason, idle_minutes: int | None
) -> ChangeSet:
    payload: dict[str, object] = {"reason": reason.value, "idle_minutes": idle_minutes}
    return _write(store, operator, Kind.SESSION_LOCKED, payload)


def unlocked(store: Store, operator: Operator) -> ChangeSet:
    return _write(store, operator, Kind.SESSION_UNLOCKED, {})


def account_changed(store: Store, operator: Operator, subject: str, change: str) -> ChangeSet:
    """An administrator's change, as their console made it (the authority keeps its own
    record too): an entry of the log, so every console's audit trail shows it."""
    payload: dict[str, object] = {"subject": subject[:200] or "?", "change": change[:10_000]}
    return _write(store, operator, Kind.ACCOUNT_CHANGED, payload)


def sign_in_failed(
    store: Store,
    identity: WorkstationIdentity,
    user: str,
    reason: str,
) -> ChangeSet:
    """Recorded by the workstation itself (its device key), since nobody is signed in. A
    workstation not enrolled yet cannot sign, and records nothing (the server keeps its own
    record of failures it saw)."""
    author = identity.device_author(store.realm)
    if author is None:
        return ChangeSet()
    device = identity.keyring.device_certificate()
    if device is not None:
        store.add_certificates([device])
    count, until = identity.keyring.failures(user)
    payload = {
        "user": user[:200] or "?",
        "reason": reason[:1000],
        "consecutive": count,
        "locked_until": until,
    }
    _, changes = store.append(EventDraft(Kind.SESSION_SIGN_IN_FAILED, payload), author)
    return changes


def audit_trail(store: Store, limit: int = 2000) -> list[AuditRecord]:
    """The newest audit entries first."""
    marks = ",".join("?" for _ in AUDIT_KINDS)
    from osc_console.store import rows

    found = store.conn.execute(
        f"{rows.SELECT_EVENT} WHERE incident_id IS NULL AND kind IN ({marks}) "
        "ORDER BY recorded_at DESC, id DESC LIMIT ?",
        (*sorted(AUDIT_KINDS), limit),
    ).fetchall()
    return [AuditRecord(rows.row_event(r)) for r in found]


def describe(event: Event) -> str:
    """What an audit entry says, in a sentence."""
    p = event.payload
    kind = event.kind
    if kind == Kind.SESSION_SIGNED_IN:
        method = {
            "online": "signed in",
            "offline": "signed in offline (server unreachable)",
            "standalone": "signed in",
            "break_glass": "BREAK-GLASS sign-in",
        }.get(str(p.get("method")), "signed in")
        text = f"{method} as {str(p.get('role', '')).replace('_', ' ')}"
        if p.get("replaces"):
            text += f", taking over the desk from {p['replaces']}"
        if p.get("method") == "break_glass":
            text += f" by {p.get('declared_name')!s}: {p.get('reason')!s}"
        return text
    if kind == Kind.SESSION_SIGNED_OUT:
        return {
            "signed_out": "signed out",
            "switched": "signed out: another operator took the desk",
            "closed": "signed out: the console was closed",
        }.get(str(p.get("reason")), "signed out")
    if kind == Kind.SESSION_LOCKED:
        if p.get("reason") == "idle":
            return f"console locked after {p.get('idle_minutes')} min idle"
        return "console locked"
    if kind == Kind.SESSION_UNLOCKED:
        return "console unlocked"
    if kind == Kind.ACCOUNT_CHANGED:
        return f"account change: {p.get('change')}"
    if kind == Kind.SESSION_SIGN_IN_FAILED:
        text = (
            f"failed sign-in as {p.get('user')}: {p.get('reason')} "
            f"({p.get('consecutive')} in a row)"
        )
        if p.get("locked_until"):
            text += f"; locked until {_local(str(p['locked_until']))}"
        return text
    return kind


def _local(iso: str) -> str:
    try:
        return local_label(from_iso(iso))
    except ValueError:
        return iso


def is_break_glass(event: Event) -> bool:
    return event.kind == Kind.SESSION_SIGNED_IN and event.payload.get("method") == "break_glass"


def _write(store: Store, operator: Operator, kind: Kind, payload: dict[str, object]) -> ChangeSet:
    _, changes = store.append(EventDraft(kind, payload), operator.author(store.realm))
    return changes
