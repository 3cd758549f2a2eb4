"""The sample nginx site in deploy/, run by a real nginx in front of the app on loopback.

The config is used as shipped except for what a server changes anyway: ports, the certificate
paths, the checkout's path and the gunicorn address. nginx comes from Debian (make test installs
nginx-light); it is started as this user, in a temporary prefix, never as a system service.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from course_portal.extensions import db

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as certbot's files would be on a server."""
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(  # noqa: S603 (a fixed command)
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


def site_config(http_port: int, https_port: int, app_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx.conf with this machine's ports and paths in place of the server's."""
    text = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    replacements = [
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl"),
        (r"listen \[::\]:\d+[^;]*;", ""),
        (r"server 127\.0\.0\.1:8000", f"server 127.0.0.1:{app_port}"),
        (r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};"),
        (r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};"),
        (r"/srv/course-portal/src/", f"{ROOT}/"),
    ]
    for pattern, value in replacements:
        text, count = re.subn(pattern, value, text)
        assert count, f"deploy/nginx.conf no longer has {pattern!r}: update this test"
    return text


@pytest.fixture
def nginx_site(tmp_path, make_app):
    """The app on a loopback port behind nginx running deploy/nginx.conf; yields the ports."""
    if not Path(NGINX).exists() or not MIME_TYPES.exists():
        pytest.fail("nginx not found: apt-get install nginx-light (make test does)")
    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    http_port, https_port = free_port(), free_port()
    cert, key = make_certificate(tmp_path)
    site = site_config(http_port, https_port, server.server_port, cert, key)
    for name in ("logs", "temp"):
        (tmp_path / name).mkdir()
    main = tmp_path / "nginx.conf"
    # started as root (CI), nginx's workers would drop to "nobody", who cannot write the upload
    # buffers into this test's private temporary folder
    workers_user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        workers_user
        + "worker_processes 1;\n"
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/logs/error.log warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  include {MIME_TYPES};\n"
        f"  access_log {tmp_path}/logs/access.log;\n"
        f"  client_body_temp_path {tmp_path}/temp/body;\n"
        f"  proxy_temp_path {tmp_path}/temp/proxy;\n"
        f"  fastcgi_temp_path {tmp_path}/temp/fastcgi;\n"
        f"  uwsgi_temp_path {tmp_path}/temp/uwsgi;\n"
        f"  scgi_temp_path {tmp_path}/temp/scgi;\n"
        f"{site}\n"
        "}\n",
        encoding="utf-8",
    )
    command = [NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "logs" / "error.log"),
               "-c", str(main)]
    check = subprocess.run(  # noqa: S603 (Debian's nginx, our config)
        [*command, "-t"], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(  # noqa: S603
        [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    context = ssl.create_default_context(cafile=str(cert))
    try:
        yield {"http": http_port, "https": https_port, "context": context}
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, context=None, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one request, redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_accepts_the_sample_site_and_proxies_pages_with_the_apps_headers(nginx_site):
    status, headers, body = fetch(f"https://127.0.0.1:{nginx_site['https']}/",
                                  nginx_site["context"])
    assert status == 200
    assert b"<html" in body
    # the app's own security headers come through untouched; nginx adds none of its own
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_plain_http_is_sent_to_https(nginx_site):
    status, headers, _body = fetch(f"http://127.0.0.1:{nginx_site['http']}/catalog?x=1")
    assert status == 301
    assert headers["Location"].startswith("https://127.0.0.1")
    assert headers["Location"].endswith("/catalog?x=1")


def test_static_files_come_from_nginx_with_a_week_of_caching(nginx_site):
    css = (ROOT / "course_portal" / "static" / "css" / "portal.css").read_bytes()
    status, headers, body = fetch(f"https://127.0.0.1:{nginx_site['https']}/static/css/portal.css",
                                  nginx_site["context"])
    assert status == 200
    assert body == css
    assert headers["Content-Type"].startswith("text/css")
    assert headers.get_all("Cache-Control") == ["public, max-age=604800"]


def test_pages_and_styles_cross_the_line_compressed_for_browsers_that_ask(nginx_site):
    base = f"https://127.0.0.1:{nginx_site['https']}"
    css = (ROOT / "course_portal" / "static" / "css" / "portal.css").read_bytes()
    gzip_ok = {"Accept-Encoding": "gzip"}

    status, headers, body = fetch(f"{base}/static/css/portal.css", nginx_site["context"],
                                  headers=gzip_ok)
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == css
    assert len(body) < len(css) / 3
    assert "Accept-Encoding" in headers["Vary"]

    status, headers, body = fetch(f"{base}/", nginx_site["context"], headers=gzip_ok)
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    page = gzip.decompress(body)
    assert b"<html" in page
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]

    # a client that does not ask gets the page as the app wrote it
    status, headers, body = fetch(f"{base}/", nginx_site["context"])
    assert status == 200
    assert "Content-Encoding" not in headers
    assert b"<html" in body


def test_an_upload_over_the_apps_limit_gets_the_apps_own_page_not_nginxs(nginx_site, make_app):
    limit = make_app().config["MAX_CONTENT_LENGTH"]
    body = b"x" * (limit + 1024 * 1024)
    status, headers, page = fetch(
        f"https://127.0.0.1:{nginx_site['https']}/login", nginx_site["context"],
        data=body, headers={"Content-Type": "application/octet-stream"},
    )
    assert status == 413
    # the app answered (its CSP is on the page), so nginx let the body through to it
    assert "Content-Security-Policy" in headers
    assert b"nginx" not in page
