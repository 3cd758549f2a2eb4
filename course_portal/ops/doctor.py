"""The checks behind `flask doctor`: each returns a Check, so tests call them one by one."""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from course_portal import ROOT
from course_portal.config import WEAK_SECRET_KEYS
from course_portal.core.outbox import OutboxMessage
from course_portal.db import utcnow
from course_portal.extensions import db

OK = "OK"
WARN = "WARN"
FAIL = "FAIL"

#: a message still unsent after this long means mail is not leaving
OUTBOX_STALE_AFTER = timedelta(hours=1)

#: a library name as ctypes.util.find_library takes it -> its path or soname, or None
LibraryFinder = Callable[[str], str | None]
#: the families fontconfig knows for Chinese, one per line; None when fc-list is missing
FontLister = Callable[[], str | None]


@dataclass(frozen=True)
class Check:
    """The result of one check: what was checked, how it went, and how to fix it."""

    name: str
    status: str
    detail: str
    hint: str = ""

    @property
    def failed(self) -> bool:
        """True when the portal cannot work properly until this is fixed."""
        return self.status == FAIL


def list_cjk_fonts() -> str | None:
    """fc-list's Chinese font families, or None when fontconfig's fc-list is not installed."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    result = subprocess.run(  # noqa: S603 (fixed arguments, no user input)
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30, check=False
    )
    return result.stdout


def list_serif_styles() -> str | None:
    """fc-list's styles of DejaVu Serif, one face per line; None when fc-list is not installed."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    result = subprocess.run(  # noqa: S603 (fixed arguments, no user input)
        [fc_list, "DejaVu Serif", "style"], capture_output=True, text=True, timeout=30, check=False
    )
    return result.stdout


#: the faces of DejaVu Serif a certificate prints with -> the Debian package that holds each
SERIF_STYLES = {"Book": "fonts-dejavu-core", "Bold": "fonts-dejavu-core",
                "Italic": "fonts-dejavu-extra"}

#: the system probes; tests replace these to simulate a machine without a package
find_library: LibraryFinder = ctypes.util.find_library
cjk_font_lister: FontLister = list_cjk_fonts
serif_style_lister: FontLister = list_serif_styles


def check_database() -> Check:
    """The database answers SELECT 1."""
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Check(
            "database",
            FAIL,
            f"{url} does not answer: {type(exc).__name__}: {reason}",
            "start the database server, or fix COURSE_PORTAL_DATABASE_URL",
        )
    return Check("database", OK, f"{url} answers")


def migration_scripts() -> ScriptDirectory:
    """The migrations shipped with this code, in the repository's migrations/ folder."""
    return ScriptDirectory(str(ROOT / "migrations"))


