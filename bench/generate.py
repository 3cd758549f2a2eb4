"""Realistic data at scale for the benchmarks: `python -m bench.generate --database-url URL`.

At scale 1: 10,000 teachers with Chinese names across the partner universities, 20,000
applications in every status, 60 intakes of 12 programs, about 200,000 module results and 5,000
certificates, written in a few minutes on SQLite or PostgreSQL. The schema comes from the
migrations (upgraded from empty), never from create_all(). Rows go in with SQLAlchemy Core
executemany, one transaction per chunk, with explicit ids so that no row is read back.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import MetaData, Table, func, insert, select, text

from bench.sample_data import FAMILY_NAMES, GIVEN_CHARACTERS, INSTITUTES, PARTNERS, PROGRAMS
from course_portal import create_app
from course_portal.accounts import consent
from course_portal.accounts.models import (
    AcademicTitle,
    EducationLevel,
    Role,
    Sex,
    TeacherProfile,
    User,
)
from course_portal.accounts.palladius import name_to_cyrillic
from course_portal.accounts.pinyin import suggest
from course_portal.catalog.models import (
    Institute,
    Intake,
    Module,
    PartnerUniversity,
    Program,
    StudyMode,
)
from course_portal.certificates.models import (
    Certificate,
    CertificateStatus,
    RegistryCounter,
    Signatory,
    SignatoryRole,
)
from course_portal.certificates.pdf import CertificateSnapshot
from course_portal.enrollment.models import Application, ApplicationStatus, FundingSource
from course_portal.extensions import db
from course_portal.ops.demo_issuer import SIGNATORIES
from course_portal.progress.models import (
    AssessmentKind,
    FinalAssessment,
    ModuleResult,
    ModuleSchedule,
    Outcome,
    ProgramRules,
)

S = ApplicationStatus
#: every generated account's password; the bench signs in with it
BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 (published on purpose: throwaway bench data)
COORDINATOR_EMAIL = "bench-coordinator@example.com"
#: the authenticator secret of every generated staff account: the bench types its codes
BENCH_TOTP_SECRET = "BENCHBENCHBENCHBENCHBENCHBENCH23"  # noqa: S105
ADMIN_EMAIL = "bench-admin@example.com"
#: rows per executemany and per transaction
CHUNK = 5000

#: at scale 1; everything but the catalog scales
TEACHERS = 10_000
APPLICATIONS = 20_000
INTAKES = 60
MODULE_RESULTS = 200_000
CERTIFICATES = 5_000

#: statuses by the phase of the intake, with weights
PAST_MIX = [(S.COMPLETED, 75), (S.NOT_COMPLETED, 10), (S.REJECTED, 8), (S.WITHDRAWN, 7)]
RUNNING_MIX = [(S.ENROLLED, 85), (S.REJECTED, 10), (S.WITHDRAWN, 5)]
OPEN_MIX = [(S.DRAFT, 20), (S.SUBMITTED, 40), (S.WAITLISTED, 10), (S.APPROVED, 15),
            (S.REJECTED, 10), (S.WITHDRAWN, 5)]
SEAT_HOLDING = {S.APPROVED, S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED}
#: a stand-in for the PDF: rendering 5,000 real certificates takes minutes (65 ms each, FIELD-NOTES),
#: and no page the bench measures reads the PDF; the verification page shows only its hash
PLACEHOLDER_PDF = b"%PDF-1.7\n% course portal bench placeholder, not a rendered certificate\n%%EOF\n"


@dataclass
class Generated:
    """How many rows of each table were written, and how long each took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: ids the benchmarks visit
    teacher_email: str = ""
    teacher_application_id: int = 0
    program_code: str = ""
    open_intake_id: int = 0
    roster_intake_id: int = 0
    verification_code: str = ""

    #: from start to end: schema, names, inserts and ANALYZE
    total_seconds: float = 0.0


