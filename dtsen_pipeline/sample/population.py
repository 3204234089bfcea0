"""The true population: families (one No. KK each) and the persons in them.

Everything the feeds write is derived from this one truth, so tests can measure how well
the pipeline recovers it. Arrays are numpy and vectorised where the population is large;
the per-person Python loops (names) are linear and cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from faker import Faker

from dtsen_pipeline.sample import namelists as nl
from dtsen_pipeline.sample.identifiers import as_str16, build_kk, build_nik, kecamatan_int
from dtsen_pipeline.sample.names import NameMaker, PersonNameInput
from dtsen_pipeline.sample.rates import RATES, Rates
from dtsen_pipeline.sample.regions import (
    CAPITAL,
    KABUPATEN,
    Regency,
    Villages,
    kecamatan_codes,
    other_lampung_kecamatan,
    regency,
    village_weights,
    villages_of,
)

HIDUP, MATI, PINDAH, HILANG = 0, 1, 2, 3
STATUS_NAMES: tuple[str, ...] = ("HIDUP", "MATI", "PINDAH", "HILANG")
DESIL_P = np.array([0.16, 0.15, 0.13, 0.12, 0.10, 0.09, 0.08, 0.07, 0.06, 0.04])
CHILDREN_P = np.array([0.18, 0.25, 0.28, 0.17, 0.08, 0.04])
DAY = np.timedelta64(1, "D")


@dataclass
class Population:
    """Parallel arrays: families (prefix `fam_`) and persons (no prefix)."""

    as_of: date
    regency: Regency
    villages: Villages
    # families
    fam_village: np.ndarray
    fam_kk: np.ndarray  # 16-char str
    fam_latent_desil: np.ndarray  # 1..10, the family's true welfare decile
    fam_desil: np.ndarray  # 0 = no desil in DTSEN ("belum ada desil")
    fam_pkh: np.ndarray
    fam_bpnt: np.ndarray
    fam_pbi: np.ndarray
    fam_in_dtsen: np.ndarray
    fam_head: np.ndarray  # person index of the head
    fam_start: np.ndarray
    fam_size: np.ndarray
    fam_group: np.ndarray
    fam_religion: np.ndarray
    fam_dusun: np.ndarray
    fam_alamat: np.ndarray
    fam_rt: np.ndarray
    fam_rw: np.ndarray
    fam_moved: np.ndarray  # whole family left the regency
    # persons
    fam: np.ndarray
    rel: np.ndarray  # DTSEN HUB_KELUARGA 1..8
    sex: np.ndarray  # 1 male, 2 female
    dob: np.ndarray  # datetime64[D], registered birth date
    dob_imprecise: np.ndarray
    nik: np.ndarray  # 16-char str
    reg_kec: np.ndarray  # dotted kecamatan of first registration
    status: np.ndarray  # HIDUP/MATI/PINDAH/HILANG codes
    death_date: np.ndarray  # datetime64[D], NaT when alive
    name: np.ndarray
    given: np.ndarray  # the person's own given token (used after BIN/BINTI)
    father_given: np.ndarray
    mother_name: np.ndarray
    birthplace: np.ndarray
    marital: np.ndarray
    occupation: np.ndarray
    child_order: np.ndarray

    @property
    def n_persons(self) -> int:
        return len(self.fam)

    @property
    def n_families(self) -> int:
        return len(self.fam_village)

    def person_key(self, idx: np.ndarray) -> np.ndarray:
        """Stable synthetic person keys (no personal data): P0000001..."""
        return np.char.add("P", np.char.zfill((np.asarray(idx) + 1).astype("U8"), 7)).astype(object)

    def family_key(self, idx: np.ndarray) -> np.ndarray:
        """Stable synthetic family keys: F000001..."""
        return np.char.add("F", np.char.zfill((np.asarray(idx) + 1).astype("U8"), 6)).astype(object)

    def recipient(self) -> np.ndarray:
        """Registered programme recipient of each family: the mother if any, else the head."""
        head = self.fam_head
        spouse = head + 1
        has_spouse = (self.fam_size > 1) & (self.rel[np.minimum(spouse, self.n_persons - 1)] == 2)
        wife = has_spouse & (self.sex[np.minimum(spouse, self.n_persons - 1)] == 2)
        return np.where(wife, spouse, head)


def _weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability proportional to weights (Efraimidis-Spirakis)."""
    eligible = np.flatnonzero(weights > 0)
    k = min(k, len(eligible))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.log(rng.random(len(eligible))) / weights[eligible]
    top = np.argpartition(-keys, k - 1)[:k]
    return np.sort(eligible[top])


