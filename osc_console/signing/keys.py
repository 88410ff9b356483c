"""Ed25519 key pairs, their ids, and signatures over labelled messages.

A key's id is the first 16 bytes of the sha256 of its raw public key, as hex: short enough to
travel in every event, long enough that no two keys share one by chance.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)


class BadKeyError(ValueError):
    """A key or signature that cannot be read (not base64, wrong length)."""


def key_id_of(public_key: str) -> str:
    return hashlib.sha256(_raw_public(public_key)).hexdigest()[:32]


def fingerprint(public_key: str) -> str:
    """A key id as a person reads it aloud: four groups of four, e.g. ``3F2A-91C0-…``."""
    digest = key_id_of(public_key)[:16].upper()
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An unlocked private key. Satisfies the domain's ``Signer``."""

    private: Ed25519PrivateKey
    public_key: str  # base64 of the raw 32 bytes
    key_id: str

    @classmethod
    def generate(cls) -> SigningKey:
        return cls.from_private(Ed25519PrivateKey.generate())

    @classmethod
    def from_private(cls, private: Ed25519PrivateKey) -> SigningKey:
        public = base64.b64encode(
            private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode("ascii")
        return cls(private, public, key_id_of(public))

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        return cls.from_private(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def seed(self) -> bytes:
        """The 32 private bytes: only ever written encrypted (:mod:`.vault`) or 0600."""
        return self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode("ascii")


# Points of small order on edwards25519, by their y coordinate (the sign bit apart): 0, 1,
# p-1 and the two of order 8. A public key among them (or not canonically encoded) would let
# anyone make a "signature" that verifies for every message (R the neutral point, S = 0), and
# OpenSSL's verification does not refuse them; libsodium refuses the same list.
_P = 2**255 - 19
_SMALL_ORDER_Y = frozenset(
    {
        0,
        1,
        _P - 1,
        int.from_bytes(
            bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
            "little",
        ),
        int.from_bytes(
            bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
            "little",
        ),
    }
)


def _weak_point(encoded: bytes) -> bool:
    """A small-order point, or one not canonically encoded (y at or above p)."""
    y = int.from_bytes(encoded, "little") & ((1 << 255) - 1)
    return y >= _P or y in _SMALL_ORDER_Y


def _raw_public(public_key: str) -> bytes:
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadKeyError("a public key must be base64") from exc
    if len(raw) != 32:
        raise BadKeyError("an Ed25519 public key is 32 bytes")
    if _weak_point(raw):
        raise BadKeyError("that public key is a weak point: it would prove nothing")
    return raw


_PUBLIC_CACHE: dict[str, Ed25519PublicKey] = {}


def public_key(public_key: str) -> Ed25519PublicKey:
    """Loaded once per key: a pull of many events by few authors loads a handful."""
    found = _PUBLIC_CACHE.get(public_key)
    if found is None:
        found = Ed25519PublicKey.from_public_bytes(_raw_public(public_key))
        if len(_PUBLIC_CACHE) > 10_000:
            _PUBLIC_CACHE.clear()
        _PUBLIC_CACHE[public_key] = found
    return found


def verify(public: str | Ed25519PublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``public``'s signature of ``message``."""
    try:
        key = public_key(public) if isinstance(public, str) else public
        raw = base64.b64decode(signature, validate=True)
        if len(raw) != 64 or _weak_point(raw[:32]):
            return False  # R of small order: not a signature anyone's secret key made
        key.verify(raw, message)
    except (InvalidSignature, BadKeyError, binascii.Error, ValueError, TypeError):
        return False
    return True
