"""flask backup and flask restore: a round trip gives back every row of every table and every file."""

from __future__ import annotations

import io
import json
import stat
import tarfile
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import inspect, select, text

from course_portal.accounts.models import User
from course_portal.enrollment.models import Document
from course_portal.extensions import db
from course_portal.ops import backup
from tests import factories
from tests.conftest import wipe_schema


def snapshot_tables() -> dict[str, list[tuple]]:
    """Every row of every table of the models, in primary-key order."""
    db.session.remove()
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
        rows["alembic_version"] = [tuple(r) for r in conn.execute(
            text("SELECT version_num FROM alembic_version"))]
    return rows


def snapshot_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def drop_everything() -> None:
    """As on a new server: no tables at all."""
    db.session.remove()
    wipe_schema()
    db.engine.dispose()


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def loaded(app, db):
    """The demo data: every feature's tables filled, real uploaded documents and PDFs."""
    result = cli(app, "demo-data")
    assert result.exit_code == 0, result.output
    root = Path(app.config["UPLOAD_FOLDER"])
    assert len(snapshot_files(root)) >= 10
    yield app
    # whatever happened, leave the schema at head for the next tests
    db.session.remove()
    if "users" not in inspect(db.engine).get_table_names():
        drop_everything()
        upgrade()


def test_round_trip_gives_back_every_row_and_every_file(loaded, tmp_path):
    app = loaded
    root = Path(app.config["UPLOAD_FOLDER"])
    rows, files = snapshot_tables(), snapshot_files(root)
    assert sum(len(r) for r in rows.values()) > 100

    result = cli(app, "backup", "--output", str(tmp_path / "backups"))

    assert result.exit_code == 0, result.output
    [archive] = (tmp_path / "backups").glob("course-portal-*.tar.gz")
    assert f"backup written: {archive}" in result.output
    # passport pages inside: only the owner may read the archive
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["database"] == db.engine.dialect.name
    assert manifest["tables"]["users"] == len(rows["users"])
    assert len([m for m in manifest["members"] if m.startswith("uploads/")]) == len(files)

    # the server is lost: a database without tables, no uploads folder
    drop_everything()
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    root.rmdir()

    result = cli(app, "restore", str(archive), "--yes")

    assert result.exit_code == 0, result.output
    assert "restored" in result.output
    assert snapshot_tables() == rows
    assert snapshot_files(root) == files
    # the restored database goes on: new rows get new ids, not ones already used
    user = factories.make_user(email="after.restore@example.edu.cn")
    db.session.commit()
    assert user.id > max(r[0] for r in rows["users"])
    # and its teacher downloads a restored document as before
    document = db.session.scalar(select(Document).order_by(Document.id).limit(1))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = document.application.teacher.get_id()
    response = client.get(f"/documents/{document.id}")
    assert response.status_code == 200
    assert response.data == files[f"{document.application_id}/{document.stored_name}"]


def test_restore_needs_yes_and_refuses_a_database_with_data(loaded, tmp_path):
    app = loaded
    result = cli(app, "backup", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    [archive] = tmp_path.glob("course-portal-*.tar.gz")
    before = snapshot_tables()
    factories.make_user(email="newer.than.backup@example.edu.cn")
    db.session.commit()

    without_yes = cli(app, "restore", str(archive))
    into_data = cli(app, "restore", str(archive), "--yes")

    assert without_yes.exit_code != 0 and "--yes" in without_yes.output
    assert into_data.exit_code != 0 and "already has data" in into_data.output
    emails = set(db.session.scalars(select(User.email)))
    assert "newer.than.backup@example.edu.cn" in emails  # nothing was touched

    forced = cli(app, "restore", str(archive), "--yes", "--force")

    assert forced.exit_code == 0, forced.output
    assert snapshot_tables() == before
    assert "kept at" in forced.output  # the replaced uploads are kept, not deleted


def test_a_damaged_archive_is_refused_before_anything_changes(loaded, tmp_path):
    app = loaded
    assert cli(app, "backup", "-o", str(tmp_path)).exit_code == 0
    [archive] = tmp_path.glob("course-portal-*.tar.gz")
    # rebuild the archive with one document's bytes changed, the manifest unchanged
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        changed = False
        for info in source:
            data = source.extractfile(info).read()
            if info.name.startswith("uploads/") and not changed:
                data, changed = data[:-1] + bytes([data[-1] ^ 1]), True
            target.addfile(info, io.BytesIO(data))
    drop_everything()

    result = cli(app, "restore", str(damaged), "--yes")

    assert result.exit_code != 0
    assert "damaged" in result.output
    assert "users" not in inspect(db.engine).get_table_names()  # nothing restored


def test_backup_without_pg_dump_says_what_to_install(app, db, tmp_path, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite backups need no external program")
    monkeypatch.setattr(backup.shutil, "which", lambda _name: None)

    result = cli(app, "backup", "-o", str(tmp_path / "backups"))

    assert result.exit_code != 0
    assert "pg_dump is not installed" in result.output
    assert list((tmp_path / "backups").iterdir()) == []  # no half-written archive
