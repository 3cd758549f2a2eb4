"""Coordinators manage the catalog: programs, their modules, intakes and partner quotas."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from course_portal.accounts.models import Role
from course_portal.catalog import forms, services
from course_portal.catalog import intakes as intake_services
from course_portal.catalog.errors import CatalogError
from course_portal.catalog.models import Intake, Program
from course_portal.catalog.views import bp
from course_portal.core.clock import portal_today
from course_portal.core.permissions import role_required
from course_portal.core.web import form_view, options, put_errors
from course_portal.enrollment import seats
from course_portal.extensions import db


def _program_or_404(program_id: int) -> Program:
    program = services.get_program(program_id)
    if program is None:
        abort(404)
    return program


def _intake_or_404(program: Program, intake_id: int) -> Intake:
    intake = services.get_intake(program, intake_id)
    if intake is None:
        abort(404)
    return intake


def _actor():
    return current_user._get_current_object()


def _field_for(form, name: str | None, module_rows: list | None = None):
    """The form field a service message belongs to, or None for the whole form."""
    if name is None:
        return None
    parts = name.split(".")
    if parts[0] == "modules" and module_rows is not None and len(parts) == 3:
        index = int(parts[1])
        return getattr(module_rows[index], parts[2], None) if index < len(module_rows) else None
    if parts[0] == "quotas" and len(parts) == 2:
        for entry in form.quotas:
            if str(entry.form.partner_university_id.data) == parts[1]:
                return entry.form.seats
        return None
    return form._fields.get(name)


def _put_errors(form, error: CatalogError, module_rows: list | None = None) -> None:
    """put_errors with the catalog's field names (modules.N.field, quotas.PARTNER), and the
    FieldLists' own errors gathered again from their rows."""
    put_errors(form, error, lambda form, name: _field_for(form, name, module_rows))
    for list_name in ("modules", "quotas"):
        field_list = form._fields.get(list_name)
        if field_list is not None:
            # a FieldList keeps the errors of its last validation: gather its rows' again
            errors = [entry.errors for entry in field_list]
            field_list.errors = errors if any(errors) else []


# --- programs ---------------------------------------------------------------------------


@bp.get("/manage/programs")
@role_required(Role.COORDINATOR)
def manage_programs():
    """Every program, drafts too, with its hours, intakes and whether it is published."""
    return render_template("catalog/manage/programs.html", programs=services.all_programs())


