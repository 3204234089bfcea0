"""The kabupaten's summary report: one self-contained HTML file of counts and inline charts.

For the monthly coordination meeting: flags per kecamatan, verification progress, the desil
distribution, and programmes against eligibility. Counts only: no NIK, No. KK, name, birth
date or address goes in, and the file needs no network (no script, font, stylesheet or image
from elsewhere). Built from the golden build tables (and the place names of reference.village).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

import pandas as pd

from dtsen_pipeline.golden.flags import FLAGS, VERVAL_STATUSES
from dtsen_pipeline.reports.svg import grouped_columns, stacked_bars

PROGRAMMES: tuple[tuple[str, str], ...] = (("PKH", "pkh"), ("BPNT", "bpnt"), ("PBI-JK", "pbi_jk"))


@dataclass(frozen=True)
class ReportContext:
    scope: str  # e.g. 18.06
    period: str  # YYYY-MM
    run_id: str
    generated_at: dt.datetime


def flags_per_kecamatan(flags: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """Rows: kecamatan (code and name); columns: one count per flag code, in catalogue order."""
    names = villages.drop_duplicates("kode_kecamatan").set_index("kode_kecamatan")["kecamatan_name"]
    counts = flags.groupby(["kode_kecamatan", "flag"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=names.index.union(counts.index), columns=[f.code for f in FLAGS], fill_value=0)
    counts.index.name = "kode_kecamatan"
    out = counts.reset_index()
    out.insert(1, "kecamatan", out["kode_kecamatan"].map(names).fillna("(di luar wilayah)"))
    return out


def verification_progress(flags: pd.DataFrame) -> pd.DataFrame:
    table = flags.groupby(["flag", "verval_status"]).size().unstack(fill_value=0)
    return table.reindex(index=[f.code for f in FLAGS], columns=list(VERVAL_STATUSES), fill_value=0)


def desil_distribution(households: pd.DataFrame) -> pd.Series:
    desil = households["desil"].astype("Int64")
    counts = desil.value_counts().reindex(range(1, 11), fill_value=0)
    counts.index = [str(i) for i in counts.index]
    counts["belum ada"] = int(desil.isna().sum())
    return counts.astype(int)


def programme_eligibility(households: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """Per programme: recipients within and above the ceiling, recipients without desil, and
    eligible families (desil at or below the ceiling) not on the programme."""
    ceiling = rules.set_index("program")["max_desil"]
    desil = households["desil"].astype("Float64")
    rows = []
    for program, column in PROGRAMMES:
        on = households[column].fillna(False).astype(bool)
        within = (desil <= ceiling[program]).fillna(False).astype(bool)
        above = (desil > ceiling[program]).fillna(False).astype(bool)
        rows.append({"program": program, "ceiling": int(ceiling[program]),
                     "penerima, desil sesuai": int((on & within).sum()),
                     "penerima, desil di atas batas": int((on & above).sum()),
                     "penerima, tanpa desil": int((on & desil.isna()).sum()),
                     "layak, bukan penerima": int((~on & within).sum())})
    return pd.DataFrame(rows)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False, name=None))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """body{font-family:sans-serif;margin:24px;color:#222;max-width:980px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#eef3f8}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:12px}
.kpi{display:inline-block;margin:4px 16px 4px 0}.kpi b{font-size:18px;display:block}"""


def render_report(ctx: ReportContext, persons: pd.DataFrame, households: pd.DataFrame, flags: pd.DataFrame,
                  villages: pd.DataFrame, rules: pd.DataFrame) -> str:
    """The whole report as one HTML document (inline CSS and SVG only)."""
    per_kec = flags_per_kecamatan(flags, villages)
    codes = [f.code for f in FLAGS]
    progress = verification_progress(flags)
    desil = desil_distribution(households)
    eligibility = programme_eligibility(households, rules)
    kpis = {
        "Jiwa (orang)": len(persons),
        "Keluarga": len(households),
        "Penerima program (orang)": int(persons["is_recipient"].fillna(False).astype(bool).sum()),
        "Flag": len(flags),
        "Flag belum diverifikasi": int((flags["verval_status"] == "UNVERIFIED").sum()),
    }
    kec_labels = [f"{k} {n}" for k, n in zip(per_kec["kode_kecamatan"], per_kec["kecamatan"], strict=True)]
    series_cols = [c for c in eligibility.columns if c not in ("program", "ceiling")]
    parts = [
        "<!DOCTYPE html><html lang=\"id\"><head><meta charset=\"utf-8\">",
        f"<title>Ringkasan DTSEN {escape(ctx.scope)} {escape(ctx.period)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Ringkasan data DTSEN kabupaten {escape(ctx.scope)}, periode {escape(ctx.period)}</h1>",
        f"<p class=\"note\">Run {escape(ctx.run_id)}, dibuat {ctx.generated_at:%Y-%m-%d %H:%M} UTC. "
        "Hanya jumlah: laporan ini tidak memuat NIK, No. KK, nama, tanggal lahir atau alamat.</p>",
        "".join(f"<span class=\"kpi\"><b>{v:,}</b>{escape(k)}</span>" for k, v in kpis.items()),
        "<h2>Flag per kecamatan</h2>",
        stacked_bars(kec_labels, codes, per_kec[codes].to_numpy().tolist(), "Flag per kecamatan (semua status)"),
        _table(per_kec),
        "<h2>Kemajuan verifikasi (status verval per flag)</h2>",
        _table(progress.reset_index()),
        "<h2>Sebaran desil keluarga</h2>",
        grouped_columns(list(desil.index), ["keluarga"], [[int(v)] for v in desil.to_numpy()],
                        "Keluarga per desil DTSEN"),
        "<h2>Program dan kelayakan</h2>",
        grouped_columns(list(eligibility["program"]), series_cols, eligibility[series_cols].to_numpy().tolist(),
                        "Keluarga per program: penerima menurut desil, dan keluarga layak yang belum menerima"),
        _table(eligibility),
        "<p class=\"note\">Batas desil per program dari reference.programme_rule (dapat diatur: "
        "DTSEN_MAX_DESIL_PKH, DTSEN_MAX_DESIL_BPNT, DTSEN_MAX_DESIL_PBI_JK).</p>",
        "<h2>Arti flag</h2>",
        _table(pd.DataFrame([{"flag": f.code, "subjek": f.subject, "arti": f.meaning,
                              "alasan": ", ".join(r.code for r in f.reasons)} for f in FLAGS])),
        "</body></html>",
    ]
    return "\n".join(parts)
