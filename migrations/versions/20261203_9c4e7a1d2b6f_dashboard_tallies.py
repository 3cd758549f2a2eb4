"""dashboard tallies

application_tallies, teacher_tallies and partner_tallies (course_portal.dashboard.tallies):
the dashboard's counts, kept by triggers on applications, certificates and teacher_profiles in
the transaction that changes a row, and filled here from the rows already there.

Revision ID: 9c4e7a1d2b6f
Revises: ef98ced0d466
Create Date: 2026-12-03 14:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c4e7a1d2b6f'
down_revision = 'ef98ced0d466'
branch_labels = None
depends_on = None

# --- PostgreSQL: three functions that add to the tallies, three trigger functions -------------

PG_FUNCTIONS = [
    """
CREATE FUNCTION tally_add(p_intake integer, p_partner integer, p_funding text, p_status text,
                          p_applications integer, p_certified integer) RETURNS void AS $$
BEGIN
    INSERT INTO application_tallies
        (intake_id, partner_key, funding_key, status, applications, certified)
    VALUES (p_intake, p_partner, p_funding, p_status, p_applications, p_certified)
    ON CONFLICT (intake_id, partner_key, funding_key, status) DO UPDATE
    SET applications = application_tallies.applications + EXCLUDED.applications,
        certified = application_tallies.certified + EXCLUDED.certified;
END $$ LANGUAGE plpgsql
""",
    """
CREATE FUNCTION tally_partner_of(p_teacher integer) RETURNS integer AS $$
    SELECT COALESCE(MAX(partner_university_id), 0) FROM teacher_profiles
    WHERE user_id = p_teacher
$$ LANGUAGE sql STABLE
""",
    """
CREATE FUNCTION tally_teacher_add(p_teacher integer, p_step integer) RETURNS void AS $$
DECLARE
    after integer;
BEGIN
    INSERT INTO teacher_tallies (teacher_id, applications) VALUES (p_teacher, p_step)
    ON CONFLICT (teacher_id) DO UPDATE
    SET applications = teacher_tallies.applications + EXCLUDED.applications
    RETURNING applications INTO after;
    -- the teacher starts or stops counting for their university
    IF (p_step > 0 AND after = 1) OR (p_step < 0 AND after = 0) THEN
        INSERT INTO partner_tallies (partner_key, teachers)
        VALUES (tally_partner_of(p_teacher), p_step)
        ON CONFLICT (partner_key) DO UPDATE
        SET teachers = partner_tallies.teachers + EXCLUDED.teachers;
    END IF;
END $$ LANGUAGE plpgsql
""",
    """
CREATE FUNCTION applications_tally() RETURNS trigger AS $$
DECLARE
    certified integer;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT count(*) INTO certified FROM certificates
        WHERE application_id = OLD.id AND status = 'issued';
        PERFORM tally_add(OLD.intake_id, tally_partner_of(OLD.teacher_id),
                          COALESCE(OLD.funding_source, ''), OLD.status, -1, -certified);
        IF OLD.status <> 'draft' THEN
            PERFORM tally_teacher_add(OLD.teacher_id, -1);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT count(*) INTO certified FROM certificates
        WHERE application_id = NEW.id AND status = 'issued';
        PERFORM tally_add(NEW.intake_id, tally_partner_of(NEW.teacher_id),
                          COALESCE(NEW.funding_source, ''), NEW.status, 1, certified);
        IF NEW.status <> 'draft' THEN
            PERFORM tally_teacher_add(NEW.teacher_id, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql
""",
    """
CREATE FUNCTION certificates_tally() RETURNS trigger AS $$
DECLARE
    step integer := 0;
    app record;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'issued' THEN
        step := step - 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'issued' THEN
        step := step + 1;
    END IF;
    IF step <> 0 THEN
        SELECT intake_id, teacher_id, funding_source, status INTO app FROM applications
        WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.application_id
                        ELSE NEW.application_id END;
        IF FOUND THEN
            PERFORM tally_add(app.intake_id, tally_partner_of(app.teacher_id),
                              COALESCE(app.funding_source, ''), app.status, 0, step);
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql
""",
    """
CREATE FUNCTION teacher_profiles_tally() RETURNS trigger AS $$
DECLARE
    before_key integer := 0;
    after_key integer := 0;
    teacher integer;
    held integer;
    r record;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        before_key := COALESCE(OLD.partner_university_id, 0);
        teacher := OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        after_key := COALESCE(NEW.partner_university_id, 0);
        teacher := NEW.user_id;
    END IF;
    IF before_key = after_key THEN
        RETURN NULL;
    END IF;
    FOR r IN
        SELECT a.intake_id, COALESCE(a.funding_source, '') AS funding, a.status,
               count(*) AS applications,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM certificates c
                   WHERE c.application_id = a.id AND c.status = 'issued')) AS certified
        FROM applications a WHERE a.teacher_id = teacher
        GROUP BY a.intake_id, COALESCE(a.funding_source, ''), a.status
    LOOP
        PERFORM tally_add(r.intake_id, before_key, r.funding, r.status,
                          -r.applications::integer, -r.certified::integer);
        PERFORM tally_add(r.intake_id, after_key, r.funding, r.status,
                          r.applications::integer, r.certified::integer);
    END LOOP;
    SELECT applications INTO held FROM teacher_tallies WHERE teacher_id = teacher;
    IF COALESCE(held, 0) > 0 THEN
        INSERT INTO partner_tallies (partner_key, teachers) VALUES (before_key, -1), (after_key, 1)
        ON CONFLICT (partner_key) DO UPDATE
        SET teachers = partner_tallies.teachers + EXCLUDED.teachers;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql
