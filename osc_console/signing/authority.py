"""An authority whose signing key is held in this process: a standalone workstation's own,
the central server's, or the one demo data and benchmarks certify their invented staff with.

It certifies keys and issues grants; it never decides who may have them (the accounts it
serves do).
"""

from __future__ import annotations

from dataclasses import dataclass

from osc_console.models.ids import uuid7
from osc_console.signing.documents import Grant, KeyCertificate
from osc_console.signing.keys import SigningKey


@dataclass(frozen=True, slots=True)
class Authority:
    key: SigningKey
    name: str

    @property
    def key_id(self) -> str:
        return self.key.key_id

    @property
    def public_key(self) -> str:
        return self.key.public_key

    def certify(
        self,
        public_key: str,
        key_id: str,
        *,
        user: str,
        agency: str,
        workstation: str,
        at: str,
        break_glass: bool = False,
    ) -> KeyCertificate:
        return KeyCertificate(
            key_id=key_id,
            public_key=public_key,
            user=user,
            agency=agency,
            workstation=workstation,
            issued_at=at,
            issuer=self.key_id,
            break_glass=break_glass,
        ).signed_by(self.key)

    def grant(
        self,
        *,
        user: str,
        display_name: str,
        agency: str,
        role: str,
        workstation: str,
        issued_at: str,
        expires_at: str,
        break_glass: bool = False,
    ) -> Grant:
        return Grant(
            grant_id=uuid7(),
            user=user,
            display_name=display_name,
            agency=agency,
            role=role,
            workstation=workstation,
            issued_at=issued_at,
            expires_at=expires_at,
            issuer=self.key_id,
            break_glass=break_glass,
        ).signed_by(self.key)
