"""Kept pages: served while nothing changed, never across readers, languages or a write.

The page cache is on in every test (its default), so the whole suite also checks that no page
shows stale data after a change; these tests check its own promises.
"""

from __future__ import annotations

import re

from sqlalchemy import update

from course_portal.accounts.models import User
from course_portal.core import pagecache
from course_portal.enrollment import services as enrollment
from course_portal.enrollment.models import Application, ApplicationStatus
from course_portal.extensions import db as _db
from tests import factories


def _sign_in(client, session_id: str):
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True


def _store(app) -> pagecache.PageStore:
    return app.extensions["page_cache"]


def _without_tokens(response) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", response.get_data(as_text=True))


def _teacher_with_application(app, status="submitted", **teacher_fields):
    with app.app_context():
        intake = factories.make_intake(factories.make_program(title_en="Investment Ecosystem"))
        teacher = factories.make_teacher(**teacher_fields)
        application = factories.make_application(teacher=teacher, intake=intake, status=status)
        coordinator = factories.make_user(role="coordinator")
        _db.session.commit()
        return teacher.get_id(), application.id, coordinator.id


def _signed_in_teacher(app):
    """A client signed in as a teacher with one application: (client, teacher's session id,
    application id, a coordinator's id)."""
    teacher, application_id, coordinator = _teacher_with_application(app)
    client = app.test_client()
    _sign_in(client, teacher)
    return client, teacher, application_id, coordinator


def test_a_second_look_is_served_from_memory_without_rendering(make_app):
    app = make_app()
    client, _, _, _ = _signed_in_teacher(app)

    first = client.get("/applications")
    second = client.get("/applications")

    assert first.status_code == second.status_code == 200
    assert _store(app).misses == 1 and _store(app).hits == 1
    # the same page but for the sign-out form's CSRF token, signed anew for each request
    assert _without_tokens(second) == _without_tokens(first)
    assert "no-store" in second.headers["Cache-Control"]  # still never kept by a browser


def test_a_decision_committed_elsewhere_shows_at_once(make_app):
    app = make_app()
    client, _, application_id, coordinator = _signed_in_teacher(app)
    assert "badge-approved" not in client.get("/applications").get_data(as_text=True)

    with app.app_context():  # another request, another app server: the same database
        application = _db.session.get(Application, application_id)
        enrollment.transition(application, ApplicationStatus.APPROVED,
                              actor=_db.session.get(User, coordinator))
        _db.session.commit()

    assert "badge-approved" in client.get("/applications").get_data(as_text=True)


def test_a_bulk_update_statement_counts_as_a_change(make_app):
    app = make_app()
    client, _, application_id, _ = _signed_in_teacher(app)
    client.get("/applications")

    with app.app_context():
        _db.session.execute(update(Application).where(Application.id == application_id)
                            .values(motivation="changed").execution_options(
                                synchronize_session=False))
        _db.session.execute(update(Application).where(Application.id == application_id)
                            .values(status=ApplicationStatus.WAITLISTED).execution_options(
                                synchronize_session=False))
        _db.session.commit()

    assert "badge-waitlisted" in client.get("/applications").get_data(as_text=True)


def test_reading_does_not_bump_the_generation_and_a_rollback_does_not_either(make_app):
    app = make_app()
    client, _, application_id, _ = _signed_in_teacher(app)
    with app.app_context():
        before = pagecache.current_generation()

    for path in ("/", "/applications", "/applications"):
        client.get(path)
    with app.app_context():
        _db.session.execute(update(Application).where(Application.id == application_id)
                            .values(motivation="never saved"))
        _db.session.rollback()
        assert pagecache.current_generation() == before
        factories.make_partner()
        _db.session.commit()
        assert pagecache.current_generation() == before + 1


def test_one_teacher_never_gets_another_teachers_page(make_app):
    app = make_app()
    first, _, _ = _teacher_with_application(app, family_name_zh="欧阳", given_name_zh="娜娜")
    with app.app_context():
        second = factories.make_teacher(family_name_zh="司马", given_name_zh="玥").get_id()
        _db.session.commit()
    alice, bob = app.test_client(), app.test_client()
    _sign_in(alice, first)
    _sign_in(bob, second)

    alice_page = alice.get("/applications").get_data(as_text=True)
    bob_page = bob.get("/applications").get_data(as_text=True)

    assert "Investment Ecosystem" in alice_page
    assert "Investment Ecosystem" not in bob_page
    assert "欧阳" not in bob_page