""",
]

PG_TRIGGERS = [
    """CREATE TRIGGER applications_tally_insert_delete AFTER INSERT OR DELETE ON applications
       FOR EACH ROW EXECUTE FUNCTION applications_tally()""",
    """CREATE TRIGGER applications_tally_update
       AFTER UPDATE OF status, funding_source, intake_id, teacher_id ON applications
       FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                          OR OLD.funding_source IS DISTINCT FROM NEW.funding_source
                          OR OLD.intake_id IS DISTINCT FROM NEW.intake_id
                          OR OLD.teacher_id IS DISTINCT FROM NEW.teacher_id)
       EXECUTE FUNCTION applications_tally()""",
    """CREATE TRIGGER certificates_tally AFTER INSERT OR DELETE OR UPDATE OF status
       ON certificates FOR EACH ROW EXECUTE FUNCTION certificates_tally()""",
    """CREATE TRIGGER teacher_profiles_tally AFTER INSERT OR DELETE
       OR UPDATE OF partner_university_id ON teacher_profiles
       FOR EACH ROW EXECUTE FUNCTION teacher_profiles_tally()""",
]

PG_DROP = [
    "DROP TRIGGER IF EXISTS teacher_profiles_tally ON teacher_profiles",
    "DROP TRIGGER IF EXISTS certificates_tally ON certificates",
    "DROP TRIGGER IF EXISTS applications_tally_update ON applications",
    "DROP TRIGGER IF EXISTS applications_tally_insert_delete ON applications",
    "DROP FUNCTION IF EXISTS teacher_profiles_tally()",
    "DROP FUNCTION IF EXISTS certificates_tally()",
    "DROP FUNCTION IF EXISTS applications_tally()",
    "DROP FUNCTION IF EXISTS tally_teacher_add(integer, integer)",
    "DROP FUNCTION IF EXISTS tally_partner_of(integer)",
    "DROP FUNCTION IF EXISTS tally_add(integer, integer, text, text, integer, integer)",
]

# --- SQLite: the same, as statements in each trigger (SQLite triggers call no functions) -----


def _sqlite_partner(teacher: str) -> str:
    return (f"(SELECT COALESCE(MAX(partner_university_id), 0) FROM teacher_profiles "
            f"WHERE user_id = {teacher})")


def _sqlite_certified(application: str) -> str:
    return (f"(SELECT count(*) FROM certificates WHERE application_id = {application} "
            f"AND status = 'issued')")


def _sqlite_tally(row: str, sign: str) -> str:
    """Add (sign "+") or take away ("-") one application row's part of application_tallies."""
    return f"""
    INSERT INTO application_tallies
        (intake_id, partner_key, funding_key, status, applications, certified)
    VALUES ({row}.intake_id, {_sqlite_partner(f"{row}.teacher_id")},
            COALESCE({row}.funding_source, ''), {row}.status, {sign}1,
            {sign}{_sqlite_certified(f"{row}.id")})
    ON CONFLICT (intake_id, partner_key, funding_key, status) DO UPDATE
    SET applications = applications + excluded.applications,
        certified = certified + excluded.certified;"""


