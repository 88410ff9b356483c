"""What the server accepts: every pushed event checked with the client's own domain rules.

Two stages. :func:`check_event` looks at one event alone (shape, hash, payload, realm,
need-to-know) and needs no database. :func:`decide` then places a batch against what is
already held — ids and each workstation's chain head — inside the backend's write
transaction, so that every decision is made under the same lock as the insert.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.errors import ValidationError
from osc_console.models.events import Event, canonical_event_json, canonical_json, event_hash
from osc_console.models.payloads import check_realm, is_known, validate_payload
from osc_console.models.reference import ReferenceData
from osc_console.server.authorship import Refusal

# Who wrote an event and whether they might: :meth:`Authorship.refusal` bound to the sign-in.
AuthorshipCheck = Callable[[Event], Refusal | None]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a bearer token speaks for."""

    user: str
    agency: Agency
    role: str
    workstation: str
    realm: str

    @property
    def visibilities(self) -> tuple[str, ...]:
        return tuple(v.value for v in Visibility if can_see(self.agency, v))


@dataclass(frozen=True, slots=True)
class Checked:
    """One pushed event after the checks that need no database.

    ``event`` is None when the envelope itself is unreadable; ``problem`` says why an event
    will be refused; ``chained`` says whether a refused event still takes its place in its
    workstation's chain (its link is sound, only its content is refused), so that the events
    after it are not held up for ever.
    """

    index: int
    event_id: str
    event: Event | None
    body: str
    problem: str | None = None
    chained: bool = False


class Verdict(StrEnum):
    ACCEPT = "accept"
    DUPLICATE = "duplicate"
    REJECT = "reject"
    QUARANTINE = "quarantine"  # refused, but its chain position is recorded
    DEFER = "defer"


@dataclass(frozen=True, slots=True)
class Decision:
    checked: Checked
    verdict: Verdict
    reason: str | None = None
    seq: int | None = None  # for duplicates: the seq the original was given
    same_as: int | None = None  # for a repeat within the batch: the index of the first


@dataclass(frozen=True, slots=True)
class Head:
    device_seq: int
    content_hash: str


def check_event(
    index: int,
    data: Any,
    caller: Caller,
    reference: ReferenceData,
    authorship: AuthorshipCheck,
) -> Checked:
    event_id = str(data.get("id", "")) if isinstance(data, Mapping) else ""
    try:
        event = Event.from_wire(data)
    except (ValidationError, TypeError, ValueError, KeyError) as exc:
        return Checked(index, event_id, None, "", f"invalid event: {exc}")
    payload_json = canonical_json(event.payload)
    if event_hash(event, payload_json) != event.content_hash:
        return Checked(
            index, event_id, event, "", "content hash does not match the event (changed?)"
        )
    # The wire form is the hash input with the hash in its sorted place: one encoding of
    # the payload serves both the check and the stored body.
    body = canonical_event_json(event, payload_json, content_hash=event.content_hash)
    if event.realm != caller.realm:
        return Checked(
            index,
            event_id,
            event,
            body,
            f"belongs to realm {event.realm}; this sign-in is for {caller.realm}",
        )
    try:
        check_realm(event.kind, event.realm)
    except ValidationError as exc:
        return Checked(index, event_id, event, body, f"invalid: {exc}", chained=True)
    # Who wrote it, and might they: the workstation, the signature, the role then held.
    refusal = authorship(event)
    if refusal is not None:
        return Checked(index, event_id, event, body, refusal.reason, chained=refusal.chained)
    # Need-to-know, judged by the author's own organisation (proven by the signature).
    if not can_see(Agency(event.agency), Visibility(event.visibility)):
        return Checked(
            index,
            event_id,
            event,
            body,
            f"not permitted: a {event.agency} user may not send a {event.visibility}-only event",
            chained=True,
        )
    if not is_known(event.kind, event.schema):
        # The server vouches for everything it hands out, so it cannot pass on what it cannot
        # check. The event stays in the sender's outbox, shown as refused, until the server
        # is upgraded; its place in the chain is kept so later entries still flow.
        return Checked(
            index,
            event_id,
            event,
            body,
            f"unknown kind {event.kind!r} (schema {event.schema}): this server cannot check "
            "it; upgrade the server",
            chained=True,
        )
    try:
        validate_payload(event.kind, event.schema, event.payload, reference)
    except ValidationError as exc:
        return Checked(index, event_id, event, body, f"invalid: {exc}", chained=True)
    return Checked(index, event_id, event, body)


