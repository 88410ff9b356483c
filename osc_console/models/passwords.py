"""What makes a password acceptable, after NIST SP 800-63B (revision 4).

A minimum length and a list of passwords people commonly choose; no composition rules
(capitals, digits, symbols), which make passwords harder to remember and no harder to guess;
spaces and any Unicode allowed, compared after NFKC normalisation so that the same password
typed on two keyboards is the same password. The user's own name and this program's are
refused too (context-specific words).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from osc_console.models.errors import ValidationError

# SP 800-63B-4: at least 15 characters for a password that is the only thing a person types.
MIN_PASSWORD_LENGTH = 15
MAX_PASSWORD_LENGTH = 256
_CONTEXT_WORDS = ("osc console", "oscconsole", "one safe city", "city of london", "jccr")


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords() -> frozenset[str]:
    text = (
        resources.files("osc_console.resources")
        .joinpath("common-passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(password: str, user: str = "") -> None:
    """Raise ValidationError("password", …) saying what to change; nothing else is judged."""
    clean = normalise(password)
    if len(clean) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            "password",
            f"must be at least {MIN_PASSWORD_LENGTH} characters long (a few words make an "
            "easy one to remember)",
        )
    if len(clean) > MAX_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")
    folded = clean.casefold()
    squeezed = "".join(folded.split())
    common = common_passwords()
    # A common password with a number or a mark added is as easy to guess as the password.
    core = squeezed.rstrip("0123456789!?.,-_*#@$%&+=~ ")
    if folded in common or squeezed in common or (len(core) >= 4 and core in common):
        raise ValidationError("password", "is one that many people use; choose another")
    if len(set(squeezed)) <= 2 or _repeats(squeezed):
        raise ValidationError("password", "repeats itself; choose another")
    name = "".join(user.casefold().split())
    if name and len(name) >= 3 and name in squeezed:
        raise ValidationError("password", "must not contain your user name")
    for word in _CONTEXT_WORDS:
        if "".join(word.split()) in squeezed and len(squeezed) < len(word) + 8:
            raise ValidationError("password", "is mostly the name of this system; choose another")


def _repeats(text: str) -> bool:
    """The same short run typed over and over ("abcabcabcabcabc", "passwordpassword")."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return True
    return False
