"""Checks at the start of a run, so a broken deployment fails in seconds with the setting named,
not an hour later inside a step with a driver's traceback.

Messages name the setting and the kind of failure; a warehouse URL is shown without its password.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa

from dtsen_pipeline.warehouse import engine_for


class PreflightError(RuntimeError):
    """The deployment cannot run: the message says which setting to fix."""


def shown_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say so without echoing it
        return "(not a valid SQLAlchemy URL)"


def check_warehouse(url: str) -> None:
    """The warehouse answers a query."""
    try:
        engine = engine_for(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1").scalar()
    except Exception as exc:
        raise PreflightError(f"the warehouse cannot be reached (DTSEN_WAREHOUSE_URL={shown_url(url)}): "
                             f"{type(exc).__name__}; check the server, the network and the credentials") from None


def check_writable(folder: Path, setting: str) -> None:
    """`folder` exists (or can be made) and a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".dtsen_preflight_"):
            pass
    except OSError as exc:
        raise PreflightError(f"{setting}={folder} is not a writable folder: {exc.strerror or type(exc).__name__}") \
            from None
