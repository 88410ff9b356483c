"""The people of the scripts' pictures and samples, signed in with keys of their own.

Everything recorded is signed by its author, so whoever a script writes as holds a key,
certified by an authority made for the run (its private key is never written anywhere): one
key per person and desk, the same across the stores a script opens. ``author`` gives a
signed author and registers their certificate in a store; ``operator`` signs a person in to
a console session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from osc_console.models.agencies import Agency
from osc_console.models.events import Author
from osc_console.signing.authority import Authority
from osc_console.signing.documents import KeyCertificate
from osc_console.signing.keys import SigningKey
from osc_console.store.event_store import Store

if TYPE_CHECKING:
    from osc_console.models.users import User
    from osc_console.services.identity import Operator

# Certificates dated before anything a script records (their stores' clocks may be set back).
CERTIFIED_AT = "2000-01-01T00:00:00.000Z"


@dataclass(frozen=True, slots=True)
class _Key:
    signer: SigningKey
    certificate: KeyCertificate


class Staff:
    def __init__(self, name: str = "scripts") -> None:
        self.authority = Authority(SigningKey.generate(), name)
        self._keys: dict[tuple[str, str, str], _Key] = {}

    def _key(self, actor: str, agency: Agency, workstation: str) -> _Key:
        person = (actor, agency.value, workstation)
        held = self._keys.get(person)
        if held is None:
            signer = SigningKey.generate()
            certificate = self.authority.certify(
                signer.public_key,
                signer.key_id,
                user=actor,
                agency=agency.value,
                workstation=workstation,
                at=CERTIFIED_AT,
            )
            held = self._keys[person] = _Key(signer, certificate)
        return held

    def author(
        self, store: Store, actor: str, agency: Agency, workstation: str, role: str
    ) -> Author:
        """``actor`` at ``workstation`` in ``role``, writing into ``store`` (which is made to
        hold their certificate)."""
        key = self._key(actor, agency, workstation)
        self._register(store, key.certificate)
        return Author(actor, agency, workstation, store.realm, role=role, signer=key.signer)

    def operator(self, store: Store, user: User, workstation: str) -> Operator:
        """``user`` signed in at ``workstation`` (as a standalone sign-in leaves them)."""
        from osc_console.models.payloads import SignInMethod
        from osc_console.services.identity import Operator

        key = self._key(user.name, user.agency, workstation)
        self._register(store, key.certificate)
        return Operator(
            user.name,
            user.name,
            user.agency,
            user.role,
            workstation,
            key.signer,
            key.certificate,
            SignInMethod.STANDALONE,
        )

    def _register(self, store: Store, certificate: KeyCertificate) -> None:
        if self.authority.key_id not in store.authorities():
            store.trust_authority(
                self.authority.key_id, self.authority.public_key, self.authority.name
            )
        problems = store.add_certificates([certificate])
        if problems:
            raise RuntimeError(f"{certificate.user} could not be registered: {problems[0]}")


STAFF = Staff()
