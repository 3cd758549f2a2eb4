"""Accounts: placeholder views, replaced by the full feature."""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for
from flask_login import login_required

from course_portal.core.permissions import public
from course_portal.core.web import safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    return "login"


@bp.post("/logout")
@login_required
def logout():
    return redirect(url_for("catalog.index"))


@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    return "register"


@bp.get("/profile")
@login_required
def profile():
    return "profile"


@bp.post("/language")
@public
def set_language():
    session["locale"] = request.form.get("language")
    return redirect(safe_next(request.form.get("next")))
