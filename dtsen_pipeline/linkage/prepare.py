"""Shape staged person rows into the columns the Splink model compares.

Only identifiers that passed every rule reach the model: a damaged or placeholder NIK is null
here, so it can never count as agreement.
"""

from __future__ import annotations

import pandas as pd

from dtsen_pipeline.domain._text import by_distinct
from dtsen_pipeline.domain.names import LOW_INFORMATION_TOKENS

LINKAGE_COLUMNS = (
    "unique_id", "feed", "nik", "nik_prefix15", "nik_region", "nik_birth", "nik_sequence",
    "nik_head8", "nik_tail8", "nik_head7", "nik_tail7", "nik_number", "no_kk", "kk_prefix15", "kk_number", "name_key", "name_prefix", "name_prefix4", "first_token", "last_token", "informative_token",
    "dob", "dob_year", "dob_day_month", "dob_imprecise", "jenis_kelamin", "kode_desa", "kode_kecamatan", "alamat_key",
)


def _informative(tokens: list[str]) -> str | None:
    """The longest token that is not a low-information name part (MUHAMMAD, SITI, WAYAN...)."""
    useful = [t for t in tokens if t not in LOW_INFORMATION_TOKENS]
    return max(useful, key=len) if useful else (tokens[-1] if tokens else None)


# The staged columns linkage uses (linkage_input, and `nama` for the review files): the linkage
# step reads only these, not all 38 (at 640,000 persons the whole tables took about 30 s to read).
STAGED_COLUMNS: tuple[str, ...] = (
    "record_id", "feed", "nik", "no_kk", "nama", "name_key", "nik_prefix15", "kk_prefix15", "tgl_lahir",
    "birth_year", "dob_imprecise", "jenis_kelamin", "kode_desa", "kode_kecamatan", "alamat",
)


def linkage_input(staged: pd.DataFrame) -> pd.DataFrame:
    """One row per staged person record, with comparison keys."""
    keys = staged["name_key"].astype("str")
    unique_keys = pd.Series(keys.dropna().unique())
    tokens = unique_keys.str.split()
    token_frame = pd.DataFrame({
        "name_key": unique_keys,
        # Arrow strings, like every other key: as Python objects these two held about 0.2 GB at
        # 640,000 persons through the whole linkage step.
        "first_token": tokens.str[0].astype("str"),
        "last_token": tokens.str[-1].astype("str"),
        "informative_token": tokens.map(_informative),
        # Two letters survive most one-character typos in mononyms (SOLIKI ~ SOLIKIN).
        "name_prefix": unique_keys.str.replace(" ", "", regex=False).str[:2],
        "name_prefix4": unique_keys.str.replace(" ", "", regex=False).str[:4],
    })
    out = pd.DataFrame({
        "unique_id": staged["record_id"].astype("str"),
        "feed": staged["feed"].astype("str"),
        "nik": staged["nik"].astype("str"),
        "no_kk": staged["no_kk"].astype("str"),
        "name_key": keys,
    })
    out = out.merge(token_frame, on="name_key", how="left")
    nik = out["nik"]
    # Staging keeps the first 15 digits of an id Excel stored as a number (its 16th is lost).
    out["nik_prefix15"] = staged["nik_prefix15"].values if "nik_prefix15" in staged else nik.str[:15]
    out["kk_prefix15"] = staged["kk_prefix15"].values if "kk_prefix15" in staged else out["no_kk"].str[:15]
    out["nik_region"] = nik.str[:6]
    out["nik_birth"] = nik.str[6:12]
    out["nik_sequence"] = nik.str[12:]
    # Halves a NIK one typing error away keeps intact (see model.BLOCKING_KEYS).
    out["nik_head8"], out["nik_tail8"] = nik.str[:8], nik.str[8:]
    out["nik_head7"], out["nik_tail7"] = nik.str[:7], nik.str[9:]
    # The ids as numbers, for the comparisons' cheap one-typing-error test (model._digits_intact).
    out["nik_number"] = _as_number(nik)
    out["kk_number"] = _as_number(out["no_kk"])
    dob = pd.to_datetime(staged["tgl_lahir"]) if "tgl_lahir" in staged else pd.Series(pd.NaT, index=staged.index)
    # Formatted once per distinct date (some 30,000 among 1.8 million records): 2.1 s -> 0.3 s.
    out["dob"] = by_distinct(dob, lambda days: days.dt.strftime("%Y-%m-%d")).astype("str").values
    out["dob_day_month"] = by_distinct(dob, lambda days: days.dt.strftime("%m-%d")).astype("str").values
    # The year of a partial date (only year, or year and month, known) still links on year.
    year = staged["birth_year"] if "birth_year" in staged else dob.dt.year
    out["dob_year"] = pd.to_numeric(year).astype("Int64").fillna(dob.dt.year.astype("Int64")).values
    imprecise = staged["dob_imprecise"] if "dob_imprecise" in staged else pd.Series(False, index=staged.index)
    out["dob_imprecise"] = imprecise.fillna(False).astype(bool).values
    sex = staged["jenis_kelamin"] if "jenis_kelamin" in staged else pd.Series(pd.NA, index=staged.index)
    out["jenis_kelamin"] = sex.astype("str").values
    out["kode_desa"] = staged["kode_desa"].astype("str").values
    out["kode_kecamatan"] = staged["kode_kecamatan"].astype("str").values
    out["alamat_key"] = by_distinct(staged["alamat"].astype("str"), address_key).values  # a family shares one
    return out[list(LINKAGE_COLUMNS)]


def _as_number(ids: pd.Series) -> pd.Series:
    """16-digit ids as integers (null where not 16 digits: staging already nulls those, and a
    parse error would quote the value)."""
    return ids.where(ids.str.fullmatch(r"[0-9]{16}").fillna(False).astype(bool)).astype("Int64")


def address_key(alamat: pd.Series) -> pd.Series:
    """Upper case, punctuation dropped, spaces collapsed: `Gg. Bangka No.62` ~ `GG BANGKA NO 62`."""
    key = (alamat.astype("str").str.upper().str.replace(r"[^0-9A-Z]+", " ", regex=True).str.strip())
    return key.mask(key == "")
