"""Folders of private files (documents, copies of teachers' data): never under static/."""

from __future__ import annotations

from pathlib import Path

from flask import current_app


def private_folder(setting: str) -> Path:
    """The folder a setting names, refused when it is inside the static folder (served to all)."""
    root = Path(current_app.config[setting]).resolve()
    static = Path(current_app.static_folder or "").resolve()
    if current_app.static_folder and (root == static or static in root.parents):
        raise RuntimeError(f"{setting} {root} is inside the static folder: files would be public")
    return root
