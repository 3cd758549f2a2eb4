"""The email outbox: a message is a row written with the change that causes it, sent after commit."""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import cast
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from sqlalchemy import String, Text, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.local import LocalProxy

from course_portal.db import Base, execute_dml, utcnow
from course_portal.extensions import db

log = logging.getLogger(__name__)

#: replies a send may wait MAIL_TIMEOUT for (greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA,
#: the message itself...), besides the reply to the message, which waits MAIL_DATA_TIMEOUT
SEND_EXCHANGES = 12
#: what a claim lasts beyond the longest a send may take: the claiming and the bookkeeping
CLAIM_MARGIN_SECONDS = 60


class OutboxMessage(Base):
    """One email waiting to be sent, or sent."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    #: what the message is about, for the audit and for tests: "account.confirm", ...
    kind: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: not before this time; pushed back after each failure
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: while set and in the future, one sender owns the message
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    #: given up after too many failures
    failed_at: Mapped[datetime | None]


#: kinds of message whose address is forgotten once sent: the email that tells a teacher
#: their data is erased is the last place their address was kept (privacy.erasure)
FORGET_RECIPIENT_KINDS = frozenset({"erasure_done"})


def sanitize_header(value: str) -> str:
    """Keep a header on one line: line breaks in user text must not add headers."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def is_single_address(value: str) -> bool:
    """True for one bare address (local@domain): no list, display name, space or line break.

    The To header and the SMTP envelope are built from it; a comma or a line break there
    would mail someone else.
    """
    local, at, domain = value.rpartition("@")
    return bool(
        at and local and domain
        and not any(ch.isspace() or ord(ch) < 32 or ch in ',;<>()"' for ch in value)
    )


