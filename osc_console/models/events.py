"""The event envelope: one immutable fact in the log, identical on every replica.

``content_hash`` is the sha256 of the canonical JSON of every other envelope field, so an
event changed anywhere after it was written no longer matches its hash; ``device_seq`` and
``prev_hash`` chain each workstation's events so that a gap or a cloned workstation shows.
``sig`` is the author's Ed25519 signature over the content hash, made with the key
``key_id`` names: neither is hashed (the signature covers the hash), so an event written
before signing existed keeps its hash and is shown as unsigned.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from osc_console.models.agencies import Agency, Classification, Visibility
from osc_console.models.clock import is_iso_utc, is_stamp
from osc_console.models.errors import ValidationError
from osc_console.models.ids import is_uuid
from osc_console.models.incident import REALM_PATTERN, WORKSTATION_CODE

# Envelope fields covered by the content hash, in the order they are stored.
HASHED_FIELDS = (
    "id",
    "realm",
    "incident_id",
    "kind",
    "schema",
    "payload",
    "actor",
    "agency",
    "workstation",
    "hlc",
    "recorded_at",
    "occurred_at",
    "visibility",
    "classification",
    "base",
    "refs",
    "device_seq",
    "prev_hash",
)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_string = json.encoder.encode_basestring  # the same spelling the encoder above uses for text


def _compact_encoder(*, sort_keys: bool) -> Callable[[Any], str]:
    """JSON for dicts and lists through the C encoder, built once (json.dumps builds it each
    call, which costs more than encoding a small payload). Same output as JSONEncoder."""
    python = json.JSONEncoder(sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return python.encode
    chunks = make(None, python.default, _string, None, ":", ",", sort_keys, False, True)

    def encode(value: Any) -> str:
        if isinstance(value, dict | list):
            return "".join(chunks(value, 0))
        return python.encode(value)

    return encode


_canonical = _compact_encoder(sort_keys=True)
compact_json = _compact_encoder(sort_keys=False)
_CANONICAL_CHUNKS = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _CANONICAL.default, _string, None, ":", ",", True, False, True
    )
    if getattr(json.encoder, "c_make_encoder", None) is not None
    else None
)


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept as is."""
    if type(value) is dict and _CANONICAL_CHUNKS is not None:
        return "".join(_CANONICAL_CHUNKS(value, 0))  # the usual case, without the checks
    return _canonical(
        dict(value) if isinstance(value, Mapping) and not isinstance(value, dict) else value
    )


def canonical_event_json(
    event: Event, payload_json: str | None = None, *, content_hash: str | None = None
) -> str:
    """``canonical_json(event.hashed_fields())``, assembled without building the dict.

    The payload's canonical JSON can be passed in so that a store encoding it for its own row
    encodes it only once; the hash input is the same text either way (tests prove it). With
    ``content_hash`` it is ``canonical_json(event.to_wire())`` instead: the wire form, the hash
    (and the signature, when there is one) in its sorted place, so a server checking an
    event's hash stores the same text as its body.
    """
    if payload_json is None:
        payload_json = canonical_json(event.payload)
    base = canonical_json(event.base) if event.base else "{}"
    refs = _canonical(list(event.refs)) if event.refs else "[]"
    s = _string
    incident_id = event.incident_id
    prev_hash = event.prev_hash
    sealed_by = "" if content_hash is None else f'"content_hash":{s(content_hash)},'
    key_id = sig = ""
    if content_hash is not None and event.sig is not None and event.key_id is not None:
        key_id = f'"key_id":{s(event.key_id)},'
        sig = f'"sig":{s(event.sig)},'
    # One f-string (a single BUILD_STRING) rather than a join over a tuple of parts.
    return (
        f'{{"actor":{s(event.actor)},"agency":{s(event.agency)},"base":{base},'
        f'"classification":{s(event.classification)},'
        f"{sealed_by}"
        f'"device_seq":{int(event.device_seq)},'
        f'"hlc":{s(event.hlc)},"id":{s(event.id)},'
        f'"incident_id":{"null" if incident_id is None else s(incident_id)},'
        f"{key_id}"
        f'"kind":{s(event.kind)},"occurred_at":{s(event.occurred_at)},"payload":{payload_json},'
        f'"prev_hash":{"null" if prev_hash is None else s(prev_hash)},'
        f'"realm":{s(event.realm)},"recorded_at":{s(event.recorded_at)},"refs":{refs},'
        f'"schema":{int(event.schema)},{sig}"visibility":{s(event.visibility)},'
        f'"workstation":{s(event.workstation)}}}'
    )


def event_hash(event: Event, payload_json: str | None = None) -> str:
    return hashlib.sha256(canonical_event_json(event, payload_json).encode("utf-8")).hexdigest()


