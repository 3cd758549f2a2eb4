"""Take the README's screenshots: a throwaway instance with demo data, served and photographed.

Run with `make screenshots`; the pictures land in docs/screenshots/.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "demo-password-2026"


def _app(instance: str):
    sys.path.insert(0, str(ROOT))
    from course_portal import create_app

    app = create_app(
        {
            "ENV": "development",
            "INSTANCE_PATH": instance,
            "DATABASE_URL": "sqlite:///" + os.path.join(instance, "shots.sqlite3"),
            "OUTBOX_DISPATCH": "off",
            "RATELIMIT_ENABLED": False,
        }
    )
    from flask_migrate import upgrade

    from course_portal.extensions import db
    from course_portal.ops.demo import load_demo_data

    with app.app_context():
        upgrade()
        load_demo_data()
        db.session.commit()
    return app


def _demo_ids(app) -> dict:
    """The finished demo intake and a valid demo certificate, to photograph their pages."""
    from sqlalchemy import select

    from course_portal.catalog.models import Intake
    from course_portal.certificates.models import Certificate
    from course_portal.extensions import db

    with app.app_context():
        certificate = db.session.scalar(select(Certificate).order_by(Certificate.id))
        finished = db.session.get(Intake, certificate.application.intake_id)
        return {"intake": finished.id, "code": certificate.verification_code}


def _sign_in(page, base: str, email: str, code_label: str = "Sign-in code",
             verify: str = "Verify") -> None:
    """Sign in as a person would; staff type the demo authenticator's current code too."""
    import pyotp

    from course_portal.ops.demo import DEMO_TOTP_SECRET

    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if page.url.endswith("/login/code"):
        page.get_by_label(code_label, exact=True).fill(pyotp.TOTP(DEMO_TOTP_SECRET).now())
        page.get_by_role("button", name=verify).click()


def main() -> None:
    """Serve a demo instance and save a picture of each main page."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as instance:
        app = _app(instance)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = base
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                desktop = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 800})
                page = desktop.new_page()
                for name, path in [("catalog", "/"), ("program", "/programs/IE"), ("register", "/register")]:
                    page.goto(base + path)
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                _sign_in(page, base, "liu.yang@example.com")
                page.goto(base + "/programs/IE")
                page.get_by_role("link", name="Apply").first.click()
                page.screenshot(path=str(OUT / "apply.png"), full_page=True)
                staff = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 800})
                page = staff.new_page()
                _sign_in(page, base, "admin@example.com")
                ids = _demo_ids(app)
                for name, path in [
                    ("dashboard", "/dashboard"),
                    ("review-queue", "/review?status=all"),
                    ("manage-programs", "/manage/programs"),
                    ("roster", f"/progress/manage/intakes/{ids['intake']}/roster"),
                    ("certificates", f"/certificates/manage/intakes/{ids['intake']}"),
                    ("audit-log", "/dashboard/audit"),
                ]:
                    page.goto(base + path)
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                teacher = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 800})
                page = teacher.new_page()
                _sign_in(page, base, "wang.fang@example.com")
                page.get_by_role("button", name="English").click()
                page.goto(base + "/progress")
                page.screenshot(path=str(OUT / "progress.png"), full_page=True)
                page.goto(base + f"/verify/{ids['code']}")
                page.screenshot(path=str(OUT / "verify.png"), full_page=True)
                # signed in, the liaison reads the portal in the language of their account: 中文
                liaison = browser.new_context(locale="en-US",
                                              viewport={"width": 1200, "height": 800})
                page = liaison.new_page()
                _sign_in(page, base, "liaison@example.com")
                page.goto(base + "/partner/")
                page.screenshot(path=str(OUT / "partner-zh.png"), full_page=True)
                phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                            is_mobile=True, device_scale_factor=1)
                page = phone.new_page()
                page.goto(base + "/programs/IS")
                page.screenshot(path=str(OUT / "program-phone-zh.png"), full_page=True)
                browser.close()
        finally:
            server.shutdown()
    print(f"screenshots written to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