def _sqlite_teacher(row: str, step: int) -> str:
    """The teacher's count of applications that are not drafts, and their university's."""
    crossed = 1 if step > 0 else 0
    return f"""
    INSERT INTO teacher_tallies (teacher_id, applications)
    SELECT {row}.teacher_id, {step} WHERE {row}.status <> 'draft'
    ON CONFLICT (teacher_id) DO UPDATE SET applications = applications + excluded.applications;
    INSERT INTO partner_tallies (partner_key, teachers)
    SELECT {_sqlite_partner(f"{row}.teacher_id")}, {step}
    WHERE {row}.status <> 'draft' AND (SELECT applications FROM teacher_tallies
                                      WHERE teacher_id = {row}.teacher_id) = {crossed}
    ON CONFLICT (partner_key) DO UPDATE SET teachers = teachers + excluded.teachers;"""


def _sqlite_move(teacher: str, before_key: str, after_key: str) -> str:
    """Move a teacher's applications (and the teacher) from one university key to another."""
    moved = f"""
        SELECT a.intake_id, {{key}}, COALESCE(a.funding_source, ''), a.status,
               {{sign}}count(*), {{sign}}sum(EXISTS (SELECT 1 FROM certificates c
                   WHERE c.application_id = a.id AND c.status = 'issued'))
        FROM applications a WHERE a.teacher_id = {teacher}
        GROUP BY a.intake_id, COALESCE(a.funding_source, ''), a.status"""
    upsert = """
    INSERT INTO application_tallies
        (intake_id, partner_key, funding_key, status, applications, certified){select}
    ON CONFLICT (intake_id, partner_key, funding_key, status) DO UPDATE
    SET applications = applications + excluded.applications,
        certified = certified + excluded.certified;"""
    held = f"(SELECT COALESCE(MAX(applications), 0) FROM teacher_tallies WHERE teacher_id = {teacher})"
    return (upsert.format(select=moved.format(key=before_key, sign="-"))
            + upsert.format(select=moved.format(key=after_key, sign=""))
            + f"""
    INSERT INTO partner_tallies (partner_key, teachers) SELECT {before_key}, -1 WHERE {held} > 0
    ON CONFLICT (partner_key) DO UPDATE SET teachers = teachers + excluded.teachers;
    INSERT INTO partner_tallies (partner_key, teachers) SELECT {after_key}, 1 WHERE {held} > 0
    ON CONFLICT (partner_key) DO UPDATE SET teachers = teachers + excluded.teachers;""")


