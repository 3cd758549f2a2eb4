"""Fixtures for the certificate PDF tests: a sample snapshot, its PDF, a local HTTP server."""

from __future__ import annotations

import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from course_portal.certificates.pdf import CertificateSnapshot, render_certificate
from course_portal.certificates.specimen import specimen_snapshot

VERIFY_URL = "http://portal.test/verify/Zx3kP9q2Lm7Rt5Vb8Nw1Yc4Hd6Jf0Ga"




@pytest.fixture(scope="session")
def snapshot() -> CertificateSnapshot:
    """The sample snapshot."""
    return specimen_snapshot()


@pytest.fixture(scope="session")
def certificate_pdf(snapshot) -> bytes:
    """The sample certificate, rendered once for the tests that only read it."""
    return render_certificate(snapshot, VERIFY_URL)


@pytest.fixture(scope="session")
def poppler() -> dict[str, str]:
    """Paths of pdffonts, pdftotext and pdftoppm (poppler-utils, a test package of the Makefile)."""
    tools = {name: shutil.which(name) for name in ("pdffonts", "pdftotext", "pdftoppm")}
    missing = [name for name, path in tools.items() if path is None]
    assert not missing, f"poppler-utils is needed (make system-packages-test): {missing}"
    return tools


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with an empty PNG-less 200 and remembers the path."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A loopback HTTP server that records requests; yields it with .port and .requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []
    server.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
