"""Fixtures for the core tests: an SMTP server that records whole envelopes."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.smtp import free_port


@dataclass
class Envelope:
    """What one SMTP transaction delivered: the envelope sender, recipients and the raw bytes."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)

    @property
    def raw_headers(self) -> str:
        """The header section as sent, before any decoding."""
        return self.raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")


class EnvelopeRecorder:
    """An aiosmtpd handler keeping every envelope; `delay` makes the server slow to answer the
    message's data, `quit_delay` slow to answer QUIT, after it has accepted the message.

    With `hold_first` set to an Event, the first message's data waits (`holding` is set) until
    the test sets that Event: one sender is then stopped mid-send for as long as the test
    needs, whatever the machine's speed.
    """

    def __init__(self):
        self.envelopes: list[Envelope] = []
        self.delay = 0.0
        self.quit_delay = 0.0
        self.hold_first: threading.Event | None = None
        self.holding = threading.Event()
        self._lock = threading.Lock()

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.quit_delay:
            await asyncio.sleep(self.quit_delay)
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.hold_first is not None and not self.holding.is_set():
            self.holding.set()  # no await in between: only one message is held
            released = await asyncio.get_running_loop().run_in_executor(
                None, self.hold_first.wait, 60)
            assert released, "the test never released the held message"
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.envelopes.append(
                Envelope(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 Message accepted for delivery"


class MailServer:
    """A running recording SMTP server on 127.0.0.1."""

    def __init__(self):
        self.port = free_port()
        self.recorder = EnvelopeRecorder()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    @property
    def envelopes(self) -> list[Envelope]:
        return list(self.recorder.envelopes)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Envelope]:
        """Wait until at least `count` envelopes have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.recorder.envelopes) >= count:
                return self.envelopes
            time.sleep(0.02)
        raise AssertionError(f"{count} message(s) expected, {len(self.envelopes)} arrived")


@pytest.fixture
def mail_server():
    """A real SMTP server (aiosmtpd) on a free loopback port, recording envelopes."""
    server = MailServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port where no mail server listens: connections are refused."""
    return free_port()
