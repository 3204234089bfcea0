"""The quality scorecard: per feed and per kecamatan, the shares the kabupaten watches.

A record is a staged row or a quarantined data row (junk rows such as repeated headers are not
records). Shares are of those records:

- `valid_nik_share`: the NIK passed every E rule (NIK-01..08, NIK-11) and is usable for linking;
- `padan_share`: DTSEN's STATUS_PADAN says the NIK matched the civil registry (dtsen only);
- `damaged_id_share`: NIK or No. KK rejected as spreadsheet-damaged or malformed (NIK-01/02, KK-01);
- `imprecise_dob_share`: the birth date is a registry default (DOB-02);
- `missing_name_share`: no name left after normalisation (NAME-01, quarantined).

Quarantined rows are placed in their kecamatan from the raw village code, so a kecamatan whose
names are missing still shows it. Counts only: no identifier ever leaves this module.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dtsen_pipeline.domain import regions
from dtsen_pipeline.schema import UNCOUNTED_REASONS

SCORECARD_COLUMNS = ("run_id", "run_at", "feed", "level", "kode_kecamatan", "kecamatan", "records",
                     "valid_nik_share", "padan_share", "damaged_id_share", "imprecise_dob_share",
                     "missing_name_share")
DAMAGE_CODES = ("NIK_EXCEL_DAMAGED", "NIK_BAD_FORMAT", "KK_EXCEL_DAMAGED", "KK_BAD_FORMAT")
ALL_KECAMATAN = "*"


# What the scorecard reads: these staged columns (status_padan where the feed has it), and of the
# raw records only the quarantined ones, with their place headers (`region_headers`). Reading the
# whole staged and raw tables took 39 s of a 640,000-person night.
STAGED_COLUMNS = ("kode_kecamatan", "nik", "nik_issue", "kk_issue", "dob_imprecise", "tgl_lahir", "status_padan")


def region_headers(spec) -> list[str]:
    """The raw headers that place a record: the feed's village column, or its code parts."""
    if spec.region.village:
        return [spec.region.village]
    return [h for h in (spec.region.parts or {}).values() if h]


def raw_kecamatan(raw: pd.DataFrame, spec) -> pd.Series:
    """The kecamatan code of raw records, from the feed's declared village column or code parts."""
    def col(header: str | None) -> pd.Series:
        if header is None or header not in raw.columns:
            return pd.Series(pd.NA, index=raw.index, dtype="str")
        return raw[header].astype("str")

    if spec.region.village:
        village = regions.canonical_village(col(spec.region.village))
    else:
        parts = spec.region.parts or {}
        village = regions.village_from_parts(*(col(parts.get(k)) for k in ("prov", "kab", "kec", "kel")))
    return regions.kecamatan_code(village["kode_desa"])


def record_frame(feed: str, staged: pd.DataFrame, quarantine: pd.DataFrame, raw: pd.DataFrame, spec) -> pd.DataFrame:
    """One row per record with the indicator columns the scorecard averages."""
    s = pd.DataFrame({
        "kode_kecamatan": staged["kode_kecamatan"].astype("str"),
        "valid_nik": staged["nik"].notna(),
        "padan": (staged["status_padan"] == "PADAN") if "status_padan" in staged.columns else np.nan,
        "damaged_id": staged["nik_issue"].isin(DAMAGE_CODES) | staged["kk_issue"].isin(DAMAGE_CODES),
        "imprecise_dob": staged["dob_imprecise"].astype("boolean").where(staged["tgl_lahir"].notna()),
        "missing_name": False,
    })
    q = quarantine[(quarantine["feed"] == feed) & ~quarantine["reason"].isin(UNCOUNTED_REASONS)]
    if len(q):
        keyed = raw.assign(kode_kecamatan=raw_kecamatan(raw, spec))[["source_file", "source_row", "kode_kecamatan"]]
        keyed = keyed.astype({"source_row": "int64"})
        q = q.astype({"source_row": "int64"}).merge(keyed, on=["source_file", "source_row"], how="left")
        qf = pd.DataFrame({
            "kode_kecamatan": q["kode_kecamatan"].astype("str"),
            "valid_nik": False,
            "padan": np.nan,
            "damaged_id": False,
            "imprecise_dob": pd.NA,
            "missing_name": q["reason"] == "MISSING_NAME",
        })
        s = pd.concat([s, qf], ignore_index=True)
    if "status_padan" not in staged.columns:
        s["padan"] = np.nan
    return s


