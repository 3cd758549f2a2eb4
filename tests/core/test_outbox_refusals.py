"""A recipient the mail server refuses for good is given up at once; a refusal for now is retried."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from course_portal.core.outbox import OutboxMessage, send_pending
from course_portal.extensions import db
from tests.smtp import free_port

GONE = "no-such-teacher@example.edu.cn"
BUSY = "full-mailbox@example.edu.cn"


class RefusingHandler:
    """Refuses one address with 550 (no such user) and another with 452 (try later)."""

    def __init__(self):
        self.delivered: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == GONE:
            return "550 5.1.1 No such user"
        if address == BUSY:
            return "452 4.2.2 Mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.delivered.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


@pytest.fixture
def refusing_app(make_app):
    handler = RefusingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5, OUTBOX_MAX_ATTEMPTS=5)
    with app.app_context():
        yield app, handler
    controller.stop()


def add_message(to: str) -> int:
    message = OutboxMessage(to_address=to, subject="Заявка 报名", body_text="Body.\n", kind="test")
    db.session.add(message)
    db.session.commit()
    return message.id


def test_a_refused_recipient_is_given_up_after_one_attempt(refusing_app):
    _app, handler = refusing_app
    gone = add_message(GONE)
    busy = add_message(BUSY)
    fine = add_message("wang.fang@example.edu.cn")

    assert send_pending() == {"sent": 1, "failed": 2, "kept": 0}

    db.session.expire_all()
    gone_row, busy_row = db.session.get(OutboxMessage, gone), db.session.get(OutboxMessage, busy)
    # 550: the address does not exist; five more tries would only annoy the server
    assert gone_row.failed_at is not None and gone_row.attempts == 1
    assert "550" in gone_row.last_error
    # 452: the mailbox is full for now; it stays queued for a later attempt
    assert busy_row.failed_at is None and busy_row.sent_at is None
    assert busy_row.next_attempt_at > busy_row.created_at
    assert db.session.get(OutboxMessage, fine).sent_at is not None
    assert handler.delivered == ["wang.fang@example.edu.cn"]


def test_cli_send_exits_with_failure_when_a_message_was_refused(refusing_app):
    app, _handler = refusing_app
    add_message(GONE)

    result = app.test_cli_runner().invoke(args=["outbox", "send"])

    assert result.exit_code == 1
    assert "sent 0, failed 1, kept 0" in result.output
    status = app.test_cli_runner().invoke(args=["outbox", "status"])
    assert "pending 0, sent 0, failed 1" in status.output
