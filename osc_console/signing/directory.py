"""Which keys a replica trusts, and the check of one event's signature against them.

A replica (a workstation's store, the server) trusts its authorities' keys; it learns each
author's key from a certificate one of them signed. A key made offline for one use of a
break-glass account is certified by the key that account's password makes (itself certified
by the authority), so only someone who knows that password can make one. Checking many
events spreads the signature checks over the cores: ``cryptography`` releases the
interpreter lock while it verifies.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from osc_console.models.events import Event, signed_message
from osc_console.signing.documents import KeyCertificate
from osc_console.signing.keys import verify

# A break-glass account's own key names no workstation: it certifies, never signs entries.
GLASS_WORKSTATION = "*"
# Below this many events a page is checked in the calling thread: a pool costs more.
_PARALLEL_FROM = 256


@dataclass(slots=True)
class KeyDirectory:
    authorities: dict[str, str] = field(default_factory=dict)  # key id -> public key
    certificates: dict[str, KeyCertificate] = field(default_factory=dict)

    def trust(self, key_id: str, public_key: str) -> None:
        self.authorities[key_id] = public_key

    def certificate_problem(self, cert: KeyCertificate) -> str | None:
        """Why this certificate cannot be trusted here, or None."""
        issuer = self.authorities.get(cert.issuer)
        if issuer is None and cert.break_glass:
            # A key made at a desk for one use of a break-glass account: certified by the key
            # that account's password makes, itself certified by an authority.
            glass = self.certificates.get(cert.issuer)
            if (
                glass is not None
                and glass.break_glass
                and glass.workstation == GLASS_WORKSTATION
                and (glass.user, glass.agency) == (cert.user, cert.agency)
                and cert.workstation != GLASS_WORKSTATION
            ):
                issuer = glass.public_key
        if issuer is None:
            return f"key {cert.key_id} is certified by {cert.issuer}, an authority not trusted here"
        if not cert.verified_by(issuer):
            return f"the certificate of key {cert.key_id} does not verify (altered?)"
        held = self.certificates.get(cert.key_id)
        if held is not None and (held.user, held.workstation, held.public_key) != (
            cert.user,
            cert.workstation,
            cert.public_key,
        ):
            return f"key {cert.key_id} is already certified for {held.user} at {held.workstation}"
        return None

    def add(self, cert: KeyCertificate) -> str | None:
        """Add a certificate if it can be trusted; returns why not otherwise."""
        problem = self.certificate_problem(cert)
        if problem is None:
            self.certificates[cert.key_id] = cert
        return problem

    def event_problem(self, event: Event) -> str | None:
        """Why this signed event's signature cannot be accepted, or None. (An unsigned event
        is the caller's to judge: it may come from before signing.)"""
        if event.sig is None or event.key_id is None:
            return "unsigned"
        cert = self.certificates.get(event.key_id)
        if cert is None:
            return f"signed with key {event.key_id}, which is not registered"
        if cert.user != event.actor or cert.workstation != event.workstation:
            return (
                f"signed with the key of {cert.user} at {cert.workstation}, not of "
                f"{event.actor} at {event.workstation}"
            )
        if cert.agency != event.agency:
            return f"{event.actor} is {cert.agency} staff; the entry claims {event.agency}"
        if not verify(cert.public_key, signed_message(event.content_hash), event.sig):
            return "its signature does not match its content (altered or forged)"
        return None


def event_problems(
    events: Sequence[Event], directory: KeyDirectory, workers: int | None = None
) -> list[str | None]:
    """:meth:`KeyDirectory.event_problem` for each event, in order, over the cores."""
    if len(events) < _PARALLEL_FROM:
        return [directory.event_problem(e) for e in events]
    workers = workers or min(8, os.cpu_count() or 1)
    if workers <= 1:
        return [directory.event_problem(e) for e in events]
    size = -(-len(events) // workers)
    chunks = [events[i : i + size] for i in range(0, len(events), size)]
    with ThreadPoolExecutor(workers, thread_name_prefix="verify") as pool:
        results = pool.map(lambda chunk: [directory.event_problem(e) for e in chunk], chunks)
        return [problem for chunk in results for problem in chunk]


def directory_of(
    authorities: Mapping[str, str], certificates: Iterable[KeyCertificate]
) -> KeyDirectory:
    """A directory from stored rows; certificates that no longer verify are left out."""
    directory = KeyDirectory(dict(authorities))
    pending = list(certificates)
    # Device certificates first: a break-glass key is certified by one.
    # Break-glass accounts' own keys first: each certifies the keys made for one use.
    pending.sort(key=lambda c: (c.workstation != GLASS_WORKSTATION, c.issued_at))
    for cert in pending:
        directory.add(cert)
    return directory
