"""Row-level codes of the rules in docs/rules.md, applied to staged rows (the one hook in `ingest.standardise`).

Severity E codes become quarantine reasons (the row goes to review in `quality.quarantine`);
severity W codes are appended to the row's `flags`, which travel through
`intermediate.person_record` into `build.person.quality_flags` and the golden tables.

Family-level E rules (KK-04 one KK per person, KK-05 one head per KK) are the exception: a
family is not quarantined, because removing every member of a card whose head record is
missing would itself create exclusion errors. Their rows carry a review code in `flags`, and
the asset is blocked instead when the feed's share of such rows passes its threshold (GX suite).

Codes never carry values: they name the rule, not the NIK or the name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dtsen_pipeline.domain._text import constant_text, join_codes, join_columns, rows_where
from dtsen_pipeline.quality import rules

# E: quarantine reasons added by these rules (the row is not staged).
ROW_QUARANTINE_REASONS: dict[str, str] = {
    "REGION_HIERARCHY": "REG-04",
}
# Codes appended to `flags`, with their rule and severity (E = enforced on the asset, see above).
ROW_FLAGS: dict[str, tuple[str, str]] = {
    "NIK_KAB_70": ("NIK-04", "W"),
    "NIK_REGION_UNKNOWN": ("NIK-05", "W"),
    "EXACT_DUPLICATE_ROW": ("NIK-11", "W"),
    "NIK_COLLISION": ("NIK-11", "E"),  # the NIK is withdrawn (nik_issue), the row stays for review
    "KK_REGION_UNKNOWN": ("KK-02", "W"),
    "PERSON_IN_MULTIPLE_KK": ("KK-04", "E"),
    "KK_NO_HEAD": ("KK-05", "E"),
    "KK_MULTIPLE_HEADS": ("KK-05", "E"),
    "KK_CHILD_AGE_GAP": ("KK-06", "W"),
    "KK_SPOUSE_UNDERAGE": ("KK-06", "W"),
    "KK_MULTIPLE_SPOUSES": ("KK-06", "W"),
    "KK_DESIL_INCONSISTENT": ("KK-07", "W"),
    "REGION_NAME_MISMATCH": ("REG-05", "W"),
    "NAME_TOO_LONG": ("NAME-07", "W"),
    "DOB_IMPRECISE": ("DOB-02", "W"),
    # PRG-01: a desil that is not empty and not 1-10 is not used (staging types only 1-10, so it
    # is null); the person stays (issue #10: no person lost for a repairable field).
    "BAD_DESIL": ("PRG-01", "W"),
    # REG-02: a person record without a usable village code, staged because it still identifies
    # the person (name and NIK, No. KK or birth year); kode_desa null (ingest.standardise).
    "REGION_MISSING": ("REG-02", "W"),
    "REGION_BAD_FORMAT": ("REG-02", "W"),
    "REGION_UNKNOWN": ("REG-02", "W"),
    # bansos: a programme that is not PKH, BPNT or PBI-JK is nulled; the recipient stays.
    "BAD_PROGRAM": ("FEED", "W"),
    # DOB-01: a birth date that is not a usable full date never quarantines the person (issue
    # #10); staging nulls what is unusable, keeps a credible year (`birth_year`) and flags it.
    "DOB_PARTIAL": ("DOB-01", "W"),
    "DOB_MONTH_FIRST": ("DOB-01", "W"),
    "DOB_UNPARSEABLE": ("DOB-01", "W"),
    "DOB_IMPOSSIBLE": ("DOB-01", "W"),
    "DOB_IN_FUTURE": ("DOB-01", "W"),
    "DOB_TOO_OLD": ("DOB-01", "W"),
    # A record one field too long, repaired by joining a free-text field with its neighbour
    # (ingest.repair); no rule id of docs/rules.md, so the code names the file damage itself.
    "ROW_REPAIRED_SEPARATOR": ("FILE", "W"),
    "AGE_MISMATCH": ("DOB-03", "W"),
    "INCLUSION_CANDIDATE": ("PRG-02", "W"),
    "JKN_MULTI_SEGMENT": ("PRG-03", "W"),
}
# Columns compared for an exact duplicate (NIK-11 W): the whole person payload.
PAYLOAD_COLUMNS = ("nik", "no_kk", "nama", "tgl_lahir", "jenis_kelamin", "hubungan", "kode_desa", "alamat",
                   "rt", "rw", "desil", "program", "periode")
_GROUP_RULE_COLUMNS = (*PAYLOAD_COLUMNS, "name_key")  # the payload holds hubungan
# Every staged column a rule reads (the rules see only these, so clean rows are not all copied).
_RULE_COLUMNS = frozenset({*_GROUP_RULE_COLUMNS, "umur", "pkh", "bpnt", "pbi_jk", "jkn_segmen", "nama_desa",
                           "kode_prov", "kode_kab", "kode_kec"})
_TEXT_READ = ("name_key", "hubungan")  # compared with names and with relationship codes
SNAPSHOT = "_snapshot"  # the integer snapshot id the group rules group by (see `keyed_by_snapshot`)
_REGION_PARENTS = {"kode_prov": "prov", "kode_kab": "kab", "kode_kec": "kec"}
_PROGRAMME_COLUMNS = {"pkh": "PKH", "bpnt": "BPNT", "pbi_jk": "PBI-JK"}


@dataclass
class RowRuleResult:
    """Codes per row, aligned with the staged frame's index."""

    reason: pd.Series  # E quarantine reason or NA
    detail: pd.Series  # non-personal detail for `reason`
    flags: pd.Series  # ';'-joined codes ('' when none)
    columns: dict[str, pd.Series] = field(default_factory=dict)  # lineage columns added to staging


