"""A private key kept at rest, encrypted under a key derived from its owner's password.

Argon2id (memory-hard, so a stolen file cannot be guessed at on a graphics card) derives an
AES-256-GCM key; the GCM tag proves the password right or wrong, so a wrong password never
yields a wrong key. The sealed form is one JSON object naming its parameters, so the cost can
be raised later without making existing keys unreadable. ``context`` (user and workstation)
is bound as associated data: a sealed key copied under another name does not open.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from osc_console.signing.keys import SigningKey


class WrongPasswordError(Exception):
    """The password does not open this key (or the sealed key was altered)."""


class SealedKeyError(Exception):
    """The sealed key cannot be read at all: not ours, damaged, or from a newer program."""


@dataclass(frozen=True, slots=True)
class KdfCost:
    """Argon2id's parameters. The default takes about 0.1 s and 64 MiB on this class of
    machine (RFC 9106's second recommended option, with fewer lanes than cores)."""

    memory_kib: int = 65536
    iterations: int = 3
    lanes: int = 4


DEFAULT_COST = KdfCost()
# For tests only, where hundreds of keys are made: as cheap as Argon2id allows.
TEST_COST = KdfCost(memory_kib=64, iterations=1, lanes=1)


def _derive(password: str, salt: bytes, cost: KdfCost) -> bytes:
    return Argon2id(
        salt=salt,
        length=32,
        iterations=cost.iterations,
        lanes=cost.lanes,
        memory_cost=cost.memory_kib,
    ).derive(password.encode("utf-8"))


def derived_key(password: str, salt: bytes, cost: KdfCost = DEFAULT_COST) -> SigningKey:
    """The key a password makes (Argon2id over the password and a salt): whoever knows the
    password can make it again anywhere, and nobody else can. The room's break-glass
    account's key is this, so that only its password certifies a key made offline."""
    return SigningKey.from_seed(_derive(password, salt, cost))


def seal_key(key: SigningKey, password: str, context: str, cost: KdfCost = DEFAULT_COST) -> str:
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    box = AESGCM(_derive(password, salt, cost))
    sealed = box.encrypt(nonce, key.seed, context.encode("utf-8"))
    return json.dumps(
        {
            "format": "osc-sealed-key-v1",
            "kdf": "argon2id",
            "m": cost.memory_kib,
            "t": cost.iterations,
            "p": cost.lanes,
            "salt": _b64(salt),
            "nonce": _b64(nonce),
            "sealed": _b64(sealed),
            "key_id": key.key_id,
        },
        sort_keys=True,
    )


def open_key(text: str, password: str, context: str) -> SigningKey:
    """The key, or WrongPasswordError; SealedKeyError when the text is not a sealed key."""
    data = _read(text)
    cost = KdfCost(int(data["m"]), int(data["t"]), int(data["p"]))
    try:
        seed = AESGCM(_derive(password, _unb64(data["salt"]), cost)).decrypt(
            _unb64(data["nonce"]), _unb64(data["sealed"]), context.encode("utf-8")
        )
    except InvalidTag:
        raise WrongPasswordError("the password does not open this key") from None
    key = SigningKey.from_seed(seed)
    if key.key_id != data["key_id"]:
        raise SealedKeyError("the sealed key does not match the key it names")
    return key


def _read(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
        if data.get("format") != "osc-sealed-key-v1" or data.get("kdf") != "argon2id":
            raise SealedKeyError("not a sealed key this program can read")
        for name in ("m", "t", "p", "salt", "nonce", "sealed", "key_id"):
            if name not in data:
                raise SealedKeyError(f"the sealed key has no {name}")
    except (ValueError, AttributeError) as exc:
        raise SealedKeyError("not a sealed key this program can read") from exc
    return dict(data)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)
