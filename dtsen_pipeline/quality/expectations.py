"""Custom Great Expectations 1.x expectations for the DTSEN rules GX has no built-in for.

Importing this module registers every class with GX (GX registers an Expectation subclass by
its snake-case name when the class is created), so suite files can name them, e.g.
`expect_column_values_to_be_valid_nik`. Each metric calls the rule in `quality.rules`, so a
rule has one implementation shared with staging. Only the pandas engine is implemented: the
runner reads each table into a DataFrame.

Multicolumn expectations take `column_list = [*snapshot columns, *rule columns]`: the rule's
own columns come last (their number is fixed per class) and any columns before them define
"one snapshot" (source file, programme and period...).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation, MulticolumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)

from dtsen_pipeline.clock import local_date
from dtsen_pipeline.domain._text import by_distinct
from dtsen_pipeline.quality import rules

_MULTI_DOMAIN = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")


def _as_of(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else local_date()


def _split(frame: pd.DataFrame, k: int) -> tuple[list[str], list[str]]:
    """Snapshot columns and the rule's `k` columns of a multicolumn domain."""
    columns = list(frame.columns)
    return columns[:-k], columns[-k:]


# --- column map: metrics ------------------------------------------------------------------------

class ColumnValuesValidNik(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_valid_nik"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return rules.valid_nik(column)


class ColumnValuesValidKk(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_valid_kk"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return rules.valid_kk(column)


class ColumnValuesKnownKecamatanPrefix(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_known_kecamatan_prefix"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return rules.known_kecamatan_prefix(column)


class ColumnValuesKemendagriVillage(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_kemendagri_village"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return rules.kemendagri_village(column)


class ColumnValuesBpsVillage(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_bps_village"
    condition_value_keys = ("bridge",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, bridge, **kwargs):
        return rules.bps_village(column, bridge or {})["issue"].isna()


class ColumnValuesNotCarryCode(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_not_carry_code"
    condition_value_keys = ("code",)
    filter_column_isnull = False

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, code, **kwargs):
        # A code list has few distinct values (`NIK_COLLISION;DOB_IMPRECISE`): each is split once,
        # not once per row (splitting 600,000 rows in Python took a second per expectation).
        return ~by_distinct(column.astype("str"),
                            lambda values: values.fillna("").str.split(";").map(lambda codes: code in codes)
                            ).astype(bool)


class ColumnValuesPlausibleBirthDate(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_plausible_birth_date"
    condition_value_keys = ("as_of",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, as_of=None, **kwargs):
        return rules.plausible_birth_date(column, _as_of(as_of))


class ColumnValuesPlausibleBirthYear(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_plausible_birth_year"
    condition_value_keys = ("as_of",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, as_of=None, **kwargs):
        return rules.plausible_birth_year(column, _as_of(as_of))


class ColumnValuesPreciseBirthDate(ColumnMapMetricProvider):
    condition_metric_name = "column_values.dtsen_precise_birth_date"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return rules.precise_birth_date(column)


# --- column map: expectations ------------------------------------------------------------------

class ExpectColumnValuesToBeValidNik(ColumnMapExpectation):
    """NIK-01..NIK-08: 16 digits, no spreadsheet damage, a real province, kabupaten, kecamatan, birth
    date and serial, and not a placeholder."""

    map_metric = "column_values.dtsen_valid_nik"


class ExpectColumnValuesToBeValidKk(ColumnMapExpectation):
    """KK-01, KK-03: 16 digits, no spreadsheet damage, not an OpenSID temporary number."""

    map_metric = "column_values.dtsen_valid_kk"


class ExpectColumnValuesToHaveKnownKecamatanPrefix(ColumnMapExpectation):
    """NIK-05 / KK-02: digits 1-6 name a Kemendagri kecamatan."""

    map_metric = "column_values.dtsen_known_kecamatan_prefix"


class ExpectColumnValuesToBeKemendagriVillage(ColumnMapExpectation):
    """REG-02: a village code of the Kepmendagri 2025 list."""

    map_metric = "column_values.dtsen_kemendagri_village"


class ExpectColumnValuesToBeBpsVillage(ColumnMapExpectation):
    """REG-03: a 10-digit BPS village code that the bridge table maps to a Kemendagri code."""

    bridge: dict[str, str]
    map_metric = "column_values.dtsen_bps_village"
    success_keys = ("mostly", "bridge")


class ExpectColumnValuesToNotCarryCode(ColumnMapExpectation):
    """A row-level issue or flag code (`;`-separated) is absent; counted over every row, since a
    null issue column means a clean row, not a missing value."""

    code: str
    map_metric = "column_values.dtsen_not_carry_code"
    success_keys = ("mostly", "code")

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None):
        metrics = dict(metrics)
        metrics["column_values.nonnull.unexpected_count"] = 0
        return super()._validate(metrics, runtime_configuration, execution_engine)


class ExpectColumnValuesToBePlausibleBirthDate(ColumnMapExpectation):
    """DOB-01: a real date, not in the future, at most 120 years before the snapshot date."""

    as_of: str | None = None
    map_metric = "column_values.dtsen_plausible_birth_date"
    success_keys = ("mostly", "as_of")


class ExpectColumnValuesToBePlausibleBirthYear(ColumnMapExpectation):
    """DOB-01: a birth year of which some day is a plausible birth date (age 0-120 on the snapshot date)."""

    as_of: str | None = None
    map_metric = "column_values.dtsen_plausible_birth_year"
    success_keys = ("mostly", "as_of")


class ExpectColumnValuesToBePreciseBirthDate(ColumnMapExpectation):
    """DOB-02: not a registry default birth date (1 Jan, 1 Jul, 31 Dec, day 15)."""

    map_metric = "column_values.dtsen_precise_birth_date"


# --- multicolumn map: metrics -----------------------------------------------------------------------

class _Multi(MulticolumnMapMetricProvider):
    condition_domain_keys = _MULTI_DOMAIN


class NikSexAgrees(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_nik_sex_agrees"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        _, (nik, sex) = _split(column_list, 2)
        return rules.nik_sex_agrees(column_list[nik], column_list[sex])


class NikDobAgrees(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_nik_dob_agrees"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        _, (nik, dob) = _split(column_list, 2)
        return rules.nik_dob_agrees(column_list[nik], column_list[dob])


class NikOnePerson(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_nik_one_person"
    condition_value_keys = ("name_similarity",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, name_similarity=rules.NAME_SIMILARITY, **kwargs):
        group, (nik, name, dob, sex) = _split(column_list, 4)
        return rules.nik_collision(column_list, group, nik, name, dob, sex, name_similarity)


class PersonOneKk(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_person_one_kk"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        group, (person, kk) = _split(column_list, 2)
        return rules.person_in_one_kk(column_list, group, person, kk)


class KkOneHead(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_kk_one_head"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        group, (kk, relation) = _split(column_list, 2)
        return rules.kk_one_head(column_list, group, kk, relation)


class FamilyAgesPlausible(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_family_ages_plausible"
    condition_value_keys = ("as_of", "min_parent_gap", "min_spouse_age", "allow_polygamy")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, as_of=None, min_parent_gap=rules.MIN_PARENT_GAP_YEARS,
                min_spouse_age=rules.MIN_SPOUSE_AGE, allow_polygamy=False, **kwargs):
        group, (kk, relation, dob) = _split(column_list, 3)
        return rules.family_ages_plausible(column_list, _as_of(as_of), group=group, kk=kk, relation=relation,
                                           dob=dob, min_gap=min_parent_gap, min_spouse_age=min_spouse_age,
                                           allow_polygamy=allow_polygamy)


class ConstantWithinGroup(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_constant_within_group"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        keys, (value,) = _split(column_list, 1)
        return rules.constant_within_group(column_list, keys, value)


class VillageNameMatches(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_village_name_matches"
    condition_value_keys = ("similarity",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, similarity=rules.VILLAGE_NAME_SIMILARITY, **kwargs):
        _, (code, name) = _split(column_list, 2)
        return rules.village_name_matches(column_list[code], column_list[name], similarity)


class VillageHierarchy(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_village_hierarchy"
    condition_value_keys = ("levels",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, levels, **kwargs):
        village, *parents = list(column_list.columns)
        return rules.region_hierarchy(column_list[village],
                                      {lvl: column_list[c] for lvl, c in zip(levels, parents, strict=True)})


class RecipientWithinCeiling(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_recipient_within_ceiling"
    condition_value_keys = ("ceilings",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, ceilings=None, **kwargs):
        desil, *members = list(column_list.columns)
        programmes = {c: {"pkh": "PKH", "bpnt": "BPNT", "pbi_jk": "PBI-JK"}.get(c, c.upper()) for c in members}
        return rules.recipient_within_ceiling(column_list, ceilings or rules.DEFAULT_CEILINGS, desil, programmes)


class AgeAgrees(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_age_agrees"
    condition_value_keys = ("as_of", "tolerance")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, as_of=None, tolerance=1, **kwargs):
        _, (dob, umur) = _split(column_list, 2)
        return rules.age_agrees(column_list[dob], column_list[umur], _as_of(as_of), tolerance)


class JknSingleSegment(_Multi):
    condition_metric_name = "multicolumn_values.dtsen_jkn_single_segment"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        _, (pbi, segments) = _split(column_list, 2)
        return rules.jkn_single_segment(column_list[pbi], column_list[segments])


# --- multicolumn map: expectations --------------------------------------------------------------

class _MultiExpectation(MulticolumnMapExpectation):
    """Every row counts (nothing ignored): rows a rule cannot judge pass inside the rule."""

    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "never"


class ExpectNikToAgreeWithSex(_MultiExpectation):
    """NIK-09: column_list [nik, jenis_kelamin]; the NIK's sex (day > 40 = P) equals the record's."""

    map_metric = "multicolumn_values.dtsen_nik_sex_agrees"


class ExpectNikToAgreeWithBirthDate(_MultiExpectation):
    """NIK-10: column_list [nik, tgl_lahir]; the NIK's DDMMYY equals the recorded birth date."""

    map_metric = "multicolumn_values.dtsen_nik_dob_agrees"


class ExpectNikToIdentifyOnePerson(_MultiExpectation):
    """NIK-11: column_list [*snapshot, nik, name_key, tgl_lahir, jenis_kelamin]; records sharing a NIK in
    one snapshot agree on birth date and sex and have similar names."""

    name_similarity: float = rules.NAME_SIMILARITY
    map_metric = "multicolumn_values.dtsen_nik_one_person"
    success_keys = ("mostly", "name_similarity")


class ExpectPersonToHaveOneKk(_MultiExpectation):
    """KK-04: column_list [*snapshot, nik or person_id, no_kk]; a person is on one No. KK per snapshot."""

    map_metric = "multicolumn_values.dtsen_person_one_kk"


class ExpectKkToHaveOneHead(_MultiExpectation):
    """KK-05: column_list [*snapshot, no_kk, hubungan]; each No. KK has exactly one Kepala Keluarga."""

    map_metric = "multicolumn_values.dtsen_kk_one_head"


class ExpectFamilyAgesToBePlausible(_MultiExpectation):
    """KK-06: column_list [*snapshot, no_kk, hubungan, tgl_lahir]; children at least `min_parent_gap`
    years younger than head and spouse, spouses at least `min_spouse_age`, one spouse per card."""

    as_of: str | None = None
    min_parent_gap: int = rules.MIN_PARENT_GAP_YEARS
    min_spouse_age: int = rules.MIN_SPOUSE_AGE
    allow_polygamy: bool = False
    map_metric = "multicolumn_values.dtsen_family_ages_plausible"
    success_keys = ("mostly", "as_of", "min_parent_gap", "min_spouse_age", "allow_polygamy")


class ExpectValuesToBeConstantWithinGroup(_MultiExpectation):
    """KK-07: column_list [*group keys, value]; the value (desil) is constant within each group (No. KK)."""

    map_metric = "multicolumn_values.dtsen_constant_within_group"


class ExpectVillageNameToMatchReference(_MultiExpectation):
    """REG-05: column_list [kode_desa, nama_desa]; the delivered name matches the Kemendagri name
    (equal after normalisation, or Jaro-Winkler >= `similarity`)."""

    similarity: float = rules.VILLAGE_NAME_SIMILARITY
    map_metric = "multicolumn_values.dtsen_village_name_matches"
    success_keys = ("mostly", "similarity")


class ExpectVillageCodeToMatchHierarchy(_MultiExpectation):
    """REG-04: column_list [kode_desa, *parent codes]; `levels` names each parent (prov, kab, kec)."""

    levels: list[Literal["prov", "kab", "kec"]]
    map_metric = "multicolumn_values.dtsen_village_hierarchy"
    success_keys = ("mostly", "levels")


class ExpectRecipientsWithinDesilCeiling(_MultiExpectation):
    """PRG-02: column_list [desil, *programme membership columns]; no recipient above the programme's
    desil ceiling (`ceilings`: `read_suite_file` sets the deployment's, else rules.DEFAULT_CEILINGS)."""

    ceilings: dict[str, int] | None = None
    map_metric = "multicolumn_values.dtsen_recipient_within_ceiling"
    success_keys = ("mostly", "ceilings")


class ExpectAgeToAgreeWithRecordedAge(_MultiExpectation):
    """DOB-03: column_list [tgl_lahir, umur]; the age from the birth date is within `tolerance` of UMUR."""

    as_of: str | None = None
    tolerance: int = 1
    map_metric = "multicolumn_values.dtsen_age_agrees"
    success_keys = ("mostly", "as_of", "tolerance")


class ExpectPbiJkWithoutOtherJknSegment(_MultiExpectation):
    """PRG-03: column_list [pbi_jk, jkn segments]; a PBI-JK member holds no other JKN segment."""

    map_metric = "multicolumn_values.dtsen_jkn_single_segment"


CUSTOM_EXPECTATIONS: tuple[type[Any], ...] = (
    ExpectColumnValuesToBeValidNik, ExpectColumnValuesToBeValidKk, ExpectColumnValuesToHaveKnownKecamatanPrefix,
    ExpectColumnValuesToBeKemendagriVillage, ExpectColumnValuesToBeBpsVillage, ExpectColumnValuesToNotCarryCode,
    ExpectColumnValuesToBePlausibleBirthDate, ExpectColumnValuesToBePlausibleBirthYear,
    ExpectColumnValuesToBePreciseBirthDate, ExpectNikToAgreeWithSex,
    ExpectNikToAgreeWithBirthDate, ExpectNikToIdentifyOnePerson, ExpectPersonToHaveOneKk, ExpectKkToHaveOneHead,
    ExpectFamilyAgesToBePlausible, ExpectValuesToBeConstantWithinGroup, ExpectVillageNameToMatchReference,
    ExpectVillageCodeToMatchHierarchy, ExpectRecipientsWithinDesilCeiling, ExpectAgeToAgreeWithRecordedAge,
    ExpectPbiJkWithoutOtherJknSegment,
)
