"""A software WebAuthn authenticator for tests: P-256 keys, "none" attestation, a counter.

It answers navigator.credentials.create() and get() as a browser with a security key would,
in the JSON that static/js/passkeys.js sends (base64url fields), so the portal's checks run
on real signatures without a browser.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

#: authenticator data flags: user present, user verified, attested credential data included
UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    """base64url without padding, as WebAuthn's JSON writes bytes."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One credential on a pretend security key, bound to a relying party id and an origin."""

    def __init__(self, rp_id: str = "portal.test", origin: str = "http://portal.test",
                 counter: int = 0):
        self.rp_id = rp_id
        self.origin = origin
        self.counter = counter
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1,
                            -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: bytes | str, origin: str | None) -> bytes:
        if isinstance(challenge, bytes):
            challenge = b64url(challenge)
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin, "crossOrigin": False}).encode()

    def _auth_data(self, flags: int, counter: int, rp_id: str | None, attested: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", counter) + attested

    def register(self, challenge: bytes | str, origin: str | None = None,
                 rp_id: str | None = None) -> str:
        """The JSON of a new credential for the challenge (navigator.credentials.create)."""
        attested = (bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
                    + self.cose_public_key())
        auth_data = self._auth_data(UP | UV | AT, self.counter, rp_id, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", challenge, origin)),
                "attestationObject": b64url(attestation),
                "transports": ["usb", "nfc"],
            },
        })

    def sign(self, challenge: bytes | str, origin: str | None = None, rp_id: str | None = None,
             counter: int | None = None) -> str:
        """The JSON of an assertion over the challenge (navigator.credentials.get).

        The counter goes up by one each time unless a counter is given.
        """
        if counter is None:
            self.counter += 1
            counter = self.counter
        auth_data = self._auth_data(UP | UV, counter, rp_id)
        client_data = self._client_data("webauthn.get", challenge, origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": None,
            },
        })
