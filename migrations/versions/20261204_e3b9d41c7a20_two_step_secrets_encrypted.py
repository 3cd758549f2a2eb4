"""two-step secrets encrypted

users.totp_secret holds an AES-GCM ciphertext (core.encryption) instead of the base32 secret:
widened to 255 characters, and every secret already stored is encrypted with the current key.
Downgrading opens them again into plain text.

Revision ID: e3b9d41c7a20
Revises: a7c3e1f09b42
Create Date: 2026-12-04 07:00:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'e3b9d41c7a20'
down_revision = 'a7c3e1f09b42'
branch_labels = None
depends_on = None

PURPOSE = "users.totp_secret"


def _rewrite(change):
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("totp_secret", sa.String))
    rows = connection.execute(
        sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.isnot(None))).all()
    for user_id, value in rows:
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(totp_secret=change(value)))


def upgrade():
    from course_portal.core.encryption import encrypt, key_id_of

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64),
                              type_=sa.String(length=255), existing_nullable=True)
    config = current_app.config
    _rewrite(lambda value: value if key_id_of(value) else encrypt(value, PURPOSE, config=config))


def downgrade():
    from course_portal.core.encryption import decrypt

    config = current_app.config
    _rewrite(lambda value: decrypt(value, PURPOSE, config=config))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255),
                              type_=sa.String(length=64), existing_nullable=True)
