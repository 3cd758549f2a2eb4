"""Who issues and who signs: the organisation's legal names, the signatories, their images.

Admins edit these (course_portal.certificates.issuer_views). A certificate copies what is in
force when it is issued into its snapshot (signatory_snapshot()), so appointing a new rector
or replacing a seal changes no certificate already issued.
"""

from __future__ import annotations

import hashlib
import io
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import undefer

from course_portal.catalog.models import Institute, Program
from course_portal.certificates.models import IssuingOrganisation, Signatory, SignatoryRole
from course_portal.core import audit
from course_portal.core.domain import DomainError
from course_portal.extensions import db

R = SignatoryRole

#: what a fresh installation prints until an admin says otherwise (the migration seeds the same)
DEFAULT_ORGANISATION = {
    "full_name_ru": "ФГАОУ ВО «Санкт-Петербургский политехнический университет Петра Великого»",
    "full_name_en": "Peter the Great St. Petersburg Polytechnic University",
    "full_name_zh": "彼得大帝圣彼得堡理工大学",
    "city_ru": "Санкт-Петербург",
    "city_en": "Saint Petersburg",
    "city_zh": "圣彼得堡",
}
ORGANISATION_FIELDS = tuple(DEFAULT_ORGANISATION)
SIGNATORY_FIELDS = tuple(
    f"{part}_{lang}" for part in ("name", "position", "authority") for lang in ("ru", "en", "zh")
)
#: the lines of a certificate, top to bottom
PRINTED_ROLES = (R.RECTOR, R.DIRECTOR, R.SECRETARY)
ROLE_LABELS = {
    R.RECTOR: _l("Rector, or the vice-rector who signs by order"),
    R.DIRECTOR: _l("Director of the institute"),
    R.SECRETARY: _l("Secretary"),
}
#: an uploaded image larger than this is refused before it is decoded
IMAGE_MAX_BYTES = 2 * 1024 * 1024
#: images are scaled down to fit these boxes (pixels): enough for 300 dpi at their printed size
SIGNATURE_BOX = (600, 240)
SEAL_BOX = (480, 480)


class IssuerRefused(DomainError):
    """A rule about the organisation or a signatory said no."""


def organisation() -> IssuingOrganisation:
    """The organisation's row, or the defaults (not yet saved) when no admin has saved one."""
    found = db.session.get(IssuingOrganisation, 1)
    return found if found is not None else IssuingOrganisation(id=1, seal_sha256="",
                                                               **DEFAULT_ORGANISATION)


def _saved_organisation() -> IssuingOrganisation:
    found = db.session.get(IssuingOrganisation, 1)
    if found is None:
        found = IssuingOrganisation(id=1, seal_sha256="", **DEFAULT_ORGANISATION)
        db.session.add(found)
    return found


def save_organisation(actor, values: dict[str, str]) -> IssuingOrganisation:
    """Change the organisation's names and city; audited with what changed."""
    row = _saved_organisation()
    changed = {name: values[name] for name in ORGANISATION_FIELDS
               if name in values and getattr(row, name) != values[name]}
    for name, value in changed.items():
        setattr(row, name, value)
    db.session.flush()
    if changed:
        audit.record("issuer.organisation_changed", actor=actor, target=row, **changed)
    return row


def signatory(role: SignatoryRole, institute_id: int | None = None) -> Signatory | None:
    """The signatory of a line (a director: of that institute), or None when none is set."""
    return db.session.scalar(
        select(Signatory).where(Signatory.slot == Signatory.slot_for(role, institute_id)))


def all_signatories() -> list[Signatory]:
    """Every signatory, for the admin page."""
    return list(db.session.scalars(select(Signatory).order_by(Signatory.slot)))


def save_signatory(actor, role: SignatoryRole, institute_id: int | None,
                   values: dict[str, str]) -> Signatory:
    """Set who signs a line; certificates issued before keep the signatory they printed."""
    if role == R.DIRECTOR:
        if institute_id is None or db.session.get(Institute, institute_id) is None:
            raise IssuerRefused(_l("Choose the institute this director heads."))
    else:
        institute_id = None
    row = signatory(role, institute_id)
    if row is None:
        row = Signatory(role=role, institute_id=institute_id,
                        slot=Signatory.slot_for(role, institute_id), signature_sha256="")
        db.session.add(row)
    before = {name: getattr(row, name) or "" for name in SIGNATORY_FIELDS}
    for name in SIGNATORY_FIELDS:
        if name in values:
            setattr(row, name, values[name])
    db.session.flush()
    changed = {name: getattr(row, name) for name in SIGNATORY_FIELDS
               if getattr(row, name) != before[name]}
    if changed:
        audit.record("issuer.signatory_changed", actor=actor, target=row, role=role.value,
                     institute=institute_id, **changed)
    return row


