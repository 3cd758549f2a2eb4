"""Admins set who issues and who signs certificates: the organisation, the signatories, images.

Every certificate copies the organisation and the signatories in force when it is issued
(issuer.signatory_snapshot), so nothing saved here changes a certificate already issued.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import undefer

from course_portal.accounts.models import Role
from course_portal.catalog.models import Institute
from course_portal.catalog.services import institutes
from course_portal.certificates import issuer
from course_portal.certificates.issuer_forms import OrganisationForm, SignatoryForm
from course_portal.certificates.models import Signatory, SignatoryRole
from course_portal.certificates.views import bp
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view
from course_portal.extensions import db

R = SignatoryRole
#: the lines edited through /certificates/issuer/signatories/<role>; directors have their own
SINGLE_ROLES = (R.RECTOR, R.SECRETARY)
#: an image is private: only admins fetch it, and no cache keeps it
IMAGE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _actor():
    return current_user._get_current_object()


def _messages(refusal: issuer.IssuerRefused) -> list[str]:
    # str(): flask-babel's lazy strings count as safe HTML and would skip escaping
    return [str(message) for messages in refusal.errors.values() for message in messages]


def _upload(field) -> bytes | None:
    """The chosen file's bytes, at most one byte more than an image may have; None without one."""
    if not field.data:
        return None
    return field.data.read(issuer.IMAGE_MAX_BYTES + 1)


def _choose_again(field) -> None:
    """A browser never sends a file back: say so when the form returns after one was chosen."""
    if request.method == "POST" and field.data and not field.errors:
        field.errors = [_("Choose the image again: a file is not kept when the form is "
                          "shown again.")]


def _status() -> int:
    """What a form page answers when it is shown again: 400 after a refused POST."""
    return 400 if request.method == "POST" else 200


# --- the organisation and the list of signature lines -----------------------------------------


def _signature_lines() -> list[dict]:
    """The rector, the secretary and one director per institute, with who signs each now."""
    by_slot = {row.slot: row for row in issuer.all_signatories()}
    lines = [
        {"label": issuer.ROLE_LABELS[role], "institute": None,
         "signatory": by_slot.get(Signatory.slot_for(role)),
         "url": url_for(".issuer_signatory", role=role.value)}
        for role in SINGLE_ROLES
    ]
    lines += [
        {"label": issuer.ROLE_LABELS[R.DIRECTOR], "institute": institute,
         "signatory": by_slot.get(Signatory.slot_for(R.DIRECTOR, institute.id)),
         "url": url_for(".issuer_director", institute_id=institute.id)}
        for institute in institutes()
    ]
    return lines


# endpoint certificates.issuer; the function has another name, as the module `issuer` has that
@bp.route("/certificates/issuer", methods=["GET", "POST"], endpoint="issuer")
@role_required(Role.ADMIN)
@form_view
def issuer_page():
    """The organisation's names, city and seal, and the signature lines with who signs each."""
    form = OrganisationForm(obj=issuer.organisation())
    if form.validate_on_submit():
        actor = _actor()
        issuer.save_organisation(actor, {name: getattr(form, name).data
                                         for name in issuer.ORGANISATION_FIELDS})
        try:
            data = _upload(form.seal)
            if data is not None:
                issuer.set_seal_image(actor, data)
            elif form.remove_seal.data and issuer.organisation().seal_sha256:
                issuer.set_seal_image(actor, None)
        except issuer.IssuerRefused as refusal:
            db.session.rollback()
            form.seal.errors = [*form.seal.errors, *_messages(refusal)]
        else:
            db.session.commit()
            flash(_("The organisation is saved. Certificates issued from now on print it; "
                    "those issued before keep what they printed."), "success")
            return redirect(url_for(".issuer"))
    _choose_again(form.seal)
    return render_template("certificates/issuer/organisation.html", form=form,
                           organisation=issuer.organisation(), lines=_signature_lines(),
                           box=issuer.SEAL_BOX), _status()


# --- one signature line -----------------------------------------------------------------------


@bp.route("/certificates/issuer/signatories/<role>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@form_view
def issuer_signatory(role: str):
    """The rector's or the secretary's line."""
    found = next((r for r in SINGLE_ROLES if r.value == role), None)
    if found is None:
        abort(404)
    return _signatory_page(found, None)


@bp.route("/certificates/issuer/signatories/director/<int:institute_id>",
          methods=["GET", "POST"])
@role_required(Role.ADMIN)
@form_view
def issuer_director(institute_id: int):
    """The line of the director of one institute."""
    institute = db.session.get(Institute, institute_id)
    if institute is None:
        abort(404)
    return _signatory_page(R.DIRECTOR, institute)


def _signatory_page(role: SignatoryRole, institute: Institute | None):
    institute_id = institute.id if institute is not None else None
    form = SignatoryForm(obj=issuer.signatory(role, institute_id))
    if form.validate_on_submit():
        actor = _actor()
        try:
            row = issuer.save_signatory(actor, role, institute_id, {
                name: getattr(form, name).data for name in issuer.SIGNATORY_FIELDS})
        except issuer.IssuerRefused as refusal:
            db.session.rollback()
            form.form_errors.extend(_messages(refusal))
        else:
            try:
                data = _upload(form.signature)
                if data is not None:
                    issuer.set_signature_image(actor, row, data)
                elif form.remove_signature.data and row.signature_sha256:
                    issuer.set_signature_image(actor, row, None)
            except issuer.IssuerRefused as refusal:
                db.session.rollback()
                form.signature.errors = [*form.signature.errors, *_messages(refusal)]
            else:
                db.session.commit()
                flash(_("The signatory is saved. Certificates issued from now on print this "
                        "line; those issued before keep what they printed."), "success")
                return redirect(url_for(".issuer"))
    _choose_again(form.signature)
    return render_template("certificates/issuer/signatory.html", form=form, role=role,
                           label=issuer.ROLE_LABELS[role], institute=institute,
                           signatory=issuer.signatory(role, institute_id),
                           box=issuer.SIGNATURE_BOX), _status()


# --- the stored images ------------------------------------------------------------------------


@bp.get("/certificates/issuer/images/<kind>/<int:image_id>.png")
@role_required(Role.ADMIN)
def issuer_image(kind: str, image_id: int):
    """A signature's image (by signatory id) or the seal's (id 1), as stored; 404 without one."""
    png = None
    if kind == "signature":
        row = db.session.get(Signatory, image_id, options=[undefer(Signatory.signature_png)])
        png = row.signature_png if row is not None else None
    elif kind == "seal" and image_id == 1:
        png = issuer.seal_image()[1]
    if not png:
        abort(404)
    return Response(png, mimetype="image/png", headers=IMAGE_HEADERS)
