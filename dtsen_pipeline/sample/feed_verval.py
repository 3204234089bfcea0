"""The `verval` feed: field verification decisions, approved tier by tier (docs/feeds.md).

Decisions concern about 1-2% of families and are grounded in the truth: MENINGGAL for dead
recipients, PINDAH, TIDAK_LAYAK for well-off recipients, LAYAK, GANDA for a real DTSEN
duplicate pair, BUKAN_GANDA for look-alikes (same NIK prefix and birth date, different
people), USULAN_BARU for poor families missing from DTSEN, TIDAK_DITEMUKAN. Some pekon
decisions are confirmed or overturned at kecamatan level, a few again at kabupaten level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from dtsen_pipeline.sample.context import Context, month_shift
from dtsen_pipeline.sample.damage import Damager
from dtsen_pipeline.sample.feed_dtsen import DtsenResult
from dtsen_pipeline.sample.population import HILANG, MATI, PINDAH
from dtsen_pipeline.sample.writers import EMPTY_ROW, Junk, Table

HEADER = [
    "ID_KELUARGA",
    "NO_KK",
    "NIK",
    "NAMA",
    "HASIL",
    "NIK_GANDA",
    "TINGKAT",
    "TANGGAL",
    "PETUGAS",
    "KODE_DESA",
    "CATATAN",
]
SHARES: dict[str, float] = {
    "MENINGGAL": 0.22,
    "PINDAH": 0.13,
    "TIDAK_LAYAK": 0.15,
    "LAYAK": 0.14,
    "GANDA": 0.12,
    "BUKAN_GANDA": 0.07,
    "USULAN_BARU": 0.12,
    "TIDAK_DITEMUKAN": 0.05,
}
NOTES: dict[str, tuple[str, ...]] = {
    "MENINGGAL": (
        "MENINGGAL DUNIA, SURAT KETERANGAN KEMATIAN DARI PEKON",
        "SUDAH MENINGGAL",
        "KPM MENINGGAL",
    ),
    "PINDAH": ("PINDAH DOMISILI KELUAR KABUPATEN", "SUDAH PINDAH IKUT ANAK", "PINDAH KERJA"),
    "TIDAK_LAYAK": (
        "RUMAH PERMANEN, MEMILIKI KENDARAAN RODA 4",
        "ANGGOTA KELUARGA ASN",
        "PENGHASILAN DI ATAS UMK",
        "MEMILIKI KEBUN LUAS",
    ),
    "LAYAK": (
        "KONDISI RUMAH TIDAK LAYAK HUNI",
        "LANSIA TINGGAL SENDIRI",
        "BURUH TANI, PENGHASILAN TIDAK TETAP",
    ),
    "GANDA": ("TERDAFTAR DUA KALI", "DATA GANDA, SATU ORANG", "GANDA DENGAN KK LAMA"),
    "BUKAN_GANDA": ("ORANG BERBEDA, TGL LAHIR SAMA", "KEMBAR, BUKAN GANDA", "BEDA ORANG"),
    "USULAN_BARU": ("KELUARGA MISKIN BELUM TERDATA", "USULAN MUSYAWARAH PEKON", "BELUM MASUK DTSEN"),
    "TIDAK_DITEMUKAN": ("TIDAK DITEMUKAN DI ALAMAT", "ALAMAT TIDAK JELAS", "TIDAK DIKENAL WARGA"),
}
FLIP: dict[str, str] = {
    "TIDAK_LAYAK": "LAYAK",
    "LAYAK": "TIDAK_LAYAK",
    "GANDA": "BUKAN_GANDA",
    "BUKAN_GANDA": "GANDA",
    "TIDAK_DITEMUKAN": "LAYAK",
}


@dataclass
class Decision:
    """One subject: a family, or one person in it, maybe a second person (GANDA pairs)."""

    hasil: str
    family: int
    person: int  # -1 when the decision is about the family only
    other: int = -1
    nik: str = ""
    nik_ganda: str = ""


@dataclass
class VervalResult:
    """Tables plus, per table row, the truth: subject person (-1 = whole family), other person."""

    tables: list[Table]
    subject: list[np.ndarray]
    other_person: list[np.ndarray]
    hasil: list[np.ndarray]


def _subjects(ctx: Context, dtsen: DtsenResult, rng: np.random.Generator) -> list[Decision]:
    pop = ctx.pop
    total = max(round(ctx.rates.verval_families * pop.n_families), len(SHARES))
    quota = {k: max(1, round(v * total)) for k, v in SHARES.items()}
    recipient = pop.recipient()
    receiving = pop.fam_pkh | pop.fam_bpnt | pop.fam_pbi
    out: list[Decision] = []

    def take(pool: np.ndarray, k: int) -> np.ndarray:
        k = min(k, len(pool))
        return np.sort(rng.choice(pool, size=k, replace=False)) if k else np.zeros(0, np.int64)

    dead_rec = recipient[receiving & (pop.status[recipient] == MATI)]
    for p in take(dead_rec, quota["MENINGGAL"]).tolist():
        out.append(Decision("MENINGGAL", int(pop.fam[p]), p, nik=dtsen.written_nik[p] or pop.nik[p]))
    moved = np.flatnonzero((pop.status == PINDAH) & dtsen.listed)
    for p in take(moved, quota["PINDAH"]).tolist():
        out.append(Decision("PINDAH", int(pop.fam[p]), p, nik=dtsen.written_nik[p] or pop.nik[p]))
    above = (pop.fam_pkh & (pop.fam_latent_desil > 4)) | (
        (pop.fam_bpnt | pop.fam_pbi) & (pop.fam_latent_desil > 5)
    )
    for f in take(np.flatnonzero(above & pop.fam_in_dtsen), quota["TIDAK_LAYAK"]).tolist():
        out.append(Decision("TIDAK_LAYAK", f, -1))
    poor = np.flatnonzero(pop.fam_in_dtsen & (pop.fam_latent_desil <= 3))
    for f in take(poor, quota["LAYAK"]).tolist():
        out.append(Decision("LAYAK", f, -1))
    if dtsen.ganda_pairs:
        picks = take(np.arange(len(dtsen.ganda_pairs)), quota["GANDA"]).tolist()
        for j in picks:
            p, a, b = dtsen.ganda_pairs[j]
            out.append(Decision("GANDA", int(pop.fam[p]), p, other=p, nik=a, nik_ganda=b))
    listed = np.flatnonzero(dtsen.listed)
    prefix = np.array([s[:12] for s in pop.nik[listed]], dtype=object)
    order = np.argsort(prefix, kind="stable")
    same = np.flatnonzero(prefix[order][1:] == prefix[order][:-1])
    for j in take(same, quota["BUKAN_GANDA"]).tolist():
        a, b = int(listed[order[j]]), int(listed[order[j + 1]])
        out.append(Decision("BUKAN_GANDA", int(pop.fam[a]), a, other=b, nik=pop.nik[a], nik_ganda=pop.nik[b]))
    missing = np.flatnonzero(~pop.fam_in_dtsen & (pop.fam_latent_desil <= 3))
    for f in take(missing, quota["USULAN_BARU"]).tolist():
        out.append(Decision("USULAN_BARU", f, int(pop.fam_head[f]), nik=pop.nik[pop.fam_head[f]]))
    lost = np.flatnonzero((pop.status == HILANG) & dtsen.listed)
    for p in take(lost, quota["TIDAK_DITEMUKAN"]).tolist():
        out.append(Decision("TIDAK_DITEMUKAN", int(pop.fam[p]), p, nik=dtsen.written_nik[p] or pop.nik[p]))
    return out


def build_verval(ctx: Context, dtsen: DtsenResult) -> VervalResult:
    """Pekon decisions over two months, kecamatan confirmations, a few kabupaten ones."""
    pop = ctx.pop
    rng = ctx.rng("verval")
    dmg = Damager(pop, ctx.rng("verval.damage"))
    decisions = _subjects(ctx, dtsen, rng)
    prev = month_shift(ctx.as_of, -1)
    cur = month_shift(ctx.as_of, 0)
    files = {
        "pekon_prev": (f"verval/VERVAL_{prev:%Y-%m}_PEKON.xlsx", "PEKON", prev, "xlsx"),
        "pekon_cur": (f"verval/VERVAL_{cur:%Y-%m}_PEKON.csv", "PEKON", cur, "csv"),
        "kec": (f"verval/VERVAL_{cur:%Y-%m}_KECAMATAN.csv", "KECAMATAN", cur, "csv"),
        "kab": (f"verval/VERVAL_{cur:%Y-%m}_KABUPATEN.xlsx", "KABUPATEN", cur, "xlsx"),
    }
    rows: dict[str, list[tuple[Decision, str]]] = {k: [] for k in files}
    for d in decisions:
        first = "pekon_prev" if rng.random() < 0.5 else "pekon_cur"
        rows[first].append((d, d.hasil))
        if rng.random() < 0.4:
            hasil = FLIP.get(d.hasil, d.hasil) if rng.random() < 0.1 else d.hasil
            rows["kec"].append((d, hasil))
            if rng.random() < 0.25:
                rows["kab"].append((d, hasil))
    tables: list[Table] = []
    subjects: list[np.ndarray] = []
    others: list[np.ndarray] = []
    hasils: list[np.ndarray] = []
    for key, (relpath, tier, month, kind) in files.items():
        items = rows[key]
        n = len(items)
        person = np.array([d.person for d, _ in items], dtype=np.int64)
        family = np.array([d.family for d, _ in items], dtype=np.int64)
        named = np.where(person >= 0, person, pop.fam_head[family]) if n else np.zeros(0, np.int64)
        last_day = ctx.as_of.day if (month.year, month.month) == (ctx.as_of.year, ctx.as_of.month) else 28
        days = rng.integers(1, last_day + 1, n)
        tanggal = [date(month.year, month.month, int(x)) for x in days.tolist()]
        notes = [
            NOTES[h][int(u * len(NOTES[h]))] for (_, h), u in zip(items, rng.random(n).tolist(), strict=True)
        ]
        kec = [pop.villages.kec_code[pop.fam_village[f]] for f in family.tolist()]
        columns: dict[str, list[object]] = {
            "ID_KELUARGA": [dtsen.id_keluarga[f] for f in family.tolist()],
            "NO_KK": pop.fam_kk[family].tolist(),
            "NIK": [d.nik for d, _ in items],
            "NAMA": dmg.names(named, 0.15).tolist() if n else [],
            "HASIL": [h for _, h in items],
            "NIK_GANDA": [d.nik_ganda for d, _ in items],
            "TINGKAT": [tier] * n,
            "TANGGAL": tanggal if kind == "xlsx" else [t.isoformat() for t in tanggal],
            "PETUGAS": [
                f"PS-{k.replace('.', '')}-{int(u * 40) + 1:03d}"
                for k, u in zip(kec, rng.random(n).tolist(), strict=True)
            ],
            "KODE_DESA": pop.villages.code[pop.fam_village[family]].tolist(),
            "CATATAN": notes,
        }
        junk = [Junk(EMPTY_ROW, at=n // 2)] if key == "kec" and n >= 4 else []
        tables.append(
            Table(
                feed="verval",
                relpath=relpath,
                header=HEADER,
                columns=columns,
                person=named,
                family=family,
                kind=kind,
                sep=",",
                encoding="utf-8",
                sheet="VERVAL",
                junk=junk,
                created=ctx.created,
            )
        )
        subjects.append(person)
        others.append(np.array([d.other for d, _ in items], dtype=np.int64))
        hasils.append(np.array([h for _, h in items], dtype=object))
    return VervalResult(tables, subjects, others, hasils)
