"""Signed authors for tests: one test authority, one key per person and desk.

Nothing new is recorded unsigned, so every test that writes does so as an author whose key
a store holds a certificate for. ``signed(store, author)`` gives that author a key (the same
key for the same person at the same desk across stores, as at a real workstation) and
registers its certificate in ``store``; ``register`` registers it in another store too.
"""

from __future__ import annotations

from dataclasses import replace

from osc_console.models.agencies import Agency
from osc_console.models.clock import to_iso
from osc_console.models.events import Author, Event, sign_event
from osc_console.signing.authority import Authority
from osc_console.signing.documents import KeyCertificate
from osc_console.signing.keys import SigningKey
from osc_console.store.event_store import Store

AUTHORITY = Authority(SigningKey.generate(), "test authority")
# Certificates dated well before any test's clock, so a test that winds time back still
# writes with a key that was already registered.
CERTIFIED_AT = "2000-01-01T00:00:00.000Z"

_KEYS: dict[tuple[str, str, str], SigningKey] = {}


def key_of(actor: str, agency: str, workstation: str) -> SigningKey:
    found = _KEYS.get((actor, agency, workstation))
    if found is None:
        found = _KEYS[(actor, agency, workstation)] = SigningKey.generate()
    return found


def certificate(actor: str, agency: str, workstation: str) -> KeyCertificate:
    key = key_of(actor, agency, workstation)
    return AUTHORITY.certify(
        key.public_key,
        key.key_id,
        user=actor,
        agency=agency,
        workstation=workstation,
        at=CERTIFIED_AT,
    )


def trust(store: Store) -> Store:
    if AUTHORITY.key_id not in store.authorities():
        store.trust_authority(AUTHORITY.key_id, AUTHORITY.public_key, AUTHORITY.name)
    return store


def signed(store: Store | None, author: Author, role: str = "duty_manager") -> Author:
    """``author`` with a role and a key, registered in ``store`` (if one is given)."""
    agency = Agency(author.agency).value
    key = key_of(author.actor, agency, author.workstation)
    ready = replace(author, role=author.role or role, signer=key)
    if store is not None:
        register(store, ready)
    return ready


def register(store: Store, *authors: Author) -> None:
    trust(store)
    problems = store.add_certificates(
        certificate(a.actor, Agency(a.agency).value, a.workstation) for a in authors
    )
    assert not problems, problems


def sign(event: Event) -> Event:
    """A hand-built event signed by its actor's test key (whose certificate a store holds
    once ``register``ed or ``signed`` there)."""
    return sign_event(event, key_of(event.actor, event.agency, event.workstation))


def now_iso() -> str:
    from datetime import UTC, datetime

    return to_iso(datetime.now(UTC))
