"""The `bansos` feed: programme recipient lists, one file per programme and period (section 3).

One row per recipient family (the mother, else the head). Recipients repeat across periods,
each row a separate source record. Lists passed through Excel: many NIK_KPM/NO_KK cells are
numbers whose 16th digit became 0, a few are text like '1.80601E+15'; the CSV export has a
few '.0' suffixes. Dead recipients and families that moved away are still paid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dtsen_pipeline.sample import odd_values
from dtsen_pipeline.sample.context import Context, month_shift
from dtsen_pipeline.sample.damage import Damager
from dtsen_pipeline.sample.identifiers import excel_16th_digit_zero, excel_scientific
from dtsen_pipeline.sample.regions import undotted
from dtsen_pipeline.sample.writers import REPEATED_HEADER, SUMMARY_ROW, Junk, Table

HEADER = [
    "PROGRAM",
    "PERIODE",
    "NIK_KPM",
    "NO_KK",
    "NAMA_KPM",
    "ALAMAT",
    "KODE_DESA",
    "NAMA_DESA",
    "NAMA_KEC",
    "NOMINAL",
]


@dataclass(frozen=True)
class ListSpec:
    """One delivered list: programme, period label, whether it is the current period, format."""

    program: str
    periode: str
    current: bool
    kind: str  # xlsx | csv
    dotted: float  # share of KODE_DESA written dotted


def list_specs(ctx: Context) -> list[ListSpec]:
    """PKH by tahap (quarter), BPNT and PBI-JK by month, relative to the as-of date."""
    d = ctx.as_of
    q = (d.month - 1) // 3 + 1
    prev_q_year, prev_q = (d.year, q - 1) if q > 1 else (d.year - 1, 4)
    prev_m = month_shift(d, -1)
    return [
        ListSpec("PKH", f"{prev_q_year}-T{prev_q}", False, "xlsx", 1.0),
        ListSpec("PKH", f"{d.year}-T{q}", True, "xlsx", 1.0),
        ListSpec("BPNT", f"{prev_m.year}-{prev_m.month:02d}", False, "xlsx", 0.0),
        ListSpec("BPNT", f"{d.year}-{d.month:02d}", True, "csv", 0.0),
        ListSpec("PBI-JK", f"{d.year}-{d.month:02d}", True, "xlsx", 0.5),
    ]


def _members(ctx: Context, program: str, current: bool, rng: np.random.Generator) -> np.ndarray:
    """Families on the list: the true members now; an older list has some churn."""
    pop = ctx.pop
    truth = {"PKH": pop.fam_pkh, "BPNT": pop.fam_bpnt, "PBI-JK": pop.fam_pbi}[program]
    fams = np.flatnonzero(truth)
    if current:
        return fams
    churn = ctx.rates.bansos_period_churn
    stayed = fams[rng.random(len(fams)) >= churn]
    former_pool = np.flatnonzero(~truth & pop.fam_in_dtsen & (pop.fam_latent_desil <= 6))
    k = min(round(churn * len(fams)), len(former_pool))
    former = rng.choice(former_pool, size=k, replace=False) if k else np.zeros(0, np.int64)
    return np.sort(np.concatenate([stayed, former]))


def _nominal(ctx: Context, program: str, fams: np.ndarray) -> np.ndarray:
    """Rupiah per row: PKH per tahap by components, BPNT 200k/month, PBI-JK premium per member."""
    pop = ctx.pop
    if program == "BPNT":
        return np.full(len(fams), 200_000)
    if program == "PBI-JK":
        return pop.fam_size[fams] * 42_000
    age = (np.datetime64(ctx.as_of, "D") - pop.dob).astype(int) / 365.25
    comp = np.select(
        [age < 6, age < 13, age < 16, age < 19, age >= 70], [750_000, 225_000, 375_000, 500_000, 600_000], 0
    )
    alive = pop.status == 0
    per_fam = np.zeros(pop.n_families, np.int64)
    np.add.at(per_fam, pop.fam, np.where(alive, comp, 0))
    return np.clip(per_fam[fams], 225_000, 2_400_000)


def build_bansos(ctx: Context) -> list[Table]:
    """One table per programme list."""
    pop, rates = ctx.pop, ctx.rates
    recipient = pop.recipient()
    tables: list[Table] = []
    for spec in list_specs(ctx):
        tag = f"bansos.{spec.program}.{spec.periode}"
        rng = ctx.rng(tag)
        dmg = Damager(pop, ctx.rng(tag + ".damage"))
        fams = _members(ctx, spec.program, spec.current, rng)
        p = recipient[fams]
        code, vname, kname = dmg.village_codes(pop.fam_village[fams], rates.out_of_scope_village)
        order = np.lexsort((fams, code))
        fams, p, code, vname, kname = fams[order], p[order], code[order], vname[order], kname[order]
        n = len(p)
        nik = dmg.ids(pop.nik[p], rates.nik_typo)
        kk = dmg.ids(pop.fam_kk[fams], rates.kk_typo)
        nik_cells, kk_cells = (
            _excel_damage(nik, spec.kind, rng, rates),
            _excel_damage(kk, spec.kind, rng, rates),
        )
        dotted = rng.random(n) < spec.dotted
        kode = np.where(dotted, code, [undotted(c) for c in code])
        prefix = np.where(rng.random(n) < 0.3, "PEKON ", "")
        nominal = _nominal(ctx, spec.program, fams)
        alamat, split = pop.fam_alamat[fams], None
        if spec.kind == "csv":  # a workbook has no separators to break
            alamat, split = odd_values.split_addresses(ctx, tag, alamat, ";")
        columns: dict[str, list[object]] = {
            "PROGRAM": [spec.program] * n,
            "PERIODE": [spec.periode] * n,
            "NIK_KPM": nik_cells,
            "NO_KK": kk_cells,
            "NAMA_KPM": dmg.names(p, rates.name_variant).tolist(),
            "ALAMAT": alamat.tolist(),
            "KODE_DESA": kode.tolist(),
            "NAMA_DESA": [f"{a}{b.upper()}" for a, b in zip(prefix.tolist(), vname.tolist(), strict=True)],
            "NAMA_KEC": [k.upper() for k in kname.tolist()],
            "NOMINAL": nominal.tolist() if spec.kind == "xlsx" else nominal.astype(str).tolist(),
        }
        header = list(HEADER)
        junk: list[Junk] = []
        if spec.kind == "csv":
            header.append("KETERANGAN")
            columns["KETERANGAN"] = np.where(rng.random(n) < 0.05, "SALUR ULANG", "").tolist()
            junk.append(Junk(REPEATED_HEADER, at=int(n * 0.5)))
        elif spec.current and spec.program == "PKH":
            total = int(nominal.sum())
            junk.append(
                Junk(SUMMARY_ROW, values={"PROGRAM": "JUMLAH", "NAMA_KPM": f"{n} KPM", "NOMINAL": total})
            )
        name = f"bansos/{spec.program}_{spec.periode}.{spec.kind}"
        tables.append(
            Table(
                feed="bansos",
                relpath=name,
                header=header,
                columns=columns,
                person=p,
                family=pop.fam[p],
                kind=spec.kind,
                sep=";",
                encoding="utf-8",
                sheet="KPM",
                junk=junk,
                created=ctx.created,
                unquoted_column="ALAMAT" if split is not None else None,
                unquoted_rows=split,
            )
        )
    return tables


def _excel_damage(values: np.ndarray, kind: str, rng: np.random.Generator, rates) -> list[object]:
    """Excel damage on 16-digit ids: numbers with the 16th digit zeroed, scientific text, '.0'."""
    out: list[object] = values.tolist()
    n = len(out)
    if kind == "xlsx":
        share = rates.xlsx_id_as_number_min + rng.random() * (
            rates.xlsx_id_as_number_max - rates.xlsx_id_as_number_min
        )
        u = rng.random(n)
        for i in np.flatnonzero(u < share).tolist():
            if out[i]:
                out[i] = excel_16th_digit_zero(out[i])
        for i in np.flatnonzero((u >= share) & (u < share + rates.xlsx_id_scientific)).tolist():
            if out[i]:
                out[i] = excel_scientific(out[i])
    else:
        for i in np.flatnonzero(rng.random(n) < rates.csv_id_dot_zero).tolist():
            if out[i]:
                out[i] = f"{out[i]}.0"
    return out
