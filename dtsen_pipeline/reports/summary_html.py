"""The kabupaten's summary report: the document for the monthly coordination meeting (rakor).

One self-contained HTML file, printable on A4 (page breaks between sections), in Bahasa Indonesia
with Indonesian number and date formats and times in WIB. It says which kabupaten and which data
date; what changed since the last report; the flags by kecamatan and what they mean; how far
verification has come at each tier (pekon -> kecamatan -> kabupaten); the data quality of each
feed with its trend; the desil distribution; programmes against eligibility.

Counts only: no NIK, No. KK, name, birth date or address goes in, and the file needs no network
(no script, font, stylesheet or image from elsewhere). Every word staff read comes from
`reports.labels` (the catalogue) or this module; codes appear only beside their Indonesian label.
The figures are computed here from frames the `reports/summary` asset reads (`report_data`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import pandas as pd

from dtsen_pipeline.golden.flags import FLAGS, TIER_RANK, UNVERIFIED, VERVAL_STATUSES
from dtsen_pipeline.reports import formats as fmt
from dtsen_pipeline.reports.labels import (
    FEED_LABELS,
    FLAG_LABELS,
    FLAG_SUBJECT,
    QUALITY_LABELS,
    SUBJECT_LABELS,
    TIER_LABELS,
    VERVAL_STATUS_LABELS,
)
from dtsen_pipeline.reports.svg import grouped_columns, lines, stacked_bars

PROGRAMMES: tuple[tuple[str, str], ...] = (("PKH", "pkh"), ("BPNT", "bpnt"), ("PBI-JK", "pbi_jk"))
TIERS: tuple[str, ...] = tuple(sorted(TIER_RANK, key=TIER_RANK.__getitem__))  # PEKON, KECAMATAN, KABUPATEN
OUTSIDE = "(di luar wilayah)"
TREND_RUNS = 12  # the quality trend shows this many publications at most


@dataclass(frozen=True)
class ReportContext:
    scope: str  # e.g. 18.06
    scope_name: str  # e.g. Kabupaten Tanggamus
    period: str  # YYYY-MM
    data_date: dt.date  # the run's date: the data as they stood that day
    run_id: str
    generated_at: dt.datetime  # UTC


@dataclass(frozen=True)
class Snapshot:
    """The headline figures of one publication, so a report can say what changed since the last."""

    published_at: dt.datetime | None  # UTC
    persons: int
    households: int
    recipients: int
    flags: dict[str, int] = field(default_factory=dict)  # flag code -> count
    decided: int = 0  # flags a decision in force answers (status other than UNVERIFIED)


def snapshot(persons: pd.DataFrame, households: pd.DataFrame, flags: pd.DataFrame,
             published_at: dt.datetime | None = None) -> Snapshot:
    counts = flags["flag"].value_counts()
    return Snapshot(published_at=published_at, persons=len(persons), households=len(households),
                    recipients=int(persons["is_recipient"].fillna(False).astype(bool).sum()),
                    flags={f.code: int(counts.get(f.code, 0)) for f in FLAGS},
                    decided=int((flags["verval_status"] != UNVERIFIED).sum()))


def flag_name(code: str) -> str:
    return FLAG_LABELS[code][0] if code in FLAG_LABELS else code


def kecamatan_names(villages: pd.DataFrame) -> pd.Series:
    return villages.drop_duplicates("kode_kecamatan").set_index("kode_kecamatan")["kecamatan_name"]


def flags_per_kecamatan(flags: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """Rows: kecamatan (code and name); columns: one count per flag code, in catalogue order."""
    names = kecamatan_names(villages)
    counts = flags.groupby(["kode_kecamatan", "flag"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=names.index.union(counts.index), columns=[f.code for f in FLAGS], fill_value=0)
    counts.index.name = "kode_kecamatan"
    out = counts.reset_index()
    out.insert(1, "kecamatan", out["kode_kecamatan"].map(names).fillna(OUTSIDE))
    return out


def verification_progress(flags: pd.DataFrame) -> pd.DataFrame:
    """Flags per flag code and verval status."""
    table = flags.groupby(["flag", "verval_status"]).size().unstack(fill_value=0)
    return table.reindex(index=[f.code for f in FLAGS], columns=list(VERVAL_STATUSES), fill_value=0)


def progress_per_tier(flags: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """Per kecamatan: flags, flags still open, flags decided at each tier (the decision in force)."""
    decided = flags["verval_status"] != UNVERIFIED
    frame = pd.DataFrame({
        "kode_kecamatan": flags["kode_kecamatan"],
        "flags": 1,
        "open": (~decided).astype(int),
        **{tier: (decided & (flags["verval_tingkat"] == tier)).astype(int) for tier in TIERS},
    })
    names = kecamatan_names(villages)
    out = frame.groupby("kode_kecamatan").sum().reindex(names.index.union(frame["kode_kecamatan"].dropna().unique()),
                                                        fill_value=0)
    out.index.name = "kode_kecamatan"
    out = out.reset_index()
    out.insert(1, "kecamatan", out["kode_kecamatan"].map(names).fillna(OUTSIDE))
    return out


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


# HTML building blocks. Cells are text (escaped here) or Markup (already HTML).

class Markup(str):
    """HTML that is written as it is (built here from escaped parts)."""


class Figure(str):
    """A figure already written in Indonesian format (a change, a share): text, right-aligned."""


def _cell(value: object, tag: str) -> str:
    if isinstance(value, Markup):
        body = str(value)
    elif isinstance(value, bool):
        body = "ya" if value else "tidak"
    elif isinstance(value, int | float):
        body = escape(fmt.number(value))
    else:
        body = escape(str(value))
    numeric = isinstance(value, Figure) or (isinstance(value, int | float) and not isinstance(value, bool))
    return f"<{tag} class=\"num\">{body}</{tag}>" if numeric else f"<{tag}>{body}</{tag}>"


def table(head: Sequence[str], rows: Sequence[Sequence[object]], total: Sequence[object] | None = None) -> str:
    parts = ["<table><thead><tr>", "".join(f"<th>{escape(h)}</th>" for h in head), "</tr></thead><tbody>"]
    parts += ["<tr>" + "".join(_cell(v, "td") for v in row) + "</tr>" for row in rows]
    parts.append("</tbody>")
    if total is not None:
        parts.append("<tfoot><tr>" + "".join(_cell(v, "th") for v in total) + "</tr></tfoot>")
    parts.append("</table>")
    return "".join(parts)


def with_code(label: str, code: str) -> Markup:
    """A label with its code beside it, small: the code is what the worklists and tables carry."""
    return Markup(f"{escape(label)} <span class=\"code\">{escape(code)}</span>")


_STYLE = """@page{size:A4;margin:14mm 12mm}
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;color:#222;max-width:186mm;font-size:12px}
h1{font-size:19px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 6px;border-bottom:1px solid #bbb}
h3{font-size:13px;margin:14px 0 4px}
table{border-collapse:collapse;font-size:11px;margin:6px 0;width:100%}
th,td{border:1px solid #ccc;padding:2px 5px;text-align:left;vertical-align:top}
th{background:#eef3f8}td.num,th.num{text-align:right;white-space:nowrap}tfoot th{background:#f5f5f5}
.note{color:#555;font-size:11px}.code{color:#666;font-size:9px;font-family:monospace}
.meta{border:1px solid #ccc;padding:6px 8px;margin:6px 0 10px;background:#fafafa}
.kpi{display:inline-block;margin:4px 14px 4px 0;min-width:120px}.kpi b{font-size:17px;display:block}
.up{color:#a33}.down{color:#286}svg{max-width:100%;height:auto}
section{break-inside:avoid}.page{break-before:page}
@media print{body{margin:0;max-width:none}.kpi{min-width:0}}"""


def _change(now: int, before: int | None) -> str:
    return fmt.EMPTY if before is None else fmt.signed(now - before)


def _headline(now: Snapshot, before: Snapshot | None) -> list[str]:
    kpis = [("Jiwa", now.persons, None if before is None else before.persons),
            ("Keluarga", now.households, None if before is None else before.households),
            ("Penerima bansos (jiwa)", now.recipients, None if before is None else before.recipients),
            ("Flag", sum(now.flags.values()), None if before is None else sum(before.flags.values())),
            ("Flag sudah diputus", now.decided, None if before is None else before.decided)]
    parts = ["<div>"]
    for label, value, prev in kpis:
        change = "" if prev is None else f" <span class=\"note\">({escape(_change(value, prev))})</span>"
        parts.append(f"<span class=\"kpi\"><b>{escape(fmt.number(value))}</b>{escape(label)}{change}</span>")
    parts.append("</div>")
    if before is None:
        parts.append("<p class=\"note\">Ini laporan pertama: belum ada laporan sebelumnya sebagai pembanding.</p>")
    else:
        parts.append(f"<p class=\"note\">Angka dalam kurung: perubahan sejak laporan sebelumnya "
                     f"({escape(fmt.wib(before.published_at))}).</p>")
    return parts


def _changes(now: Snapshot, before: Snapshot | None) -> list[str]:
    parts = ["<section><h2>1. Perubahan sejak laporan sebelumnya</h2>"]
    if before is None:
        parts.append("<p>Belum ada laporan sebelumnya: bagian ini terisi mulai laporan berikutnya.</p></section>")
        return parts
    rows: list[list[object]] = [
        ["Jiwa", before.persons, now.persons, Figure(_change(now.persons, before.persons))],
        ["Keluarga", before.households, now.households, Figure(_change(now.households, before.households))],
        ["Penerima bansos (jiwa)", before.recipients, now.recipients,
         Figure(_change(now.recipients, before.recipients))],
        ["Flag sudah diputus", before.decided, now.decided, Figure(_change(now.decided, before.decided))],
    ]
    for f in FLAGS:
        was, is_ = before.flags.get(f.code, 0), now.flags.get(f.code, 0)
        rows.append([with_code("Flag: " + flag_name(f.code), f.code), was, is_, Figure(_change(is_, was))])
    parts.append(f"<p class=\"note\">Laporan sebelumnya: data terbit {escape(fmt.wib(before.published_at))}.</p>")
    parts.append(table(["Angka", "Laporan sebelumnya", "Sekarang", "Perubahan"], rows))
    parts.append("</section>")
    return parts


def _flags_section(flags: pd.DataFrame, villages: pd.DataFrame) -> list[str]:
    per_kec = flags_per_kecamatan(flags, villages)
    codes = [f.code for f in FLAGS]
    labels = [f"{k} {n}" for k, n in zip(per_kec["kode_kecamatan"], per_kec["kecamatan"], strict=True)]
    names = [flag_name(c) for c in codes]
    rows = [[Markup(f"{escape(r['kecamatan'])} <span class=\"code\">{escape(r['kode_kecamatan'])}</span>"),
             *[int(r[c]) for c in codes], int(sum(r[c] for c in codes))] for _, r in per_kec.iterrows()]
    total = ["Jumlah", *[int(per_kec[c].sum()) for c in codes], int(per_kec[codes].to_numpy().sum())]
    meanings = [[Markup(f"<b>{escape(flag_name(f.code))}</b>"), Markup(f"<span class=\"code\">{escape(f.code)}</span>"),
                 SUBJECT_LABELS[FLAG_SUBJECT[f.subject]], FLAG_LABELS[f.code][1]] for f in FLAGS]
    return [
        "<section class=\"page\"><h2>2. Flag per kecamatan</h2>",
        "<p>Flag adalah tanda bahwa data seseorang atau sebuah keluarga perlu diperiksa di lapangan. "
        "Jumlah di bawah mencakup semua flag, yang sudah maupun yang belum diverifikasi.</p>",
        stacked_bars(labels, names, per_kec[codes].to_numpy().tolist(), "Flag per kecamatan", fmt=fmt.number),
        "</section><section>",
        table(["Kecamatan", *names, "Jumlah"], rows, total),
        "</section><section><h3>Arti flag</h3>",
        table(["Flag", "Kode", "Subjek", "Arti"], meanings),
        "</section>",
    ]


def _progress_section(flags: pd.DataFrame, villages: pd.DataFrame) -> list[str]:
    per_tier = progress_per_tier(flags, villages)
    tier_heads = [f"Diputus di tingkat {TIER_LABELS[t]}" for t in TIERS]

    def done(row) -> Figure:
        return Figure(fmt.percent((row["flags"] - row["open"]) / row["flags"]) if row["flags"] else fmt.EMPTY)

    rows = [[Markup(f"{escape(r['kecamatan'])} <span class=\"code\">{escape(r['kode_kecamatan'])}</span>"),
             int(r["flags"]), int(r["open"]), *[int(r[t]) for t in TIERS], done(r)] for _, r in per_tier.iterrows()]
    sums = per_tier[["flags", "open", *TIERS]].sum()
    total = ["Jumlah", int(sums["flags"]), int(sums["open"]), *[int(sums[t]) for t in TIERS], done(sums)]
    status = verification_progress(flags)
    status_rows = [[with_code(flag_name(code), code), *[int(status.loc[code, s]) for s in VERVAL_STATUSES]]
                   for code in status.index]
    return [
        "<section class=\"page\"><h2>3. Kemajuan verifikasi per tingkat</h2>",
        "<p>Verifikasi berjenjang: pendamping sosial memeriksa di pekon/kelurahan, kecamatan menegaskan "
        "atau membatalkan, kabupaten menetapkan. Keputusan tingkat yang lebih tinggi berlaku di atas "
        "keputusan tingkat di bawahnya. Kolom tingkat menghitung flag menurut tingkat keputusan yang berlaku.</p>",
        table(["Kecamatan", "Flag", "Belum diverifikasi", *tier_heads, "Selesai"], rows, total),
        "</section><section><h3>Status verifikasi per flag</h3>",
        table(["Flag", *[VERVAL_STATUS_LABELS[s] for s in VERVAL_STATUSES]], status_rows),
        "</section>",
    ]


def _quality_section(quality: pd.DataFrame, feeds: pd.DataFrame) -> list[str]:
    """quality: quality.scorecard_history at feed level (every run); feeds: per feed the last
    delivery's arrival, deliveries in force and quarantined rows (`report_data.feed_status`)."""
    parts = ["<section class=\"page\"><h2>4. Mutu data per sumber</h2>",
             "<p>Bagian dari catatan tiap sumber data (baris yang dimuat dan yang dikarantina). "
             "Dalam kurung: perubahan sejak data terbit sebelumnya, dalam poin persentase.</p>"]
    if quality.empty:
        return [*parts, "<p>Belum ada angka mutu data.</p></section>"]
    runs = (quality.drop_duplicates("run_id").sort_values("run_at")["run_id"].tolist())
    current, previous = runs[-1], (runs[-2] if len(runs) > 1 else None)
    shares = list(QUALITY_LABELS)
    rows = []
    for feed in [f for f in FEED_LABELS if f in set(quality["feed"])]:
        now = quality[(quality["run_id"] == current) & (quality["feed"] == feed)]
        if now.empty:
            continue
        before = quality[(quality["run_id"] == previous) & (quality["feed"] == feed)] if previous else now.iloc[0:0]
        status = feeds[feeds["feed"] == feed]
        arrived = status["arrived"].iloc[0] if len(status) else None
        row: list[object] = [with_code(FEED_LABELS[feed], feed),
                             fmt.date(pd.Timestamp(arrived).date()) if arrived is not None
                             and not pd.isna(arrived) else fmt.EMPTY,
                             int(now["records"].iloc[0]),
                             int(status["quarantined"].iloc[0]) if len(status) else 0]
        for share in shares:
            value = now[share].iloc[0]
            text = fmt.percent(None if pd.isna(value) else float(value))
            if len(before) and not pd.isna(value) and not pd.isna(before[share].iloc[0]):
                change = float(value) - float(before[share].iloc[0])
                if abs(change) >= 0.0005:
                    text += f" ({fmt.points(change)})"
            row.append(Figure(text))
        rows.append(row)
    parts.append(table(["Sumber data", "Kiriman terakhir diterima", "Catatan", "Dikarantina",
                        *[QUALITY_LABELS[s] for s in shares]], rows))
    recent = runs[-TREND_RUNS:]
    at = quality.drop_duplicates("run_id").set_index("run_id")["run_at"]
    x = [fmt.date(pd.Timestamp(at[r]).date()) for r in recent]
    feeds_shown = [f for f in FEED_LABELS if f in set(quality["feed"])]
    values = []
    for feed in feeds_shown:
        series = quality[quality["feed"] == feed].set_index("run_id")["valid_nik_share"]
        values.append([None if r not in series.index or pd.isna(series[r]) else float(series[r]) for r in recent])
    present = [v for row in values for v in row if v is not None]
    low = max(0.0, (min(present) if present else 0.0) - 0.05)
    low = float(int(low * 20)) / 20  # a multiple of 5%
    parts.append("</section><section>")
    parts.append(lines(x, [FEED_LABELS[f] for f in feeds_shown], values,
                       f"Bagian NIK sah per sumber data ({len(recent)} data terbit terakhir)",
                       fmt=lambda v: fmt.percent(v, 0), low=low, high=1.0))
    parts.append("</section>")
    return parts


def _desil_section(households: pd.DataFrame, rules: pd.DataFrame) -> list[str]:
    desil = desil_distribution(households)
    eligibility = programme_eligibility(households, rules)
    series_cols = [c for c in eligibility.columns if c not in ("program", "ceiling")]
    rows = [[r["program"], int(r["ceiling"]), *[int(r[c]) for c in series_cols]] for _, r in eligibility.iterrows()]
    return [
        "<section class=\"page\"><h2>5. Sebaran desil keluarga</h2>",
        grouped_columns(list(desil.index), ["keluarga"], [[int(v)] for v in desil.to_numpy()],
                        "Keluarga per desil DTSEN", fmt=fmt.number),
        "</section><section><h2>6. Program dan kelayakan</h2>",
        grouped_columns(list(eligibility["program"]), series_cols, eligibility[series_cols].to_numpy().tolist(),
                        "Keluarga per program: penerima menurut desil, dan keluarga layak yang belum menerima",
                        fmt=fmt.number),
        table(["Program", "Batas desil", *series_cols], rows),
        "<p class=\"note\">Batas desil tiap program dapat diatur oleh pengelola data (pengaturan "
        "DTSEN_MAX_DESIL_PKH, DTSEN_MAX_DESIL_BPNT, DTSEN_MAX_DESIL_PBI_JK).</p></section>",
    ]


def render_report(ctx: ReportContext, persons: pd.DataFrame, households: pd.DataFrame, flags: pd.DataFrame,
                  villages: pd.DataFrame, rules: pd.DataFrame, quality: pd.DataFrame | None = None,
                  feeds: pd.DataFrame | None = None, previous: Snapshot | None = None) -> str:
    """The whole report as one HTML document (inline CSS and SVG only)."""
    now = snapshot(persons, households, flags)
    quality = quality if quality is not None else pd.DataFrame(columns=["run_id", "run_at", "feed", "records"])
    feeds = feeds if feeds is not None else pd.DataFrame(columns=["feed", "arrived", "quarantined"])
    title = f"Ringkasan Data DTSEN {ctx.scope_name}, {fmt.period(ctx.period)}"
    parts = [
        "<!DOCTYPE html><html lang=\"id\"><head><meta charset=\"utf-8\">",
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<div class=\"meta\"><b>{escape(ctx.scope_name)}</b> (kode wilayah {escape(ctx.scope)}) &middot; "
        f"<b>Data per {escape(fmt.date(ctx.data_date))}</b> &middot; periode {escape(fmt.period(ctx.period))}<br>"
        f"Dibuat {escape(fmt.wib(ctx.generated_at))} &middot; nomor proses {escape(ctx.run_id[:8])}<br>"
        "Bahan rapat koordinasi. Laporan ini hanya memuat jumlah: tidak ada NIK, No. KK, nama, tanggal "
        "lahir atau alamat.</div>",
        *_headline(now, previous),
        *_changes(now, previous),
        *_flags_section(flags, villages),
        *_progress_section(flags, villages),
        *_quality_section(quality, feeds),
        *_desil_section(households, rules),
        "</body></html>",
    ]
    return "\n".join(parts)
