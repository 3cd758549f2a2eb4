"""applications and documents

Applications to intakes with their history (application_events), their uploaded documents,
and seat quotas per partner university (intake_quotas).

Revision ID: 2feacd0437a7
Revises: 0738e410e35b
Create Date: 2026-11-24 07:36:46.934101

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2feacd0437a7'
down_revision = '0738e410e35b'
branch_labels = None
depends_on = None

STATUSES = ('draft', 'submitted', 'approved', 'waitlisted', 'rejected', 'withdrawn', 'enrolled')


def _status():
    return sa.Enum(*STATUSES, name='applicationstatus', native_enum=False, length=20)


def upgrade():
    op.create_table(
        'applications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('status', _status(), nullable=False),
        sa.Column('motivation', sa.Text(), nullable=False),
        sa.Column('funding_source', sa.Enum('self_funded', 'home_university', 'moe_china', 'other', name='fundingsource', native_enum=False, length=20), nullable=True),
        sa.Column('funding_other', sa.String(length=200), nullable=False),
        sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('waitlisted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], name=op.f('fk_applications_intake_id_intakes')),
        sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_applications_teacher_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
        sa.UniqueConstraint('teacher_id', 'intake_id', name=op.f('uq_applications_teacher_id_intake_id')),
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_funding_source', ['funding_source'], unique=False)
        batch_op.create_index('ix_applications_intake_id_status', ['intake_id', 'status'], unique=False)
        batch_op.create_index('ix_applications_status', ['status'], unique=False)

    op.create_table(
        'intake_quotas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('partner_university_id', sa.Integer(), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('seats_taken', sa.Integer(), nullable=False),
        sa.CheckConstraint('seats >= 0', name=op.f('ck_intake_quotas_seats_not_negative')),
        sa.CheckConstraint('seats_taken >= 0 AND seats_taken <= seats', name=op.f('ck_intake_quotas_seats_taken_within_seats')),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], name=op.f('fk_intake_quotas_intake_id_intakes'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partner_university_id'], ['partner_universities.id'], name=op.f('fk_intake_quotas_partner_university_id_partner_universities')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_quotas')),
        sa.UniqueConstraint('intake_id', 'partner_university_id', name=op.f('uq_intake_quotas_intake_id_partner_university_id')),
    )
    with op.batch_alter_table('intake_quotas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_quotas_partner_university_id'), ['partner_university_id'], unique=False)

    op.create_table(
        'application_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('from_status', _status(), nullable=True),
        sa.Column('to_status', _status(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_application_events_actor_id_users')),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_events_application_id_applications'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_application_events')),
    )
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_events_application_id'), ['application_id'], unique=False)

    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('diploma', 'passport', 'cv', name='documentkind', native_enum=False, length=20), nullable=False),
        sa.Column('original_filename', sa.String(length=255), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=50), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_documents_application_id_applications'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_documents_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
        sa.UniqueConstraint('application_id', 'kind', name=op.f('uq_documents_application_id_kind')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_documents_stored_name')),
    )


def downgrade():
    op.drop_table('documents')
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_events_application_id'))
    op.drop_table('application_events')
    with op.batch_alter_table('intake_quotas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_quotas_partner_university_id'))
    op.drop_table('intake_quotas')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_status')
        batch_op.drop_index('ix_applications_intake_id_status')
        batch_op.drop_index('ix_applications_funding_source')
    op.drop_table('applications')