def clean_png(data: bytes, box: tuple[int, int]) -> bytes:
    """A PNG checked by its content, decoded, scaled into box and encoded again: pixels only."""
    from course_portal.enrollment.documents import PNG, detect_content_type
    from course_portal.enrollment.errors import DocumentRefused

    if len(data) > IMAGE_MAX_BYTES:
        raise IssuerRefused(_l("The image is larger than 2 MB. Save it smaller and try again."))
    if data and not data.startswith(b"\x89PNG\r\n\x1a\n"):
        # before detect_content_type, whose refusal of other files offers PDF and JPEG too
        raise IssuerRefused(_l("Upload a PNG image, ideally on a transparent background."))
    try:
        kind = detect_content_type(data)
    except DocumentRefused as exc:
        raise IssuerRefused(exc.message) from None
    if kind != PNG:
        raise IssuerRefused(_l("Upload a PNG image, ideally on a transparent background."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                image.load()
                picture = image.convert("RGBA")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, SyntaxError,
            ValueError, EOFError):
        raise IssuerRefused(_l("This PNG file is damaged or incomplete; export it again.")) from None
    picture.thumbnail(box)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def set_signature_image(actor, row: Signatory, data: bytes | None) -> None:
    """Put (or, with None, take away) the signature's image of a signatory."""
    png = clean_png(data, SIGNATURE_BOX) if data is not None else None
    row.signature_png = png
    row.signature_sha256 = hashlib.sha256(png).hexdigest() if png else ""
    db.session.flush()
    audit.record("issuer.signature_image_changed", actor=actor, target=row,
                 role=row.role.value, institute=row.institute_id,
                 sha256=row.signature_sha256 or None)


def set_seal_image(actor, data: bytes | None) -> None:
    """Put (or, with None, take away) the seal's image."""
    row = _saved_organisation()
    png = clean_png(data, SEAL_BOX) if data is not None else None
    row.seal_png = png
    row.seal_sha256 = hashlib.sha256(png).hexdigest() if png else ""
    db.session.flush()
    audit.record("issuer.seal_image_changed", actor=actor, target=row,
                 sha256=row.seal_sha256 or None)


# --- what a certificate copies ----------------------------------------------------------------


def signatories_of(program: Program) -> dict[SignatoryRole, Signatory | None]:
    """The signatories of the programme's certificates, by line: rector, director, secretary."""
    slots = {role: Signatory.slot_for(role, program.institute_id) for role in PRINTED_ROLES}
    found = {row.slot: row for row in db.session.scalars(
        select(Signatory).where(Signatory.slot.in_(slots.values()))
        .options(undefer(Signatory.signature_png)))}
    return {role: found.get(slot) for role, slot in slots.items()}


def gaps(program: Program, rows: dict[SignatoryRole, Signatory | None] | None = None) -> list:
    """What stops the programme's certificates being signed: a line without its signatory
    (rows: signatories_of(program), when the caller has read them)."""
    problems = []
    for role, row in (rows if rows is not None else signatories_of(program)).items():
        if row is None or not (row.name_ru.strip() and row.position_ru.strip()):
            if role == R.DIRECTOR:
                problems.append(_l(
                    "No director of %(institute)s is set to sign its certificates: an admin "
                    "adds one under Certificates → Signatories and seal.",
                    institute=program.institute.t("name")))
            else:
                problems.append(_l(
                    "Nobody is set to sign certificates as %(line)s: an admin adds one under "
                    "Certificates → Signatories and seal.", line=ROLE_LABELS[role].lower()))
    return problems


def signatory_snapshot(program: Program, rows: dict[SignatoryRole, Signatory | None] | None = None
                       ) -> tuple[list[dict], dict[str, bytes]]:
    """The lines a certificate prints, as frozen dicts, and the images they name by SHA-256
    (rows: signatories_of(program), when the caller has read them)."""
    lines, images = [], {}
    for role, row in (rows if rows is not None else signatories_of(program)).items():
        if row is None:
            continue
        line = {"role": role.value}
        line.update({name: (getattr(row, name) or "").strip() for name in SIGNATORY_FIELDS})
        line["signature_sha256"] = row.signature_sha256 or ""
        if row.signature_png:
            images[row.signature_sha256] = row.signature_png
        lines.append(line)
    return lines, images


def seal_image() -> tuple[str, bytes | None]:
    """The seal's SHA-256 and PNG, or ("", None) without one."""
    row = db.session.scalar(select(IssuingOrganisation).where(IssuingOrganisation.id == 1)
                            .options(undefer(IssuingOrganisation.seal_png)))
    if row is None or not row.seal_png:
        return "", None
    return row.seal_sha256, row.seal_png
