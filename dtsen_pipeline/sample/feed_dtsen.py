"""The `dtsen` feed: the regency's DTSEN extract, one row per person (docs/feeds.md, `dtsen`).

Besides record damage it carries the DTSEN-specific traps: families missing from DTSEN,
the dead and the moved still listed, data ganda (a family registered twice under two
ID_KELUARGA, a person still listed in a second family), STATUS_PADAN, recorded programme
flags that disagree with the real lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dtsen_pipeline.sample import formats, odd_values
from dtsen_pipeline.sample.context import Context
from dtsen_pipeline.sample.damage import Damager
from dtsen_pipeline.sample.population import MATI, PINDAH
from dtsen_pipeline.sample.regions import undotted
from dtsen_pipeline.sample.writers import REPEATED_HEADER, SUMMARY_ROW, Junk, Table

HEADER = [
    "ID_KELUARGA",
    "ID_ART",
    "NIK",
    "NO_KK",
    "NAMA",
    "TGL_LAHIR",
    "JENIS_KELAMIN",
    "HUB_KELUARGA",
    "KODE_WILAYAH",
    "ALAMAT",
    "RT",
    "RW",
    "DESIL_NASIONAL",
    "STATUS_PADAN",
    "PKH",
    "BPNT",
    "PBI_JK",
]


@dataclass
class DtsenResult:
    """The table to write plus what the verval builder needs to know about DTSEN."""

    table: Table
    id_keluarga: np.ndarray  # per family: ID of its first registration, '' when not in DTSEN
    listed: np.ndarray  # per person: has at least one DTSEN record
    written_nik: np.ndarray  # per person: NIK on its first DTSEN record ('' when none)
    ganda_pairs: list[tuple[int, str, str]]  # (person, NIK on record A, NIK on record B)
    listing_family: np.ndarray  # per written record (table order): the family it is listed under


def build_dtsen(ctx: Context) -> DtsenResult:
    """Select, duplicate, damage and format the DTSEN records."""
    pop, rates = ctx.pop, ctx.rates
    rng = ctx.rng("dtsen")
    dmg = Damager(pop, ctx.rng("dtsen.damage"))
    n = pop.n_persons
    u = rng.random(n)
    baby = (np.datetime64(ctx.as_of, "D") - pop.dob).astype(int) < 365
    keep = np.select(
        [pop.status == MATI, pop.status == PINDAH, baby],
        [u < rates.dtsen_lists_dead, u < rates.dtsen_lists_moved, u >= rates.dtsen_missing_baby],
        True,
    )
    base = np.flatnonzero(pop.fam_in_dtsen[pop.fam] & keep)
    # records: person, listing family, registration copy (0 first, 1 the family's duplicate)
    rec_p = [base]
    rec_f = [pop.fam[base]]
    rec_c = [np.zeros(len(base), np.int64)]
    dtsen_fams = np.flatnonzero(pop.fam_in_dtsen)
    twice = dtsen_fams[rng.random(len(dtsen_fams)) < rates.dtsen_family_registered_twice]
    dup = base[np.isin(pop.fam[base], twice)]
    rec_p.append(dup)
    rec_f.append(pop.fam[dup])
    rec_c.append(np.ones(len(dup), np.int64))
    age = (np.datetime64(ctx.as_of, "D") - pop.dob).astype(int) / 365.25
    movable = base[(age[base] >= 17) & np.isin(pop.rel[base], (2, 3, 4, 8))]
    k = min(round(rates.dtsen_person_in_second_family * len(base)), len(movable))
    second = np.sort(rng.choice(movable, size=k, replace=False)) if k else np.zeros(0, np.int64)
    other_fam = dtsen_fams[rng.integers(0, len(dtsen_fams), len(second))]
    clash = other_fam == pop.fam[second]
    other_fam[clash] = dtsen_fams[(np.searchsorted(dtsen_fams, other_fam[clash]) + 1) % len(dtsen_fams)]
    rec_p.append(second)
    rec_f.append(other_fam)
    rec_c.append(np.zeros(len(second), np.int64))
    p = np.concatenate(rec_p)
    lf = np.concatenate(rec_f)
    copy = np.concatenate(rec_c)
    is_second = np.r_[np.zeros(len(p) - len(second), bool), np.ones(len(second), bool)]

    # family-level (per registration unit) attributes
    unit = lf * 2 + copy
    units, uinv = np.unique(unit, return_inverse=True)
    ids = rng.choice(9 * 10**10, size=len(units), replace=False) + 10**10
    unit_fam = units // 2
    unit_village = pop.fam_village[unit_fam].copy()
    relocated = (units % 2 == 1) & (rng.random(len(units)) < 0.5)
    unit_village[relocated] = rng.integers(0, len(pop.villages), int(relocated.sum()))
    code, _, _ = dmg.village_codes(unit_village, rates.out_of_scope_village)
    noise = rates.dtsen_programme_flag_noise

    def flag(truth: np.ndarray) -> np.ndarray:
        t = truth[unit_fam] ^ (rng.random(len(units)) < noise)
        return np.where(t, "Y", "N").astype(object)

    pkh, bpnt, pbi = flag(pop.fam_pkh), flag(pop.fam_bpnt), flag(pop.fam_pbi)
    desil = pop.fam_desil[unit_fam]
    desil_s = np.where(desil > 0, desil.astype(str), "").astype(object)
    padded = rng.random(len(units)) < 0.4

    # record order: region, family id, member order (second-family persons last)
    member_rank = np.where(is_second, n + p, p)
    order = np.lexsort((member_rank, ids[uinv], code[uinv]))
    p, lf, uinv, is_second = p[order], lf[order], uinv[order], is_second[order]
    starts = np.r_[True, uinv[1:] != uinv[:-1]]
    idx = np.arange(len(p))
    member_no = idx - np.maximum.accumulate(np.where(starts, idx, 0)) + 1
    id_kel = ids.astype(str).astype(object)
    id_art = [f"{i}{m:02d}" for i, m in zip(id_kel[uinv].tolist(), member_no.tolist(), strict=True)]

    rel = pop.rel[p].copy()
    rel[is_second] = np.where(age[p[is_second]] < 35, 3, 8)
    names = dmg.names(p, rates.name_variant)
    dob = dmg.dob(p, rates.dob_swap, rates.dob_day_typo, rates.dob_year_off)
    nik = dmg.ids(pop.nik[p], rates.nik_typo, rates.nik_missing_dtsen)
    kk = dmg.ids(pop.fam_kk[lf], rates.kk_typo, rates.kk_missing)
    sex = dmg.sex(p, rates.sex_flip)
    padan = (nik == pop.nik[p]) & ctx.in_dukcapil[p]
    padan ^= rng.random(len(p)) < rates.dtsen_padan_noise
    rt = formats.rt_rw(pop.fam_rt[lf], padded[uinv])
    rw = formats.rt_rw(pop.fam_rw[lf], padded[uinv])

    alamat, split = odd_values.split_addresses(ctx, "dtsen", pop.fam_alamat[lf], ";")
    columns = {
        "ID_KELUARGA": id_kel[uinv],
        "ID_ART": id_art,
        "NIK": nik,
        "NO_KK": kk,
        "NAMA": names,
        "TGL_LAHIR": odd_values.birth_dates(ctx, "dtsen", dob, "iso", 1.0),
        "JENIS_KELAMIN": sex.astype(str),
        "HUB_KELUARGA": rel.astype(str),
        "KODE_WILAYAH": [undotted(c) for c in code[uinv]],
        "ALAMAT": alamat,
        "RT": rt,
        "RW": rw,
        "DESIL_NASIONAL": desil_s[uinv],
        "STATUS_PADAN": np.where(padan, "PADAN", "TIDAK PADAN"),
        "PKH": pkh[uinv],
        "BPNT": bpnt[uinv],
        "PBI_JK": pbi[uinv],
    }
    nrec = len(p)
    junk = [
        Junk(REPEATED_HEADER, at=int(nrec * 0.55)),
        Junk(SUMMARY_ROW, values={"ID_KELUARGA": "JUMLAH", "ID_ART": str(nrec)}),
    ]
    yyyymm = f"{ctx.as_of.year:04d}{ctx.as_of.month:02d}"
    table = Table(
        feed="dtsen",
        relpath=f"dtsen/DTSEN_{pop.regency.digits}_{yyyymm}.csv",
        header=HEADER,
        columns=columns,
        person=p,
        family=pop.fam[p],
        sep=";",
        encoding="utf-8-sig",
        junk=junk,
        unquoted_column="ALAMAT",
        unquoted_rows=split,
    )

    # what verval needs
    id_keluarga = np.full(pop.n_families, "", dtype=object)
    first_units = units % 2 == 0
    id_keluarga[units[first_units] // 2] = id_kel[first_units]
    listed = np.zeros(n, bool)
    listed[p] = True
    written_nik = np.full(n, "", dtype=object)
    persons, first = np.unique(p, return_index=True)
    written_nik[persons] = nik[first]
    pairs: list[tuple[int, str, str]] = []
    rec_order = np.argsort(p, kind="stable")
    ps = p[rec_order]
    same = np.flatnonzero(ps[1:] == ps[:-1])
    for j in same.tolist():
        a, b = nik[rec_order[j]], nik[rec_order[j + 1]]
        if a and b:
            pairs.append((int(ps[j]), a, b))
    return DtsenResult(table, id_keluarga, listed, written_nik, pairs, lf)
