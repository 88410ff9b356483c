"""What an authority signs: a key certificate (this key is this person at this workstation)
and a grant (this person holds this role until then).

The authority is the central server, or a standalone workstation that is its own. Each
document is signed over its canonical JSON under a label of its own kind, so a signature on
one kind of document can never pass for another (or for an event).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, replace
from typing import Any, ClassVar, Self

from osc_console.models.events import canonical_json
from osc_console.signing.keys import SigningKey, verify


class DocumentError(ValueError):
    """A certificate or grant that is malformed."""


def _label(kind: str) -> bytes:
    return f"osc-console {kind} v1\n".encode("ascii")


# A device's own entries are signed by its enrolled key under this actor: ``@`` + the code.
# No user name can start with ``@``, so a device can never be mistaken for a person.
DEVICE_PREFIX = "@"


def device_actor(workstation: str) -> str:
    return f"{DEVICE_PREFIX}{workstation}"


class _SignedDocument:
    """What an authority signs: the canonical JSON of every field but ``sig``, under the
    label of the document's kind (``LABEL``). Subclasses are frozen dataclasses with
    ``issuer`` and ``sig`` fields."""

    __slots__ = ()
    LABEL: ClassVar[str]
    issuer: str
    sig: str

    def message(self) -> bytes:
        body = asdict(self)  # type: ignore[call-overload]
        body.pop("sig")
        return _label(self.LABEL) + canonical_json(body).encode("utf-8")

    def signed_by(self, authority: SigningKey) -> Self:
        unsigned = replace(self, issuer=authority.key_id, sig="")  # type: ignore[type-var]
        return replace(unsigned, sig=authority.sign(unsigned.message()))  # type: ignore[type-var]

    def verified_by(self, authority_public_key: str) -> bool:
        return verify(authority_public_key, self.message(), self.sig)

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Self:
        return cls(**_fields(cls, data, {"break_glass": bool}))


@dataclass(frozen=True, slots=True)
class KeyCertificate(_SignedDocument):
    """``public_key`` belongs to ``user`` of ``agency`` at ``workstation`` from ``issued_at``.

    ``user`` is ``@CODE`` for a workstation's device key. ``issuer`` is the key id of the
    authority (or, for a break-glass key made offline, of the enrolled device) that signed.
    """

    key_id: str
    public_key: str
    user: str
    agency: str
    workstation: str
    issued_at: str
    issuer: str
    break_glass: bool = False
    sig: str = ""
    LABEL: ClassVar[str] = "key-certificate"

    @property
    def is_device(self) -> bool:
        return self.user.startswith(DEVICE_PREFIX)

    # The order both the server and a store keep a certificate's columns in.
    COLUMNS: ClassVar[str] = (
        "key_id, public_key, user, agency, workstation, issued_at, issuer, break_glass, sig"
    )

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> KeyCertificate:
        """A certificate as a table row holds it, in :attr:`COLUMNS` order."""
        return cls(
            key_id=row[0],
            public_key=row[1],
            user=row[2],
            agency=row[3],
            workstation=row[4],
            issued_at=row[5],
            issuer=row[6],
            break_glass=bool(row[7]),
            sig=row[8],
        )

    def row(self) -> tuple[Any, ...]:
        return (
            self.key_id,
            self.public_key,
            self.user,
            self.agency,
            self.workstation,
            self.issued_at,
            self.issuer,
            int(self.break_glass),
            self.sig,
        )


@dataclass(frozen=True, slots=True)
class Grant(_SignedDocument):
    """The authority says ``user`` holds ``role`` for ``agency`` at ``workstation`` from
    ``issued_at`` until ``expires_at``: what a console may rely on while the server is down."""

    grant_id: str
    user: str
    display_name: str
    agency: str
    role: str
    workstation: str
    issued_at: str
    expires_at: str
    issuer: str
    break_glass: bool = False
    sig: str = ""
    LABEL: ClassVar[str] = "grant"


def proof_message(user: str, workstation: str, realm: str, nonce: str, at: str) -> bytes:
    """What a workstation's device key signs to prove, at sign-in, that this is the desk."""
    return _label("sign-in") + canonical_json(
        {"user": user, "workstation": workstation, "realm": realm, "nonce": nonce, "at": at}
    ).encode("utf-8")


def signing_since_message(server_id: str, seq: int) -> bytes:
    """What a server's authority signs to say which of its events predate signing (those at
    or below ``seq``): a workstation takes an unsigned event only on this word."""
    return _label("signing-since") + canonical_json(
        {"server_id": server_id, "signing_since": seq}
    ).encode("utf-8")


def possession_message(key_id: str, user: str, workstation: str, nonce: str) -> bytes:
    """What a new user key signs to prove its holder has the private half."""
    return _label("key-possession") + canonical_json(
        {"key_id": key_id, "user": user, "workstation": workstation, "nonce": nonce}
    ).encode("utf-8")


def _fields(cls: type, data: Mapping[str, Any], typed: Mapping[str, type]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise DocumentError(f"a {cls.__name__} must be a JSON object")
    names = cls.__dataclass_fields__  # type: ignore[attr-defined]
    found: dict[str, Any] = {}
    for name, spec in names.items():
        if name not in data:
            if spec.default is not MISSING:
                continue
            raise DocumentError(f"a {cls.__name__} needs {name}")
        value = data[name]
        wanted = typed.get(name, str)
        if not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool)):
            raise DocumentError(f"{cls.__name__}.{name} must be a {wanted.__name__}")
        if isinstance(value, str) and len(value) > 2000:
            raise DocumentError(f"{cls.__name__}.{name} is too long")
        found[name] = value
    return found
