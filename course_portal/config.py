"""Settings: defaults here, then instance/config.py, then COURSE_PORTAL_* environment variables."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from flask import Config

#: prefix of the environment variables that override any setting
ENV_PREFIX = "COURSE_PORTAL_"
#: the address a development checkout serves when nothing else is said (make run's default)
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"

#: secret keys that must never reach production
WEAK_SECRET_KEYS = {"", "dev", "changeme", "change-me", "secret", "development-only"}


class Defaults:
    """Values used when nothing else sets them."""

    #: production, development or testing; only the last two may run without a real secret key
    ENV = "production"
    SECRET_KEY = ""
    #: empty means SQLite in the instance folder
    DATABASE_URL = ""
    REDIS_URL = ""
    #: SMTP; an empty server means messages are logged and kept in the outbox
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    #: seconds to wait for each SMTP reply
    MAIL_TIMEOUT = 10
    #: seconds to wait for the reply to a message's data, by when the server may have taken it:
    #: a shorter wait counted as a failure would send it twice (RFC 5321 asks for 10 minutes)
    MAIL_DATA_TIMEOUT = 600
    MAIL_DEFAULT_SENDER = "Course portal <noreply@localhost>"
    #: how the outbox leaves after a commit: thread, inline, rq or off
    OUTBOX_DISPATCH = "thread"
    OUTBOX_MAX_ATTEMPTS = 8
    #: the site's public address, used in emails and QR codes; required in production. In
    #: development `make run` sets it to the host and port it serves (PORT=8000 make run)
    BASE_URL = ""
    #: the zone in which deadlines are read
    PORTAL_TIMEZONE = "Europe/Moscow"
    #: where the timed steps run (core.steps): "thread" inside this app process (make run sets
    #: it), "scheduler" for `flask steps scheduler` in its own process, or "off"
    STEPS = "off"
    #: seconds between two looks at what is due, in the thread or the scheduler process
    STEPS_TICK_SECONDS = 30
    #: an intake is closed by itself (completed or not, by the rules) this many days after its
    #: last day, so results of the last day can still be recorded; coordinators may close earlier
    CLOSE_ENDED_AFTER_DAYS = 14
    #: reminders leave only between these hours of the reader's own day (from, until)
    REMINDER_HOURS = (9, 20)
    #: the coordinators' daily digest lists applications waiting longer than this many days
    REVIEW_DIGEST_DAYS = 5
    LANGUAGES = ["en", "zh", "ru"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    #: trust X-Forwarded-* from this many proxies (nginx in front: 1)
    PROXY_FIX = 0
    #: served over HTTPS: secure cookies and HSTS
    HTTPS = True
    #: werkzeug hash method for passwords
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)
    PASSWORD_MIN_LENGTH = 12
    PASSWORD_RESET_MAX_AGE = 3600
    EMAIL_CONFIRM_MAX_AGE = 3 * 24 * 3600
    #: login attempts: per client address and per account
    LOGIN_LIMIT_PER_IP = "20 per minute; 200 per hour"
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    RESET_LIMIT = "5 per 15 minutes"
    #: two-step sign-in codes (authenticator or recovery code): per client address and per account
    TWO_FACTOR_LIMIT_PER_IP = "20 per minute; 200 per hour"
    TWO_FACTOR_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    #: seconds between a right password and the code that finishes signing in
    TWO_FACTOR_PENDING_SECONDS = 300
    #: the name an authenticator app shows beside the staff member's codes
    TOTP_ISSUER = "SPbPU course portal"
    #: staff (coordinators, admins, partner liaisons) are signed out after this long unused...
    STAFF_IDLE_MINUTES = 30
    #: ...and this long after signing in, however active
    STAFF_MAX_SESSION_HOURS = 12
    REGISTER_LIMIT = "10 per hour"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    #: a form left open for a working day still submits
    WTF_CSRF_TIME_LIMIT = 12 * 3600
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: where uploaded application documents are kept, outside static/; empty: instance/uploads
    UPLOAD_FOLDER = ""
    #: bytes of stored documents per teacher, over all their applications; 0: no quota
    UPLOAD_QUOTA_BYTES = 50 * 1024 * 1024
    #: form posts carrying files, per teacher (Redis shares the count between app servers)
    UPLOAD_RATE_LIMIT = "30 per hour; 100 per day"
    #: months after which the documents of a rejected, withdrawn or expired application (a
    #: draft, submitted or waitlisted one whose intake has ended) are deleted, by the timed
    #: step enrollment.delete_expired_documents; 0 keeps them
    DOCUMENT_RETENTION_MONTHS = 12
    #: months after a certificate's issue at which its teacher's passport page is deleted (the
    #: diploma and CV stay). Six: the passport is what the certificate's name is checked
    #: against, and half a year leaves time for a misspelt name to be noticed and the
    #: certificate re-issued (which starts the count again); the federal register's data is
    #: frozen at issue, so its export needs no scan. 0 keeps them
    PASSPORT_RETENTION_MONTHS = 6
    #: where the ZIPs of teachers' copies of their data are built, outside static/; empty:
    #: instance/exports. A copy is deleted when its link's time is over
    DATA_EXPORT_FOLDER = ""
    #: hours a copy of a teacher's data can be downloaded after it is ready
    DATA_EXPORT_VALID_HOURS = 24
    #: days after which a teacher's request to erase their data proceeds by itself when no
    #: coordinator has confirmed it sooner (they may cancel it until then)
    ERASURE_PROCEEDS_AFTER_DAYS = 14
    #: PEM key and certificate that sign certificate PDFs (PAdES); both empty: unsigned.
    #: `flask certificates make-dev-signing-key` writes a self-signed pair for development
    #: key id -> key (32 bytes, base64url) that keep staff's two-step secrets and the
    #: credential signing keys encrypted at rest; ENCRYPTION_KEY_ID names the one that
    #: encrypts (the only one, when there is one). Production refuses to start without them;
    #: development derives one from SECRET_KEY. `flask keys new` makes one
    ENCRYPTION_KEYS: dict[str, str] = {}
    ENCRYPTION_KEY_ID = ""
    SIGNING_KEY_PATH = ""
    SIGNING_CERT_PATH = ""
    #: PEM file of the CA certificates above SIGNING_CERT_PATH's, up to the root: embedded in
    #: every signature with the CRLs or OCSP answers that show them unrevoked (LTV)
    SIGNING_CHAIN_PATH = ""
    #: an RFC 3161 time-stamping service: signatures get a timestamp, and the file a document
    #: timestamp (PAdES B-LTA), so they still validate after the certificates expire
    SIGNING_TSA_URL = ""
    #: seconds to wait for the TSA and for each CRL or OCSP answer while signing
    SIGNING_NETWORK_TIMEOUT = 10
    #: where the Ed25519 keys that sign the certificates' digital credentials (Open Badges 3.0)
    #: are kept; empty: instance/credential-keys. Development makes the first key itself;
    #: in production `flask certificates new-credential-key` makes it, and rotates it later
    CREDENTIAL_KEY_FOLDER = ""
    #: where certificates' share cards (PNG pictures of their PDF's first page) are kept once
    #: rendered; a cache, safe to empty. Empty: instance/share-cards
    SHARE_CARD_FOLDER = ""
    #: a running certificate batch silent this long (seconds) lost its worker: it can be resumed
    BATCH_STALL_SECONDS = 120
    #: requests per client address to the public verification pages
    VERIFY_RATE_LIMIT = "30 per minute"
    #: requests per client address to the calendar feeds (private and public together); a
    #: university's teachers may share one address, and each phone refreshes every few hours
    CALENDAR_RATE_LIMIT = "60 per minute"
    #: the busiest pages are kept rendered this long at most (and only while no row has
    #: changed since); 0 renders every request
    PAGE_CACHE_SECONDS = 60
    #: characters of kept pages per app server process, the least recently used dropped first
    PAGE_CACHE_MAX_BYTES = 64 * 1024 * 1024


def _coerce(raw: str, current):
    """Turn an environment string into the type of the default it replaces."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, timedelta):
        return timedelta(seconds=int(raw))
    if isinstance(current, list | dict):
        return json.loads(raw)
    return raw