def snapshot_columns(frame: pd.DataFrame, snapshot_scope: tuple[str, ...]) -> list[str]:
    """What "one snapshot" means for a feed: one file, and within it the feed's snapshot scope."""
    return [c for c in ("source_file", *snapshot_scope) if c in frame.columns]


def _code(failed: pd.Series, code: str) -> pd.Series:
    """The rows carrying `code`, as a boolean column named after it (see `join_codes`)."""
    return pd.Series(failed.to_numpy(dtype=bool, na_value=False), index=failed.index, name=code)


def _bad_desil(frame: pd.DataFrame, raw: pd.DataFrame, spec) -> pd.Series:
    """PRG-01: the delivered desil is not empty and not an integer 1-10 (W: the value is not used)."""
    if "desil" not in spec.extras or spec.extras["desil"] not in raw.columns:
        return pd.Series(False, index=frame.index, name="BAD_DESIL")
    delivered = raw[spec.extras["desil"]]
    valid = rules.desil_valid(delivered if delivered.index.equals(frame.index) else delivered.loc[frame.index])
    return _code(~valid, "BAD_DESIL")


def _quarantine_codes(frame: pd.DataFrame, raw: pd.DataFrame, spec, group: list[str]) -> tuple[pd.Series, pd.Series]:
    reason = pd.Series(pd.NA, index=frame.index, dtype="str")
    detail = pd.Series(pd.NA, index=frame.index, dtype="str")
    parents = {level: frame[col] for col, level in _REGION_PARENTS.items() if col in frame.columns}
    if parents:
        bad = ~rules.region_hierarchy(frame["kode_desa"], parents) & reason.isna()
        reason = reason.mask(bad, "REGION_HIERARCHY")
        detail = detail.mask(bad, "village code outside the row's own " + "/".join(parents) + " code")
    return reason, detail


def _collisions(keyed: pd.DataFrame, spec, group: list[str]) -> pd.Series:
    """NIK-11: rows whose NIK is shared in one snapshot by a different person (name, birth date, sex)."""
    if spec.entity != "person" or "nik" not in keyed.columns:
        return pd.Series(False, index=keyed.index)
    return ~rules.nik_collision(keyed, group)


def keyed_by_snapshot(frame: pd.DataFrame, group: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """`frame` for the group rules: its snapshot as one integer column, and text columns the rules
    only group by or compare with each other as integer codes (NA kept). Each text column is then
    hashed once, not once per rule that groups by it; equal values keep equal codes, so every rule
    gives the same answer. Columns the rules read as text (`_TEXT_READ`) stay text."""
    keyed = frame.copy(deep=False)
    keyed[SNAPSHOT] = frame.groupby(group, dropna=False, sort=False).ngroup() if group else 0
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.StringDtype) and column not in _TEXT_READ:
            codes, _ = pd.factorize(frame[column])
            keyed[column] = pd.arrays.IntegerArray(codes.astype(np.int64), codes < 0)
    return keyed, [SNAPSHOT]