@bp.route("/manage/programs/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def manage_program_new():
    """Create a program; its modules and intakes come next."""
    return _program_page(None)


@bp.route("/manage/programs/<int:program_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def manage_program(program_id: int):
    """Edit a program's code, institute, titles, descriptions and settings."""
    return _program_page(_program_or_404(program_id))


def _program_page(program: Program | None):
    form = forms.ProgramForm(obj=program)
    form.institute_id.choices = options([("", _("— choose the institute —"))] + [
        (institute.id, institute.t("name")) for institute in services.institutes()
    ])
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in services.PROGRAM_FIELDS}
        try:
            saved = services.save_program(program, actor=_actor(), **values)
        except CatalogError as error:
            db.session.rollback()
            _put_errors(form, error)
        else:
            db.session.commit()
            if program is None:
                flash(_("Program %(code)s is created. Now add its modules.", code=saved.code),
                      "success")
                return redirect(url_for("catalog.manage_modules", program_id=saved.id))
            flash(_("Program %(code)s is saved.", code=saved.code), "success")
            return redirect(url_for("catalog.manage_programs"))
    return render_template("catalog/manage/program_form.html", form=form, program=program)


# --- modules ----------------------------------------------------------------------------


def _module_rows(program: Program) -> list[dict]:
    rows = [
        {"id": m.id, "position": m.position, "title_en": m.title_en, "title_zh": m.title_zh,
         "title_ru": m.title_ru, "hours": m.hours}
        for m in program.modules
    ]
    last = max((m.position for m in program.modules), default=0)
    rows += [{"position": last + n} for n in range(1, forms.EXTRA_MODULE_ROWS + 1)]
    return rows


@bp.route("/manage/programs/<int:program_id>/modules", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def manage_modules(program_id: int):
    """The program's modules as one list: change, add, remove and renumber them at once."""
    program = _program_or_404(program_id)
    if request.method == "POST":
        form = forms.ModulesForm()
    else:
        form = forms.ModulesForm(data={"modules": _module_rows(program)})
    if form.validate_on_submit():
        kept = [entry.form for entry in form.modules if entry.form.is_kept]
        rows = [
            {name: getattr(row, name).data
             for name in ("id", "position", "title_en", "title_zh", "title_ru", "hours")}
            for row in kept
        ]
        try:
            services.save_modules(program, rows, actor=_actor())
        except CatalogError as error:
            db.session.rollback()
            _put_errors(form, error, module_rows=kept)
        else:
            db.session.commit()
            flash(_("The modules are saved: %(num)d academic hours in total.",
                    num=program.total_hours), "success")
            return redirect(url_for("catalog.manage_modules", program_id=program.id))
    return render_template("catalog/manage/modules.html", form=form, program=program)


# --- intakes ----------------------------------------------------------------------------


@bp.get("/manage/programs/<int:program_id>/intakes")
@role_required(Role.COORDINATOR)
def manage_intakes(program_id: int):
    """The program's intakes with their dates, seats, quotas and the applications switch."""
    program = _program_or_404(program_id)
    intakes = list(program.intakes)
    return render_template(
        "catalog/manage/intakes.html",
        program=program,
        intakes=intakes,
        quotas=seats.quotas_by_intake(intakes),
        today=portal_today(),
    )


@bp.route("/manage/programs/<int:program_id>/intakes/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def manage_intake_new(program_id: int):
    """Create an intake of the program."""
    return _intake_page(_program_or_404(program_id), None)


@bp.route("/manage/programs/<int:program_id>/intakes/<int:intake_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
@form_view
def manage_intake(program_id: int, intake_id: int):
    """Edit an intake's dates, window, seats, switch and quotas."""
    program = _program_or_404(program_id)
    return _intake_page(program, _intake_or_404(program, intake_id))


def _intake_page(program: Program, intake: Intake | None):
    partners = services.partner_universities()
    if request.method == "POST":
        form = forms.IntakeForm()
    else:
        current = seats.quotas_of(intake) if intake is not None else {}
        quota_rows = [
            {"partner_university_id": partner.id,
             "seats": current[partner.id].seats if partner.id in current else None}
            for partner in partners
        ]
        data: dict[str, Any] = {"quotas": quota_rows}
        if intake is None:  # a new intake is taught as its programme is, unless changed
            data["delivery"] = program.mode
        form = forms.IntakeForm(obj=intake, data=data)
    by_id = {partner.id: partner for partner in partners}
    for entry in form.quotas:
        partner_id = entry.form.partner_university_id.data
        partner = by_id.get(partner_id) if partner_id is not None else None
        entry.form.seats.label.text = partner.t("name") if partner else _("Unknown university")
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in services.INTAKE_FIELDS}
        quotas = {
            entry.form.partner_university_id.data: entry.form.seats.data for entry in form.quotas
        }
        try:
            saved = intake_services.save_intake(program, intake, actor=_actor(), quotas=quotas,
                                                **values)
        except CatalogError as error:
            db.session.rollback()
            _put_errors(form, error)
        else:
            db.session.commit()
            flash(_("The intake “%(title)s” is saved.", title=saved.title), "success")
            return redirect(url_for("catalog.manage_intakes", program_id=program.id))
    taken = seats.quotas_of(intake) if intake is not None else {}
    return render_template(
        "catalog/manage/intake_form.html",
        form=form,
        program=program,
        intake=intake,
        quotas_taken={partner_id: quota.seats_taken for partner_id, quota in taken.items()},
    )


@bp.post("/manage/programs/<int:program_id>/intakes/<int:intake_id>/applications")
@role_required(Role.COORDINATOR)
def manage_intake_open(program_id: int, intake_id: int):
    """Open or close an intake for applications with one click (the global CSRF check applies)."""
    program = _program_or_404(program_id)
    intake = _intake_or_404(program, intake_id)
    choice = request.form.get("is_open")
    if choice not in {"0", "1"}:
        abort(400)
    intake_services.set_intake_open(intake, choice == "1", actor=_actor())
    db.session.commit()
    if intake.is_open:
        flash(_("“%(title)s” now accepts applications within its dates.", title=intake.t("title")),
              "success")
    else:
        flash(_("“%(title)s” no longer accepts applications.", title=intake.t("title")), "success")
    return redirect(url_for("catalog.manage_intakes", program_id=program.id))