def scaled(count: int, scale: float) -> int:
    """count × scale, at least 1."""
    return max(int(round(count * scale)), 1)


def chinese_names(rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    """(family, given, family in pinyin, given in pinyin) for count people."""
    families = [name for name, _ in FAMILY_NAMES]
    weights = [weight for _, weight in FAMILY_NAMES]
    spelt: dict[tuple[str, str], dict[str, str]] = {}
    people = []
    for family in rng.choices(families, weights, k=count):
        length = 1 if rng.random() < 0.3 else 2
        given = "".join(rng.choice(GIVEN_CHARACTERS) for _ in range(length))
        if (family, given) not in spelt:
            spelt[(family, given)] = suggest(family, given)
        latin = spelt[(family, given)]
        people.append((family, given, latin["family"], latin["given"]))
    return people


def insert_rows(table: Table, rows: Iterable[dict], chunk: int = CHUNK) -> int:
    """Insert rows in chunks, each chunk one executemany in its own transaction."""
    written = 0
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            written += _flush(table, batch)
            batch = []
    if batch:
        written += _flush(table, batch)
    return written


def _flush(table: Table, batch: list[dict]) -> int:
    with db.engine.begin() as conn:
        conn.execute(insert(table), batch)
    return len(batch)


def wipe_and_upgrade() -> None:
    """Empty the database and upgrade it to head through the migrations."""
    from flask_migrate import upgrade

    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        meta = MetaData()
        meta.reflect(bind=engine)
        meta.drop_all(bind=engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()


def reset_sequences() -> None:
    """On PostgreSQL, move each id sequence past the explicit ids written."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if "id" not in table.c or not table.c.id.primary_key:
                continue
            # table names come from the models' metadata, never from input
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            ))


def _weighted(rng: random.Random, mix, count: int) -> list[ApplicationStatus]:
    statuses = [s for s, _ in mix]
    weights = [w for _, w in mix]
    return rng.choices(statuses, weights, k=count)


#: the key of the staff's two-step secrets in the generated data; the bench's servers get it
#: too (bench.pages.server_env), so they open them
ENCRYPTION_KEYS = {"bench": "YmVuY2gta2V5LWZvci1zZWNyZXRzLWF0LXJlc3QtMzI"}


def generate(database_url: str, scale: float = 1.0, seed: int = 2026,
             log: Callable[[str], None] = print) -> Generated:
    """Wipe the database at database_url, upgrade it, and fill it with data at this scale."""
    app = create_app({
        "ENV": "development",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-generate-"),
        "OUTBOX_DISPATCH": "off",
        "ENCRYPTION_KEYS": ENCRYPTION_KEYS,
    })
    with app.app_context():
        started = time.perf_counter()
        wipe_and_upgrade()
        result = Generated()
        result.seconds["schema"] = time.perf_counter() - started
        _fill(result, random.Random(seed), scale, log)
        reset_sequences()
        if db.engine.dialect.name == "postgresql":
            # VACUUM too: a server without autovacuum would leave the tally tables, which
            # the triggers rewrite row by row as the data go in, scanning dead versions
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        db.engine.dispose()
        result.total_seconds = time.perf_counter() - started
    return result


def _timed(result: Generated, name: str, log, work: Callable[[], int]) -> None:
    started = time.perf_counter()
    result.counts[name] = work()
    result.seconds[name] = time.perf_counter() - started
    log(f"{name:<20} {result.counts[name]:>8} rows {result.seconds[name]:7.2f} s")


def _fill(result: Generated, rng: random.Random, scale: float, log) -> None:  # noqa: C901
    from werkzeug.security import generate_password_hash

    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    # one hash for every account: hashing 10,000 passwords would take ten minutes
    password_hash = generate_password_hash(BENCH_PASSWORD)
    stamp = {"created_at": now, "updated_at": now}

    # --- catalog ---------------------------------------------------------------------------
    partners = [dict(id=i, name_en=en, name_zh=zh, name_ru="", city=city, province=province, **stamp)
                for i, (en, zh, city, province) in enumerate(PARTNERS, 1)]
    institutes = [dict(id=i, name_en=en, name_zh=zh, name_ru=ru, **stamp)
                  for i, (en, zh, ru) in enumerate(INSTITUTES, 1)]
    programs, modules, rules = [], [], []
    module_ids: dict[int, list[tuple[int, int]]] = {}
    module_id = 0
    for pid, (code, en, zh, ru, n_modules) in enumerate(PROGRAMS, 1):
        programs.append(dict(
            id=pid, code=code, institute_id=(pid - 1) % len(INSTITUTES) + 1, title_en=en,
            title_zh=zh, title_ru=ru, description_en=f"{en}: a program for university teachers.",
            description_zh=f"{zh}：面向高校教师的项目。", description_ru=f"{ru}: программа для преподавателей.",
            mode=rng.choice(list(StudyMode)), duration_months=3 + pid % 3, is_published=True,
            **stamp))
        module_ids[pid] = []
        for position in range(1, n_modules + 1):
            module_id += 1
            hours = rng.choice((4, 6, 6, 8))
            modules.append(dict(id=module_id, program_id=pid, position=position,
                                title_en=f"{en}, module {position}", title_zh=f"{zh} 模块{position}",
                                title_ru=f"{ru}, модуль {position}", hours=hours))
            module_ids[pid].append((module_id, hours))
        rules.append(dict(id=pid, program_id=pid, min_attendance_percent=80,
                          final_kind=AssessmentKind.PASS_FAIL, max_score=100, pass_mark=None,
                          **stamp))

    # who signs: the rector and the secretary, and each institute's director (without them no
    # certificate can be issued, and the issuing benchmark would find nothing to issue)
    def signer(role, institute_id, values):
        return {"authority_ru": "", "authority_en": "", "authority_zh": "", **values,
                "role": role, "institute_id": institute_id,
                "slot": Signatory.slot_for(role, institute_id), "signature_sha256": "", **stamp}

    signers = [signer(role, None, values)
               for role, institute, values in SIGNATORIES if institute is None]
    director = next(values for role, institute, values in SIGNATORIES
                    if role == SignatoryRole.DIRECTOR)
    signers += [signer(SignatoryRole.DIRECTOR, i, director)
                for i in range(1, len(INSTITUTES) + 1)]

    def catalog() -> int:
        n = insert_rows(PartnerUniversity.__table__, partners)
        n += insert_rows(Institute.__table__, institutes)
        n += insert_rows(Program.__table__, programs)
        n += insert_rows(Module.__table__, modules)
        n += insert_rows(Signatory.__table__, signers)
        return n + insert_rows(ProgramRules.__table__, rules)

    _timed(result, "catalog", log, catalog)
    result.program_code = PROGRAMS[0][0]

    # --- intakes: 2/3 finished, then running, open for applications, and not yet open ---------
    n_past, n_running, n_open = INTAKES * 2 // 3, INTAKES * 2 // 15, INTAKES * 2 // 15
    phases = (["past"] * n_past + ["running"] * n_running + ["open"] * n_open
              + ["future"] * (INTAKES - n_past - n_running - n_open))
    intakes = []
    for iid, phase in enumerate(phases, 1):
        pid = (iid - 1) % len(PROGRAMS) + 1
        if phase == "past":
            starts = today - timedelta(days=120 + 30 * (n_past - iid))
        elif phase == "running":
            starts = today - timedelta(days=30)
        elif phase == "open":
            starts = today + timedelta(days=45)
        else:
            starts = today + timedelta(days=200)
        opens = starts - timedelta(days=75)
        intakes.append(dict(
            id=iid, program_id=pid, title=f"{starts:%Y-%m} #{iid}", starts_on=starts,
            ends_on=starts + timedelta(days=90), applications_open_on=opens,
            applications_close_on=starts - timedelta(days=15), capacity=0, seats_taken=0,
            is_open=True, phase=phase, **stamp))

    # --- people ---------------------------------------------------------------------------
    n_teachers = scaled(TEACHERS, scale)
    names = chinese_names(rng, n_teachers)
    users, profiles = [], []
    staff = [(COORDINATOR_EMAIL, Role.COORDINATOR, "Анна Смирнова"),
             (ADMIN_EMAIL, Role.ADMIN, "Иван Петров")]
    for n in range(1, 21):
        staff.append((f"coordinator{n:02d}@example.com", Role.COORDINATOR, f"Coordinator {n}"))
    for uid, (email, role, display) in enumerate(staff, 1):
        users.append(dict(id=uid, email=email, password_hash=password_hash, role=role,
                          is_enabled=True, email_confirmed_at=now, last_login_at=None,
                          session_token=f"bench-session-{uid}", locale="en",
                          display_name=display, totp_secret=BENCH_TOTP_SECRET,
                          totp_enabled_at=now, **stamp))
    first_teacher = len(staff) + 1
    titles = list(AcademicTitle)
    for n, (family, given, family_latin, given_latin) in enumerate(names):
        uid = first_teacher + n
        partner = n % len(PARTNERS) + 1
        users.append(dict(id=uid, email=f"teacher{n:05d}@partner{partner}.edu.cn",
                          password_hash=password_hash, role=Role.TEACHER, is_enabled=True,
                          email_confirmed_at=now, last_login_at=None,
                          session_token=f"bench-session-{uid}", locale="zh",
                          display_name="", totp_secret=None, totp_enabled_at=None, **stamp))
        profiles.append(dict(
            id=n + 1, user_id=uid, family_name_zh=family, given_name_zh=given,
            family_name_latin=family_latin, given_name_latin=given_latin,
            # what a certificate and the federal register need (certificates.requirements)
            name_ru=name_to_cyrillic(family_latin, given_latin, family, given) or "",
            sex=Sex.FEMALE if n % 2 else Sex.MALE, citizenship="CN",
            education_level=EducationLevel.HIGHER,
            born_on=date(1965 + n % 30, 1 + n % 12, 1 + n % 28), partner_university_id=partner,
            department="外国语学院" if n % 3 else "经济管理学院", position="教师",
            academic_title=titles[n % len(titles)], phone=f"+86 138 {n:08d}",
            wechat_id=f"wx{n:06d}", **stamp))

    # both consents in force, as every teacher gives them at registration (accounts.consent):
    # without them no generated draft could be submitted
    consents = [dict(user_id=first_teacher + n, kind=kind, version=version, language="zh",
                     given_at=now, withdrawn_at=None)
                for n in range(len(names)) for kind, version in consent.CURRENT.items()]

    def people() -> int:
        return (insert_rows(User.__table__, users)
                + insert_rows(TeacherProfile.__table__, profiles)
                + insert_rows(consent.Consent.__table__, consents))

    _timed(result, "users+profiles", log, people)

    # --- applications: spread over the intakes that have any, each teacher once per intake -----
    n_apps = scaled(APPLICATIONS, scale)
    with_apps = [i for i in intakes if i["phase"] != "future"]
    per_intake = [n_apps // len(with_apps)] * len(with_apps)
    for k in range(n_apps - sum(per_intake)):
        per_intake[k] += 1
    applications = []
    app_id = 0
    funding = list(FundingSource)
    for slot, (intake, count) in enumerate(zip(with_apps, per_intake, strict=True)):
        count = min(count, n_teachers)
        mix = {"past": PAST_MIX, "running": RUNNING_MIX, "open": OPEN_MIX}[intake["phase"]]
        offset = (slot * 7919) % n_teachers
        held = 0
        for j, status in enumerate(_weighted(rng, mix, count)):
            app_id += 1
            submitted = None if status == S.DRAFT else datetime.combine(
                intake["applications_open_on"], datetime.min.time(), UTC
            ) + timedelta(minutes=rng.randrange(60 * 24 * 50))
            decided = submitted + timedelta(days=3) if status not in (
                S.DRAFT, S.SUBMITTED, S.WITHDRAWN) else None
            held += status in SEAT_HOLDING
            source = funding[app_id % len(funding)] if status != S.DRAFT or j % 2 else None
            applications.append(dict(
                id=app_id, teacher_id=first_teacher + (offset + j) % n_teachers,
                intake_id=intake["id"], status=status,
                motivation="我希望提高自己的教学水平，并把所学应用到课堂中。",
                funding_source=source,
                funding_other="学院项目" if source == FundingSource.OTHER else "",
                consent_at=submitted, submitted_at=submitted, decided_at=decided,
                reason="名额已满" if status == S.REJECTED else "",
                waitlisted_at=decided if status == S.WAITLISTED else None,
                created_at=submitted or now, updated_at=decided or submitted or now))
        intake["seats_taken"] = held
        intake["capacity"] = max(held, 30) + (5 if intake["phase"] == "open" else 0)
    intake_rows = [{k: v for k, v in i.items() if k != "phase"} for i in intakes]
    result.open_intake_id = next(i["id"] for i in intakes if i["phase"] == "open")
    result.roster_intake_id = next(i["id"] for i in intakes if i["phase"] == "running")

    def intakes_and_applications() -> int:
        n = insert_rows(Intake.__table__, intake_rows)
        return n + insert_rows(Application.__table__, applications)

    _timed(result, "intakes+applications", log, intakes_and_applications)
    # the teacher whose pages are measured: one enrolled in a running intake
    enrolled = next(a for a in applications if a["status"] == S.ENROLLED)
    result.teacher_application_id = enrolled["id"]
    result.teacher_email = users[enrolled["teacher_id"] - 1]["email"]

    # --- schedules, module results and final assessments --------------------------------------
    intake_by_id = {i["id"]: i for i in intakes}
    schedules = []
    for intake in intakes:
        if intake["phase"] in ("past", "running"):
            mods = module_ids[intake["program_id"]]
            span = max((intake["ends_on"] - intake["starts_on"]).days // len(mods), 1)
            for k, (mid, _hours) in enumerate(mods):
                starts = intake["starts_on"] + timedelta(days=k * span)
                schedules.append(dict(id=len(schedules) + 1, intake_id=intake["id"], module_id=mid,
                                      starts_on=starts, ends_on=starts + timedelta(days=span - 1)))
    target_results = scaled(MODULE_RESULTS, scale)

    def results_rows():
        written = 0
        rid = 0
        for a in applications:
            intake = intake_by_id[a["intake_id"]]
            if a["status"] not in (S.COMPLETED, S.NOT_COMPLETED, S.ENROLLED):
                continue
            mods = module_ids[intake["program_id"]]
            if intake["phase"] == "running":
                mods = mods[: len(mods) // 2]
            for mid, hours in mods:
                if written >= target_results:
                    return
                rid += 1
                written += 1
                failed = a["status"] == S.NOT_COMPLETED and rng.random() < 0.3
                yield dict(id=rid, application_id=a["id"], module_id=mid,
                           attended_hours=hours if not failed else hours // 2,
                           outcome=Outcome.FAILED if failed else Outcome.PASSED,
                           updated_at=now, updated_by_id=1)

    finals = [dict(id=k, application_id=a["id"],
                   outcome=Outcome.PASSED if a["status"] == S.COMPLETED else Outcome.FAILED,
                   score=None, updated_at=now, updated_by_id=1)
              for k, a in enumerate(
                  (a for a in applications if a["status"] in (S.COMPLETED, S.NOT_COMPLETED)), 1)]

    def progress() -> int:
        n = insert_rows(ModuleSchedule.__table__, schedules)
        n += insert_rows(ModuleResult.__table__, results_rows(), chunk=10_000)
        return n + insert_rows(FinalAssessment.__table__, finals)

    _timed(result, "progress", log, progress)

    # --- certificates: placeholder PDFs (see PLACEHOLDER_PDF) ---------------------------------
    programs_by_id = {p["id"]: p for p in programs}
    institutes_by_id = {i["id"]: i for i in institutes}
    partners_by_id = {p["id"]: p for p in partners}
    profile_by_user = {p["user_id"]: p for p in profiles}
    hours_of = {pid: sum(h for _, h in mods) for pid, mods in module_ids.items()}
    counters: dict[tuple[int, int], int] = {}
    certificates = []
    completed = [a for a in applications if a["status"] == S.COMPLETED]
    sha = hashlib.sha256(PLACEHOLDER_PDF).hexdigest()
    for a in completed[: scaled(CERTIFICATES, scale)]:
        intake = intake_by_id[a["intake_id"]]
        program = programs_by_id[intake["program_id"]]
        institute = institutes_by_id[program["institute_id"]]
        profile = profile_by_user[a["teacher_id"]]
        partner = partners_by_id[profile["partner_university_id"]]
        issued_on = intake["ends_on"] + timedelta(days=5)
        key = (program["id"], issued_on.year)
        counters[key] = counters.get(key, 0) + 1
        number = f"{program['code']}-{issued_on.year}-{counters[key]:04d}"
        snapshot = CertificateSnapshot(
            registry_number=number,
            name_zh=profile["family_name_zh"] + profile["given_name_zh"],
            name_latin=f"{profile['family_name_latin'].upper()} {profile['given_name_latin']}",
            partner_university_en=partner["name_en"], partner_university_zh=partner["name_zh"],
            program_title_ru=program["title_ru"], program_title_en=program["title_en"],
            program_title_zh=program["title_zh"], institute_name_ru=institute["name_ru"],
            institute_name_en=institute["name_en"], institute_name_zh=institute["name_zh"],
            hours=hours_of[program["id"]], starts_on=intake["starts_on"],
            ends_on=intake["ends_on"], result="passed", issued_on=issued_on,
            issued_by="Смирнова А.",
        )
        revoked = len(certificates) % 50 == 49
        certificates.append(dict(
            id=len(certificates) + 1, registry_number=number, program_id=program["id"],
            year=issued_on.year, sequence=counters[key],
            verification_code=f"bench{len(certificates) + 1:06d}{rng.getrandbits(96):024x}",
            application_id=a["id"],
            status=CertificateStatus.REVOKED if revoked else CertificateStatus.ISSUED,
            snapshot=snapshot.to_dict(), pdf=PLACEHOLDER_PDF, pdf_sha256=sha,
            pdf_size=len(PLACEHOLDER_PDF), is_signed=False,
            issued_at=datetime.combine(issued_on, datetime.min.time(), UTC), issued_by_id=1,
            revoked_at=now if revoked else None, revoked_reason="错误" if revoked else "",
            revoked_by_id=1 if revoked else None, superseded_at=None, replaces_id=None,
            reissue_reason=""))
    counter_rows = [dict(program_id=pid, year=year, last_number=last)
                    for (pid, year), last in counters.items()]
    if certificates:
        result.verification_code = certificates[0]["verification_code"]

    def certs() -> int:
        n = insert_rows(Certificate.__table__, certificates, chunk=1000)
        return n + insert_rows(RegistryCounter.__table__, counter_rows)

    _timed(result, "certificates", log, certs)
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Application.__table__)) == len(
            applications)


def main(argv: list[str] | None = None) -> int:
    """The command line: wipe, upgrade and fill the database."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--database-url", required=True,
                        help="sqlite:///path or postgresql://user@host/db (it is wiped first)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 20,000 applications")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    result = generate(args.database_url, args.scale, args.seed)
    print(f"total {result.total_seconds:.1f} s (schema {result.seconds['schema']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