def decide(
    batch: Sequence[Checked],
    held: Mapping[str, tuple[str, int]],
    heads: Mapping[str, Head],
) -> list[Decision]:
    """Place each event against what is held. Returns decisions in the batch's order.

    ``held`` maps event ids already stored to (content hash, seq); ``heads`` maps each
    workstation of the batch (in this realm) to the last position its chain has reached.
    Chains are walked in ``device_seq`` order, so a batch whose events were reordered in
    transit is still accepted whole.
    """
    decisions: dict[int, Decision] = {}
    heads = dict(heads)
    first_of: dict[str, int] = {}
    ordered = sorted(batch, key=lambda c: c.event.device_seq if c.event else 0)
    for checked in ordered:
        event = checked.event
        if event is None or (checked.problem and not checked.chained):
            decisions[checked.index] = Decision(checked, Verdict.REJECT, checked.problem)
            continue
        known = held.get(event.id)
        if known is not None:
            if known[0] == event.content_hash:
                decisions[checked.index] = Decision(checked, Verdict.DUPLICATE, seq=known[1])
            else:
                decisions[checked.index] = Decision(
                    checked,
                    Verdict.REJECT,
                    "id collision: the server holds this id with different content",
                )
            continue
        if event.id in first_of:
            first = decisions[first_of[event.id]]
            same = first.checked.event is not None and (
                first.checked.event.content_hash == event.content_hash
            )
            decisions[checked.index] = (
                Decision(checked, Verdict.DUPLICATE, same_as=first_of[event.id])
                if same
                else Decision(checked, Verdict.REJECT, "id collision within the batch")
            )
            continue
        head = heads.get(event.workstation)
        expected = head.device_seq + 1 if head else 1
        if event.device_seq < expected:
            decisions[checked.index] = Decision(
                checked,
                Verdict.REJECT,
                f"chain position {event.workstation}#{event.device_seq} is already held by "
                "another event (a cloned workstation?)",
            )
            continue
        if event.device_seq > expected:
            decisions[checked.index] = Decision(
                checked,
                Verdict.DEFER,
                f"waiting for {event.workstation}#{expected} (sent out of order)",
            )
            continue
        if head is not None and event.prev_hash != head.content_hash:
            decisions[checked.index] = Decision(
                checked,
                Verdict.REJECT,
                f"does not follow {event.workstation}#{head.device_seq}: "
                "its previous-event hash does not match",
            )
            continue
        heads[event.workstation] = Head(event.device_seq, event.content_hash)
        first_of[event.id] = checked.index
        if checked.problem:
            decisions[checked.index] = Decision(checked, Verdict.QUARANTINE, checked.problem)
        else:
            decisions[checked.index] = Decision(checked, Verdict.ACCEPT)
    return [decisions[c.index] for c in batch]


def new_heads(decisions: Sequence[Decision]) -> dict[str, Head]:
    """Each workstation's chain head after the accepted and quarantined events."""
    heads: dict[str, Head] = {}
    for decision in decisions:
        event = decision.checked.event
        if decision.verdict in (Verdict.ACCEPT, Verdict.QUARANTINE) and event is not None:
            current = heads.get(event.workstation)
            if current is None or event.device_seq > current.device_seq:
                heads[event.workstation] = Head(event.device_seq, event.content_hash)
    return heads
