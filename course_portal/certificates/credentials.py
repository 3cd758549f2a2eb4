"""Every certificate as an Open Badges 3.0 credential: a W3C Verifiable Credential as a vc+jwt.

The credential states what the certificate states (the programme's titles in three languages,
its hours and dates, the institute, the teacher's names in the three scripts; no contact data),
is signed with the university's Ed25519 key as a JWT (VC-JOSE-COSE, `typ: vc+jwt`, the
credential itself as the payload, with the registered claims Open Badges 3.0 asks for), and
names its key by a did:web URL whose document the portal serves at /.well-known/did.json.
Revocation and re-issue are published as a Bitstring Status List credential, built from the
certificates' statuses when it is asked for, so it is never behind the registry.

Keys are PEM files in CREDENTIAL_KEY_FOLDER: `key-<n>-<yyyymmdd>.pem` (private, encrypted at
rest with the portal's ENCRYPTION_KEYS like the other secrets, see core.encryption; the newest
signs) and `key-<n>-<yyyymmdd>.pub.pem` (an earlier key, kept public so its credentials still
verify). `flask certificates new-credential-key` rotates: the new key signs from then on, the
earlier ones are reduced to their public halves. In development and tests a first key is made
when none exists; in production the operator makes it (flask doctor says when there is none).

A credential is signed when it is downloaded, from the certificate's frozen snapshot: the same
key signs the same bytes each time (Ed25519 is deterministic), and after a rotation the new key
signs it while a copy saved earlier still verifies with the old one.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import re
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from joserfc import jws
from joserfc.jwk import OKPKey
from sqlalchemy import select

from course_portal.certificates.filecheck import FileRefused
from course_portal.certificates.models import Certificate, CertificateStatus
from course_portal.certificates.snapshot import RESULT_LABELS, hours_genitive_ru
from course_portal.core import encryption
from course_portal.core.clock import day_starts_at, now
from course_portal.extensions import db

log = logging.getLogger(__name__)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = ("https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
             "ob_v3p0_achievementcredential_schema.json")
#: the media type of a credential secured as a JWT (VC-JOSE-COSE)
MEDIA_TYPE = "application/vc+jwt"
#: EdDSA (RFC 8037) rather than RFC 9864's Ed25519: every JOSE library and Open Badges
#: verifier in use reads it; both name the same signature, and both are accepted when checked
ALGORITHM = "EdDSA"
ACCEPTED_ALGORITHMS = ("EdDSA", "Ed25519")
REGISTRY = jws.JWSRegistry(algorithms=list(ACCEPTED_ALGORITHMS))
#: entries in one status list: the 16 KB the Bitstring Status List asks for at least, so a
#: list does not tell how many certificates there are; certificate id n is entry n % SIZE of
#: list n // SIZE
STATUS_LIST_SIZE = 131_072
#: a pasted or uploaded credential larger than this is not one of the portal's (they are ~3 KB)
MAX_CREDENTIAL_BYTES = 64 * 1024
#: the name of a key's file without its suffix: key-<sequence>-<yyyymmdd>
KEY_NAME = re.compile(r"key-(\d{1,6})-(\d{8})")
PRIVATE_SUFFIX = ".pem"
PUBLIC_SUFFIX = ".pub.pem"
JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class CredentialRefused(FileRefused):
    """What was pasted or uploaded cannot be checked as a credential; the message says why."""


@dataclass(frozen=True)
class CredentialKey:
    """One of the university's Ed25519 keys: its name, its public half, its private half."""

    kid: str
    public: OKPKey
    #: None for an earlier key that no longer signs
    private: OKPKey | None = None

    @property
    def sequence(self) -> int:
        """The key's place in the order of rotation, 1 for the first."""
        match = KEY_NAME.fullmatch(self.kid)
        assert match is not None  # keys are loaded and made only under such names
        return int(match.group(1))

    def public_jwk(self) -> dict:
        """The public key as a JWK (kty OKP, crv Ed25519, x)."""
        return {k: v for k, v in self.public.as_dict(private=False).items()
                if k in ("kty", "crv", "x")}


