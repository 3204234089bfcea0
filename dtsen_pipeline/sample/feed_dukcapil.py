"""The `dukcapil` feed: the civil-registry extract, the most reliable source (docs/feeds.md, `dukcapil`).

Nearly everyone is here (the dead too, as MATI with TGL_MATI); most who moved away are
already gone. Errors are rare (about 0.5% of records). The export ends with a truncated row.
"""

from __future__ import annotations

import numpy as np

from dtsen_pipeline.sample import formats, odd_values
from dtsen_pipeline.sample.context import Context
from dtsen_pipeline.sample.damage import Damager
from dtsen_pipeline.sample.population import date_parts
from dtsen_pipeline.sample.writers import MALFORMED_ROW, Junk, Table

HEADER = [
    "NIK",
    "NO_KK",
    "NAMA_LGKP",
    "TMPT_LHR",
    "TGL_LHR",
    "JENIS_KLMIN",
    "STAT_HBKEL",
    "AGAMA",
    "STAT_KWN",
    "JENIS_PKRJN",
    "NAMA_LGKP_IBU",
    "ALAMAT",
    "NO_RT",
    "NO_RW",
    "NO_PROP",
    "NO_KAB",
    "NO_KEC",
    "NO_KEL",
    "STATUS_HIDUP",
    "TGL_MATI",
]


def build_dukcapil(ctx: Context) -> Table:
    """One row per registered resident, sorted by kecamatan, village and KK."""
    pop, rates = ctx.pop, ctx.rates
    dmg = Damager(pop, ctx.rng("dukcapil.damage"))
    p = np.flatnonzero(ctx.in_dukcapil)
    vill = pop.fam_village[pop.fam[p]]
    parts = np.array([formats.kode_parts(c) for c in pop.villages.code], dtype=np.int64)[vill]
    kk = pop.fam_kk[pop.fam[p]]
    order = np.lexsort((p, kk, parts[:, 3], parts[:, 2]))
    p, parts, kk = p[order], parts[order], kk[order]
    err = rates.dukcapil_error
    names = dmg.names(p, err * 0.6)
    dob = dmg.dob(p, err * 0.15, err * 0.15, err * 0.1)
    sex = dmg.sex(p, err * 0.05)
    dead = ctx.dukcapil_dead[p]
    dy, dm, dd = date_parts(np.where(dead, pop.death_date[p], np.datetime64("2000-01-01")))
    tgl_mati = np.where(dead, np.array(formats.dmy(dy, dm, dd, "-"), dtype=object), "")
    fam = pop.fam[p]
    alamat, split = odd_values.split_addresses(ctx, "dukcapil", pop.fam_alamat[fam], ",", 0.5)
    columns = {
        "NIK": pop.nik[p],
        "NO_KK": kk,
        "NAMA_LGKP": names,
        "TMPT_LHR": pop.birthplace[p],
        "TGL_LHR": odd_values.birth_dates(ctx, "dukcapil", dob, "dmy-", 0.1),
        "JENIS_KLMIN": np.where(sex == 1, "LAKI-LAKI", "PEREMPUAN"),
        "STAT_HBKEL": ctx.hubungan_text(p),
        "AGAMA": pop.fam_religion[fam],
        "STAT_KWN": pop.marital[p],
        "JENIS_PKRJN": pop.occupation[p],
        "NAMA_LGKP_IBU": pop.mother_name[p],
        "ALAMAT": alamat,
        "NO_RT": [f"{v:03d}" for v in pop.fam_rt[fam].tolist()],
        "NO_RW": [f"{v:03d}" for v in pop.fam_rw[fam].tolist()],
        "NO_PROP": parts[:, 0].astype(str),
        "NO_KAB": parts[:, 1].astype(str),
        "NO_KEC": parts[:, 2].astype(str),
        "NO_KEL": parts[:, 3].astype(str),
        "STATUS_HIDUP": np.where(dead, "MATI", "HIDUP"),
        "TGL_MATI": tgl_mati,
    }
    day = f"{ctx.as_of.year:04d}{ctx.as_of.month:02d}{ctx.as_of.day:02d}"
    return Table(
        feed="dukcapil",
        relpath=f"dukcapil/DUKCAPIL_{pop.regency.digits}_{day}.csv",
        header=HEADER,
        columns=columns,
        person=p,
        family=fam,
        sep=",",
        encoding="utf-8",
        junk=[Junk(MALFORMED_ROW)],
        unquoted_column="ALAMAT",
        unquoted_rows=split,
    )