def test_each_language_has_its_own_copy(make_app):
    app = make_app()
    with app.app_context():
        factories.make_program(title_en="Investment Ecosystem", title_zh="投资生态系统")
        _db.session.commit()
    english, chinese = app.test_client(), app.test_client()
    with chinese.session_transaction() as session:
        session["locale"] = "zh"

    assert "Investment Ecosystem" in english.get("/").get_data(as_text=True)
    assert "投资生态系统" in chinese.get("/").get_data(as_text=True)
    assert "投资生态系统" not in english.get("/").get_data(as_text=True)


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_a_kept_page_carries_the_readers_own_csrf_token_and_its_forms_work(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        coordinator = factories.make_user(role="coordinator").get_id()
        _db.session.commit()
    one, other = app.test_client(), app.test_client()
    _sign_in(one, coordinator)
    _sign_in(other, coordinator)  # the same person in a second browser: another session

    rendered = one.get("/review").get_data(as_text=True)
    kept = other.get("/review").get_data(as_text=True)

    assert _store(app).hits == 1
    assert kept.count(_token(kept)) == rendered.count(_token(rendered)) >= 1  # every form
    assert _token(kept) != _token(rendered)
    # the token on the kept page is valid for its reader: signing out with it works
    response = other.post("/logout", data={"csrf_token": _token(kept)})
    assert response.status_code == 302
    refused = one.post("/logout", data={"csrf_token": _token(kept)})
    assert refused.status_code == 400  # and it is not the other session's


def test_a_page_with_a_message_waiting_is_rendered_for_it_and_not_kept(make_app):
    app = make_app()
    client, _, _, _ = _signed_in_teacher(app)
    client.get("/applications")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Your draft is saved.")]

    with_message = client.get("/applications").get_data(as_text=True)
    after = client.get("/applications").get_data(as_text=True)

    assert "Your draft is saved." in with_message
    assert "Your draft is saved." not in after


def test_a_kept_page_expires_after_page_cache_seconds(make_app, monkeypatch):
    app = make_app(PAGE_CACHE_SECONDS=60)
    client = app.test_client()
    clock = [1000.0]
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: clock[0])

    client.get("/")
    clock[0] += 59
    client.get("/")
    clock[0] += 2
    client.get("/")

    assert (_store(app).hits, _store(app).misses) == (1, 2)


def test_page_cache_seconds_zero_renders_every_request(make_app):
    app = make_app(PAGE_CACHE_SECONDS=0)
    client = app.test_client()
    for _ in range(3):
        client.get("/")
    assert (_store(app).hits, _store(app).misses) == (0, 0)
    assert len(_store(app)) == 0


def test_the_store_keeps_at_most_page_cache_max_bytes_dropping_the_oldest(make_app):
    app = make_app()
    client = app.test_client()
    size = len(client.get("/?n=0").get_data(as_text=True))
    _store(app).clear()
    _store(app).max_bytes = size * 3 + size // 2

    for n in range(6):
        client.get(f"/?n={n}")
    client.get("/?n=5")

    assert len(_store(app)) == 3 and _store(app).size <= _store(app).max_bytes
    assert _store(app).hits == 1  # the newest is still there
    client.get("/?n=0")
    assert _store(app).hits == 1  # the oldest was dropped


# --- a signed-in reader's kept page, served before the user is loaded ------------------------


def _statements(app) -> list[str]:
    """Every SQL statement run from now on, on the app's engine and the page cache's own."""
    from sqlalchemy import event

    seen: list[str] = []
    with app.app_context():
        engines = {_db.engine}
        with app.test_request_context():
            pagecache.committed_generation()  # the page cache's engine exists from here on
        engines.add(app.extensions["page_cache_reader"])
    for engine in engines:
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_rest: seen.append(statement))
    return seen


