"""dashboard period index

An index on applications.submitted_at, for the dashboard's filter by period (submitted between
two dates). The dashboard's other filters (status, intake, funding source, partner university)
already have theirs.

Revision ID: b3d9f0a1c2e4
Revises: 421a318e6d8c
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3d9f0a1c2e4'
down_revision = '421a318e6d8c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_submitted_at', ['submitted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_submitted_at')