# --- keys ---------------------------------------------------------------------------------------


_keys_cache: dict[tuple, list[CredentialKey]] = {}
_keys_lock = threading.Lock()


def key_folder() -> Path:
    """CREDENTIAL_KEY_FOLDER, or instance/credential-keys when it is empty."""
    folder = current_app.config.get("CREDENTIAL_KEY_FOLDER") or ""
    return Path(folder) if folder else Path(current_app.instance_path) / "credential-keys"


def _key_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if KEY_NAME.fullmatch(p.name.removesuffix(PUBLIC_SUFFIX)
                                        .removesuffix(PRIVATE_SUFFIX)))


#: what the private key files' encryption is bound to (core.encryption)
KEY_FILE_PURPOSE = "credential-key"


def _read_private(path: Path) -> bytes:
    """A private key file's PEM: encrypted at rest (core.encryption), or plain from before."""
    data = path.read_bytes()
    if data.startswith(encryption.PREFIX.encode() + b":"):
        return encryption.decrypt(data.decode(), KEY_FILE_PURPOSE).encode()
    return data


def _write_private(path: Path, pem: bytes, *, replace: bool = False) -> None:
    sealed = encryption.encrypt(pem.decode(), KEY_FILE_PURPOSE).encode()
    if replace:
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(sealed)
        os.replace(temporary, path)
        return
    # O_EXCL: two processes making the same key at once do not overwrite each other's
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(sealed)


def reencrypt_key_files() -> int:
    """Encrypt again with the current key the private key files another key (or none) sealed."""
    current = encryption.current_key_id(current_app.config)
    done = 0
    for path in _key_files(key_folder()):
        if path.name.endswith(PUBLIC_SUFFIX):
            continue
        if encryption.key_id_of(path.read_text("ascii", "replace")) == current:
            continue
        _write_private(path, _read_private(path), replace=True)
        done += 1
    return done


def _load(folder: Path) -> list[CredentialKey]:
    keys: dict[str, CredentialKey] = {}
    for path in _key_files(folder):
        kid = path.name.removesuffix(PUBLIC_SUFFIX).removesuffix(PRIVATE_SUFFIX)
        key = OKPKey.import_key(path.read_bytes() if path.name.endswith(PUBLIC_SUFFIX)
                                else _read_private(path))
        if path.name.endswith(PUBLIC_SUFFIX):
            keys.setdefault(kid, CredentialKey(kid, OKPKey.import_key(key.as_dict(private=False))))
        else:
            public = OKPKey.import_key(key.as_dict(private=False))
            keys[kid] = CredentialKey(kid, public, key)
    return sorted(keys.values(), key=lambda k: k.sequence)


def keys() -> list[CredentialKey]:
    """Every key of the folder, oldest first; read again whenever a file changes."""
    folder = key_folder()
    files = _key_files(folder)
    stamp = (str(folder), tuple((p.name, p.stat().st_mtime_ns) for p in files))
    with _keys_lock:
        found = _keys_cache.get(stamp)
        if found is None:
            found = _load(folder)
            _keys_cache.clear()
            _keys_cache[stamp] = found
    return found


def _makes_own_key() -> bool:
    return current_app.config["ENV"] in ("development", "testing")


def signing_key() -> CredentialKey | None:
    """The newest key with its private half; in development the first is made when none is."""
    signing = [key for key in keys() if key.private is not None]
    if signing:
        return signing[-1]
    if not keys() and _makes_own_key():
        return new_key()
    return None


def available() -> bool:
    """True when credentials can be signed here (a key exists, or development makes one)."""
    return any(key.private is not None for key in keys()) or (not keys() and _makes_own_key())


