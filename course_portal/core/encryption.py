"""Secrets kept encrypted at rest: staff's TOTP secrets and the credential signing keys.

AES-256-GCM with a key from configuration: ENCRYPTION_KEYS maps key ids to keys (32 bytes,
base64url) and ENCRYPTION_KEY_ID names the one that encrypts; the others still decrypt, so a
key is rotated by adding a new one, making it current, and running `flask keys rotate`, which
re-encrypts in batches what an older key encrypted. A stored value reads
`enc1:<key id>:<base64url of nonce and ciphertext>`; what it is for (the column, or the file's
kind) is bound to it as associated data, so a value copied into another column does not open.

Production refuses to start without a key. In development and tests, where none is set, a key
is derived from SECRET_KEY (key id "dev"), so `make run` works as before.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets as random

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import String, select, type_coerce, update
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1"
#: the key id of the key derived from SECRET_KEY where none is configured (not in production)
DERIVED_KEY_ID = "dev"
NONCE_BYTES = 12


class EncryptionError(RuntimeError):
    """A value that cannot be opened: its key is not configured, or it was tampered with."""


def new_key() -> str:
    """A new random key, as ENCRYPTION_KEYS takes it."""
    return base64.urlsafe_b64encode(random.token_bytes(32)).decode().rstrip("=")


def _decode_key(key_id: str, text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise RuntimeError(f"ENCRYPTION_KEYS[{key_id!r}] is not 32 bytes in base64url; make "
                           "one with: flask keys new")
    return key


def configured_keys(config) -> dict[str, bytes]:
    """Key id -> key, from ENCRYPTION_KEYS, or the one derived from SECRET_KEY where allowed."""
    keys = {str(k): _decode_key(str(k), str(v)) for k, v in (config.get("ENCRYPTION_KEYS") or
                                                              {}).items()}
    if not keys and config.get("ENV") in ("development", "testing"):
        secret = config["SECRET_KEY"]
        secret = secret.encode() if isinstance(secret, str) else secret
        keys[DERIVED_KEY_ID] = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                                    info=b"course-portal encryption at rest").derive(secret)
    return keys


def current_key_id(config) -> str:
    """ENCRYPTION_KEY_ID, or the only key when there is one."""
    keys = configured_keys(config)
    chosen = config.get("ENCRYPTION_KEY_ID") or ""
    if chosen:
        if chosen not in keys:
            raise RuntimeError(f"ENCRYPTION_KEY_ID {chosen!r} is not one of ENCRYPTION_KEYS")
        return chosen
    if len(keys) == 1:
        return next(iter(keys))
    if not keys:
        raise RuntimeError("COURSE_PORTAL_ENCRYPTION_KEYS is not set")
    raise RuntimeError("ENCRYPTION_KEYS has several keys: set ENCRYPTION_KEY_ID to the one "
                       "that encrypts")


def check_config(config) -> None:
    """Refuse, with what to do, a configuration that cannot encrypt (called at start-up)."""
    if not configured_keys(config):
        raise RuntimeError(
            "COURSE_PORTAL_ENCRYPTION_KEYS is not set: staff's two-step secrets and the "
            "credential signing keys are kept encrypted with it. Set it to a JSON object of "
            'key id and key, e.g. COURSE_PORTAL_ENCRYPTION_KEYS=\'{"2026-12": "<key>"}\', with '
            "a key from: python3 -c 'import base64,secrets; "
            "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'")
    current_key_id(config)


def key_id_of(stored: str | None) -> str | None:
    """The key id of a stored value; None for a value stored before encryption (plain text)."""
    if not stored or not stored.startswith(PREFIX + ":"):
        return None
    return stored.split(":", 2)[1]


def encrypt(plain: str, purpose: str, *, config=None) -> str:
    """plain, encrypted with the current key for this purpose."""
    config = config if config is not None else current_app.config
    key_id = current_key_id(config)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(configured_keys(config)[key_id]).encrypt(
        nonce, plain.encode("utf-8"), purpose.encode())
    return f"{PREFIX}:{key_id}:" + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decrypt(stored: str, purpose: str, *, config=None) -> str:
    """The plain text of a stored value; a value stored before encryption is returned as is."""
    key_id = key_id_of(stored)
    if key_id is None:
        return stored
    config = config if config is not None else current_app.config
    key = configured_keys(config).get(key_id)
    if key is None:
        raise EncryptionError(f"a {purpose} value is encrypted with key {key_id!r}, which is not "
                              "in ENCRYPTION_KEYS: add it back")
    data = stored.split(":", 2)[2]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
    except InvalidTag as exc:
        raise EncryptionError(f"a {purpose} value does not open with key {key_id!r}: it was "
                              "changed, or copied from elsewhere") from exc
    return plain.decode("utf-8")


class Encrypted(TypeDecorator):
    """A text column stored encrypted (see the module); reads and writes plain text."""

    impl = String
    cache_ok = True

    def __init__(self, purpose: str, length: int = 255):
        super().__init__(length)
        self.purpose = purpose

    def process_bind_param(self, value, dialect):
        if value is None or key_id_of(value) is not None:
            return value
        return encrypt(value, self.purpose)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value, self.purpose)


def encrypted_columns():
    """Every Encrypted column of the models: (table, column)."""
    from course_portal.db import Base

    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Encrypted):
                yield table, column


def stored_key_ids() -> dict[str, int]:
    """How many stored values each key id encrypted ("plain" for those never encrypted)."""
    from course_portal.extensions import db

    counts: dict[str, int] = {}
    for _table, column in encrypted_columns():
        for raw in db.session.scalars(select(type_coerce(column, String)).where(
                column.isnot(None))):
            key_id = key_id_of(raw) or "plain"
            counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def rotate(batch_size: int = 500) -> int:
    """Re-encrypt with the current key what another key (or none) encrypted; committed per batch.

    Returns how many values were re-encrypted. Safe to run while the portal serves and to run
    again: a value already under the current key is left alone.
    """
    from course_portal.extensions import db

    config = current_app.config
    current = current_key_id(config)
    done = 0
    for table, column in encrypted_columns():
        [primary] = table.primary_key.columns
        raw = type_coerce(column, String)
        last = None
        while True:
            query = (select(primary, raw).where(column.isnot(None),
                                                ~raw.startswith(f"{PREFIX}:{current}:"))
                     .order_by(primary).limit(batch_size))
            if last is not None:
                query = query.where(primary > last)
            rows = db.session.execute(query).all()
            if not rows:
                break
            purpose = column.type.purpose
            for row_id, value in rows:
                sealed = encrypt(decrypt(value, purpose), purpose)
                # compare-and-set: a row changed meanwhile keeps its newer value
                db.session.execute(update(table).where(primary == row_id, raw == value)
                                   .values({column.name: sealed}))
            db.session.commit()
            done += len(rows)
            last = rows[-1][0]
    return done
