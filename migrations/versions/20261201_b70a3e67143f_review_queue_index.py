"""review queue index

ix_applications_to_review: the review queue's default view (submitted and waitlisted, oldest
first) as a partial index. Those applications are the newest, so walking the submitted_at index
for them read most of the table before a page was full.

Revision ID: b70a3e67143f
Revises: 7082003f2788
Create Date: 2026-12-01 22:28:55.487291

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b70a3e67143f'
down_revision = '7082003f2788'
branch_labels = None
depends_on = None

TO_REVIEW = "status IN ('submitted', 'waitlisted')"


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_to_review', ['submitted_at', 'id'], unique=False,
                              postgresql_where=sa.text(TO_REVIEW), sqlite_where=sa.text(TO_REVIEW))


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_to_review')
