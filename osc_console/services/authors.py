"""Authors whose keys are certified by an authority held here, for writers that are not a
person at the keyboard: demo data's invented staff, benchmarks, and tests.

A person at the console is signed in through :mod:`osc_console.services.identity` instead,
which unlocks their own key with their password.
"""

from __future__ import annotations

from datetime import UTC, datetime

from osc_console.models.agencies import Agency
from osc_console.models.clock import to_iso
from osc_console.models.events import Author
from osc_console.signing.authority import Authority
from osc_console.signing.documents import device_actor
from osc_console.signing.keys import SigningKey
from osc_console.store.event_store import Store

WORKSTATION_ROLE = "workstation"


def certified_author(
    store: Store,
    authority: Authority,
    actor: str,
    agency: Agency,
    workstation: str,
    *,
    role: str,
    realm: str | None = None,
    key: SigningKey | None = None,
    at: datetime | None = None,
) -> Author:
    """A new key for ``actor`` at ``workstation``, certified by ``authority`` and registered
    in ``store`` (which is made to trust the authority)."""
    key = key or SigningKey.generate()
    cert = authority.certify(
        key.public_key,
        key.key_id,
        user=actor,
        agency=agency.value,
        workstation=workstation,
        at=to_iso(at or datetime.now(UTC)),
    )
    if authority.key_id not in store.authorities():
        store.trust_authority(authority.key_id, authority.public_key, authority.name)
    problems = store.add_certificates([cert])
    if problems:
        raise ValueError(problems[0])
    return Author(actor, agency, workstation, realm or store.realm, role=role, signer=key)


def device_author(
    store: Store, authority: Authority, workstation: str, agency: Agency, key: SigningKey
) -> Author:
    """A workstation signing its own entries (failed sign-ins) with its enrolled key."""
    return certified_author(
        store,
        authority,
        device_actor(workstation),
        agency,
        workstation,
        role=WORKSTATION_ROLE,
        key=key,
    )