def queue_email(to: str, template: str, locale: str = "en", kind: str = "", **context) -> OutboxMessage:
    """Render templates/email/<template>.txt in the recipient's language and add it to the outbox.

    The first line of the rendered template is the subject. The row joins the caller's
    transaction and leaves only after it commits.
    """
    if not is_single_address(to):
        raise ValueError(f"not a single email address: {to!r}")
    with force_locale(locale):
        rendered = render_template(f"email/{template}.txt", **context)
    subject, _, body = rendered.lstrip().partition("\n")
    message = OutboxMessage(
        to_address=to,
        subject=sanitize_header(subject)[:300],
        body_text=body.strip() + "\n",
        kind=kind or template,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info["outbox_pending"] = True
    return message


class _PatientVerdict(smtplib.SMTP):
    """An SMTP connection that waits `verdict_timeout` for the reply to the message's data.

    When the last dot of the message has left, the server may already have taken it: a
    timeout there counted as a failure would send the message again on the retry (RFC 1047).
    RFC 5321 (4.5.3.2.6) asks a client to wait 10 minutes for that reply, while every other
    reply waits the connection's own timeout.
    """

    verdict_timeout: float = 600.0
    #: inside data(): the replies read so far (the "354 go ahead", then the verdict)
    _data_replies: int | None = None

    def data(self, msg):
        self._data_replies = 0
        try:
            return super().data(msg)
        finally:
            self._data_replies = None
            if self.sock is not None:
                self.sock.settimeout(self.timeout)

    def getreply(self):
        if self._data_replies is not None:
            self._data_replies += 1
            if self._data_replies == 2 and self.sock is not None:
                self.sock.settimeout(self.verdict_timeout)
        return super().getreply()


class _SMTP(_PatientVerdict, smtplib.SMTP):
    pass


class _SMTPSSL(_PatientVerdict, smtplib.SMTP_SSL):
    pass


def send_deadline_seconds(config) -> float:
    """The longest one send may take: past it the connection is cut (see _smtp_send)."""
    return config["MAIL_DATA_TIMEOUT"] + SEND_EXCHANGES * config["MAIL_TIMEOUT"]


def claim_seconds(config) -> float:
    """How long a claimed message is left alone by other senders: longer than any send.

    A claim that lapsed while its sender still waited for a slow server would let a second
    sender send the same message.
    """
    return send_deadline_seconds(config) + CLAIM_MARGIN_SECONDS


def _cut(smtp: smtplib.SMTP, fired: threading.Event) -> None:
    """Close a send that outlived its deadline: a blocked read returns at once."""
    fired.set()
    sock = smtp.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _smtp_send(message: OutboxMessage) -> None:
    """Send one message; ValueError means it can never be sent as it is.

    Each reply waits MAIL_TIMEOUT, the reply to the message itself MAIL_DATA_TIMEOUT, and
    the whole send ends by send_deadline_seconds(), however slowly a server trickles its
    answers, so that it always ends inside its claim.
    """
    if not is_single_address(message.to_address):
        raise ValueError("the recipient is not a single email address")
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    email["Subject"] = sanitize_header(message.subject)
    # the same Message-ID on every attempt: if a server took a message whose reply never came,
    # the retry is one the receiving side can recognise as the same message
    created = message.created_at.strftime("%Y%m%d%H%M%S%f")
    email["Message-ID"] = f"<outbox-{message.id}.{created}@course-portal>"
    email.set_content(message.body_text)
    timeout = config["MAIL_TIMEOUT"]
    # the name the portal gives in EHLO: its own host, not socket.getfqdn(), which waits for a
    # reverse DNS lookup that a machine without a resolver answers only after seconds
    local = urlsplit(config["BASE_URL"]).hostname or "localhost"
    smtp: _PatientVerdict
    if config["MAIL_USE_SSL"]:
        smtp = _SMTPSSL(local_hostname=local, timeout=timeout,
                        context=ssl.create_default_context())
    else:
        smtp = _SMTP(local_hostname=local, timeout=timeout)
    smtp.verdict_timeout = config["MAIL_DATA_TIMEOUT"]
    fired = threading.Event()
    deadline = send_deadline_seconds(config)
    watchdog = threading.Timer(deadline, _cut, args=(smtp, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        # leaving the block sends QUIT; a server that is slow or gone by then raises nothing
        # (smtplib turns the timeout into SMTPServerDisconnected, which __exit__ ignores): the
        # message was accepted at the end of DATA, and a failure counted here would send it
        # twice
        with smtp:
            code, greeting = smtp.connect(config["MAIL_SERVER"], config["MAIL_PORT"])
            if code != 220:  # what smtplib.SMTP(host) checks when it connects itself
                raise smtplib.SMTPConnectError(code, greeting)
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            # the envelope names the one recipient, whatever the headers parse to
            smtp.send_message(email, to_addrs=[message.to_address])
    except (OSError, smtplib.SMTPException) as exc:
        if fired.is_set():
            raise TimeoutError(f"the send took longer than {deadline:g} s and was cut") from exc
        raise
    finally:
        watchdog.cancel()


def is_permanent_failure(exc: Exception) -> bool:
    """True when the server refused this message for good (5xx): retrying cannot help.

    A refused recipient or a rejected message is the message's fault; a refused sign-in or
    sender is the configuration's, which an operator fixes, so those are retried.
    """
    if isinstance(exc, ValueError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def _claim(message_id: int, now: datetime) -> bool:
    """Take a message for this sender; False when another sender holds it or it is done."""
    result = execute_dml(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=claim_seconds(current_app.config)))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def send_pending(limit: int = 200) -> dict[str, int]:
    """Send what is due; each message is claimed first so two senders never send it twice."""
    counts = {"sent": 0, "failed": 0, "kept": 0}
    now = utcnow()
    due = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    if not due:
        return counts
    if not current_app.config["MAIL_SERVER"]:
        for message_id in due:
            message = db.session.get_one(OutboxMessage, message_id)
            log.info("mail server not configured; kept message %s to %s: %r",
                     message.id, message.to_address, message.subject)
            if current_app.debug or current_app.config["ENV"] == "development":
                log.info("message %s body:\n%s", message.id, message.body_text)
        counts["kept"] = len(due)
        return counts
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    for message_id in due:
        if not _claim(message_id, utcnow()):
            continue
        message = db.session.get_one(OutboxMessage, message_id)  # claimed just now: it exists
        db.session.refresh(message)
        try:
            _smtp_send(message)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            message.claimed_until = None
            if is_permanent_failure(exc) or message.attempts >= max_attempts:
                message.failed_at = utcnow()
                log.error("giving up on message %s after %s attempts: %s",
                          message.id, message.attempts, message.last_error)
            else:
                delay = min(60 * 2 ** (message.attempts - 1), 6 * 3600)
                message.next_attempt_at = utcnow() + timedelta(seconds=delay)
                log.warning("message %s not sent (attempt %s), retry in %ss: %s",
                            message.id, message.attempts, delay, message.last_error)
            counts["failed"] += 1
        else:
            message.attempts += 1
            message.sent_at = utcnow()
            message.claimed_until = None
            if message.kind in FORGET_RECIPIENT_KINDS:
                message.to_address = ""
            counts["sent"] += 1
        db.session.commit()
    return counts


def send_due_step() -> str:
    """The timed step: send what is due, retries included."""
    if not current_app.config["MAIL_SERVER"]:
        # without a server each new message was logged once when it was queued; a tick every
        # minute would write them all to the console again
        return "no mail server: messages stay in the outbox"
    counts = send_pending()
    return f"sent {counts['sent']}, failed {counts['failed']}"


def _send_in_thread(app) -> None:
    with app.app_context():
        try:
            send_pending()
        except Exception:  # a background sender must never take the process down
            log.exception("sending the outbox failed; messages stay queued")
        finally:
            db.session.remove()


def dispatch() -> None:
    """Start sending what the just-committed transaction queued, as configured."""
    mode = current_app.config["OUTBOX_DISPATCH"]
    if mode == "off":
        return
    if mode == "inline":
        send_pending()
    elif mode == "rq":
        from course_portal.core.jobs import enqueue

        enqueue("course_portal.core.outbox.send_pending")
    else:
        # current_app is typed as the Flask app it stands for, not as its LocalProxy
        app = cast("LocalProxy[Flask]", current_app)._get_current_object()
        threading.Thread(target=_send_in_thread, args=(app,), daemon=True).start()


@sa_event.listens_for(Session, "after_commit")
def _mark_committed(session):
    if session.info.pop("outbox_pending", False):
        session.info["outbox_committed"] = True


@sa_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    session.info.pop("outbox_pending", None)


def init_app(app) -> None:
    """Dispatch the outbox after each request whose transaction queued a message."""

    @app.after_request
    def _dispatch_after_request(response):
        if db.session.info.pop("outbox_committed", False):
            try:
                dispatch()
            except Exception:
                log.exception("could not start sending the outbox; messages stay queued")
        return response

