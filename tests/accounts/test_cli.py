"""flask users create and flask users disable, as an operator runs them."""

from __future__ import annotations

from sqlalchemy import select

from course_portal.accounts.models import Role, User
from tests import factories
from tests.accounts.helpers import sign_in


def find(db, email: str) -> User | None:
    """The user with this address, read fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_create_a_coordinator_with_a_password_option(app, db):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--role", "coordinator", "--password", "a long enough password",
        "--name", "Irina Petrova", "Irina.Petrova@Example.com",
    ])

    assert result.exit_code == 0, result.output
    assert "Created coordinator irina.petrova@example.com" in result.output
    user = find(db, "irina.petrova@example.com")
    assert user.role == Role.COORDINATOR
    assert user.is_enabled and user.email_confirmed_at is not None
    assert user.display_name == "Irina Petrova"
    assert sign_in(app.test_client(), "irina.petrova@example.com", "a long enough password"
                   ).status_code == 302


def test_create_prompts_for_the_password_twice(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "admin", "admin@example.com"],
        input="a long enough password\na long enough password\n",
    )

    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert "a long enough password" not in result.output
    assert find(db, "admin@example.com").role == Role.ADMIN


def test_create_refuses_an_existing_email(app, db):
    factories.make_user(role="coordinator", email="coordinator@example.com")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--password", "a long enough password", "COORDINATOR@example.com",
    ])

    assert result.exit_code != 0
    assert "An account with this email address already exists." in result.output


def test_create_refuses_a_short_password_and_a_bad_address(app, db):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["users", "create", "--password", "short", "a@example.com"])
    bad = runner.invoke(args=["users", "create", "--password", "long enough pass", "not-an-email"])
    role = runner.invoke(args=["users", "create", "--role", "root", "--password", "x", "a@example.com"])

    assert short.exit_code != 0 and "at least 12 characters" in short.output
    assert bad.exit_code != 0 and "not a valid email address" in bad.output
    assert role.exit_code != 0 and "teacher" in role.output
    assert find(db, "a@example.com") is None


def test_disable_ends_sessions_and_sign_in(app, db):
    factories.make_user(email="wang.fang@example.edu.cn")
    db.session.commit()
    browser = app.test_client()
    sign_in(browser, "wang.fang@example.edu.cn", factories.PASSWORD)
    assert browser.get("/profile").status_code == 200

    result = app.test_cli_runner().invoke(args=["users", "disable", "Wang.Fang@example.edu.cn"])

    assert result.exit_code == 0, result.output
    assert "Disabled wang.fang@example.edu.cn" in result.output
    assert browser.get("/profile").status_code == 302
    assert sign_in(app.test_client(), "wang.fang@example.edu.cn", factories.PASSWORD
                   ).status_code == 200
    assert find(db, "wang.fang@example.edu.cn").is_enabled is False


def test_disable_an_unknown_email_says_so(app, db):
    result = app.test_cli_runner().invoke(args=["users", "disable", "nobody@example.com"])
    assert result.exit_code != 0
    assert "No account has this email address." in result.output