# What an event's signature covers: the content hash, under a label that no other signed
# document of this program uses (certificates, grants and sign-in proofs have their own).
SIGNATURE_LABEL = b"osc-console event v1\n"
KEY_ID = re.compile(r"^[0-9a-f]{32}$")
SIGNATURE = re.compile(r"^[A-Za-z0-9+/]{86}==$")


def signed_message(content_hash: str) -> bytes:
    return SIGNATURE_LABEL + content_hash.encode("ascii")


class Signer(Protocol):
    """An unlocked private key: what the store needs to sign an event as its author."""

    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> str:
        """The base64 Ed25519 signature of ``message``."""
        ...


@dataclass(frozen=True, slots=True)
class Author:
    """Who is writing, from where, into which realm, in which role, and the key that proves it.

    ``role`` is a role's value (or ``"workstation"`` for a device's own entries); the store
    refuses an author without a role or a signer: nothing new is written unsigned.
    """

    actor: str
    agency: Agency
    workstation: str
    realm: str = "live"
    role: str | None = None
    signer: Signer | None = field(default=None, compare=False, repr=False)

    def in_realm(self, realm: str) -> Author:
        return replace(self, realm=realm)


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What a service asks to record; the store seals it into an :class:`Event`."""

    kind: str
    payload: Mapping[str, Any]
    incident_id: str | None = None
    visibility: Visibility = Visibility.JOINT
    classification: Classification = Classification.OFFICIAL
    occurred_at: str | None = None
    base: Mapping[str, str] = field(default_factory=dict)
    refs: tuple[str, ...] = ()
    schema: int = 1


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    realm: str
    incident_id: str | None
    kind: str
    schema: int
    payload: Mapping[str, Any]
    actor: str
    agency: str
    workstation: str
    hlc: str
    recorded_at: str
    occurred_at: str
    visibility: str
    classification: str
    base: Mapping[str, str]
    refs: tuple[str, ...]
    device_seq: int
    prev_hash: str | None
    content_hash: str
    key_id: str | None = None
    sig: str | None = None

    @property
    def is_signed(self) -> bool:
        return self.sig is not None

    @property
    def order_key(self) -> tuple[str, str, str]:
        """Causal order across workstations: clock, then workstation, then id (never wall time)."""
        return (self.hlc, self.workstation, self.id)

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "realm": self.realm,
            "incident_id": self.incident_id,
            "kind": self.kind,
            "schema": self.schema,
            "payload": dict(self.payload),
            "actor": self.actor,
            "agency": self.agency,
            "workstation": self.workstation,
            "hlc": self.hlc,
            "recorded_at": self.recorded_at,
            "occurred_at": self.occurred_at,
            "visibility": self.visibility,
            "classification": self.classification,
            "base": dict(self.base),
            "refs": list(self.refs),
            "device_seq": self.device_seq,
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        return event_hash(self)

    def to_wire(self) -> dict[str, Any]:
        wire = self.hashed_fields()
        wire["content_hash"] = self.content_hash
        if self.sig is not None and self.key_id is not None:
            wire["key_id"] = self.key_id
            wire["sig"] = self.sig
        return wire

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Event:
        """Build from a wire or stored dict, checking the envelope's shape (not the payload)."""
        check_envelope(data)
        return cls(
            id=data["id"],
            realm=data["realm"],
            incident_id=data.get("incident_id"),
            kind=data["kind"],
            schema=int(data["schema"]),
            payload=data["payload"],
            actor=data["actor"],
            agency=data["agency"],
            workstation=data["workstation"],
            hlc=data["hlc"],
            recorded_at=data["recorded_at"],
            occurred_at=data["occurred_at"],
            visibility=data["visibility"],
            classification=data["classification"],
            base=data.get("base") or {},
            refs=tuple(data.get("refs") or ()),
            device_seq=int(data["device_seq"]),
            prev_hash=data.get("prev_hash"),
            content_hash=data["content_hash"],
            key_id=data.get("key_id"),
            sig=data.get("sig"),
        )


def content_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def seal(
    draft: EventDraft,
    author: Author,
    *,
    event_id: str,
    hlc: str,
    recorded_at: str,
    device_seq: int,
    prev_hash: str | None,
    signer: Signer | None = None,
) -> Event:
    """Fix every envelope field of a draft, compute its hash and, with ``signer``, sign it
    (one copy of the event, not one per step: this runs for every entry written)."""
    unsealed = Event(
        id=event_id,
        realm=author.realm,
        incident_id=draft.incident_id,
        kind=str(draft.kind),
        schema=draft.schema,
        payload=dict(draft.payload),
        actor=author.actor,
        agency=Agency(author.agency).value,
        workstation=author.workstation,
        hlc=hlc,
        recorded_at=recorded_at,
        occurred_at=draft.occurred_at or recorded_at,
        visibility=Visibility(draft.visibility).value,
        classification=Classification(draft.classification).value,
        base=dict(draft.base),
        refs=tuple(sorted(set(draft.refs) | set(draft.base.values()))),
        device_seq=device_seq,
        prev_hash=prev_hash,
        content_hash="",
    )
    digest = event_hash(unsealed)
    if signer is None:
        return replace(unsealed, content_hash=digest)
    return replace(
        unsealed,
        content_hash=digest,
        key_id=signer.key_id,
        sig=signer.sign(signed_message(digest)),
    )


