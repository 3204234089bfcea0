"""Small delivery files written by the tests, and one ingest + stage pass over a landing folder.

Every fixture is made here from the feed declarations (headers as the YAML declares them), so
a test states only what it damages.
"""

import codecs
import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import xlsxwriter

from dtsen_pipeline.ingest.feeds import FeedSpec, load_feed_specs
from dtsen_pipeline.ingest.intake import IntakeResult, ingest_feed
from dtsen_pipeline.ingest.staging_tables import StagedFeed, quarantine_part, stage_in_force
from dtsen_pipeline.warehouse import read_table

SPECS = load_feed_specs()
AS_OF = dt.date(2026, 11, 30)
VILLAGE = "18.06.01.2016"  # Kota Agung, a pekon of Tanggamus (Kepmendagri 2025)
OTHER_VILLAGE = "18.06.01.2019"
OUTSIDE_VILLAGE = "18.03.01.1001"  # Lampung Utara: valid, outside the Tanggamus scope
WOMAN_NIK = "1806014107850001"  # female (day 41 = 1st), born 01-07-1985
MAN_NIK = "1806012208900001"  # male, born 22-08-1990
KK = "1806010101100001"


def man_nik(serial: int) -> str:
    """A valid NIK of another man born 22-08-1990 (one NIK per person: the row rules quarantine a
    NIK shared by different names)."""
    return f"180601220890{serial:04d}"

# One good record per feed, by canonical name; dates as ISO, codes as the agency writes them.
BASE = {
    "dtsen": {"id_keluarga": "27117332367", "id_art": "2711733236701", "nik": MAN_NIK, "no_kk": KK,
              "nama": "AHMAD SUBAGIO", "tgl_lahir": "1990-08-22", "jenis_kelamin": "1", "hubungan": "1",
              "_village": VILLAGE.replace(".", ""), "alamat": "DUSUN II", "rt": "3", "rw": "1",
              "desil": "2", "status_padan": "PADAN", "pkh": "Y", "bpnt": "N", "pbi_jk": "Y"},
    "dukcapil": {"nik": MAN_NIK, "no_kk": KK, "nama": "AHMAD SUBAGIO", "tempat_lahir": "KOTA AGUNG",
                 "tgl_lahir": "22-08-1990", "jenis_kelamin": "LAKI-LAKI", "hubungan": "KEPALA KELUARGA",
                 "alamat": "DUSUN II", "rt": "003", "rw": "001", "prov": "18", "kab": "6", "kec": "1",
                 "kel": "2016", "status_hidup": "HIDUP", "tgl_mati": ""},
    "bansos": {"program": "PKH", "periode": "2026-10", "nik": WOMAN_NIK, "no_kk": KK, "nama": "SITI AMINAH",
               "alamat": "DUSUN II", "_village": VILLAGE, "nama_desa": "TEST", "nominal": "750000"},
    "pekon": {"nik": MAN_NIK, "no_kk": KK, "nama": "AHMAD SUBAGIO", "tempat_lahir": "KOTA AGUNG",
              "tgl_lahir": "22/08/1990", "jenis_kelamin": "1", "hubungan": "KEPALA KELUARGA",
              "alamat": "DUSUN II", "rt": "3", "rw": "1", "dusun": "DUSUN II", "_village": VILLAGE,
              "status_dasar": "HIDUP"},
    "verval": {"id_keluarga": "27117332367", "nik": MAN_NIK, "no_kk": KK, "nama": "AHMAD SUBAGIO",
               "hasil": "LAYAK", "nik_ganda": "", "tingkat": "PEKON", "tanggal": "2026-10-15",
               "petugas": "PS-001", "_village": VILLAGE, "catatan": ""},
}


def header_map(spec: FeedSpec) -> dict[str, str]:
    """Canonical name (and `_village` or region part names) -> the feed's declared header."""
    out = dict(spec.source_columns)
    if spec.region.village:
        out["_village"] = spec.region.village
    else:
        out.update(spec.region.parts or {})
    return out


def record(feed: str, **changes: str) -> dict[str, str]:
    """A good record of the feed keyed by its declared headers, with some values changed."""
    headers = header_map(SPECS[feed])
    values = {**BASE[feed], **changes}
    return {headers[k]: v for k, v in values.items() if k in headers}


def csv_bytes(rows: list[list[str]], sep: str = ",", encoding: str = "utf-8", bom: bool = False,
              newline: str = "\n", final_newline: bool = True) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator=newline)
    writer.writerows(rows)
    text = buf.getvalue()
    if not final_newline:
        text = text.removesuffix(newline)
    return (codecs.BOM_UTF8 if bom else b"") + text.encode(encoding)


def feed_csv(feed: str, records: list[dict[str, str]], **kwargs) -> bytes:
    header = list(records[0])
    return csv_bytes([header, *[[r.get(h, "") for h in header] for r in records]], **kwargs)


def write(landing: Path, feed: str, name: str, data: bytes) -> Path:
    path = landing / feed / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_xlsx(landing: Path, feed: str, name: str, header: list[str], rows: list[list[object]],
               sheet: str = "KPM") -> Path:
    """A workbook: str cells as text, int/float as number cells, dates as date cells."""
    path = landing / feed / name
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet)
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    worksheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                worksheet.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_format)
            elif isinstance(value, int | float):
                worksheet.write_number(r, c, value)
            elif value is not None:
                worksheet.write_string(r, c, value)
    workbook.close()
    return path


@dataclass
class Pass:
    intake: IntakeResult
    staged_counts: StagedFeed
    staged: pd.DataFrame
    quarantine: pd.DataFrame


def run_feed(engine: sa.Engine, landing: Path, feed: str, run_id: str = "test",
             now: dt.datetime | None = None, spec: FeedSpec | None = None) -> Pass:
    """What the raw/<feed> and staging/<feed> assets do, on one feed."""
    spec = spec or SPECS[feed]
    intake = ingest_feed(engine, landing, spec, run_id=run_id, now=now)
    counts = stage_in_force(engine, spec, scope="18.06", as_of=AS_OF)
    staged = read_table(engine, "staging", spec.name)
    quarantine = read_table(engine, "quality", quarantine_part(spec.name))
    return Pass(intake, counts, staged, quarantine)


def engine_at(path: Path) -> sa.Engine:
    return sa.create_engine(f"duckdb:///{path}")