def new_key(*, retire_earlier: bool = True) -> CredentialKey:
    """Make the next key, which signs from now on; earlier keys keep only their public half."""
    folder = key_folder()
    folder.mkdir(parents=True, exist_ok=True)
    existing = keys()
    sequence = (existing[-1].sequence if existing else 0) + 1
    kid = f"key-{sequence}-{now():%Y%m%d}"
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _write_private(folder / f"{kid}{PRIVATE_SUFFIX}", pem)
    if retire_earlier:
        for key in existing:
            if key.private is not None:
                retire_key(key)
    log.info("credential key %s made in %s; it signs from now on", kid, folder)
    return next(key for key in keys() if key.kid == kid)


def retire_key(key: CredentialKey) -> None:
    """Keep only the public half of a key: its credentials verify, it signs nothing more."""
    folder = key_folder()
    public_pem = key.public.as_pem(private=False)
    (folder / f"{key.kid}{PUBLIC_SUFFIX}").write_bytes(public_pem)
    (folder / f"{key.kid}{PRIVATE_SUFFIX}").unlink(missing_ok=True)


# --- the issuer and its DID document ----------------------------------------------------------


def base_url() -> str:
    """The portal's public address, without a trailing slash."""
    return current_app.config["BASE_URL"].rstrip("/")


def issuer_did() -> str:
    """did:web of the portal's address: did:web:apply.example.edu (a port is %3A-encoded)."""
    parts = urlsplit(base_url())
    host = quote(parts.netloc, safe="")
    path = [quote(segment, safe="") for segment in parts.path.split("/") if segment]
    return ":".join(["did:web", host, *path])


def did_document_path() -> str:
    """Where did:web resolves the document: /.well-known/did.json, or <path>/did.json."""
    return "/did.json" if urlsplit(base_url()).path.strip("/") else "/.well-known/did.json"


def did_document() -> dict:
    """The DID document: every key, the earlier ones too, as an assertion method."""
    signing_key()  # development makes its first key here too, so the document has one
    did = issuer_did()
    methods = [{
        "id": f"{did}#{key.kid}",
        "type": "JsonWebKey2020",
        "controller": did,
        "publicKeyJwk": key.public_jwk(),
    } for key in keys()]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


# --- the credential --------------------------------------------------------------------------


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: str) -> str:
    """A day of the snapshot as the moment it began in the portal's zone, in UTC."""
    return _utc(day_starts_at(date.fromisoformat(value)))


def status_list_url(number: int) -> str:
    """The address of status list number n."""
    return f"{base_url()}/credentials/status/{number}"


def status_entry(certificate: Certificate) -> dict:
    """The credential's place in the revocation list: certificate id n is entry n % SIZE."""
    number, index = divmod(certificate.id, STATUS_LIST_SIZE)
    url = status_list_url(number)
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": str(index),
            "statusListCredential": url}


def _description(s: dict) -> str:
    hours = int(s["hours"])
    return "\n".join([
        f"Программа повышения квалификации «{s['program_title_ru']}» в объёме "
        f"{hours_genitive_ru(hours)}, {s['institute_name_ru']}.",
        f"进修项目“{s['program_title_zh']}”，共{hours}学时，{s['institute_name_zh']}。",
        f"Professional development programme “{s['program_title_en']}”, {hours} academic "
        f"hours, {s['institute_name_en']}.",
    ])


