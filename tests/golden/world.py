"""Hand-made staging frames for the golden chain: a few persons and families per scenario.

A `World` collects records of the four person feeds and verval decisions, writes them as
`staging.*` tables with the canonical columns and types, writes `linkage.person_cluster`
(one cluster per person label: linkage is not under test here), and runs the golden chain
(identity steps and SQL models) exactly as the pipeline does.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.golden.chain import run_golden_chain
from dtsen_pipeline.golden.id_state import commit_id_state
from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS
from dtsen_pipeline.warehouse import read_table, replace_table

DESA = "18.06.01.1001"  # Baros, Kota Agung (Kabupaten Tanggamus, Kemendagri 2025)
DESA_2 = "18.06.02.2012"  # Kalibening, Talang Padang
OUTSIDE = "18.71.01.1003"  # Kota Bandar Lampung: outside the deployment's scope
PERSON_FEEDS = person_feeds(load_feed_specs())
COMMON = {
    "nik": None, "nik_issue": None, "no_kk": None, "kk_issue": None, "nama": "NAMA", "nama_norm": "NAMA",
    "name_key": "NAMA", "gelar": "", "tgl_lahir": dt.date(1980, 5, 17), "dob_imprecise": False,
    "birth_year": 1980, "dob_precision": "day",
    "jenis_kelamin": "L", "hubungan": "ANAK", "kode_desa": DESA, "kode_kecamatan": DESA[:8], "in_scope": True,
    "alamat": None, "rt": None, "rw": None, "flags": "", "tempat_lahir": None,
}
EXTRAS = {
    "dtsen": {"id_keluarga": None, "id_art": None, "desil": None, "status_padan": None, "pkh": False,
              "bpnt": False, "pbi_jk": False},
    "dukcapil": {"status_hidup": "HIDUP", "tgl_mati": None},
    "pekon": {"dusun": None, "status_dasar": "HIDUP"},
    "bansos": {"program": None, "periode": None, "nominal": None, "nama_desa": None},
}
VERVAL = {"record_id": None, "feed": "verval", "source_file": None, "source_row": None, "nik": None,
          "nik_issue": None, "no_kk": None, "kk_issue": None, "nama": "NAMA", "nama_norm": "NAMA",
          "name_key": "NAMA", "gelar": "", "kode_desa": DESA, "kode_kecamatan": DESA[:8], "in_scope": True,
          "id_keluarga": None, "hasil": None, "nik_ganda": None, "tingkat": "PEKON", "tanggal": dt.date(2026, 11, 1),
          "petugas": "PS-180601-001", "catatan": None, "flags": ""}
_DATES = ("tgl_lahir", "tgl_mati", "tanggal")
_INTS = ("source_row", "desil", "birth_year")


@dataclass
class World:
    records: dict[str, list[dict]] = field(default_factory=lambda: {f: [] for f in PERSON_FEEDS})
    cluster: dict[str, str] = field(default_factory=dict)  # record_id -> person label
    decisions: list[dict] = field(default_factory=list)
    _row: itertools.count = field(default_factory=lambda: itertools.count(1))
    _nik: itertools.count = field(default_factory=lambda: itertools.count(1))

    def nik(self) -> str:
        """A fresh 16-digit NIK (kecamatan 18.06.01, a birth date, a serial)."""
        return f"180601170580{next(self._nik):04d}"

    def add(self, feed: str, person: str, file: str | None = None, **fields) -> str:
        """One staged record of `person` in `feed`; returns its record id."""
        row = next(self._row)
        source_file = file or f"{feed}/{feed.upper()}_TEST.csv"
        record_id = f"{feed}:{source_file}#{row}"
        values = {**COMMON, **EXTRAS[feed], **fields}
        if "kode_desa" in fields and "kode_kecamatan" not in fields:
            values["kode_kecamatan"] = fields["kode_desa"][:8]
        if "kode_desa" in fields and "in_scope" not in fields:
            values["in_scope"] = fields["kode_desa"].startswith("18.06.")
        self.records[feed].append({"record_id": record_id, "feed": feed, "source_file": source_file,
                                   "source_row": row, **values})
        self.cluster[record_id] = person
        return record_id

    def decide(self, hasil: str, tingkat: str = "PEKON", tanggal: dt.date = dt.date(2026, 11, 1),
               file: str = "verval/VERVAL_2026-11_PEKON.csv", **fields) -> str:
        row = next(self._row)
        record_id = f"verval:{file}#{row}"
        self.decisions.append({**VERVAL, "record_id": record_id, "source_file": file, "source_row": row,
                               "hasil": hasil, "tingkat": tingkat, "tanggal": tanggal, **fields})
        return record_id

    def _frame(self, rows: list[dict], columns: list[str]) -> pd.DataFrame:
        frame = pd.DataFrame(rows, columns=columns)
        for column in frame.columns:
            if column in _INTS:
                frame[column] = frame[column].astype("Int64")
            elif column in ("dob_imprecise", "in_scope", "pkh", "bpnt", "pbi_jk"):
                frame[column] = frame[column].astype("boolean")
            elif column == "nominal":
                frame[column] = frame[column].astype("Float64")
            elif column not in _DATES:
                frame[column] = frame[column].astype("string")
        return frame

    def write(self, engine: sa.Engine) -> None:
        base = ["record_id", "feed", "source_file", "source_row", *COMMON]
        for feed in PERSON_FEEDS:
            columns = base + list(EXTRAS[feed])
            frame = self._frame(self.records[feed], columns)
            replace_table(engine, frame, "staging", feed, [c for c in _DATES if c in columns])
        replace_table(engine, self._frame(self.decisions, list(VERVAL)), "staging", "verval", ["tanggal"])
        clusters = pd.DataFrame({"record_id": list(self.cluster), "cluster_id": [f"c-{p}" for p in self.cluster.values()]})
        replace_table(engine, clusters.astype("string"), "linkage", "person_cluster")

    def build(self, engine: sa.Engine, run_id: str = "run-1", commit: bool = True,
              ceilings: dict[str, int] = DEFAULT_CEILINGS, code_changes: Path | None = None) -> None:
        """Write the frames, run the golden chain (with these programme `ceilings` and village
        `code_changes`), and (as after publication) commit the id state."""
        self.write(engine)
        run_golden_chain(engine, run_id, ceilings=ceilings, code_changes=code_changes)
        if commit:
            commit_id_state(engine)


@dataclass
class Built:
    """The build tables of one chain run, indexed for assertions."""

    engine: sa.Engine

    def table(self, name: str) -> pd.DataFrame:
        return read_table(self.engine, "build", name)

    def person_of(self, record_id: str) -> pd.Series:
        source = self.table("person_source")
        person_id = source.loc[source["record_id"] == record_id, "person_id"].iloc[0]
        persons = self.table("person")
        return persons[persons["person_id"] == person_id].iloc[0]

    def household_of(self, record_id: str) -> pd.Series:
        household_id = self.person_of(record_id)["household_id"]
        households = self.table("household")
        return households[households["household_id"] == household_id].iloc[0]

    def flags_of(self, subject_id: str) -> pd.DataFrame:
        flags = self.table("flag")
        return flags[flags["subject_id"] == subject_id].set_index("flag")
