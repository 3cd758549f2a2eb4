"""A WeasyPrint URL fetcher that serves data: URIs and the portal's own static files, nothing else."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

#: course_portal/static: the only folder a certificate may read files from
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class URLRefused(ValueError):  # noqa: N818 (reads as the event it reports)
    """A URL that the certificate renderer must not fetch."""


class StaticOnlyURLFetcher(URLFetcher):
    """Serve `data:` URIs and files under one folder; refuse file:// elsewhere, http(s) and the rest."""

    # With fail_on_errors=True (how pdf.py builds it) WeasyPrint turns a refusal into
    # FatalURLFetchingError, a BaseException, so a document that reaches for anything else
    # stops rendering instead of coming out with a hole in it.

    def __init__(self, root: Path | str = STATIC_DIR, **kwargs):
        kwargs.setdefault("allowed_protocols", ("data", "file"))
        kwargs.setdefault("allow_redirects", False)
        super().__init__(**kwargs)
        # resolved once: the folder itself may be reached through a symlink
        self.root = Path(root).resolve()

    def fetch(self, url, headers=None):
        """Return a URLFetcherResponse for an allowed URL; raise URLRefused for any other."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            # urllib's DataHandler decodes it; nothing leaves the process
            return super().fetch(url, headers)
        if scheme == "file":
            return self._fetch_file(url)
        raise URLRefused(f"refused {scheme or 'relative'} URL: {_shorten(url)}")

    def _fetch_file(self, url: str) -> URLFetcherResponse:
        """Read a file:// URL whose real path lies under the root folder."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise URLRefused(f"refused file URL on another host: {_shorten(url)}")
        # resolve() follows symlinks and removes "..", so the check sees the real location
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise URLRefused(f"refused file outside {self.root}: {_shorten(url)}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), {"Content-Type": content_type}, 200
        )


def _shorten(url: str, limit: int = 120) -> str:
    """The URL cut to a readable length for an error message (data: URIs can be megabytes)."""
    return url if len(url) <= limit else url[:limit] + "…"
