"""Backup and restore: the database and the uploaded documents in one archive with a manifest.

An archive, course-portal-YYYYmmddTHHMMSSZ.tar.gz, holds:

- manifest.json: when, from which database kind and schema revision, the row count of every
  table, and the size and SHA-256 of every other member;
- database.sqlite3 (SQLite's online backup API: a consistent copy while the portal runs) or
  database.pgdump (`pg_dump --format=custom`, one consistent snapshot);
- uploads/<application id>/<stored name>: the documents.

Restoring checks every checksum before it changes anything, refuses a database that has rows
unless forced, restores the database (`pg_restore --clean --single-transaction` or SQLite's
backup API in the other direction), then puts the uploads in place, keeping the folder it
replaces beside it. Run it with the app servers and workers stopped.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess  # noqa: S404 (pg_dump and pg_restore, with argument lists)
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flask import current_app
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from course_portal.db import utcnow
from course_portal.extensions import db

#: the archive layout this code writes and reads
FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
UPLOADS = "uploads"
#: pg_dump and pg_restore may take a while on a large database, but not forever
PG_TIMEOUT_SECONDS = 3600


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


@dataclass
class RestoreReport:
    """What a restore did, for the command's output."""

    manifest: dict
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    #: where the uploads folder that was replaced now is, if there was one
    previous_uploads: Path | None = None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _dialect() -> str:
    return db.engine.dialect.name


def _upload_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]).resolve()


def table_counts() -> dict[str, int]:
    """Rows in every table of the models that exists in the database."""
    existing = set(inspect(db.engine).get_table_names())
    counts = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in existing:
                counts[table.name] = conn.execute(
                    select(func.count()).select_from(table)).scalar_one()
    return counts


def schema_revision() -> str | None:
    """The Alembic revision the database is at, or None before the first upgrade."""
    if "alembic_version" not in inspect(db.engine).get_table_names():
        return None
    with db.engine.connect() as conn:
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_command(program: str) -> tuple[list[str], dict[str, str]]:
    """The program with --dbname, and an environment holding the password (not in `ps`)."""
    binary = shutil.which(program)
    if binary is None:
        raise BackupError(f"{program} is not installed (Debian: apt-get install postgresql-client)")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    libpq = url.set(drivername="postgresql", password=None)
    dbname = libpq.render_as_string(hide_password=False)
    return [binary, f"--dbname={dbname}"], env


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(  # noqa: S603 (a fixed program, arguments we built)
        args, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({result.returncode}): "
                          f"{result.stderr.strip()[-2000:]}")


def _dump_postgresql(target: Path) -> None:
    args, env = _pg_command("pg_dump")
    _run([*args, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], env)


def _restore_postgresql(dump: Path) -> None:
    args, env = _pg_command("pg_restore")
    db.session.remove()
    db.engine.dispose()
    _run([*args, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", str(dump)], env)


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy even while others write."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _restore_sqlite(copy: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    _copy_sqlite(copy, _sqlite_path())
    db.engine.dispose()


# --- backup --------------------------------------------------------------------------------


def _upload_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    # ".name.part" files are uploads being written right now: not yet documents
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def create_backup(output: Path, progress: Callable[[str], None] | None = None) -> Path:
    """Write a timestamped archive of the database and the uploads into the folder `output`."""
    say = progress or (lambda _message: None)
    output.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    name = f"course-portal-{now:%Y%m%dT%H%M%SZ}.tar.gz"
    final = output / name
    if final.exists():
        raise BackupError(f"{final} already exists")
    dialect = _dialect()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"backups need SQLite or PostgreSQL, not {dialect}")
    with tempfile.TemporaryDirectory(prefix="portal-backup-") as work:
        work_path = Path(work)
        members: dict[str, dict] = {}
        say(f"dumping the {dialect} database")
        if dialect == "postgresql":
            dump, member = work_path / PG_MEMBER, PG_MEMBER
            _dump_postgresql(dump)
        else:
            dump, member = work_path / SQLITE_MEMBER, SQLITE_MEMBER
            _copy_sqlite(_sqlite_path(), dump)
        members[member] = {"size": dump.stat().st_size, "sha256": _sha256_file(dump)}
        root = _upload_root()
        files = _upload_files(root)
        say(f"adding {len(files)} uploaded files")
        for path in files:
            relative = PurePosixPath(UPLOADS, *path.relative_to(root).parts)
            members[str(relative)] = {"size": path.stat().st_size, "sha256": _sha256_file(path)}
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "database": dialect,
            "schema_revision": schema_revision(),
            "tables": table_counts(),
            "members": members,
        }
        partial = output / f".{name}.part"
        # the archive holds passport pages: readable by its owner only, from the first byte
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
                tar.add(dump, arcname=member, recursive=False)
                for path in files:
                    relative = PurePosixPath(UPLOADS, *path.relative_to(root).parts)
                    tar.add(path, arcname=str(relative), recursive=False)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    say(f"wrote {final}")
    return final