def _sqlite_certificate(row: str, step: int) -> str:
    return f"""
    INSERT INTO application_tallies
        (intake_id, partner_key, funding_key, status, applications, certified)
    SELECT a.intake_id, {_sqlite_partner("a.teacher_id")}, COALESCE(a.funding_source, ''),
           a.status, 0, {step}
    FROM applications a WHERE a.id = {row}.application_id AND {row}.status = 'issued'
    ON CONFLICT (intake_id, partner_key, funding_key, status) DO UPDATE
    SET certified = certified + excluded.certified;"""


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER applications_tally_insert AFTER INSERT ON applications BEGIN
    {_sqlite_tally("NEW", "+")}{_sqlite_teacher("NEW", 1)}
    END""",
    f"""CREATE TRIGGER applications_tally_delete AFTER DELETE ON applications BEGIN
    {_sqlite_tally("OLD", "-")}{_sqlite_teacher("OLD", -1)}
    END""",
    f"""CREATE TRIGGER applications_tally_update
    AFTER UPDATE OF status, funding_source, intake_id, teacher_id ON applications
    WHEN OLD.status IS NOT NEW.status OR OLD.funding_source IS NOT NEW.funding_source
         OR OLD.intake_id IS NOT NEW.intake_id OR OLD.teacher_id IS NOT NEW.teacher_id BEGIN
    {_sqlite_tally("OLD", "-")}{_sqlite_teacher("OLD", -1)}
    {_sqlite_tally("NEW", "+")}{_sqlite_teacher("NEW", 1)}
    END""",
    f"""CREATE TRIGGER certificates_tally_insert AFTER INSERT ON certificates BEGIN
    {_sqlite_certificate("NEW", 1)}
    END""",
    f"""CREATE TRIGGER certificates_tally_delete AFTER DELETE ON certificates BEGIN
    {_sqlite_certificate("OLD", -1)}
    END""",
    f"""CREATE TRIGGER certificates_tally_update AFTER UPDATE OF status ON certificates
    WHEN OLD.status IS NOT NEW.status BEGIN
    {_sqlite_certificate("OLD", -1)}{_sqlite_certificate("NEW", 1)}
    END""",
    f"""CREATE TRIGGER teacher_profiles_tally_insert AFTER INSERT ON teacher_profiles
    WHEN COALESCE(NEW.partner_university_id, 0) <> 0 BEGIN
    {_sqlite_move("NEW.user_id", "0", "NEW.partner_university_id")}
    END""",
    f"""CREATE TRIGGER teacher_profiles_tally_delete AFTER DELETE ON teacher_profiles
    WHEN COALESCE(OLD.partner_university_id, 0) <> 0 BEGIN
    {_sqlite_move("OLD.user_id", "OLD.partner_university_id", "0")}
    END""",
    f"""CREATE TRIGGER teacher_profiles_tally_update
    AFTER UPDATE OF partner_university_id ON teacher_profiles
    WHEN COALESCE(OLD.partner_university_id, 0) <> COALESCE(NEW.partner_university_id, 0) BEGIN
    {_sqlite_move("NEW.user_id", "COALESCE(OLD.partner_university_id, 0)",
                  "COALESCE(NEW.partner_university_id, 0)")}
    END""",
]

SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in (
    "applications_tally_insert", "applications_tally_delete", "applications_tally_update",
    "certificates_tally_insert", "certificates_tally_delete", "certificates_tally_update",
    "teacher_profiles_tally_insert", "teacher_profiles_tally_delete",
    "teacher_profiles_tally_update")]

# --- filling the tallies from the rows already there ------------------------------------------

FILL = [
    """INSERT INTO application_tallies
       (intake_id, partner_key, funding_key, status, applications, certified)
       SELECT a.intake_id, COALESCE(p.partner_university_id, 0), COALESCE(a.funding_source, ''),
              a.status, count(*),
              sum(CASE WHEN EXISTS (SELECT 1 FROM certificates c WHERE c.application_id = a.id
                                    AND c.status = 'issued') THEN 1 ELSE 0 END)
       FROM applications a LEFT JOIN teacher_profiles p ON p.user_id = a.teacher_id
       GROUP BY a.intake_id, COALESCE(p.partner_university_id, 0),
                COALESCE(a.funding_source, ''), a.status""",
    """INSERT INTO teacher_tallies (teacher_id, applications)
       SELECT teacher_id, count(*) FROM applications WHERE status <> 'draft'
       GROUP BY teacher_id""",
    """INSERT INTO partner_tallies (partner_key, teachers)
       SELECT COALESCE(p.partner_university_id, 0), count(*)
       FROM teacher_tallies t LEFT JOIN teacher_profiles p ON p.user_id = t.teacher_id
       GROUP BY COALESCE(p.partner_university_id, 0)""",
]


def upgrade():
    op.create_table(
        'application_tallies',
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('partner_key', sa.Integer(), nullable=False),
        sa.Column('funding_key', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('applications', sa.Integer(), nullable=False),
        sa.Column('certified', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('intake_id', 'partner_key', 'funding_key', 'status',
                                name=op.f('pk_application_tallies')),
    )
    op.create_table(
        'teacher_tallies',
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.Column('applications', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('teacher_id', name=op.f('pk_teacher_tallies')),
    )
    op.create_table(
        'partner_tallies',
        sa.Column('partner_key', sa.Integer(), nullable=False),
        sa.Column('teachers', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('partner_key', name=op.f('pk_partner_tallies')),
    )
    for statement in FILL:
        op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    for statement in (PG_DROP if op.get_bind().dialect.name == "postgresql" else SQLITE_DROP):
        op.execute(statement)
    op.drop_table('partner_tallies')
    op.drop_table('teacher_tallies')
    op.drop_table('application_tallies')
