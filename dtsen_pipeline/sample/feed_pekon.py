"""The `pekon` feed: population lists exported by village operators, one file per pekon (section 4).

About 60% of villages deliver. Files are mostly cp1252 with CRLF line ends, lower-case
headers, DD/MM/YYYY dates, and hold what village systems do: temporary NIKs starting with 0,
titles typed into names, curly apostrophes (MA’RUF), statuses MATI/PINDAH/HILANG, and
residents DTSEN does not know. One file is 0 bytes and one has only its header.
"""

from __future__ import annotations

import numpy as np

from dtsen_pipeline.sample import odd_values
from dtsen_pipeline.sample.context import Context
from dtsen_pipeline.sample.damage import Damager
from dtsen_pipeline.sample.identifiers import temporary_nik
from dtsen_pipeline.sample.names import title_case
from dtsen_pipeline.sample.population import HIDUP, HILANG, MATI, PINDAH, STATUS_NAMES
from dtsen_pipeline.sample.regions import undotted
from dtsen_pipeline.sample.writers import EMPTY_ROW, MALFORMED_ROW, REPEATED_HEADER, SUMMARY_ROW, Junk, Table

HEADER = [
    "nik",
    "no_kk",
    "nama",
    "tempat_lahir",
    "tanggal_lahir",
    "sex",
    "hubungan",
    "alamat",
    "rt",
    "rw",
    "dusun",
    "kode_desa",
    "status_dasar",
]
_ADDED_TITLES = ("H.", "HJ.", "USTADZ", "BPK.", "IBU")


def _junk_plan(n_files: int, rng: np.random.Generator) -> dict[int, str]:
    """Which delivering villages get which file-level problem (by position in the list)."""
    kinds = ["zero_bytes", "header_only", REPEATED_HEADER, SUMMARY_ROW, EMPTY_ROW, MALFORMED_ROW]
    slots = rng.permutation(n_files)[: len(kinds)]
    return {int(s): k for s, k in zip(slots.tolist(), kinds, strict=False)}


def build_pekon(ctx: Context) -> list[Table]:
    """One table per delivering pekon, residents in KK order."""
    pop, rates = ctx.pop, ctx.rates
    rng = ctx.rng("pekon")
    dmg = Damager(pop, ctx.rng("pekon.damage"))
    n_v = len(pop.villages)
    delivering = np.sort(rng.choice(n_v, size=round(rates.pekon_villages * n_v), replace=False))
    village_of_person = pop.fam_village[pop.fam]
    listed = rng.random(pop.n_persons) < rates.pekon_residents
    u = rng.random(pop.n_persons)
    status = np.select(
        [
            (pop.status == MATI) & (u < rates.pekon_marks_dead),
            (pop.status == PINDAH) & (u < rates.pekon_marks_moved),
            pop.status == HILANG,
        ],
        [MATI, PINDAH, HILANG],
        HIDUP,
    )
    by_village = np.argsort(village_of_person, kind="stable")
    bounds = np.searchsorted(village_of_person[by_village], np.arange(n_v + 1))
    plan = _junk_plan(len(delivering), rng)
    tables: list[Table] = []
    temp_counter = 0
    for pos, v in enumerate(delivering.tolist()):
        members = by_village[bounds[v] : bounds[v + 1]]
        p = members[listed[members]]
        p = p[np.lexsort((p, pop.fam_kk[pop.fam[p]]))]
        n = len(p)
        fam = pop.fam[p]
        special = plan.get(pos, "")
        cp1252 = rng.random() < rates.pekon_cp1252_files
        title_file = rng.random() < 0.4
        names = dmg.names(p, rates.name_variant)
        add_title = dmg.mask(n, rates.pekon_title_added)
        picks = rng.integers(0, len(_ADDED_TITLES), n)
        for i in np.flatnonzero(add_title).tolist():
            t = _ADDED_TITLES[picks[i]]
            if t in ("HJ.", "IBU") and pop.sex[p[i]] == 1:
                t = "H." if t == "HJ." else "BPK."
            names[i] = f"{t} {names[i]}"
        names = np.array([n_.replace("'", "’") for n_ in names], dtype=object)
        if title_file:
            names = np.array([title_case(x) for x in names], dtype=object)
        nik = dmg.ids(pop.nik[p], rates.nik_typo)
        temp = dmg.mask(n, rates.pekon_temp_nik)
        for i in np.flatnonzero(temp).tolist():
            temp_counter += 1
            nik[i] = temporary_nik(undotted(pop.villages.code[v]), temp_counter)
        nik[dmg.mask(n, rates.pekon_zero_nik)] = "0000000000000000"
        kk = dmg.ids(pop.fam_kk[fam], rates.kk_typo, rates.kk_missing)
        dob = dmg.dob(p, rates.dob_swap, rates.dob_day_typo, rates.dob_year_off)
        sex = dmg.sex(p, rates.sex_flip)
        code, _, _ = dmg.village_codes(np.full(n, v), rates.out_of_scope_village)
        birthplace = pop.birthplace[p]
        dusun = pop.fam_dusun[fam]
        hub = ctx.hubungan_text(p)
        if title_file:
            birthplace = np.array([title_case(x) for x in birthplace], dtype=object)
            dusun = np.array([title_case(x) for x in dusun], dtype=object)
        stream = f"pekon.{undotted(pop.villages.code[v])}"
        alamat, split = odd_values.split_addresses(ctx, stream, pop.fam_alamat[fam], ",")
        columns = {
            "nik": nik,
            "no_kk": kk,
            "nama": names,
            "tempat_lahir": birthplace,
            "tanggal_lahir": odd_values.birth_dates(ctx, stream, dob, "dmy/", 2.0),
            "sex": sex.astype(str),
            "hubungan": hub,
            "alamat": alamat,
            "rt": pop.fam_rt[fam].astype(str),
            "rw": pop.fam_rw[fam].astype(str),
            "dusun": dusun,
            "kode_desa": code,
            "status_dasar": np.array(STATUS_NAMES, dtype=object)[status[p]],
        }
        header = list(HEADER)
        if rng.random() < 0.08:
            header.append("keterangan")
            columns["keterangan"] = np.where(status[p] == HIDUP, "", "MUTASI").astype(object)
        junk: list[Junk] = []
        empty = ""
        if special in ("zero_bytes", "header_only"):
            empty = special
        elif special == SUMMARY_ROW:
            junk.append(Junk(SUMMARY_ROW, values={"nik": "JUMLAH", "nama": f"{n} JIWA"}))
        elif special:
            junk.append(Junk(special, at=max(n // 2, 1)))
        tables.append(
            Table(
                feed="pekon",
                relpath=f"pekon/pekon_{undotted(pop.villages.code[v])}.csv",
                header=header,
                columns=columns,
                person=p,
                family=fam,
                sep=",",
                encoding="cp1252" if cp1252 else "utf-8",
                newline="\r\n" if cp1252 else "\n",
                junk=junk,
                empty=empty,
                unquoted_column="alamat",
                unquoted_rows=split,
            )
        )
    return tables
