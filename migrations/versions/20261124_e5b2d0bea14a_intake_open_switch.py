"""intake open switch

intakes.is_open: the coordinator's "accepting applications" switch. Existing intakes get True
through the server default, so nothing that was open closes by this migration.

Revision ID: e5b2d0bea14a
Revises: 2feacd0437a7
Create Date: 2026-11-24 07:53:22.825549

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b2d0bea14a'
down_revision = '2feacd0437a7'
branch_labels = None
depends_on = None


def upgrade():
    # sa.true() renders as TRUE on PostgreSQL and 1 on SQLite; autogenerate wrote text('1'),
    # which PostgreSQL refuses as the default of a boolean column
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_open', sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.drop_column('is_open')
