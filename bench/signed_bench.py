"""Signed events for the sync benchmark, and its baseline without signature verification.

The server's own authority (the key file its processes load) certifies the benchmark's people,
so the events :mod:`synthetic` signs pass the server's checks; :func:`prepare_server` writes
the rest of what a sign-in would need straight into a server database (enrolled desks,
accounts, certified keys, grants covering the events' times), to keep set-up fast.

The baseline: the signature check patched out, in this process (:func:`without_signature_check`)
or in a server process started by running this file::

    python bench/signed_bench.py serve --port P --db URL --data-dir D --authority-key F

which runs the ``osc-console serve`` command (the same code) in a process where
:meth:`KeyDirectory.event_problem` skips only the Ed25519 verify: the key is still looked up,
and its actor, workstation and agency still checked against the event's, as are the grant and
everything else a push is checked for. The product has no such switch.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from synthetic import CERTIFIED_AT, BenchStaff

from osc_console.models.agencies import Agency
from osc_console.models.clock import to_iso
from osc_console.models.passwords import normalise
from osc_console.server.accounts import Account
from osc_console.server.backends import open_backend
from osc_console.server.passwords import hash_password
from osc_console.server.service import SyncService
from osc_console.server.storage import now_iso
from osc_console.signing.authority import Authority
from osc_console.signing.documents import KeyCertificate

PASSWORD = "bench horse battery"
# Sign-in is not what these figures measure: the cheapest password work (as the tests use),
# so that 50 clients signing in at once are not told to wait by the server's password gate.
CHEAP_HASH = hash_password(normalise(PASSWORD), cost=2**4)


def server_staff(authority: Authority) -> BenchStaff:
    """The benchmark's people, their keys certified by ``authority`` (the server's)."""
    staff = BenchStaff("server")
    staff.authority = authority
    return staff


@dataclass(frozen=True)
class Desk:
    """A workstation enrolled with the server by its device key."""

    code: str
    agency: Agency
    device_public_key: str


@dataclass(frozen=True)
class Person:
    """An account; ``desks``: where a grant covers everything recorded since CERTIFIED_AT
    (as the grants of many past sign-ins would), for events made before the run."""

    name: str
    agency: Agency
    role: str = "dispatcher"
    desks: tuple[str, ...] = ()


def prepare_server(
    db_url: str,
    folder: Path,
    authority: Authority,
    *,
    desks: Sequence[Desk] = (),
    people: Sequence[Person] = (),
    certificates: Sequence[KeyCertificate] = (),
) -> None:
    """Write into a server database what sign-ins and an administrator would have: desks
    enrolled (their device keys certified), accounts, the people's certified keys, grants."""
    backend = open_backend(db_url, folder)
    try:
        service = SyncService(backend, authority=authority)  # the database takes this key
        accounts = service.accounts()
        at = now_iso()
        until = to_iso(datetime.now(UTC) + timedelta(days=2))
        for desk in desks:
            service.admin.enrol_workstation(
                "benchmark", desk.code, desk.device_public_key, desk.agency.value
            )
        for person in people:
            accounts.add(Account(person.name, "", person.agency, person.role, CHEAP_HASH), at)
            for code in person.desks:
                accounts.add_grant(
                    authority.grant(
                        user=person.name,
                        display_name=person.name,
                        agency=person.agency.value,
                        role=person.role,
                        workstation=code,
                        issued_at=CERTIFIED_AT,
                        expires_at=until,
                    )
                )
        for cert in certificates:
            accounts.add_key(cert)
    finally:
        backend.close()


def _no_verify(public: str | Ed25519PublicKey, message: bytes, signature: str) -> bool:
    return True


# The one name patched: the Ed25519 check of an event's signature, as KeyDirectory.event_problem
# calls it (certificates, sign-in proofs and keys' proofs of possession are checked as ever).
EVENT_VERIFY = "osc_console.signing.directory.verify"


def without_signature_check() -> mock._patch[object]:
    """In this process, while it is entered: every event signature is taken as matching (the
    key, actor, workstation and agency are still looked up and compared)."""
    return mock.patch(EVENT_VERIFY, _no_verify)


def main(argv: list[str]) -> int:
    """``osc-console <argv>`` with the event signature check patched out."""
    from osc_console.cli import main as cli_main

    without_signature_check().start()
    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