def _shares(frame: pd.DataFrame) -> dict[str, float | int | None]:
    def mean(column: str) -> float | None:
        values = pd.to_numeric(frame[column].astype("Float64"), errors="coerce").dropna()
        return round(float(values.mean()), 6) if len(values) else None

    return {
        "records": int(len(frame)),
        "valid_nik_share": mean("valid_nik"),
        "padan_share": mean("padan"),
        "damaged_id_share": mean("damaged_id"),
        "imprecise_dob_share": mean("imprecise_dob"),
        "missing_name_share": mean("missing_name"),
    }


def scorecard(records: dict[str, pd.DataFrame], run_id: str, run_at: dt.datetime,
              kecamatan_names: dict[str, str]) -> pd.DataFrame:
    """Rows per feed (level `feed`, kecamatan `*`) and per feed and kecamatan (level `kecamatan`)."""
    rows = []
    for feed, frame in records.items():
        rows.append({"feed": feed, "level": "feed", "kode_kecamatan": ALL_KECAMATAN, "kecamatan": None,
                     **_shares(frame)})
        keyed = frame.assign(kode_kecamatan=frame["kode_kecamatan"].fillna("unknown"))
        for code, part in keyed.groupby("kode_kecamatan", sort=True):
            rows.append({"feed": feed, "level": "kecamatan", "kode_kecamatan": code,
                         "kecamatan": kecamatan_names.get(code), **_shares(part)})
    out = pd.DataFrame(rows, columns=[c for c in SCORECARD_COLUMNS if c not in ("run_id", "run_at")])
    out.insert(0, "run_at", pd.Timestamp(run_at).tz_localize(None) if pd.Timestamp(run_at).tzinfo else run_at)
    out.insert(0, "run_id", run_id)
    for column in ("valid_nik_share", "padan_share", "damaged_id_share", "imprecise_dob_share", "missing_name_share"):
        out[column] = out[column].astype("float64")
    out["kecamatan"] = out["kecamatan"].astype("str")
    out["run_at"] = pd.to_datetime(out["run_at"])
    return out[list(SCORECARD_COLUMNS)]


def markdown(card: pd.DataFrame) -> str:
    """The per-feed rows as a small table (percentages), for Dagster metadata and reports."""
    lines = ["| feed | records | valid NIK | padan | damaged ids | imprecise DOB | missing name |",
             "|---|---:|---:|---:|---:|---:|---:|"]

    def pct(v: float | None) -> str:
        return "" if v is None or pd.isna(v) else f"{100 * v:.1f}%"

    for r in card[card["level"] == "feed"].itertuples():
        lines.append(f"| {r.feed} | {r.records:,} | {pct(r.valid_nik_share)} | {pct(r.padan_share)} "
                     f"| {pct(r.damaged_id_share)} | {pct(r.imprecise_dob_share)} | {pct(r.missing_name_share)} |")
    return "\n".join(lines)


SHARE_COLUMNS = ("valid_nik_share", "padan_share", "damaged_id_share", "imprecise_dob_share", "missing_name_share")


def feed_numbers(card: pd.DataFrame) -> dict[str, float]:
    """`<feed>/<share>` for every feed-level share that has a value (padan only where the feed says),
    as plain numbers the UI plots across runs."""
    feeds = card[card["level"] == "feed"]
    return {f"{r['feed']}/{column}": float(r[column]) for _, r in feeds.iterrows()
            for column in SHARE_COLUMNS if pd.notna(r[column])}