def credential(certificate: Certificate) -> dict:
    """The Open Badges 3.0 credential of a certificate, before it is signed."""
    from course_portal.certificates.services import verify_url

    s = certificate.snapshot
    did = issuer_did()
    base = base_url()
    result = RESULT_LABELS.get(s["result"], {})
    achievement_id = f"{base}/programs/{quote(certificate.program.code, safe='')}"
    # the names in the three scripts, as the certificate prints them; no contact data
    identifiers = [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                    "identityHash": s[field]}
                   for field in ("name_zh", "name_latin", "name_ru") if s.get(field)]
    university = {"id": did, "type": ["Profile"], "name": s["university_name_en"],
                  "url": "https://www.spbstu.ru/",
                  "address": {"type": ["Address"], "addressCountry": "Russia",
                              "addressCountryCode": "RU",
                              "addressLocality": s.get("city_en") or "Saint Petersburg"}}
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": verify_url(certificate.verification_code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": (f"{certificate.registry_number}: {s['program_title_en']} / "
                 f"{s['program_title_zh']} / {s['program_title_ru']}"),
        "description": _description(s),
        "issuer": university,
        "validFrom": _utc(certificate.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": identifiers,
            "activityStartDate": _day(s["starts_on"]),
            "activityEndDate": _day(s["ends_on"]),
            "result": [{"type": ["Result"], "status": "Completed",
                        "value": result.get("en", s["result"])}],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "humanCode": certificate.registry_number.split("-")[0],
                "name": s["program_title_en"],
                "description": _description(s),
                "criteria": {"narrative": (
                    f"Completed the {int(s['hours'])}-hour programme “{s['program_title_en']}” "
                    f"({s['starts_on']} to {s['ends_on']}) and its final assessment: "
                    f"{result.get('en', s['result'])}. Certificate of advanced training "
                    f"{certificate.registry_number}.")},
                "creator": {"id": f"{achievement_id}#institute", "type": ["Profile"],
                            "name": s["institute_name_en"], "parentOrg": university},
                "inLanguage": "en",
                "tag": [s["program_title_ru"], s["program_title_zh"], s["program_title_en"]],
            },
        },
        "credentialStatus": status_entry(certificate),
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def _sign(payload: dict, key: CredentialKey, *, claims: dict) -> str:
    header = {"alg": ALGORITHM, "typ": "vc+jwt", "cty": "vc", "kid": f"{issuer_did()}#{key.kid}"}
    body = json.dumps({**payload, **claims}, ensure_ascii=False, separators=(",", ":"))
    with warnings.catch_warnings():
        # joserfc warns that RFC 9864 deprecates the name EdDSA; see ALGORITHM
        warnings.simplefilter("ignore")
        return jws.serialize_compact(header, body.encode(), key.private, registry=REGISTRY)


def credential_jwt(certificate: Certificate) -> str | None:
    """The certificate's credential signed with the newest key; None when there is no key."""
    key = signing_key()
    if key is None:
        return None
    payload = credential(certificate)
    # the registered claims Open Badges 3.0 asks for, equal to the credential's own fields
    claims = {"iss": payload["issuer"]["id"], "jti": payload["id"],
              "nbf": int(certificate.issued_at.timestamp())}
    return _sign(payload, key, claims=claims)


def credential_filename(certificate: Certificate) -> str:
    """IE-2026-0001.jwt"""
    return f"{certificate.registry_number}.jwt"


# --- the status list -------------------------------------------------------------------------


def revoked_ids(number: int) -> list[int]:
    """Ids of the revoked and superseded certificates in status list number n."""
    first = number * STATUS_LIST_SIZE
    return list(db.session.scalars(
        select(Certificate.id).where(
            Certificate.id >= first, Certificate.id < first + STATUS_LIST_SIZE,
            Certificate.status != CertificateStatus.ISSUED)
    ))


def encode_bits(indexes: list[int]) -> str:
    """The bitstring with these entries set, GZIP-compressed, base64url, multibase 'u'."""
    bits = bytearray(STATUS_LIST_SIZE // 8)
    for index in indexes:
        # entry 0 is the first byte's most significant bit
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode_bits(encoded: str) -> bytes:
    """The bitstring of an encodedList (for checking a list)."""
    data = encoded.removeprefix("u")
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def is_set(bits: bytes, index: int) -> bool:
    """True when entry index of a bitstring is set."""
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list(number: int) -> dict:
    """Status list credential number n, as the registry stands now."""
    url = status_list_url(number)
    first = number * STATUS_LIST_SIZE
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(),
        "validFrom": _utc(now()),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bits([i - first for i in revoked_ids(number)]),
        },
    }


def status_list_jwt(number: int) -> str | None:
    """Status list n signed with the newest key; None when there is no key."""
    key = signing_key()
    if key is None:
        return None
    payload = status_list(number)
    claims = {"iss": payload["issuer"], "jti": payload["id"], "nbf": int(now().timestamp())}
    return _sign(payload, key, claims=claims)