def _flag_codes(frame: pd.DataFrame, keyed: pd.DataFrame, spec, group: list[str], as_of: dt.date,
                ceilings: Mapping[str, int]) -> list[pd.Series]:
    codes: list[pd.Series] = []
    if spec.entity != "person":
        return codes
    codes.append(_code(~rules.nik_kabupaten_not_70(frame["nik"]), "NIK_KAB_70"))
    codes.append(_code(~rules.known_kecamatan_prefix(frame["nik"]), "NIK_REGION_UNKNOWN"))
    codes.append(_code(~rules.known_kecamatan_prefix(frame["no_kk"]), "KK_REGION_UNKNOWN"))
    codes.append(_code(~rules.exact_duplicate(keyed, [*group, *PAYLOAD_COLUMNS]), "EXACT_DUPLICATE_ROW"))
    codes.append(_code(~rules.person_in_one_kk(keyed, group), "PERSON_IN_MULTIPLE_KK"))
    if "hubungan" in spec.columns:
        heads = rules.kk_head_count(keyed, group)
        codes.append(_code(heads == 0, "KK_NO_HEAD"))
        codes.append(_code(heads > 1, "KK_MULTIPLE_HEADS"))
        if "tgl_lahir" in spec.columns:
            codes.append(rules.family_age_codes(keyed, as_of, group))
    if "desil" in frame.columns:
        codes.append(_code(~rules.constant_within_group(keyed, [*group, "no_kk"], "desil"), "KK_DESIL_INCONSISTENT"))
        codes.append(_code(~rules.recipient_within_ceiling(frame, ceilings), "INCLUSION_CANDIDATE"))
    if "nama_desa" in frame.columns:
        codes.append(_code(~rules.village_name_matches(frame["kode_desa"], frame["nama_desa"]),
                           "REGION_NAME_MISMATCH"))
    codes.append(_code(~rules.name_length_ok(frame["nama"]), "NAME_TOO_LONG"))
    codes.append(_code(~rules.precise_birth_date(frame["tgl_lahir"]), "DOB_IMPRECISE"))
    if "umur" in frame.columns:
        codes.append(_code(~rules.age_agrees(frame["tgl_lahir"], frame["umur"], as_of), "AGE_MISMATCH"))
    if "pbi_jk" in frame.columns and "jkn_segmen" in frame.columns:
        codes.append(_code(~rules.jkn_single_segment(frame["pbi_jk"], frame["jkn_segmen"]), "JKN_MULTI_SEGMENT"))
    return codes


def _lineage(frame: pd.DataFrame, raw: pd.DataFrame, spec) -> dict[str, pd.Series]:
    """REG-01 / REG-07: the delivered village code, its code system and vintage travel with the row."""
    headers = [h for h in spec.region_headers if h in raw.columns]
    source = join_columns([raw[h] for h in headers], raw.index, ".")
    source = source.str.strip(".").replace("", pd.NA)
    return {
        "kode_desa_source": source.reindex(frame.index).astype("str"),
        "region_code_system": constant_text(spec.region.code_system, frame.index),
        "region_vintage": constant_text(spec.region.vintage, frame.index),
    }


def apply_row_rules(out: pd.DataFrame, raw: pd.DataFrame, spec, as_of: dt.date,
                    candidates: pd.Series, ceilings: Mapping[str, int] = rules.DEFAULT_CEILINGS) -> RowRuleResult:
    """Row-level codes for the rows of `out` still headed for staging (`candidates`); `ceilings`:
    the deployment's programme ceilings (PRG-02).

    E codes are decided first, so the W and family codes look only at rows that stay staged.
    """
    index = out.index
    group = snapshot_columns(out, spec.snapshot_scope)
    frame = rows_where(out[[c for c in out.columns if c in _RULE_COLUMNS or c in group]], candidates)
    reason, detail = _quarantine_codes(frame, raw, spec, group)
    kept = rows_where(frame, reason.isna())
    # A colliding NIK cannot say who is who: it is withdrawn from the rows (never a linkage key),
    # which stay staged, flagged for review, so duplicates among them can still be found.
    keyed, keyed_group = keyed_by_snapshot(kept[[c for c in kept.columns if c in _GROUP_RULE_COLUMNS or c in group]],
                                           group)
    collision = _collisions(keyed, spec, keyed_group).reindex(index, fill_value=False).astype(bool)
    columns = _lineage(out, raw, spec)
    if collision.any():
        columns["nik"] = out["nik"].mask(collision)
        issue = out["nik_issue"] if "nik_issue" in out else pd.Series(pd.NA, index=index, dtype="str")
        columns["nik_issue"] = issue.mask(collision, "NIK_COLLISION")
    flags = join_codes([*_flag_codes(kept, keyed, spec, keyed_group, as_of, ceilings), _code(collision, "NIK_COLLISION"),
                        _bad_desil(kept, raw, spec)], index)
    return RowRuleResult(
        reason=reason.reindex(index).astype("str"),
        detail=detail.reindex(index).astype("str"),
        flags=flags,
        columns=columns,
    )
