"""enum columns accept only their values

Revision ID: 7c41a9e2d3b5
Revises: e5b2d0bea14a
Create Date: 2026-11-24 08:20:00

Role, academic title, study mode, application status, funding source and document kind are
stored as strings; a CHECK keeps anything else out, whatever writes to the database.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c41a9e2d3b5'
down_revision = 'e5b2d0bea14a'
branch_labels = None
depends_on = None

#: table, column, allowed values (as the models' enums define them today)
CHECKS = [
    ("users", "role", ["teacher", "coordinator", "admin"]),
    ("teacher_profiles", "academic_title",
     ["none", "assistant", "lecturer", "associate_professor", "professor"]),
    ("programs", "mode", ["online", "blended", "on_site"]),
    ("applications", "status",
     ["draft", "submitted", "approved", "waitlisted", "rejected", "withdrawn", "enrolled"]),
    ("applications", "funding_source", ["self_funded", "home_university", "moe_china", "other"]),
    ("application_events", "from_status",
     ["draft", "submitted", "approved", "waitlisted", "rejected", "withdrawn", "enrolled"]),
    ("application_events", "to_status",
     ["draft", "submitted", "approved", "waitlisted", "rejected", "withdrawn", "enrolled"]),
    ("documents", "kind", ["diploma", "passport", "cv"]),
]


def upgrade():
    for table, column, values in CHECKS:
        allowed = ", ".join(f"'{value}'" for value in values)
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_{column}"), f"{column} IN ({allowed})"
            )


def downgrade():
    for table, column, _values in reversed(CHECKS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
