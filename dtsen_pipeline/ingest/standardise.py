"""Raw text records -> typed, canonical staging rows, or quarantine rows with a reason.

Every raw record ends in exactly one of the two outputs (`stage_feed` asserts it), so the count
identity rows in = staged + quarantined holds by construction. Reasons name what a data engineer
must fix; they never carry the offending values. Junk records (`ingest.junk`, decided at intake)
are quarantined with their junk reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from dtsen_pipeline.domain import dates, identifiers, names, regions
from dtsen_pipeline.domain._text import by_distinct, constant_text, join_codes, rows_where
from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.junk import classify_junk
from dtsen_pipeline.ingest.raw_records import REPAIR_COLUMN
from dtsen_pipeline.quality.row_rules import ROW_QUARANTINE_REASONS, apply_row_rules
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS
from dtsen_pipeline.schema import (
    JUNK_REASONS,
    NOT_ANSWERED,
    PERSON_COLUMNS,
    PROGRAMS,
    QUARANTINE_COLUMNS,
    REGION_REASONS,
    VERVAL_RESULTS,
    VERVAL_TIERS,
    make_record_id,
)

# Quarantine reason codes, in the order they are tested (the first that applies is recorded).
QUARANTINE_REASONS = (
    *JUNK_REASONS,
    *REGION_REASONS,
    "MISSING_NAME",
    NOT_ANSWERED,
    "BAD_DECISION",
    "BAD_TIER",
    "BAD_DECISION_DATE",
    *ROW_QUARANTINE_REASONS,
)

_PROGRAM_ALIASES = {"PBI JK": "PBI-JK", "PBI_JK": "PBI-JK", "PBIJK": "PBI-JK", "SEMBAKO": "BPNT"}
# Extra types converted value by value (no conversion looks at the whole column), so by distinct value.
_CODED_TYPES = ("code", "yes_no", "desil", "programme")
Result = TypeVar("Result", pd.Series, pd.DataFrame)


@dataclass(frozen=True)
class StagingResult:
    staged: pd.DataFrame
    quarantine: pd.DataFrame


def _text(s: pd.Series) -> pd.Series:
    """Trimmed text with blanks as NA."""
    out = s.astype("str").str.strip()
    return out.mask(out == "")


def _source(raw: pd.DataFrame, header: str | None) -> pd.Series:
    if header is None or header not in raw.columns:
        return pd.Series(pd.NA, index=raw.index, dtype="str")
    return _text(raw[header])


def _source_coded(raw: pd.DataFrame, header: str | None, transform: Callable[[pd.Series], Result]) -> Result:
    """`transform(_source(raw, header))` for a column of few distinct values (codes, flags,
    periods), converted once per distinct value (`by_distinct`)."""
    if header is None or header not in raw.columns:
        return transform(_source(raw, header))
    return by_distinct(raw[header], lambda values: transform(_text(values)))


def scope_values(raw: pd.DataFrame, spec: FeedSpec, junk: pd.Series | None = None) -> pd.DataFrame:
    """The feed's `snapshot_scope` columns, canonical as staging makes them (NA on junk rows).

    Ingestion uses them to tell which scope (programme and period, pekon) a snapshot delivery
    replaces, so the values must be the staged ones: `1806012001` and `18.06.01.2001` are one pekon.
    """
    junk = (classify_junk(raw, spec) if junk is None else junk).notna()
    out = pd.DataFrame(index=raw.index)
    for name in spec.snapshot_scope:
        if name in ("kode_desa", "kode_kecamatan"):
            village = _region(raw, spec)["kode_desa"]
            values = village if name == "kode_desa" else regions.kecamatan_code(village)
        elif name in spec.extras:
            values = _extra(raw, spec, name)
        else:
            values = _source(raw, spec.columns.get(name))
        out[name] = values.astype("str").mask(junk)
    return out


def _code_text(values: pd.Series) -> pd.Series:
    """Upper case, runs of whitespace as one space: how agency codes are compared. Callers pass
    the distinct values of a column (`_source_coded`), so this runs on a handful of values."""
    return values.astype("str").str.upper().str.replace(r"\s+", " ", regex=True)


def _map_values(values: pd.Series, mapping: dict[str, str]) -> pd.DataFrame:
    """Unify agency codes: the mapped values (`value`) and a mask of unknown non-empty codes
    (`unknown`). Without a mapping the values pass as they are."""
    if not mapping:
        return pd.DataFrame({"value": values, "unknown": False}, index=values.index)
    upper = {k.upper(): v for k, v in mapping.items()}
    mapped = _code_text(values).map(upper).astype("str")
    return pd.DataFrame({"value": mapped, "unknown": values.notna() & mapped.isna()}, index=values.index)


def _extra(raw: pd.DataFrame, spec: FeedSpec, name: str) -> pd.Series:
    """The extra column `name`, typed as the feed declares it (`_typed_extra`)."""
    kind, header = spec.extra_type(name), spec.extras.get(name)
    if kind in _CODED_TYPES:
        return _source_coded(raw, header, lambda values: _typed_extra(kind, values))
    return _typed_extra(kind, _source(raw, header))


def _region(raw: pd.DataFrame, spec: FeedSpec) -> pd.DataFrame:
    if spec.region.village:
        return regions.canonical_village(_source(raw, spec.region.village))
    parts = spec.region.parts or {}
    return regions.village_from_parts(*(_source(raw, parts.get(k)) for k in ("prov", "kab", "kec", "kel")))


def _yes_no(values: pd.Series) -> pd.Series:
    upper = values.str.upper()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out = out.mask(upper.isin(["Y", "YA", "YES", "1", "TRUE"]), True)
    return out.mask(upper.isin(["N", "T", "TIDAK", "NO", "0", "FALSE"]), False)


def _typed_extra(kind: str, values: pd.Series) -> pd.Series:
    """Extras are typed by their declared type (`types:` in the feed YAML, `feeds.EXTRA_TYPES`)."""
    if kind == "desil":
        number = pd.to_numeric(values, errors="coerce")
        valid = number.between(1, 10) & (number == number.round())
        return number.where(valid).astype("Int64")
    if kind == "yes_no":
        return _yes_no(values)
    if kind == "number":
        return pd.to_numeric(values.str.replace(r"[^0-9.\-]", "", regex=True), errors="coerce")
    if kind == "date":
        return dates.parse_dates(values)["date"]
    if kind == "nik":
        return identifiers.check_nik(values)["nik"]
    if kind == "code":
        return _code_text(values)
    if kind == "programme":
        return _code_text(values).replace(_PROGRAM_ALIASES)
    return values


def _birth_dates(raw: pd.DataFrame, spec: FeedSpec, as_of: dt.date) -> pd.DataFrame:
    """`dates.parse_birth_dates` of the feed's birth-date column (all missing when it has none)."""
    header = spec.columns.get("tgl_lahir")
    if header is None or header not in raw.columns:
        return dates.parse_birth_dates(pd.Series(pd.NA, index=raw.index, dtype="str"), as_of)
    return dates.parse_birth_dates(raw[header], as_of)


