"""Checking a credential someone pasted or uploaded on /verify: which certificate it states,
when a key of the portal's signed it unchanged (credentials.py issues them)."""

from __future__ import annotations

import base64
import json
import logging
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from course_portal.certificates.credentials import (
    ACCEPTED_ALGORITHMS,
    JWT_SHAPE,
    MAX_CREDENTIAL_BYTES,
    REGISTRY,
    CredentialRefused,
    issuer_did,
    keys,
)
from course_portal.certificates.models import Certificate
from course_portal.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CredentialAnswer:
    """What a pasted or uploaded credential is: the certificate it states, or why it is none."""

    #: the certificate, when the signature is the portal's and the certificate exists
    certificate: Certificate | None
    #: the key's name (key-2-20261204) when a key of the portal's signed it
    key_id: str = ""
    #: why it is not the portal's: "key" (no key of the portal's), "signature" (changed after
    #: signing), "unknown" (signed by the portal, but no such certificate here); "" when it is
    problem: str = ""

    @property
    def matches(self) -> bool:
        """Signed by the portal, unchanged, and a certificate of its registry."""
        return self.certificate is not None


def _b64json(part: str) -> dict:
    data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


NOT_A_CREDENTIAL = _l(
    "This is not a credential as the portal issues it: that is a file ending in .jwt, a long "
    "line of letters and digits in three parts separated by dots. Check the number instead.")


def read_text(text: str) -> str:
    """The compact JWT in what was pasted or uploaded; CredentialRefused when it is none."""
    if not text.strip():
        raise CredentialRefused(_l("Paste the credential, or choose its file."))
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CREDENTIAL_BYTES:
        raise CredentialRefused(_l(
            "This is far longer than a credential of the portal (a few kilobytes). Paste or "
            "choose the credential's file as you received it."))
    token = "".join(text.split())
    if token.startswith('"') and token.endswith('"'):
        token = token[1:-1]  # a JWT kept as a JSON string
    if not JWT_SHAPE.fullmatch(token):
        raise CredentialRefused(NOT_A_CREDENTIAL)
    return token


def read_upload(stream) -> str:
    """An uploaded credential file's text; CredentialRefused when empty, large or binary."""
    data = stream.read(MAX_CREDENTIAL_BYTES + 1) if stream is not None else b""
    if not data:
        raise CredentialRefused(_l("The file is empty. Choose the credential's file again."))
    if len(data) > MAX_CREDENTIAL_BYTES:
        raise CredentialRefused(_l(
            "This is far longer than a credential of the portal (a few kilobytes). Paste or "
            "choose the credential's file as you received it."))
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        raise CredentialRefused(_l(
            "This is a PDF, not a credential: check it with the form for the certificate's "
            "PDF file above."))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialRefused(NOT_A_CREDENTIAL) from None


def check_token(token: str) -> CredentialAnswer:
    """Which certificate a compact JWT is, when a key of the portal's signed it unchanged."""
    try:
        header = _b64json(token.split(".")[0])
    except ValueError:
        raise CredentialRefused(NOT_A_CREDENTIAL) from None
    did, _, kid = str(header.get("kid", "")).partition("#")
    key = next((k for k in keys() if k.kid == kid), None)
    if (header.get("alg") not in ACCEPTED_ALGORITHMS or did != issuer_did() or key is None):
        return CredentialAnswer(None, problem="key")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signed = jws.deserialize_compact(token, key.public, algorithms=list(
                ACCEPTED_ALGORITHMS), registry=REGISTRY)
        payload = json.loads(signed.payload)
    except (JoseError, ValueError):
        return CredentialAnswer(None, key_id=key.kid, problem="signature")
    code = str(payload.get("id", "")).rstrip("/").rpartition("/verify/")[2]
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.verification_code == code)
        .options(selectinload(Certificate.replaced_by), selectinload(Certificate.replaces))
    ) if code else None
    if certificate is None:
        return CredentialAnswer(None, key_id=key.kid, problem="unknown")
    log.info("a credential checked on /verify: %s, key %s", certificate.registry_number, key.kid)
    return CredentialAnswer(certificate, key_id=key.kid)


def check_text(text: str) -> CredentialAnswer:
    """Read what was pasted and answer for it."""
    return check_token(read_text(text))
