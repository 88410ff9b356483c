"""Password hashing for server users: scrypt from the standard library, salted per user.

The stored form names its parameters (``scrypt$n$r$p$salt$hash``) so that they can be raised
later without making existing passwords unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
_LENGTH = 32
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str, *, cost: int = _N) -> str:
    """``cost`` (scrypt's N) is lowered only by tests, where thousands of sign-ins run."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=cost, r=_R, p=_P, dklen=_LENGTH)
    return "$".join(
        ("scrypt", str(cost), str(_R), str(_P), _b64(salt), _b64(digest)),
    )


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison; a malformed stored value never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
