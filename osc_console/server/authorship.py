"""Who wrote a pushed event, provably, and whether they were allowed to.

For every event the server checks: it comes from the workstation the sign-in is for; it is
signed with a key certified for its actor at that workstation (and that actor's agency); and
the role its author held when it was recorded (the grant that covered the moment) may write
its kind under the one authority table. A workstation's own entries (failed sign-ins) are
signed by its enrolled device key and judged as the ``workstation`` principal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from osc_console.models.authority import (
    AUTHORITY,
    WORKSTATION,
    NotPermittedError,
    check_authority,
)
from osc_console.models.clock import from_iso
from osc_console.models.events import Event
from osc_console.models.payloads import is_known
from osc_console.server.accounts import Accounts
from osc_console.signing.directory import KeyDirectory
from osc_console.signing.documents import KeyCertificate

# Clocks differ: an entry stamped a little before the sign-in that granted its role (or a
# little after the grant ran out) is still judged by that grant.
CLOCK_TOLERANCE = timedelta(minutes=5)

GrantRow = tuple[str, str, str, str | None]  # role, issued_at, expires_at, revoked_at


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    chained: bool  # the event still takes its place in its chain (it came from its desk)


class Authorship:
    """Certified keys (cached, looked up on a miss) and grants, for one server process."""

    def __init__(self, accounts: Callable[[], Accounts], authority: tuple[str, str]) -> None:
        self._accounts = accounts
        self._directory = KeyDirectory({authority[0]: authority[1]})
        self._lock = threading.Lock()

    def certificate(self, key_id: str) -> KeyCertificate | None:
        """The certificate of ``key_id`` if this server certified it (or, for a break-glass
        key, an enrolled device did)."""
        with self._lock:
            found = self._directory.certificates.get(key_id)
        if found is not None:
            return found
        cert = self._accounts().key(key_id)
        if cert is None:
            return None
        if cert.break_glass and cert.issuer not in self._directory.authorities:
            self.certificate(cert.issuer)  # the device key that certified it, first
        with self._lock:
            problem = self._directory.add(cert)
        return None if problem else cert

    def learn(self, cert: KeyCertificate) -> str | None:
        """A certificate just stored (at sign-in, enrolment or a break-glass push)."""
        with self._lock:
            return self._directory.add(cert)

    def problem_of_certificate(self, cert: KeyCertificate) -> str | None:
        with self._lock:
            return self._directory.certificate_problem(cert)

    def refusal(
        self,
        event: Event,
        workstation: str,
        grants: Callable[[str, str], list[GrantRow]],
    ) -> Refusal | None:
        if event.workstation != workstation:
            return Refusal(
                f"not permitted: this sign-in is for workstation {workstation}; the entry "
                f"was made at {event.workstation}, which only that workstation may send",
                chained=False,
            )
        # Nothing unauthenticated takes a chain position: whoever got hold of a desk's
        # sign-in could otherwise push a forged next entry and have the desk's real one
        # refused for good. (An entry left unsent from before the desk signed its entries
        # therefore holds up the ones after it: send everything before upgrading.)
        if event.sig is None or event.key_id is None:
            return Refusal(
                "unsigned: every new entry must be signed by its author (written before "
                "this workstation signed its entries?)",
                chained=False,
            )
        cert = self.certificate(event.key_id)
        if cert is None:
            return Refusal(
                f"signature refused: key {event.key_id} is not registered with this server",
                chained=False,
            )
        # No lock: reading the directory is safe while another thread adds to it, and the
        # Ed25519 check releases the interpreter, so concurrent pushes verify in parallel.
        problem = self._directory.event_problem(event)
        if problem is not None:
            return Refusal(f"signature refused: {problem}", chained=False)
        role: str | None = WORKSTATION
        if not cert.is_device:
            role = role_when(grants(event.actor, event.workstation), event.recorded_at)
            if role is None:
                return Refusal(
                    f"not permitted: {event.actor} held no grant at {event.workstation} when "
                    f"this was recorded ({event.recorded_at}); sign in to the server first",
                    chained=True,
                )
        if event.kind not in AUTHORITY and not is_known(event.kind, event.schema):
            return None  # a kind this server does not know: refused as such (upgrade it)
        try:
            check_authority(role or "", event.kind)
        except NotPermittedError as exc:
            return Refusal(str(exc), chained=True)
        return None


def role_when(grants: list[GrantRow], recorded_at: str) -> str | None:
    """The role of the latest grant whose period covered ``recorded_at``; only when none did,
    the latest one that covered it within the clock tolerance (so that a role changed at a
    sign-in is never applied to what was written just before it). A revoked grant covers
    nothing recorded after its revocation. None: no grant covered it."""
    try:
        at = from_iso(recorded_at)
    except ValueError:
        return None
    for tolerance in (timedelta(0), CLOCK_TOLERANCE):
        found: str | None = None
        for role, issued, expires, revoked in grants:
            start = from_iso(issued) - tolerance
            end = from_iso(expires) + tolerance
            if revoked is not None:
                end = min(end, from_iso(revoked))
            if start <= at <= end:
                found = role  # grants are oldest first: the latest one covering it wins
        if found is not None:
            return found
    return None
