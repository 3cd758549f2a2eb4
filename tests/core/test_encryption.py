"""Secrets at rest: two-step secrets and credential keys are stored encrypted, and keys rotate."""

from __future__ import annotations

import base64
import os

import pyotp
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from course_portal.accounts.models import User
from course_portal.core import encryption
from course_portal.extensions import db
from course_portal.ops import doctor
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.test_migrations import empty_database_url, migration_app  # noqa: F401 (fixtures)

SECOND_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


def stored(user_id: int) -> str:
    """users.totp_secret as the database holds it, past the model's decryption."""
    return db.session.execute(text("SELECT totp_secret FROM users WHERE id = :id"),
                              {"id": user_id}).scalar_one()


def test_the_database_holds_no_two_step_secret_in_plain_text(app):
    user = factories.make_user(role="coordinator")
    db.session.commit()

    raw = stored(user.id)
    assert raw.startswith("enc1:test-1:")
    assert factories.TOTP_SECRET not in raw
    db.session.expire_all()
    # the portal reads it back, and the codes it makes are the authenticator's
    secret = db.session.get(User, user.id).totp_secret
    assert secret == factories.TOTP_SECRET
    assert pyotp.TOTP(secret).now() == pyotp.TOTP(factories.TOTP_SECRET).now()


def test_a_value_changed_or_moved_elsewhere_does_not_open(app):
    sealed = encryption.encrypt("JBSWY3DPEHPK3PXP", "users.totp_secret")
    with pytest.raises(encryption.EncryptionError, match="copied from elsewhere"):
        encryption.decrypt(sealed, "credential-key")
    changed = sealed[:-2] + ("AA" if not sealed.endswith("AA") else "BB")
    with pytest.raises(encryption.EncryptionError):
        encryption.decrypt(changed, "users.totp_secret")
    foreign = "enc1:gone:" + sealed.split(":", 2)[2]
    with pytest.raises(encryption.EncryptionError, match="add it back"):
        encryption.decrypt(foreign, "users.totp_secret")


def test_rotation_keeps_old_rows_open_and_reencrypts_them_in_batches(make_app):
    first = make_app()
    with first.app_context():
        users = [factories.make_user(role="coordinator") for _ in range(3)]
        db.session.commit()
        ids = [u.id for u in users]
        # a secret stored before encryption existed, as the last release left it
        db.session.execute(text("UPDATE users SET totp_secret = :s WHERE id = :id"),
                           {"s": factories.TOTP_SECRET, "id": ids[2]})
        db.session.commit()
        assert doctor.check_encryption().status == doctor.WARN

    both = {"test-1": TEST_ENCRYPTION_KEY, "test-2": SECOND_KEY}
    second = make_app(ENCRYPTION_KEYS=both, ENCRYPTION_KEY_ID="test-2")
    with second.app_context():
        # before rotating, every row still opens: the old key is still configured
        assert [db.session.get(User, i).totp_secret for i in ids] == [factories.TOTP_SECRET] * 3
        assert encryption.stored_key_ids() == {"test-1": 2, "plain": 1}
        check = doctor.check_encryption()
        assert check.status == doctor.WARN and "flask keys rotate" in check.hint

        result = second.test_cli_runner().invoke(args=["keys", "rotate", "--batch-size", "2"])
        assert result.exit_code == 0, result.output
        assert "re-encrypted 3 two-step secret(s)" in result.output
        assert all(stored(i).startswith("enc1:test-2:") for i in ids)
        assert doctor.check_encryption().status == doctor.OK
        status = second.test_cli_runner().invoke(args=["keys", "status"])
        assert "encrypts with: test-2" in status.output and "test-2: 3" in status.output
        # running it again changes nothing
        again = second.test_cli_runner().invoke(args=["keys", "rotate"])
        assert "re-encrypted 0 two-step secret(s)" in again.output
        db.session.remove()

    # the old key can go once nothing is left under it
    third = make_app(ENCRYPTION_KEYS={"test-2": SECOND_KEY})
    with third.app_context():
        assert [db.session.get(User, i).totp_secret for i in ids] == [factories.TOTP_SECRET] * 3
        db.session.remove()

    # taking a key away too early is what doctor refuses
    fourth = make_app(ENCRYPTION_KEYS={"test-1": TEST_ENCRYPTION_KEY})
    with fourth.app_context():
        check = doctor.check_encryption()
        assert check.status == doctor.FAIL and "test-2" in check.detail
        db.session.remove()


def test_credential_signing_keys_are_encrypted_too_and_rotate(make_app):
    from course_portal.certificates import credentials

    first = make_app()
    with first.app_context():
        key = credentials.new_key()
        path = credentials.key_folder() / f"{key.kid}.pem"
        content = path.read_bytes()
        assert content.startswith(b"enc1:test-1:") and b"PRIVATE KEY" not in content
        jwk_before = key.public_jwk()

    second = make_app(ENCRYPTION_KEYS={"test-1": TEST_ENCRYPTION_KEY, "test-2": SECOND_KEY},
                      ENCRYPTION_KEY_ID="test-2", INSTANCE_PATH=first.instance_path)
    with second.app_context():
        result = second.test_cli_runner().invoke(args=["keys", "rotate"])
        assert "and 1 credential key file(s) with test-2" in result.output, result.output
        assert path.read_bytes().startswith(b"enc1:test-2:")
        # the same key, still signing
        assert credentials.signing_key().public_jwk() == jwk_before


def test_development_without_keys_derives_one_from_the_secret_key(make_app):
    app = make_app(ENV="development", ENCRYPTION_KEYS={})
    with app.app_context():
        assert encryption.current_key_id(app.config) == "dev"
        user = factories.make_user(role="coordinator")
        db.session.commit()
        assert stored(user.id).startswith("enc1:dev:")
        assert "derived from SECRET_KEY" in doctor.check_encryption().detail


def test_the_upgrade_encrypts_the_secrets_already_stored(migration_app):  # noqa: F811
    upgrade(revision="a7c3e1f09b42")
    db.session.execute(text(
        "INSERT INTO users (email, password_hash, role, is_enabled, session_token, locale, "
        "timezone, wants_reminders, display_name, totp_secret, created_at, updated_at) "
        "VALUES ('staff@spbstu.example', 'x', 'coordinator', :yes, 'token', 'ru', '', :yes, "
        "'', :secret, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
        {"secret": factories.TOTP_SECRET, "yes": True})
    db.session.commit()

    upgrade()
    raw = db.session.execute(text("SELECT totp_secret FROM users")).scalar_one()
    assert raw.startswith("enc1:test-1:")
    assert encryption.decrypt(raw, "users.totp_secret") == factories.TOTP_SECRET
    # The read above opened a transaction; PostgreSQL's ALTER TABLE would wait on it.
    db.session.rollback()

    downgrade(revision="a7c3e1f09b42")
    assert db.session.execute(text("SELECT totp_secret FROM users")).scalar_one() == (
        factories.TOTP_SECRET)
