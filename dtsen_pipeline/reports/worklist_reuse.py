"""A place's worklist workbook is copied from the last run when its list has not changed.

Most nights change the lists of a few villages: a pekon file re-sent, a handful of flags raised
or answered. Writing every place's answer workbook again (xlsxwriter, cell by cell in Python)
took 10 s of the worklists' 14 s at 640,000 persons, for 322 places whose lists were nearly all
the same as the night before.

So each run records in `reports.worklist_file`, once all its files are written, a digest per file
stem of the place's CSV bytes and of everything else its workbook is made of: the code
(`code_version`) and the year the workbook's date validation ends in. The next run gives a place
whose digest is the same a copy of that run's workbook and writes every other place's workbook.
The CSV is always written (it is cheap, and its bytes are what the digest is taken of). A run
that stops before recording leaves the last record as it was, so nothing half-written is ever
copied. The table holds run ids, codes, the period and digests only, no personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.code_version import code_digest
from dtsen_pipeline.warehouse import ensure_schemas, qualified, read_sql, table_exists, write_transaction

STATE_TABLE = ("reports", "worklist_file")
_FORMAT = 1


def workbook_salt(today: dt.date | None = None) -> str:
    """What a workbook is made of besides its rows: the code, and the year its TANGGAL
    validation ends in (`answer_workbook`: up to the end of next year)."""
    return f"{_FORMAT}:{code_digest()}:{(today or dt.date.today()).year}"


def place_digest(csv_path: Path, salt: str) -> str:
    """The digest of one place's list: its CSV's bytes and the salt."""
    digest = hashlib.sha256(salt.encode())
    digest.update(csv_path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class EarlierLists:
    """The last recorded run's worklist folder and its digests per file stem."""

    folder: Path
    digests: Mapping[str, str]

    def workbook_for(self, stem: str, digest: str) -> Path | None:
        """The earlier workbook of the same list, if it is still on disk."""
        if self.digests.get(stem) != digest:
            return None
        path = self.folder / f"{stem}.xlsx"
        return path if path.is_file() else None


def earlier_lists(engine: sa.Engine, worklists_dir: Path) -> EarlierLists | None:
    """The worklists the last run recorded (their folder under `worklists_dir`), or None."""
    if not table_exists(engine, *STATE_TABLE):
        return None
    rows = read_sql(engine, f"SELECT run_id, stem, digest FROM {qualified(*STATE_TABLE)}")
    if rows.empty:
        return None
    return EarlierLists(worklists_dir / str(rows["run_id"].iloc[0]), dict(zip(rows["stem"], rows["digest"], strict=True)))


def copy_workbook(source: Path, target: Path) -> None:
    """Copy (not link: an officer editing one run's file must not change another's) via a
    temporary name, so the target is whole or absent."""
    partial = target.with_name(target.name + ".part")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def remember_lists(engine: sa.Engine, run_id: str, digests: Mapping[str, str]) -> None:
    """Record this run's lists, replacing the last run's: call once every file is written."""
    ensure_schemas(engine, [STATE_TABLE[0]])
    target = qualified(*STATE_TABLE)
    with write_transaction(engine) as conn:
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {target} (run_id VARCHAR NOT NULL, stem VARCHAR NOT NULL, "
                             "digest VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL)")
        conn.exec_driver_sql(f"DELETE FROM {target}")
        if digests:
            now = utc_now()
            conn.execute(sa.text(f"INSERT INTO {target} VALUES (:run_id, :stem, :digest, :recorded_at)"),
                         [{"run_id": run_id, "stem": stem, "digest": digest, "recorded_at": now}
                          for stem, digest in sorted(digests.items())])