def sign_event(event: Event, signer: Signer) -> Event:
    """The sealed event with its author's signature over its content hash."""
    return replace(event, key_id=signer.key_id, sig=signer.sign(signed_message(event.content_hash)))


# Built once: check_envelope runs for every event a server receives or a client pulls.
_AGENCIES = frozenset(a.value for a in Agency)
_AGENCY_CHOICE = f"must be one of {', '.join(a.value for a in Agency)}"
_VISIBILITIES = frozenset(v.value for v in Visibility)
_CLASSIFICATIONS = frozenset(c.value for c in Classification)


def _require(data: Mapping[str, Any], name: str, ok: bool, message: str) -> None:
    if not ok:
        raise ValidationError(name, message)


def check_envelope(data: Mapping[str, Any]) -> None:
    """The envelope's fields exist and have the right shape. Raises ValidationError."""
    if not isinstance(data, Mapping):
        raise ValidationError("event", "must be a JSON object")
    _require(data, "id", is_uuid(data.get("id")), "must be a UUID")
    realm = data.get("realm")
    _require(
        data,
        "realm",
        isinstance(realm, str) and bool(REALM_PATTERN.match(realm)),
        "must be 'live' or 'exercise:<slug>'",
    )
    incident_id = data.get("incident_id")
    _require(data, "incident_id", incident_id is None or is_uuid(incident_id), "must be a UUID")
    _require(data, "kind", isinstance(data.get("kind"), str) and data["kind"] != "", "missing")
    schema = data.get("schema")
    _require(
        data,
        "schema",
        isinstance(schema, int) and not isinstance(schema, bool) and schema >= 1,
        "must be a positive whole number",
    )
    _require(data, "payload", isinstance(data.get("payload"), Mapping), "must be a JSON object")
    actor = data.get("actor")
    _require(data, "actor", isinstance(actor, str) and actor.strip() != "", "must not be empty")
    _require(
        data,
        "agency",
        data.get("agency") in _AGENCIES,
        _AGENCY_CHOICE,
    )
    workstation = data.get("workstation")
    _require(
        data,
        "workstation",
        isinstance(workstation, str) and bool(WORKSTATION_CODE.match(workstation)),
        "must be a workstation code of 2 to 8 capital letters or digits",
    )
    _require(data, "hlc", is_stamp(data.get("hlc")), "must be a clock stamp")
    for name in ("recorded_at", "occurred_at"):
        _require(data, name, is_iso_utc(data.get(name)), "must be an ISO 8601 UTC time ending Z")
    _require(
        data,
        "visibility",
        data.get("visibility") in _VISIBILITIES,
        "must be joint, police or corporation",
    )
    _require(
        data,
        "classification",
        data.get("classification") in _CLASSIFICATIONS,
        "must be OFFICIAL or OFFICIAL-SENSITIVE",
    )
    base = data.get("base") or {}
    _require(
        data,
        "base",
        isinstance(base, Mapping) and all(is_uuid(v) for v in base.values()),
        "must map field names to event ids",
    )
    refs = data.get("refs") or []
    _require(
        data,
        "refs",
        isinstance(refs, list | tuple) and all(is_uuid(r) for r in refs),
        "must be a list of event ids",
    )
    seq = data.get("device_seq")
    _require(
        data,
        "device_seq",
        isinstance(seq, int) and not isinstance(seq, bool) and seq >= 1,
        "must be a whole number from 1",
    )
    prev = data.get("prev_hash")
    _require(
        data,
        "prev_hash",
        prev is None or (isinstance(prev, str) and len(prev) == 64),
        "must be a sha256 hex digest",
    )
    _require(
        data,
        "prev_hash",
        (prev is None) == (seq == 1),
        "must be empty for a workstation's first event and set after it",
    )
    digest = data.get("content_hash")
    _require(
        data,
        "content_hash",
        isinstance(digest, str) and len(digest) == 64,
        "must be a sha256 hex digest",
    )
    key_id, sig = data.get("key_id"), data.get("sig")
    _require(data, "sig", (key_id is None) == (sig is None), "key_id and sig come together")
    _require(
        data,
        "key_id",
        key_id is None or (isinstance(key_id, str) and bool(KEY_ID.match(key_id))),
        "must be 32 hex digits",
    )
    _require(
        data,
        "sig",
        sig is None or (isinstance(sig, str) and bool(SIGNATURE.match(sig))),
        "must be a base64 Ed25519 signature",
    )