# --- restore -------------------------------------------------------------------------------


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"the archive has an unsafe path: {name!r}")
    return path


def read_archive(archive: Path, into: Path) -> dict:
    """Unpack the archive into a folder, check it against its manifest, return the manifest."""
    try:
        tar = tarfile.open(archive, mode="r:*")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} is not a backup archive: {exc}") from exc
    with tar:
        manifest = None
        for info in tar:
            path = _safe_member(info.name)
            if not info.isfile():
                raise BackupError(f"the archive has something other than a file: {info.name!r}")
            data = tar.extractfile(info)
            assert data is not None  # a file: checked just above
            if str(path) == MANIFEST:
                manifest = json.loads(data.read().decode())
                continue
            target = into.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as handle:
                shutil.copyfileobj(data, handle)
    if manifest is None or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} has no manifest this version of the portal can read")
    members = manifest["members"]
    found = {str(p.relative_to(into).as_posix()) for p in into.rglob("*") if p.is_file()}
    if found != set(members):
        missing, extra = sorted(set(members) - found), sorted(found - set(members))
        raise BackupError(f"the archive does not match its manifest (missing {missing[:5]}, "
                          f"not listed {extra[:5]})")
    for name, expected in members.items():
        if _sha256_file(into / name) != expected["sha256"]:
            raise BackupError(f"{name} in the archive is damaged (checksum mismatch)")
    return manifest


def database_has_rows() -> bool:
    """True when any table of the portal holds a row: restoring there would overwrite data."""
    return any(table_counts().values())


def restore_backup(archive: Path, force: bool = False,
                   progress: Callable[[str], None] | None = None) -> RestoreReport:
    """Replace the database and the uploads with the archive's. Refuses a database with rows
    unless force; BackupError when the archive is damaged, for another database kind, or the
    restore fails (PostgreSQL restores in one transaction: all or nothing)."""
    say = progress or (lambda _message: None)
    dialect = _dialect()
    with tempfile.TemporaryDirectory(prefix="portal-restore-") as work:
        work_path = Path(work)
        say(f"checking {archive}")
        manifest = read_archive(archive, work_path)
        if manifest["database"] != dialect:
            raise BackupError(f"the archive holds a {manifest['database']} database; this "
                              f"portal runs on {dialect}")
        if database_has_rows() and not force:
            raise BackupError("the database already has data; restoring would replace it. "
                              "Use --force to replace it anyway.")
        say(f"restoring the {dialect} database")
        if dialect == "postgresql":
            _restore_postgresql(work_path / PG_MEMBER)
        else:
            _restore_sqlite(work_path / SQLITE_MEMBER)
        report = RestoreReport(manifest=manifest, tables=table_counts())
        if report.tables != manifest["tables"]:
            raise BackupError(f"the restored database does not have the rows the manifest "
                              f"lists: {report.tables} != {manifest['tables']}")
        say("restoring the uploaded files")
        report.previous_uploads, report.files = _put_uploads(work_path / UPLOADS)
    return report


def _put_uploads(source: Path) -> tuple[Path | None, int]:
    """Move the restored uploads into place; the folder they replace is kept beside them."""
    root = _upload_root()
    previous = None
    if root.exists() and any(root.iterdir()):
        previous = root.with_name(f"{root.name}.before-restore-{utcnow():%Y%m%dT%H%M%SZ}")
        root.rename(previous)
    elif root.exists():
        root.rmdir()
    root.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, root)
    else:
        root.mkdir()
    return previous, len(_upload_files(root))