def _pick_weighted(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    labels = np.array([t[0] for t in table], dtype=object)
    p = np.array([t[1] for t in table])
    return labels[rng.choice(len(labels), size=n, p=p / p.sum())]


class _Composition:
    """Role counts per family, drawn until the population reaches exactly N persons."""

    def __init__(self, n_persons: int, rng: np.random.Generator, rates: Rates) -> None:
        f = int(n_persons / 3.0) + 64
        head_age = 22 + rng.beta(2.2, 3.2, f) * 63
        head_male = rng.random(f) < np.where(head_age < 55, rates.head_male + 0.04, rates.head_male - 0.13)
        spouse = rng.random(f) < np.where(head_male, rates.spouse_if_male_head, rates.spouse_if_female_head)
        spouse_gap = rng.normal(4.0, 4.0, f)
        spouse_age = np.clip(np.where(head_male, head_age - spouse_gap, head_age + spouse_gap), 17, 95)
        mother_age = np.where(head_male, np.where(spouse, spouse_age, head_age - 4), head_age)
        kids = rng.choice(6, size=f, p=CHILDREN_P)
        kids = np.minimum(kids, np.clip((mother_age - 17) // 2.5 + 1, 0, 5).astype(int))
        stay = np.clip(1 - (head_age - 50) * 0.03, 0.2, 1.0)
        kids = rng.binomial(kids, stay)
        parent = (head_age <= 62) & (rng.random(f) < rates.parent_in_household)
        grand = np.where(
            (head_age >= 45) & (rng.random(f) < rates.grandchild_if_head_45), 1 + (rng.random(f) < 0.35), 0
        )
        other = rng.random(f) < rates.other_member
        counts = np.stack(
            [np.ones(f, int), spouse.astype(int), kids, parent.astype(int), grand, other.astype(int)], axis=1
        )
        sizes = counts.sum(axis=1)
        cum = np.cumsum(sizes)
        if cum[-1] < n_persons:
            raise RuntimeError("family draw too small; increase the oversampling factor")
        n_fam = int(np.searchsorted(cum, n_persons) + 1)
        counts = counts[:n_fam].copy()
        excess = int(cum[n_fam - 1] - n_persons)
        for col in (5, 4, 3, 2, 1):  # trim the last family from its tail roles
            take = min(excess, int(counts[-1, col]))
            counts[-1, col] -= take
            excess -= take
        self.counts = counts
        self.head_age = head_age[:n_fam]
        self.head_male = head_male[:n_fam]
        self.spouse_age = spouse_age[:n_fam]
        self.mother_age = mother_age[:n_fam]
        self.n_families = n_fam


def build_population(n_persons: int, seed: int, as_of: date, rates: Rates = RATES,
                     kabupaten: str = KABUPATEN) -> Population:
    """Draw the whole true population of the Lampung kabupaten/kota for `seed` (deterministic).

    The random streams are seeded with the regency's digits too (1806 for Tanggamus, as always),
    so two regencies drawn with one seed are different people."""
    if n_persons < 1:
        raise ValueError("n_persons must be positive")
    home = regency(kabupaten)
    streams = [np.random.default_rng(s)
               for s in np.random.SeedSequence([seed, int(home.digits)]).spawn(8)]
    r_comp, r_geo, r_dates, r_ids, r_names, r_events, r_prog, r_misc = streams
    villages = villages_of(home.code)
    comp = _Composition(n_persons, r_comp, rates)
    nf = comp.n_families
    counts = comp.counts
    sizes = counts.sum(axis=1)
    fam_start = np.r_[0, np.cumsum(sizes)[:-1]]
    offsets = np.cumsum(np.c_[np.zeros(nf, int), counts[:, :-1]], axis=1)

    fam = np.repeat(np.arange(nf), sizes)
    rel = np.zeros(n_persons, np.int8)
    sex = np.zeros(n_persons, np.int8)
    age = np.zeros(n_persons, float)
    child_order = np.zeros(n_persons, np.int16)
    twin_of = np.full(n_persons, -1, np.int64)

    def slots(role: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = counts[:, role]
        fams = np.repeat(np.arange(nf), c)
        within = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
        return fams, within, fam_start[fams] + offsets[fams, role] + within

    f_, _, p_ = slots(0)  # head
    rel[p_] = 1
    sex[p_] = np.where(comp.head_male[f_], 1, 2)
    age[p_] = comp.head_age[f_]
    f_, _, p_ = slots(1)  # spouse
    rel[p_] = 2
    sex[p_] = np.where(comp.head_male[f_], 2, 1)
    age[p_] = comp.spouse_age[f_]
    f_, w_, p_ = slots(2)  # children, oldest first
    rel[p_] = 3
    sex[p_] = 1 + (r_comp.random(len(p_)) < 0.5)
    m_age = comp.mother_age[f_]
    gap = 17 + r_comp.random(len(p_)) * (np.minimum(44, m_age) - 17)
    age[p_] = np.clip(m_age - gap, 0, None)
    order = np.lexsort((-age[p_], f_))
    age[p_] = age[p_][order]
    child_order[p_] = w_ + 1
    first_child = p_[w_ == 0]
    fam_two = counts[fam[first_child], 2] >= 2
    twins = first_child[fam_two & (r_comp.random(len(first_child)) < rates.twins_if_two_children)]
    twin_of[twins + 1] = twins
    age[twins + 1] = age[twins]
    f_, _, p_ = slots(3)  # parent / in-law
    rel[p_] = 6
    sex[p_] = np.where(r_comp.random(len(p_)) < 0.75, 2, 1)
    age[p_] = np.minimum(comp.head_age[f_] + 20 + r_comp.random(len(p_)) * 15, 98)
    f_, _, p_ = slots(4)  # grandchildren
    rel[p_] = 5
    sex[p_] = 1 + (r_comp.random(len(p_)) < 0.5)
    age[p_] = r_comp.random(len(p_)) * np.clip(comp.head_age[f_] - 40, 1, 15)
    f_, _, p_ = slots(5)  # other member: menantu, famili lain, pembantu
    kind = r_comp.random(len(p_))
    rel[p_] = np.where(kind < 0.4, 4, np.where(kind < 0.85, 8, 7))
    sex[p_] = 1 + (r_comp.random(len(p_)) < 0.55)
    age[p_] = np.where(rel[p_] == 4, 20 + r_comp.random(len(p_)) * 20, 12 + r_comp.random(len(p_)) * 50)
    head_idx = fam_start.copy()

    # --- birth dates -------------------------------------------------------------------
    as_of64 = np.datetime64(as_of, "D")
    days_old = (age * 365.25 + r_dates.random(n_persons) * 365).astype(np.int64)
    dob = as_of64 - days_old * DAY
    twin_rows = np.flatnonzero(twin_of >= 0)
    dob[twin_rows] = dob[twin_of[twin_rows]]
    year = dob.astype("datetime64[Y]").astype(int) + 1970
    month = dob.astype("datetime64[M]").astype(int) % 12 + 1
    day = (dob - dob.astype("datetime64[M]")).astype(int) + 1
    imprecise = (year < 1975) & (r_dates.random(n_persons) < rates.imprecise_dob_before_1975)
    default = r_dates.choice(4, size=n_persons, p=[0.40, 0.30, 0.15, 0.15])
    month = np.where(
        imprecise, np.select([default == 0, default == 1, default == 2], [7, 12, 1], month), month
    )
    day = np.where(imprecise, np.select([default == 0, default == 1, default == 2], [1, 31, 1], 15), day)
    dob = _ymd_to_date(year, month, day)

    # --- villages, kecamatan of first registration, identifiers -----------------------
    vweights = village_weights(villages, r_geo)
    fam_village = r_geo.choice(len(villages), size=nf, p=vweights)
    kec_list = kecamatan_codes(home.code)
    kec_index = {k: i for i, k in enumerate(kec_list)}
    fam_kec_i = np.array([kec_index[k] for k in villages.kec_code[fam_village]])
    person_kec_i = fam_kec_i[fam]
    adult = age >= 17
    u = r_ids.random(n_persons)
    other_tgm = np.where(adult, u < rates.nik_kec_other_tanggamus, u < 0.03)
    other_lpg = (
        adult
        & (u >= rates.nik_kec_other_tanggamus)
        & (u < rates.nik_kec_other_tanggamus + rates.nik_kec_other_lampung)
    )
    shift = 1 + r_ids.integers(0, len(kec_list) - 1, n_persons)
    reg_kec = np.array(kec_list, dtype=object)[
        np.where(other_tgm, (person_kec_i + shift) % len(kec_list), person_kec_i)
    ]
    lpg_codes, lpg_p = other_lampung_kecamatan(home.code)
    n_lpg = int(other_lpg.sum())
    reg_kec[other_lpg] = np.array(lpg_codes, dtype=object)[r_ids.choice(len(lpg_codes), size=n_lpg, p=lpg_p)]

    nik_year, nik_month, nik_day = year.copy(), month.copy(), day.copy()
    corrected = r_ids.random(n_persons) < rates.nik_dob_differs
    shifted = (
        dob[corrected]
        + (
            r_ids.integers(1, 40, int(corrected.sum()))
            * np.where(r_ids.random(int(corrected.sum())) < 0.5, -1, 1)
        )
        * DAY
    )
    nik_year[corrected], nik_month[corrected], nik_day[corrected] = _date_parts(shifted)
    nik = as_str16(build_nik(kecamatan_int(reg_kec), nik_day, nik_month, nik_year, sex == 2))

    youngest = np.full(nf, np.datetime64("2004-01-01"), dtype="datetime64[D]")
    np.maximum.at(youngest, fam, dob)
    span = np.maximum((as_of64 - 20 * DAY - youngest).astype(int), 1)
    issue = youngest + (r_ids.random(nf) * span).astype(np.int64) * DAY
    kk_kec = fam_kec_i.copy()
    moved_kk = r_ids.random(nf) < 0.05
    kk_kec[moved_kk] = (
        kk_kec[moved_kk] + 1 + r_ids.integers(0, len(kec_list) - 1, int(moved_kk.sum()))
    ) % len(kec_list)
    iy, im, idd = _date_parts(issue)
    fam_kk = as_str16(build_kk(kecamatan_int(np.array(kec_list, dtype=object)[kk_kec]), idd, im, iy))

    # --- naming tradition, religion, names -------------------------------------------------
    base = np.array(nl.GROUP_WEIGHTS)
    vmix = base * r_names.lognormal(0.0, 1.0, size=(len(villages), len(base)))
    vmix /= vmix.sum(axis=1, keepdims=True)
    cum = vmix.cumsum(axis=1)[fam_village]
    fam_group = (r_names.random(nf)[:, None] > cum).sum(axis=1).clip(0, len(base) - 1).astype(np.int8)
    group_name = np.array(nl.GROUPS, dtype=object)[fam_group]
    fam_marga = np.array(nl.BATAK_MARGA, dtype=object)[r_names.integers(0, len(nl.BATAK_MARGA), nf)]
    is_batak = group_name == "BATAK"
    fam_marga[~is_batak] = ""
    ur = r_names.random(nf)
    muslim_marga = np.isin(fam_marga, list(nl.BATAK_MUSLIM_MARGA))
    religion = np.where(
        group_name == "BALI",
        np.where(ur < 0.97, "HINDU", "ISLAM"),
        np.where(
            is_batak,
            np.where(muslim_marga & (ur < 0.8), "ISLAM", np.where(ur < 0.85, "KRISTEN", "KATHOLIK")),
            np.where(ur < 0.985, "ISLAM", np.where(ur < 0.995, "KRISTEN", "KATHOLIK")),
        ),
    )
    fam_religion = religion.astype(object)
    muslim = (fam_religion == "ISLAM")[fam]
    maker = NameMaker(seed)
    names, given = maker.build(
        PersonNameInput(
            family=fam,
            group=fam_group[fam],
            sex=sex,
            birth_year=year,
            relation=rel,
            child_order=child_order,
            muslim=muslim,
            family_marga=fam_marga[fam],
        ),
        r_names,
    )
    father_given, mother_name = _parents(
        maker, fam, rel, sex, year, fam_group, fam_start, sizes, names, given, r_names
    )

    # --- life events as of as_of ----------------------------------------------------------
    status = np.zeros(n_persons, np.int8)
    mort = np.select([age < 5, age < 40, age < 60, age < 70, age < 80], [0.4, 0.15, 0.8, 2.5, 6.0], 13.0)
    dead = _weighted_sample(r_events, mort, round(rates.dead * n_persons))
    status[dead] = MATI
    death_date = np.full(n_persons, np.datetime64("NaT"), dtype="datetime64[D]")
    back = (r_events.random(len(dead)) * 729).astype(np.int64) + 1
    death_date[dead] = np.maximum(as_of64 - back * DAY, dob[dead] + DAY)
    fam_moved = r_events.random(nf) < rates.moved_family
    movers = fam_moved[fam] & (status == HIDUP)
    status[movers] = PINDAH
    w_move = np.where(
        (status == HIDUP) & (rel != 1) & (age >= 18) & (age < 60),
        np.where((rel == 3) & (age < 36), 5.0, 1.0),
        0.0,
    )
    k_move = max(round((rates.moved_person + rates.moved_family) * n_persons) - int(movers.sum()), 0)
    status[_weighted_sample(r_events, w_move, k_move)] = PINDAH
    w_lost = np.where((status == HIDUP) & (age >= 18) & (age < 75), 1.0, 0.0)
    status[_weighted_sample(r_events, w_lost, max(round(rates.missing_person * n_persons), 1))] = HILANG

    # --- welfare ranking and programmes ----------------------------------------------------
    latent = (r_prog.choice(10, size=nf, p=DESIL_P) + 1).astype(np.int8)
    in_dtsen = r_prog.random(nf) < rates.dtsen_families
    ranked = in_dtsen & (r_prog.random(nf) >= rates.no_desil)
    desil = np.where(ranked, latent, 0).astype(np.int8)
    pkh_p = np.array([0.55, 0.45, 0.33, 0.20] + [0.03] * 6)
    bpnt_p = np.array([0.65, 0.55, 0.45, 0.35, 0.25] + [0.05] * 5)
    pbi_p = np.array([0.75, 0.70, 0.60, 0.50, 0.40] + [0.07] * 5)
    base_p = np.where(ranked, 1.0, np.where(in_dtsen, 0.05, 0.01))

    def programme(p: np.ndarray) -> np.ndarray:
        q = np.where(ranked, p[latent - 1], base_p)
        return r_prog.random(nf) < q

    pkh, bpnt, pbi = programme(pkh_p), programme(bpnt_p), programme(pbi_p)
    excluded = ranked & (latent <= 2) & (r_prog.random(nf) < rates.excluded_poor)
    pkh[excluded] = bpnt[excluded] = pbi[excluded] = False
    # PKH needs a component (child, elderly); a family without one rarely qualifies.
    has_comp = np.zeros(nf, bool)
    np.logical_or.at(has_comp, fam, (age < 21) | (age >= 70))
    pkh &= has_comp | (r_prog.random(nf) < 0.05)

    # --- address and social attributes -----------------------------------------------------
    fam_dusun, fam_alamat, fam_rt, fam_rw = _addresses(villages, fam_village, seed, r_misc)
    birthplace = _birthplaces(home, villages, fam_village[fam], group_name[fam], year, reg_kec, r_misc)
    marital = _marital(rel, age, sex, counts[fam, 1] > 0, r_misc)
    occupation = _occupation(rel, age, sex, latent[fam], r_misc)

    return Population(
        as_of=as_of,
        regency=home,
        villages=villages,
        fam_village=fam_village,
        fam_kk=fam_kk,
        fam_latent_desil=latent,
        fam_desil=desil,
        fam_pkh=pkh,
        fam_bpnt=bpnt,
        fam_pbi=pbi,
        fam_in_dtsen=in_dtsen,
        fam_head=head_idx,
        fam_start=fam_start,
        fam_size=sizes,
        fam_group=fam_group,
        fam_religion=fam_religion,
        fam_dusun=fam_dusun,
        fam_alamat=fam_alamat,
        fam_rt=fam_rt,
        fam_rw=fam_rw,
        fam_moved=fam_moved,
        fam=fam,
        rel=rel,
        sex=sex,
        dob=dob,
        dob_imprecise=imprecise,
        nik=nik,
        reg_kec=reg_kec,
        status=status,
        death_date=death_date,
        name=names,
        given=given,
        father_given=father_given,
        mother_name=mother_name,
        birthplace=birthplace,
        marital=marital,
        occupation=occupation,
        child_order=child_order,
    )


def _ymd_to_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    months = (year - 1970) * 12 + (month - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]") + (day - 1) * DAY


def _date_parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """datetime64[D] -> (year, month, day) int arrays."""
    year = d.astype("datetime64[Y]").astype(int) + 1970
    month = d.astype("datetime64[M]").astype(int) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(int) + 1
    return year, month, day


def date_parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Public alias used by the feed builders."""
    return _date_parts(d)


def _parents(
    maker: NameMaker,
    fam: np.ndarray,
    rel: np.ndarray,
    sex: np.ndarray,
    year: np.ndarray,
    fam_group: np.ndarray,
    fam_start: np.ndarray,
    sizes: np.ndarray,
    names: np.ndarray,
    given: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Father's given name (for BIN/BINTI) and mother's full name (Dukcapil NAMA_LGKP_IBU)."""
    n = len(fam)
    head = fam_start[fam]
    spouse = np.minimum(head + 1, n - 1)
    has_spouse = (sizes[fam] > 1) & (rel[spouse] == 2) & (fam[spouse] == fam)
    father = np.where(sex[head] == 1, head, np.where(has_spouse, spouse, -1))
    mother = np.where(sex[head] == 2, head, np.where(has_spouse, spouse, -1))
    is_child = rel == 3
    father_given = np.empty(n, dtype=object)
    mother_name = np.empty(n, dtype=object)
    uu = rng.random((n, 8))
    for i in range(n):
        group = nl.GROUPS[int(fam_group[fam[i]])]
        y = int(year[i])
        if is_child[i] and father[i] >= 0:
            father_given[i] = given[father[i]]
        else:
            tokens = maker.given(group, True, y - 28, 0, uu[i]).split()
            father_given[i] = tokens[-1] if group == "BALI" else tokens[0]
        if is_child[i] and mother[i] >= 0:
            mother_name[i] = names[mother[i]]
        else:
            mother_name[i] = maker.given(group, False, y - 25, 0, uu[i][::-1])
    return father_given, mother_name


def _addresses(
    villages: Villages, fam_village: np.ndarray, seed: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dusun, address line, RT and RW per family; kelurahan get street names (seeded Faker)."""
    fk = Faker("id_ID")
    fk.seed_instance(seed)
    streets = sorted(
        {fk.street_name().upper().replace("GG.", "GANG").replace("JL.", "JALAN") for _ in range(120)}
    )
    n_v = len(villages)
    n_dusun = rng.integers(3, 8, n_v)
    named = rng.random(n_v) < 0.5
    roman = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
    dusun_of_village: list[tuple[str, ...]] = []
    for v in range(n_v):
        if named[v]:
            pick = rng.choice(len(nl.DUSUN_NAMES), size=int(n_dusun[v]), replace=False)
            dusun_of_village.append(tuple(nl.DUSUN_NAMES[j] for j in sorted(pick)))
        else:
            dusun_of_village.append(tuple(f"DUSUN {roman[j]}" for j in range(int(n_dusun[v]))))
    nf = len(fam_village)
    ud = rng.random(nf)
    ust = rng.integers(0, len(streets), nf)
    no = rng.integers(1, 120, nf)
    dusun = np.empty(nf, dtype=object)
    alamat = np.empty(nf, dtype=object)
    kel = villages.is_kelurahan
    for f in range(nf):
        v = int(fam_village[f])
        ds = dusun_of_village[v]
        d = ds[int(ud[f] * len(ds))]
        dusun[f] = d
        if kel[v]:
            alamat[f] = f"{streets[ust[f]]} NO. {no[f]}"
        else:
            alamat[f] = d if d.startswith("DUSUN") else f"DUSUN {d}"
    rt = rng.integers(1, 13, nf)
    rw = rng.integers(1, 5, nf)
    return dusun, alamat, rt, rw


def _birthplaces(
    home: Regency,
    villages: Villages,
    village: np.ndarray,
    group: np.ndarray,
    year: np.ndarray,
    reg_kec: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Place of birth: Java/Bali/Sumatra origins for older transmigrants, local otherwise; residents
    registered in another regency were born in the capital or a town nearby."""
    n = len(village)
    u = rng.random((n, 3))
    kec_name = dict(zip(villages.kec_code, villages.kec_name, strict=True))
    home_prefix, capital_prefix = home.code + ".", CAPITAL + "."
    out = np.empty(n, dtype=object)
    for i in range(n):
        g = group[i]
        if year[i] < 1980 and g != "LAMPUNG" and u[i, 0] < 0.45:
            places = nl.BIRTHPLACE_BY_GROUP[g]
            out[i] = places[int(u[i, 1] * len(places))]
        elif not reg_kec[i].startswith(home_prefix):
            out[i] = (
                "BANDAR LAMPUNG"
                if reg_kec[i].startswith(capital_prefix)
                else home.birth_towns[0]
                if u[i, 1] < 0.6
                else home.birth_towns[1]
            )
        elif u[i, 2] < 0.55:
            out[i] = kec_name.get(reg_kec[i], home.name).upper()
        elif u[i, 2] < 0.8:
            out[i] = home.name
        else:
            out[i] = str(villages.name[village[i]]).upper()
    return out


def _marital(
    rel: np.ndarray, age: np.ndarray, sex: np.ndarray, has_spouse: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    u = rng.random(len(rel))
    widowed = np.where(u < 0.7, "CERAI MATI", "CERAI HIDUP")
    out = np.where(
        rel == 2,
        "KAWIN",
        np.where(
            rel == 1,
            np.where(has_spouse, "KAWIN", np.where(age < 30, "BELUM KAWIN", widowed)),
            np.where(
                rel == 4,
                "KAWIN",
                np.where(rel == 6, widowed, np.where((age >= 22) & (u < 0.12), "KAWIN", "BELUM KAWIN")),
            ),
        ),
    )
    return out.astype(object)


def _occupation(
    rel: np.ndarray, age: np.ndarray, sex: np.ndarray, desil: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    n = len(rel)
    head = _pick_weighted(rng, nl.OCC_HEAD, n)
    well = _pick_weighted(rng, nl.OCC_HEAD_WELL_OFF, n)
    wife = _pick_weighted(rng, nl.OCC_WIFE, n)
    adult = _pick_weighted(rng, nl.OCC_ADULT, n)
    u = rng.random(n)
    out = np.where(
        age < 5,
        "BELUM/TIDAK BEKERJA",
        np.where(
            age < 19,
            "PELAJAR/MAHASISWA",
            np.where(
                age >= 75,
                np.where(u < 0.6, "BELUM/TIDAK BEKERJA", "PETANI/PEKEBUN"),
                np.where(
                    (rel == 1) & (sex == 1),
                    np.where((desil >= 7) & (u < 0.7), well, head),
                    np.where(sex == 2, np.where(age < 23, adult, wife), adult),
                ),
            ),
        ),
    )
    return out.astype(object)