def is_weak_secret_key(key) -> bool:
    """True for a key that must not sign production sessions: missing, known, short or repetitive."""
    return (
        not isinstance(key, str | bytes)
        or key in WEAK_SECRET_KEYS
        or len(key) < 32
        # a placeholder such as "changeme" repeated, or one character over and over
        or len(set(key)) < 10
    )


def load_config(app, test_config: dict | None = None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment and test_config."""
    app.config.from_object(Defaults)
    instance = Config(app.instance_path)
    instance.from_pyfile("config.py", silent=True)
    app.config.update(instance)
    # what someone chose, as opposed to a default
    chosen = set(instance)
    for name, raw in os.environ.items():
        if name.startswith(ENV_PREFIX):
            key = name[len(ENV_PREFIX):]
            app.config[key] = _coerce(raw, app.config.get(key, ""))
            chosen.add(key)
    if test_config:
        app.config.update(test_config)
        chosen.update(test_config)

    env = app.config["ENV"]
    secret_key = app.config["SECRET_KEY"]
    if env in {"development", "testing"}:
        if not secret_key:
            app.config["SECRET_KEY"] = "development-only"  # noqa: S105 (refused in production)
        if "HTTPS" not in chosen:
            app.config["HTTPS"] = False
    elif is_weak_secret_key(secret_key):
        raise RuntimeError(
            "COURSE_PORTAL_SECRET_KEY is not set to a real secret (at least 32 characters). "
            "Set it, or put SECRET_KEY in instance/config.py. Generate one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )

    if not app.config["BASE_URL"]:
        if env in {"development", "testing"}:
            app.config["BASE_URL"] = DEVELOPMENT_BASE_URL
        else:
            raise RuntimeError(
                "COURSE_PORTAL_BASE_URL is not set: emails, QR codes and certificates need the "
                "portal's public address, e.g. COURSE_PORTAL_BASE_URL=https://apply.example.edu")

    from course_portal.core.encryption import check_config

    check_config(app.config)

    url = app.config["DATABASE_URL"] or "sqlite:///" + os.path.join(
        app.instance_path, "course_portal.sqlite3"
    )
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # threads wait up to 30 s for SQLite's write lock instead of failing at once
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
    if not app.config["DATA_EXPORT_FOLDER"]:
        app.config["DATA_EXPORT_FOLDER"] = os.path.join(app.instance_path, "exports")
    app.config["SESSION_COOKIE_SECURE"] = app.config["HTTPS"]
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["HTTPS"]
    app.config["PREFERRED_URL_SCHEME"] = "https" if app.config["HTTPS"] else "http"
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "course_portal"