def test_a_kept_page_costs_one_query_and_never_loads_the_user(make_app):
    app = make_app()
    client, _, _, _ = _signed_in_teacher(app)
    client.get("/applications")
    statements = _statements(app)

    response = client.get("/applications")

    assert response.status_code == 200 and _store(app).hits == 1
    assert statements == [pagecache._READ_GENERATION]


def _staff_client(app):
    with app.app_context():
        coordinator = factories.make_user(role="coordinator").get_id()
        _db.session.commit()
    client = app.test_client()
    _sign_in(client, coordinator)
    return client


def _set_clock(client, seen_seconds_ago: float, signed_in_seconds_ago: float = 600) -> None:
    import time

    from course_portal.accounts.session import SEEN_AT, SIGNED_IN_AT

    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = time.time() - signed_in_seconds_ago
        session[SEEN_AT] = time.time() - seen_seconds_ago


def test_a_kept_page_never_outlives_the_staff_idle_limit(make_app):
    app = make_app(STAFF_IDLE_MINUTES=30)
    client = _staff_client(app)
    _set_clock(client, seen_seconds_ago=5)
    assert client.get("/review").status_code == 200
    assert client.get("/review").status_code == 200 and _store(app).hits == 1

    _set_clock(client, seen_seconds_ago=31 * 60)
    response = client.get("/review")

    assert response.status_code == 302 and "/login" in response.location
    assert client.get("/review").status_code == 302  # signed out for good


def test_a_kept_page_never_outlives_the_staff_session_length(make_app):
    app = make_app(STAFF_MAX_SESSION_HOURS=12)
    client = _staff_client(app)
    _set_clock(client, seen_seconds_ago=5)
    client.get("/review")

    _set_clock(client, seen_seconds_ago=5, signed_in_seconds_ago=12 * 3600 + 60)
    response = client.get("/review")

    assert response.status_code == 302 and "/login" in response.location


def test_a_staff_member_back_after_minutes_gets_the_kept_page_and_a_new_last_seen_mark(make_app):
    import time

    from course_portal.accounts.session import SEEN_AT

    app = make_app()
    client = _staff_client(app)
    _set_clock(client, seen_seconds_ago=5)
    client.get("/review")
    _set_clock(client, seen_seconds_ago=10 * 60)

    response = client.get("/review")

    assert response.status_code == 200 and _store(app).hits == 1
    with client.session_transaction() as session:
        assert time.time() - session[SEEN_AT] < 60  # the idle clock starts again


def test_signing_out_everywhere_ends_a_kept_page_at_once(make_app):
    app = make_app()
    stolen, teacher, _, _ = _signed_in_teacher(app)  # the same session cookie, in another browser
    assert stolen.get("/applications").status_code == 200

    with app.app_context():
        user = _db.session.get(User, int(teacher.split(":")[0]))
        user.end_all_sessions()
        _db.session.commit()

    response = stolen.get("/applications")
    assert response.status_code == 302 and "/login" in response.location


def test_a_disabled_account_gets_no_kept_page(make_app):
    app = make_app()
    client, teacher, _, _ = _signed_in_teacher(app)
    client.get("/applications")

    with app.app_context():
        _db.session.get(User, int(teacher.split(":")[0])).is_enabled = False
        _db.session.commit()

    response = client.get("/applications")
    assert response.status_code == 302 and "/login" in response.location


def test_a_remembered_teacher_is_never_served_the_anonymous_page(make_app):
    app = make_app()
    with app.app_context():
        factories.make_program(title_en="Investment Ecosystem")
        teacher = factories.make_teacher(family_name_zh="欧阳", given_name_zh="娜娜")
        _db.session.commit()
        teacher_id = teacher.get_id()
    anonymous = app.test_client()
    assert "Sign out" not in anonymous.get("/").get_data(as_text=True)

    remembered = app.test_client()  # signed in with "remember me"; the session cookie is gone
    with app.test_request_context():
        from flask_login.utils import _cookie_digest  # the cookie as Flask-Login writes it

        cookie = f"{teacher_id}|{_cookie_digest(teacher_id)}"
    remembered.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), cookie)

    page = remembered.get("/").get_data(as_text=True)
    assert "Sign out" in page