def check_migrations() -> Check:
    """The database schema is at the newest migration."""
    name = "migrations"
    scripts = migration_scripts()
    heads = set(scripts.get_heads())
    try:
        with db.engine.connect() as conn:
            # get_current_heads() is get_current_revision() that also copes with branches
            current = set(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        return Check(name, FAIL, f"cannot read the schema revision: {type(exc).__name__}",
                     "make the database reachable first")
    head_text = ", ".join(sorted(heads))
    if current == heads:
        return Check(name, OK, f"at head {head_text}")
    if not current:
        return Check(name, FAIL, f"the database has no schema yet (head is {head_text})",
                     "run: flask db upgrade")
    current_text = ", ".join(sorted(current))
    unknown = [rev for rev in current if _revision_or_none(scripts, rev) is None]
    if unknown:
        return Check(
            name,
            FAIL,
            f"the database is at {current_text}, a revision this code does not know "
            f"(head is {head_text}); is the code older than the database?",
            "deploy the code that matches the database, then run: flask db upgrade",
        )
    return Check(name, FAIL, f"the database is at {current_text}, head is {head_text}",
                 "run: flask db upgrade")


def _revision_or_none(scripts: ScriptDirectory, revision: str):
    try:
        return scripts.get_revision(revision)
    except CommandError:  # an id that no script has
        return None


def check_harfbuzz_subset(finder: LibraryFinder | None = None) -> Check:
    """libharfbuzz-subset0 is installed, so WeasyPrint subsets fonts quickly."""
    found = (finder or find_library)("harfbuzz-subset")
    if found:
        return Check("libharfbuzz-subset0", OK, f"found {found}")
    return Check(
        "libharfbuzz-subset0",
        FAIL,
        "not found: WeasyPrint falls back to fontTools and every PDF is 10-30x slower "
        "(seconds per certificate instead of about 0.1 s)",
        "apt-get install libharfbuzz-subset0",
    )


def check_pango(finder: LibraryFinder | None = None) -> Check:
    """Pango is installed: WeasyPrint cannot lay out text without it."""
    found = (finder or find_library)("pango-1.0")
    if found:
        return Check("pango", OK, f"found {found}")
    return Check("pango", FAIL, "libpango-1.0 not found: WeasyPrint cannot render PDFs",
                 "apt-get install libpango-1.0-0 libpangoft2-1.0-0")


def check_cjk_font(lister: FontLister | None = None) -> Check:
    """A font with Chinese characters is installed, so names in PDFs are not empty boxes."""
    try:
        families = (lister or cjk_font_lister)()
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("cjk font", FAIL, f"fc-list did not run: {exc}",
                     "apt-get install fontconfig fonts-noto-cjk")
    if families is None:
        return Check("cjk font", FAIL, "fc-list not found: fontconfig is not installed",
                     "apt-get install fontconfig fonts-noto-cjk")
    found = {line.split(",")[0].strip() for line in families.splitlines() if line.strip()}
    # Simplified Chinese families first: they are the ones the certificates use
    names = sorted(found, key=lambda name: (" SC" not in name and "Hei" not in name, name))
    if not names:
        return Check(
            "cjk font",
            FAIL,
            "no font covers Chinese: names in certificates render as empty boxes",
            "apt-get install fonts-noto-cjk",
        )
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return Check("cjk font", OK, shown)


def check_serif_font(lister: FontLister | None = None) -> Check:
    """DejaVu Serif has every face a certificate uses, so no text is printed in a stand-in face.

    Without the italic face (fonts-dejavu-extra) the English programme title is slanted by
    the renderer instead, and the PDF differs from one rendered where it is installed.
    """
    try:
        listed = (lister or serif_style_lister)()
    except (OSError, subprocess.SubprocessError) as exc:
        listed = None
        detail = f"fc-list did not run: {exc}"
    else:
        detail = "fc-list not found: fontconfig is not installed"
    if listed is None:
        return Check("serif font", FAIL, detail, "apt-get install fontconfig fonts-dejavu-core "
                                                 "fonts-dejavu-extra")
    styles = {style.strip() for line in listed.splitlines()
              for style in line.partition("=")[2].split(",")}
    missing = [style for style in SERIF_STYLES if style not in styles]
    if missing:
        packages = " ".join(dict.fromkeys(SERIF_STYLES[style] for style in missing))
        return Check("serif font", FAIL,
                     f"DejaVu Serif lacks {', '.join(missing)}: certificates print a stand-in face",
                     f"apt-get install {packages}")
    return Check("serif font", OK, "DejaVu Serif " + ", ".join(SERIF_STYLES))


def check_secret_key() -> Check:
    """A real SECRET_KEY signs sessions (production refuses to start without one)."""
    config = current_app.config
    key = config["SECRET_KEY"]
    if config["ENV"] not in {"development", "testing"}:
        return Check("secret key", OK, "set (create_app refuses a weak key in production)")
    if key in WEAK_SECRET_KEYS or len(key) < 32:
        return Check(
            "secret key",
            WARN,
            f"the development key is in use ({config['ENV']}): fine on this machine only",
            "make run writes instance/config.py with a new key; or set COURSE_PORTAL_SECRET_KEY",
        )
    return Check("secret key", OK, f"set ({config['ENV']})")


def check_mail() -> Check:
    """An SMTP server is configured; without one emails stay in the outbox."""
    config = current_app.config
    if config["MAIL_SERVER"]:
        return Check("mail", OK, f"SMTP {config['MAIL_SERVER']}:{config['MAIL_PORT']} "
                                 "(configured; not contacted)")
    status = FAIL if config["ENV"] == "production" else WARN
    return Check("mail", status,
                 "no SMTP server: emails are logged and kept in the outbox, nobody receives them",
                 "set COURSE_PORTAL_MAIL_SERVER (and MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD)")


def check_redis() -> Check:
    """Redis answers PING when REDIS_URL is set."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return Check("redis", OK, "not configured: jobs run in place, rate limits in memory")
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    shown = client.connection_pool.connection_kwargs.get("host", "?")
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return Check("redis", FAIL, f"REDIS_URL is set but Redis at {shown} does not answer: "
                                    f"{type(exc).__name__}",
                     "start Redis, or unset COURSE_PORTAL_REDIS_URL")
    finally:
        client.close()
    return Check("redis", OK, f"Redis at {shown} answers")


def check_outbox() -> Check:
    """No email has failed for good, and none has waited more than an hour."""
    try:
        failed = db.session.scalar(
            select(func.count()).where(OutboxMessage.failed_at.is_not(None))
        )
        stale = db.session.scalar(
            select(func.count()).where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                OutboxMessage.created_at < utcnow() - OUTBOX_STALE_AFTER,
            )
        )
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Check("outbox", WARN, f"cannot read the outbox: {type(exc).__name__}",
                     "fix the database and migrations first")
    if not failed and not stale:
        return Check("outbox", OK, "no failed or stale messages")
    parts = []
    if failed:
        parts.append(f"{failed} failed for good")
    if stale:
        parts.append(f"{stale} pending for more than an hour")
    return Check("outbox", WARN, "; ".join(parts),
                 "see flask outbox status and the log; check the mail server, then "
                 "flask outbox send")


def check_steps() -> Check:
    """The timed steps run somewhere, and none is overdue (core.steps)."""
    from course_portal.core import steps

    try:
        late = steps.overdue()
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Check("timed steps", WARN, f"cannot read them: {type(exc).__name__}",
                     "fix the database and migrations first")
    where = current_app.config["STEPS"]
    if not late:
        return Check("timed steps", OK, f"every step ran on time (STEPS={where})")
    names = ", ".join(state.step.name for state in late)
    hint = ("start the scheduler: flask steps scheduler (deploy/course-portal-scheduler.service), "
            "or set STEPS=thread; flask steps status says when each last ran")
    if where == "off":
        return Check("timed steps", WARN, f"overdue: {names}; STEPS is off here", hint)
    return Check("timed steps", WARN, f"overdue: {names}", hint)


def check_signatories() -> Check:
    """Every published programme's certificates have their signatories (certificates.issuer)."""
    from course_portal.catalog.models import Program
    from course_portal.certificates import issuer

    try:
        programs = list(db.session.scalars(select(Program).where(Program.is_published.is_(True))))
        missing = [program.code for program in programs if issuer.gaps(program)]
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Check("signatories", WARN, f"cannot read them: {type(exc).__name__}",
                     "fix the database and migrations first")
    if not missing:
        return Check("signatories", OK, f"set for {len(programs)} published programmes")
    return Check("signatories", WARN, f"certificates of {', '.join(missing)} cannot be signed yet",
                 "an admin sets the rector, the secretary and each institute's director at "
                 "/certificates/issuer")


def check_certificate_pdfs() -> Check:
    """No issued certificate waits for its PDF (certificates.pdfs.complete_pdf)."""
    from course_portal.certificates.models import Certificate

    try:
        waiting = list(db.session.scalars(
            select(Certificate.registry_number).where(Certificate.pdf_size == 0)
            .order_by(Certificate.id).limit(6)))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Check("certificate PDFs", WARN, f"cannot read them: {type(exc).__name__}",
                     "fix the database and migrations first")
    if not waiting:
        return Check("certificate PDFs", OK, "every issued certificate has its PDF")
    shown = ", ".join(waiting[:5]) + (" and more" if len(waiting) > 5 else "")
    return Check("certificate PDFs", WARN, f"waiting for their PDF: {shown}",
                 "the step certificates.finish_pdfs makes them; the log says why one fails "
                 "(`flask steps run certificates.finish_pdfs` tries now)")


def check_encryption() -> Check:
    """Secrets at rest are encrypted, with keys that are configured (core.encryption)."""
    from course_portal.core import encryption

    config = current_app.config
    current = encryption.current_key_id(config)
    configured = encryption.configured_keys(config)
    try:
        stored = encryption.stored_key_ids()
    except SQLAlchemyError as exc:
        return Check("secrets at rest", WARN, f"cannot read them: {type(exc).__name__}",
                     "fix the database and migrations first")
    missing = sorted(k for k in stored if k != "plain" and k not in configured)
    if missing:
        return Check("secrets at rest", FAIL,
                     f"secrets encrypted with {', '.join(missing)}, which ENCRYPTION_KEYS lacks: "
                     "those staff cannot sign in", "add the key back to ENCRYPTION_KEYS")
    behind = sum(n for k, n in stored.items() if k != current)
    where = ("a key derived from SECRET_KEY (development)"
             if current == encryption.DERIVED_KEY_ID and not config.get("ENCRYPTION_KEYS")
             else f"key {current}")
    if behind:
        return Check("secrets at rest", WARN,
                     f"{behind} secret(s) not under {where} yet", "run `flask keys rotate`")
    return Check("secrets at rest", OK, f"encrypted with {where}")


def check_pdf_signing() -> Check:
    """The key that signs certificate PDFs loads, and what its signatures carry for later."""
    from course_portal.certificates import signing

    config = current_app.config
    try:
        paths = signing.signing_paths(config)
    except RuntimeError as exc:
        return Check("pdf signing", FAIL, str(exc), "set both, or neither")
    if paths is None:
        status = WARN if config["ENV"] == "production" else OK
        return Check("pdf signing", status, "certificate PDFs are not signed",
                     "set SIGNING_KEY_PATH and SIGNING_CERT_PATH (see README, Certificates)")
    long_term = signing.long_term(config)
    try:
        signer = signing._signer(*paths, long_term.chain)
    except Exception as exc:  # noqa: BLE001 (a key file pyHanko or the OS cannot read)
        return Check("pdf signing", FAIL, f"the signing key does not load: {exc}",
                     "check SIGNING_KEY_PATH, SIGNING_CERT_PATH and SIGNING_CHAIN_PATH")
    cert = signer.signing_cert
    expires = cert["tbs_certificate"]["validity"]["not_after"].native
    detail = f"by {cert.subject.human_friendly}, valid until {expires:%Y-%m-%d}"
    detail += "; timestamps from " + long_term.tsa_url if long_term.tsa_url else (
        "; no timestamps")
    if expires - utcnow() < timedelta(days=30):
        return Check("pdf signing", WARN, detail + ": the certificate expires within 30 days",
                     "renew it with the CA, then set the new SIGNING_CERT_PATH")
    if not long_term.tsa_url and config["ENV"] == "production":
        return Check("pdf signing", WARN, detail,
                     "set SIGNING_TSA_URL: without a timestamp a signature cannot be checked "
                     "once its certificate has expired")
    return Check("pdf signing", OK, detail)


def check_credential_key() -> Check:
    """A key signs the certificates' digital credentials (Open Badges 3.0)."""
    from course_portal.certificates import credentials

    try:
        found = credentials.keys()
    except (OSError, ValueError) as exc:
        return Check("credential key", FAIL, f"cannot read {credentials.key_folder()}: {exc}",
                     "fix the files, or move them away and run "
                     "`flask certificates new-credential-key`")
    signing = [key for key in found if key.private is not None]
    if not signing:
        if credentials.available():
            return Check("credential key", OK,
                         "none yet: development makes one when a credential is first signed")
        return Check("credential key", WARN,
                     "none: certificates are issued without their digital credential",
                     "run `flask certificates new-credential-key`")
    earlier = len(found) - 1
    detail = f"{signing[-1].kid} signs as {credentials.issuer_did()}"
    if earlier:
        detail += f"; {earlier} earlier key{'s' if earlier > 1 else ''} still verify"
    return Check("credential key", OK, detail)


def run_checks(
    finder: LibraryFinder | None = None, font_lister: FontLister | None = None,
    serif_lister: FontLister | None = None,
) -> list[Check]:
    """Every check in order; finder and the listers replace the system probes."""
    checks = [
        check_database(),
        check_migrations(),
        check_harfbuzz_subset(finder),
        check_pango(finder),
        check_cjk_font(font_lister),
        check_serif_font(serif_lister),
        check_secret_key(),
        check_mail(),
        check_redis(),
        check_outbox(),
        check_steps(),
        check_signatories(),
        check_encryption(),
        check_pdf_signing(),
        check_credential_key(),
        check_certificate_pdfs(),
    ]
    db.session.rollback()
    return checks


def format_check(check: Check, width: int = 20) -> str:
    """One line: status, name, what was found and, unless OK, how to fix it."""
    line = f"{check.status:<4}  {check.name:<{width}} {check.detail}"
    if check.hint and check.status != OK:
        line += f"  -> fix: {check.hint}"
    return line
