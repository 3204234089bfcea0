"""The artifacts folder over HTTP, read-only, so links in the Dagster UI open in a browser.

Data Docs, the run report, the Splink charts, worklists and review files are written under the
artifacts folder on the server; a file path in asset metadata cannot be opened from another
machine. `dtsen serve-artifacts` serves that folder with the standard library (GET and HEAD only,
no uploads, nothing outside the folder) on the loopback by default; in production it sits behind
the same reverse proxy and authentication as the Dagster UI, since the files hold personal data.
`artifact_url` turns a file under the folder into the URL asset metadata links to.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3001
DEFAULT_BASE_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def artifact_url(base_url: str, artifacts_dir: Path, path: Path) -> str | None:
    """The URL of `path` on the artifact server, or None when it is not under the artifacts folder."""
    try:
        relative = Path(path).resolve().relative_to(Path(artifacts_dir).resolve())
    except ValueError:
        return None
    suffix = quote(relative.as_posix()) + ("/" if Path(path).is_dir() else "")
    return f"{base_url.rstrip('/')}/{suffix}"


class ReadOnlyHandler(SimpleHTTPRequestHandler):
    """Static files of one folder; every method but GET and HEAD is refused (501 by the base class).
    Requests are logged without their query, by path only (paths carry run ids, never personal data)."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        if getattr(self.server, "quiet", False):
            return
        super().log_message(format, *args)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def make_server(folder: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                quiet: bool = False) -> ThreadingHTTPServer:
    """A server of `folder` (created if missing) on host:port; port 0 picks a free port."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(ReadOnlyHandler, directory=str(folder.resolve()))
    server = ThreadingHTTPServer((host, port), handler)
    server.quiet = quiet  # type: ignore[attr-defined]
    return server


def serve_in_thread(folder: Path, host: str = DEFAULT_HOST, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """A running server in a daemon thread and its base URL (tests, scripts); `shutdown()` stops it."""
    server = make_server(folder, host, port, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"
