"""progress: program rules, module schedule, results, final assessment, result history

Revision ID: 4842ecbc8edd
Revises: 7c41a9e2d3b5
Create Date: 2026-11-24 08:20:36

Also lets applications become completed or not_completed when an intake closes: the status
CHECK constraints of applications and application_events are re-created with the two values.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '4842ecbc8edd'
down_revision = '7c41a9e2d3b5'
branch_labels = None
depends_on = None

STATUSES_BEFORE = ["draft", "submitted", "approved", "waitlisted", "rejected", "withdrawn",
                   "enrolled"]
STATUSES_AFTER = STATUSES_BEFORE + ["completed", "not_completed"]
#: table, column of the status CHECK constraints that change
STATUS_CHECKS = [
    ("applications", "status"),
    ("application_events", "from_status"),
    ("application_events", "to_status"),
]


def _outcome(name='outcome'):
    return sa.Enum('pending', 'passed', 'failed', name=name, native_enum=False,
                   create_constraint=True, length=20)


def _replace_status_checks(values):
    allowed = ", ".join(f"'{value}'" for value in values)
    for table, column in STATUS_CHECKS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_{column}"), f"{column} IN ({allowed})"
            )


def upgrade():
    op.create_table('program_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('min_attendance_percent', sa.Integer(), nullable=False),
    sa.Column('final_kind', sa.Enum('pass_fail', 'score', name='final_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('max_score', sa.Integer(), nullable=False),
    sa.Column('pass_mark', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_score > 0', name=op.f('ck_program_rules_max_score_positive')),
    sa.CheckConstraint('min_attendance_percent >= 0 AND min_attendance_percent <= 100', name=op.f('ck_program_rules_attendance_percent_range')),
    sa.CheckConstraint('pass_mark IS NULL OR (pass_mark >= 0 AND pass_mark <= max_score)', name=op.f('ck_program_rules_pass_mark_range')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_program_rules_program_id_programs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_program_rules')),
    sa.UniqueConstraint('program_id', name=op.f('uq_program_rules_program_id'))
    )
    op.create_table('module_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intake_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_module_schedules_ends_after_start')),
    sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], name=op.f('fk_module_schedules_intake_id_intakes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_schedules_module_id_modules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_schedules')),
    sa.UniqueConstraint('intake_id', 'module_id', name=op.f('uq_module_schedules_intake_id_module_id'))
    )
    with op.batch_alter_table('module_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_module_schedules_module_id'), ['module_id'], unique=False)

    op.create_table('final_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('outcome', _outcome(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('score IS NULL OR score >= 0', name=op.f('ck_final_assessments_score_not_negative')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_final_assessments_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_final_assessments_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_final_assessments')),
    sa.UniqueConstraint('application_id', name=op.f('uq_final_assessments_application_id'))
    )
    op.create_table('module_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('attended_hours', sa.Integer(), nullable=False),
    sa.Column('outcome', _outcome(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('attended_hours >= 0', name=op.f('ck_module_results_attended_not_negative')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_module_results_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_results_module_id_modules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_module_results_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_results')),
    sa.UniqueConstraint('application_id', 'module_id', name=op.f('uq_module_results_application_id_module_id'))
    )
    with op.batch_alter_table('module_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_module_results_module_id'), ['module_id'], unique=False)

    op.create_table('result_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('old_value', sa.String(length=20), nullable=False),
    sa.Column('new_value', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_result_changes_actor_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_result_changes_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_result_changes_module_id_modules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_changes'))
    )
    with op.batch_alter_table('result_changes', schema=None) as batch_op:
        batch_op.create_index('ix_result_changes_application_id_created_at', ['application_id', 'created_at'], unique=False)

    _replace_status_checks(STATUSES_AFTER)


def downgrade():
    # rows in the new statuses would break the narrower CHECK: they go back to enrolled
    for table, column in STATUS_CHECKS:
        op.execute(
            sa.text(f"UPDATE {table} SET {column} = 'enrolled' "
                    f"WHERE {column} IN ('completed', 'not_completed')")
        )
    _replace_status_checks(STATUSES_BEFORE)

    with op.batch_alter_table('result_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_result_changes_application_id_created_at')
    op.drop_table('result_changes')
    with op.batch_alter_table('module_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_results_module_id'))
    op.drop_table('module_results')
    op.drop_table('final_assessments')
    with op.batch_alter_table('module_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_schedules_module_id'))
    op.drop_table('module_schedules')
    op.drop_table('program_rules')
