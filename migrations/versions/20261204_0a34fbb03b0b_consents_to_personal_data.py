"""consents to personal data

One row per user, kind (processing under 152-FZ, transfer abroad under PIPL art. 39) and version
of the text agreed to. Existing teachers have none: they are asked at their next sign-in.

Revision ID: 0a34fbb03b0b
Revises: e3b9d41c7a20
Create Date: 2026-12-04 13:24:44.134246

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0a34fbb03b0b'
down_revision = 'e3b9d41c7a20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('processing', 'transfer_abroad', name='kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('user_id', 'kind', 'version', name=op.f('uq_consents_user_id_kind_version'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_user_id'))

    op.drop_table('consents')