def identifies_person(out: pd.DataFrame, birth_year: pd.Series) -> pd.Series:
    """Whether a record still identifies a person without its village: a name and a usable NIK,
    No. KK or birth year (issue #10: such a record is staged, never lost for a repairable field)."""
    other = out["nik"].notna() | out["no_kk"].notna() | birth_year.notna()
    return (out["nama_norm"].notna() & other).astype(bool)


def _fallback_kecamatan(out: pd.DataFrame, rows: pd.Series) -> pd.Series:
    """For `rows` (no usable village), the kecamatan of the No. KK, else of the NIK (NA elsewhere)."""
    subset = out.loc[rows.to_numpy(dtype=bool), ["no_kk", "nik"]]
    kecamatan = regions.kecamatan_from_identifier(subset["no_kk"]).fillna(
        regions.kecamatan_from_identifier(subset["nik"]))
    return kecamatan.reindex(out.index)


def _first_reason(reason: pd.Series, condition: pd.Series, code: str) -> pd.Series:
    return reason.mask(reason.isna() & condition.fillna(False).astype(bool), code)


def stage_feed(raw: pd.DataFrame, spec: FeedSpec, scope: str, as_of: dt.date,
               ceilings: Mapping[str, int] = DEFAULT_CEILINGS) -> StagingResult:
    """Stage one feed's raw records; every record lands in `staged` or `quarantine`. `ceilings`:
    the deployment's programme ceilings (PRG-02 flags)."""
    raw = raw.reset_index(drop=True)
    reason = classify_junk(raw, spec)
    detail = pd.Series(pd.NA, index=raw.index, dtype="str")
    malformed = (reason == "MALFORMED_ROW").to_numpy(dtype=bool, na_value=False)
    if malformed.any():  # the message is built for the few malformed rows only
        rows = raw.loc[malformed]
        detail.loc[malformed] = ("expected " + rows["header_fields"].astype("str") + " fields, found "
                                 + rows["n_fields"].astype("str"))

    out = pd.DataFrame(index=raw.index)
    out["record_id"] = make_record_id(spec.name, raw["source_file"], raw["source_row"])
    out["feed"] = constant_text(spec.name, raw.index)
    out["source_file"] = raw["source_file"]
    out["source_row"] = raw["source_row"].astype("int64")
    flags: list[pd.Series] = []
    if REPAIR_COLUMN in raw.columns:  # ROW_REPAIRED_SEPARATOR (ingest.repair)
        flags.append(raw[REPAIR_COLUMN].astype("str").rename(REPAIR_COLUMN))

    raw_nik, raw_kk = _source(raw, spec.columns.get("nik")), _source(raw, spec.columns.get("no_kk"))
    nik = identifiers.check_nik(raw_nik)
    out["nik"], out["nik_issue"] = nik["nik"], nik["issue"]
    kk = identifiers.check_kk(raw_kk)
    out["no_kk"], out["kk_issue"] = kk["no_kk"], kk["issue"]
    # Where Excel lost the 16th digit, the first 15 still link a programme-list row (issue #12).
    out["nik_prefix15"] = identifiers.id_prefix15(raw_nik, out["nik"])
    out["kk_prefix15"] = identifiers.id_prefix15(raw_kk, out["no_kk"])

    nama = _source(raw, spec.columns.get("nama"))
    name_parts = names.name_columns(nama)
    out["nama"] = nama
    out["nama_norm"] = name_parts["nama_norm"]
    out["name_key"] = name_parts["name_key"]
    out["gelar"] = name_parts["gelar"]

    # A birth date never costs the person (issue #10): what is unusable is nulled and flagged
    # (DOB_PARTIAL, DOB_MONTH_FIRST, DOB_IMPOSSIBLE, ...), a credible year is kept.
    born = _birth_dates(raw, spec, as_of) if spec.entity == "person" else None
    region = _region(raw, spec)
    out["kode_desa"] = region["kode_desa"]
    out["kode_kecamatan"] = regions.kecamatan_code(region["kode_desa"])
    # Issue #10: a person record without a usable village code is staged when it still identifies
    # the person (a name and a NIK, No. KK or birth year), flagged with the region code and placed
    # in the kecamatan of its No. KK or NIK where that is known; else it is quarantined as before.
    unplaced = region["issue"].isin(REGION_REASONS).to_numpy(dtype=bool)
    placeless = pd.Series(False, index=raw.index)
    if spec.entity == "person" and unplaced.any():
        placeless = pd.Series(unplaced, index=raw.index) & identifies_person(out, born["birth_year"])
        out["kode_kecamatan"] = out["kode_kecamatan"].fillna(_fallback_kecamatan(out, placeless))
    out["in_scope"] = regions.in_scope(out["kode_desa"].fillna(out["kode_kecamatan"]), scope).fillna(False).astype(bool)
    for code in REGION_REASONS:
        reason = _first_reason(reason, (region["issue"] == code) & ~placeless, code)
    flags.append(region["issue"].where(placeless).rename("region_flag"))
    placed = out["kode_desa"].notna() | out["kode_kecamatan"].notna()
    flags.append((~out["in_scope"] & placed).rename("OUT_OF_SCOPE"))

    if spec.entity == "person":
        reason = _first_reason(reason, out["nama_norm"].isna(), "MISSING_NAME")
        out["tgl_lahir"], out["birth_year"], out["dob_precision"] = born["date"], born["birth_year"], born["precision"]
        flags.append(born["flag"].rename("dob_flag"))
        out["dob_imprecise"] = dates.is_imprecise_dob(out["tgl_lahir"]).fillna(False).astype(bool)
        out["tempat_lahir"] = _source(raw, spec.columns.get("tempat_lahir"))
        for column, flag in (("jenis_kelamin", "SEX_UNKNOWN_CODE"), ("hubungan", "RELATIONSHIP_UNKNOWN_CODE")):
            mapped = _source_coded(raw, spec.columns.get(column),
                                   lambda values, column=column: _map_values(values, spec.values.get(column, {})))
            out[column] = mapped["value"]
            flags.append(mapped["unknown"].astype(bool).rename(flag))
        flags.append(identifiers.nik_warnings(out["nik"], out["jenis_kelamin"], out["tgl_lahir"]))
        out["alamat"] = _source(raw, spec.columns.get("alamat"))
        out["rt"] = _source(raw, spec.columns.get("rt"))
        out["rw"] = _source(raw, spec.columns.get("rw"))

    for name in spec.extras:
        out[name] = _extra(raw, spec, name)

    if "program" in spec.extras:  # an unknown programme is not used; the recipient stays (flag)
        bad_program = ~out["program"].isin(PROGRAMS)
        out["program"] = out["program"].mask(bad_program)
        flags.append(bad_program.rename("BAD_PROGRAM"))
    if spec.entity == "decision":
        answers = [name for name in ("hasil", "tanggal", "petugas", "catatan", "nik_ganda") if name in spec.extras]
        unanswered = pd.concat([_source(raw, spec.extras[name]).fillna("").str.strip() == "" for name in answers],
                               axis=1).all(axis=1)
        reason = _first_reason(reason, unanswered, NOT_ANSWERED)
        reason = _first_reason(reason, ~out["hasil"].isin(VERVAL_RESULTS), "BAD_DECISION")
        reason = _first_reason(reason, ~out["tingkat"].isin(VERVAL_TIERS), "BAD_TIER")
        parsed = dates.parse_dates(_source(raw, spec.extras.get("tanggal")))
        reason = _first_reason(reason, parsed["date"].isna(), "BAD_DECISION_DATE")
        out["tanggal"] = parsed["date"]

    # Row-level rules of docs/rules.md (quality.row_rules): E codes quarantine the row, W codes flag it.
    rule = apply_row_rules(out, raw, spec, as_of, candidates=reason.isna(), ceilings=ceilings)
    reason, detail = reason.fillna(rule.reason), detail.fillna(rule.detail)
    flags.append(rule.flags)
    out = out.assign(**rule.columns)

    out["flags"] = join_codes(flags, raw.index)
    quarantined = reason.notna()
    quarantine = pd.DataFrame({
        "feed": spec.name,
        "source_file": raw.loc[quarantined, "source_file"],
        "source_row": raw.loc[quarantined, "source_row"].astype("int64"),
        "reason": reason[quarantined],
        "detail": detail[quarantined],
    }, columns=list(QUARANTINE_COLUMNS)).reset_index(drop=True)
    staged = rows_where(out, ~quarantined).reset_index(drop=True)
    if spec.entity == "person":
        ordered = [c for c in PERSON_COLUMNS if c in staged.columns]
        staged = staged[ordered + [c for c in staged.columns if c not in ordered]]
    if len(staged) + len(quarantine) != len(raw):
        raise RuntimeError(f"feed {spec.name}: staging lost or duplicated records")
    return StagingResult(staged=staged, quarantine=quarantine)


def empty_quarantine() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS})
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame
