"""/healthz, as a load balancer sees it."""

import time


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_fast_when_the_database_is_down(make_app):
    make_app()  # the first app built cleans the shared test database afterwards
    broken = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/x")

    started = time.monotonic()
    response = broken.test_client().get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}
    # not a benchmark: a load balancer gives up after a few seconds, so a hang is a failure
    assert elapsed < 5
