"""Registry numbers, gap-free per program and year, and the registry export as CSV and XLSX.

next_sequence() bumps the counter row with one atomic UPDATE ... RETURNING inside the caller's
transaction. On PostgreSQL the row stays locked until that transaction ends, so concurrent
issuers queue on it; on SQLite the UPDATE takes the database's write lock (the busy timeout
in config.py makes the others wait). A transaction that fails after the bump rolls the bump
back with everything else, so a number is used only by a certificate that was committed.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from course_portal.certificates.models import Certificate, RegistryCounter
from course_portal.core import spreadsheets
from course_portal.core.spreadsheets import cell_value
from course_portal.core.timezones import ZonedHeader, local_naive
from course_portal.extensions import db


def registry_number(program_code: str, year: int, sequence: int) -> str:
    """IE-2026-0001: the program's code, the year of issue and the sequence, four digits."""
    return f"{program_code}-{year}-{sequence:04d}"


def _insert_counter_if_missing(program_id: int, year: int) -> None:
    """Create the (program, year) counter at 0 unless it exists; safe when two do it at once."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover (the portal runs on these)
        raise RuntimeError(f"registry counters need PostgreSQL or SQLite, not {dialect}")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(RegistryCounter)
        .values(program_id=program_id, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["program_id", "year"])
    )


def _bump(program_id: int, year: int) -> int | None:
    return db.session.scalar(
        update(RegistryCounter)
        .where(RegistryCounter.program_id == program_id, RegistryCounter.year == year)
        .values(last_number=RegistryCounter.last_number + 1)
        .returning(RegistryCounter.last_number)
        .execution_options(synchronize_session=False)
    )


def next_sequence(program_id: int, year: int) -> int:
    """Take the next number of the program's year in the caller's transaction (1, 2, 3, ...)."""
    # the counter exists but for the year's first certificate: one statement, not two
    number = _bump(program_id, year)
    if number is None:
        _insert_counter_if_missing(program_id, year)
        number = _bump(program_id, year)
    if number is None:  # pragma: no cover (the row was inserted just above)
        raise RuntimeError(f"no registry counter for program {program_id}, year {year}")
    return number


# --- the registry export ----------------------------------------------------------------------


def _moment(value) -> str:
    moment = local_naive(value)
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else ""


def _status_word(certificate: Certificate) -> str:
    from course_portal.certificates.services import status_label

    return str(status_label(certificate.status))


#: the export's columns: header and how to read the cell from a certificate
EXPORT_COLUMNS = (
    (_l("Registry number"), lambda c: c.registry_number),
    (_l("Status"), _status_word),
    (_l("Status code"), lambda c: c.status.value),
    (_l("Verification code"), lambda c: c.verification_code),
    (_l("Name in Chinese characters"), lambda c: c.snapshot.get("name_zh", "")),
    (_l("Name in Latin letters"), lambda c: c.snapshot.get("name_latin", "")),
    (_l("Name in Russian"), lambda c: c.snapshot.get("name_ru", "")),
    (_l("Partner university"), lambda c: c.snapshot.get("partner_university_en", "")),
    (_l("Program"), lambda c: c.snapshot.get("program_title_ru", "")),
    (_l("Program (English)"), lambda c: c.snapshot.get("program_title_en", "")),
    (_l("Hours"), lambda c: c.snapshot.get("hours", "")),
    (_l("The hours printed are"), lambda c: str(
        _l("the programme's volume") if int(c.snapshot.get("layout_version", 1)) >= 2
        else _l("the hours credited to the teacher"))),
    (_l("Starts on"), lambda c: c.snapshot.get("starts_on", "")),
    (_l("Ends on"), lambda c: c.snapshot.get("ends_on", "")),
    (_l("Result"), lambda c: c.snapshot.get("result", "")),
    (ZonedHeader(_l("Issued at (%(zone)s)")), lambda c: _moment(c.issued_at)),
    (_l("Issued by"), lambda c: c.snapshot.get("issued_by", "")),
    (ZonedHeader(_l("Revoked at (%(zone)s)")), lambda c: _moment(c.revoked_at)),
    (_l("Reason for revocation"), lambda c: c.revoked_reason),
    (_l("Replaces"), lambda c: c.replaces.registry_number if c.replaces else ""),
    (_l("Reason for re-issue"), lambda c: c.reissue_reason),
    (_l("Replaced by"), lambda c: c.replaced_by.registry_number if c.replaced_by else ""),
    (_l("PDF SHA-256"), lambda c: c.pdf_sha256),
)


def registry_certificates(program_id: int | None = None) -> list[Certificate]:
    """Every certificate (of one program, if given) by program, year and sequence."""
    query = (
        select(Certificate)
        .options(selectinload(Certificate.replaces), selectinload(Certificate.replaced_by))
        .order_by(Certificate.program_id, Certificate.year, Certificate.sequence)
    )
    if program_id is not None:
        query = query.where(Certificate.program_id == program_id)
    return list(db.session.scalars(query))


def export_rows(certificates) -> Iterator[list]:
    """The header, then one row per certificate, values neutralised against formulas."""
    yield [str(header) for header, _ in EXPORT_COLUMNS]
    for certificate in certificates:
        yield [cell_value(read(certificate)) for _, read in EXPORT_COLUMNS]


def registry_csv(certificates) -> str:
    """The registry as CSV text with a BOM, so that Excel reads the Chinese names as UTF-8."""
    return spreadsheets.csv_text(export_rows(certificates))


def registry_xlsx(certificates) -> bytes:
    """The registry as an XLSX workbook; every text cell is a string, never a formula."""
    return spreadsheets.xlsx_bytes(str(_l("Registry")), export_rows(certificates))
