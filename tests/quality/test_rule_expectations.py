"""Every rule of docs/rules.md as a GX expectation: rows that pass and rows that fail.

Each case validates one expectation (as a suite file would declare it) on a tiny frame through
the same runner the pipeline uses, and checks GX's verdict and its count of unexpected rows.
"""


import pandas as pd
import pytest

from dtsen_pipeline.clock import local_date
from dtsen_pipeline.quality import gx_suites

AS_OF = "2026-11-29"
V = "18.06.01.1001"  # Baros, Kota Agung (Kepmendagri 2025)


def validate(expectation: dict, frame: pd.DataFrame) -> tuple[bool, int]:
    import great_expectations as gx

    gx_suites._register_custom_expectations()
    suite = gx.ExpectationSuite(name="case", expectations=[{**expectation, "meta": {"severity": "error"}}])
    assert len(suite.expectations) == 1, "GX refused the expectation"
    batch = gx_suites._batch_definition(gx_suites._context(), "case").get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format=gx_suites.RESULT_FORMAT).results[0]
    assert not (result.exception_info or {}).get("raised_exception"), result.exception_info
    return bool(result.success), int(result.result["unexpected_count"])


def col(type_: str, column: str, **kwargs) -> dict:
    return {"type": type_, "kwargs": {"column": column, **kwargs}}


def multi(type_: str, columns: list[str], **kwargs) -> dict:
    return {"type": type_, "kwargs": {"column_list": columns, **kwargs}}


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def dates(*values) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)))


VALID_NIK = col("expect_column_values_to_be_valid_nik", "nik")
CASES = {
    # rule: (expectation, passing frame, failing frame, unexpected rows in the failing frame)
    "NIK-01": (VALID_NIK, frame(nik=["1806014107850001", "1806 0141 0785 0001", None]),
               frame(nik=["180601410785001", "18060141078500O1", "1806014107850001"]), 2),
    "NIK-02": (VALID_NIK, frame(nik=["'1806014107850001"]), frame(nik=["1.80601E+15", "1806014107850001.0"]), 2),
    "NIK-03": (VALID_NIK, frame(nik=["1806014107850001", "9406014107850001"]),
               frame(nik=["2006014107850001", "9906014107850001"]), 2),
    "NIK-04": (VALID_NIK, frame(nik=["1806014107850001"]), frame(nik=["1800014107850001", "1806004107850001"]), 2),
    "NIK-04 (W, kabupaten 70)": (col("expect_column_values_to_not_match_regex", "nik", regex="^[0-9]{2}70"),
                                 frame(nik=["1806014107850001"]), frame(nik=["1870014107850001"]), 1),
    "NIK-05": (col("expect_column_values_to_have_known_kecamatan_prefix", "nik"),
               frame(nik=["1806014107850001", "1871014107850001"]), frame(nik=["1806994107850001"]), 1),
    "NIK-06": (VALID_NIK, frame(nik=["1806012902840001", "1806017112990001"]),
               frame(nik=["1806012902850001", "1806013102850001", "1806013213850001", "1806017207850001"]), 4),
    "NIK-07": (VALID_NIK, frame(nik=["1806014107850001"]), frame(nik=["1806014107850000"]), 1),
    "NIK-08": (VALID_NIK, frame(nik=["1806014107850001"]),
               frame(nik=["0806014107850001", "1806010000000001", "1111111111111111", "1234567890123456"]), 4),
    "NIK-09": (multi("expect_nik_to_agree_with_sex", ["nik", "jenis_kelamin"]),
               frame(nik=["1806014107850001", "1806010107850001"], jenis_kelamin=["P", "L"]),
               frame(nik=["1806014107850001", "1806010107850001"], jenis_kelamin=["L", "P"]), 2),
    "NIK-10": (multi("expect_nik_to_agree_with_birth_date", ["nik", "tgl_lahir"]),
               frame(nik=["1806014107850001"], tgl_lahir=dates("1985-07-01")),
               frame(nik=["1806014107850001", "1806014107850002"], tgl_lahir=dates("1985-07-02", "1986-07-01")), 2),
    "NIK-11": (multi("expect_nik_to_identify_one_person",
                     ["source_file", "nik", "name_key", "tgl_lahir", "jenis_kelamin"]),
               frame(source_file=["a", "a", "b"], nik=["1806014107850001"] * 3,
                     name_key=["MUHAMMAD ALI", "MUHAMAD ALI", "SITI AMINAH"],
                     tgl_lahir=dates("1985-07-01", "1985-07-01", "1990-01-01"), jenis_kelamin=["P", "P", "P"]),
               frame(source_file=["a", "a", "a", "a"], nik=["1806014107850001"] * 2 + ["1806014107850002"] * 2,
                     name_key=["BUDI SANTOSO", "SITI AMINAH", "RINA", "RINA"],
                     tgl_lahir=dates("1985-07-01", "1985-07-01", "1985-07-01", "1985-08-01"),
                     jenis_kelamin=["P"] * 4), 4),
    "NIK-11 (W, exact duplicate)": (col("expect_column_values_to_not_carry_code", "flags", code="EXACT_DUPLICATE_ROW"),
                                    frame(flags=["", "DOB_IMPRECISE", None]),
                                    frame(flags=["EXACT_DUPLICATE_ROW", "DOB_IMPRECISE;EXACT_DUPLICATE_ROW", ""]), 2),
    "KK-01": (col("expect_column_values_to_be_valid_kk", "no_kk"), frame(no_kk=["1806010101200001", None]),
              frame(no_kk=["1.80601E+15", "180601010120001", "1806010101200001.0"]), 3),
    "KK-02": (col("expect_column_values_to_have_known_kecamatan_prefix", "no_kk"), frame(no_kk=["1806010101200001"]),
              frame(no_kk=["1806000101200001"]), 1),
    "KK-03": (col("expect_column_values_to_be_valid_kk", "no_kk"), frame(no_kk=["1806010101200001"]),
              frame(no_kk=["0806010101200001", "2222222222222222"]), 2),
    "KK-04": (multi("expect_person_to_have_one_kk", ["source_file", "nik", "no_kk"]),
              frame(source_file=["a", "b"], nik=["1806014107850001"] * 2, no_kk=["1806010101200001", "1806010101200002"]),
              frame(source_file=["a", "a"], nik=["1806014107850001"] * 2,
                    no_kk=["1806010101200001", "1806010101200002"]), 2),
    "KK-05": (multi("expect_kk_to_have_one_head", ["source_file", "no_kk", "hubungan"]),
              frame(source_file=["a"] * 3, no_kk=["K1", "K1", None], hubungan=["KEPALA_KELUARGA", "ANAK", "ANAK"]),
              frame(source_file=["a"] * 4, no_kk=["K1", "K1", "K2", "K2"],
                    hubungan=["ANAK", "ANAK", "KEPALA_KELUARGA", "KEPALA_KELUARGA"]), 4),
    "KK-06": (multi("expect_family_ages_to_be_plausible", ["no_kk", "hubungan", "tgl_lahir"], as_of=AS_OF),
              frame(no_kk=["K1"] * 3, hubungan=["KEPALA_KELUARGA", "PASANGAN", "ANAK"],
                    tgl_lahir=dates("1970-01-05", "1975-03-01", "2000-06-01")),
              frame(no_kk=["K1"] * 4 + ["K2"] * 2, hubungan=["KEPALA_KELUARGA", "PASANGAN", "PASANGAN", "ANAK",
                                                           "KEPALA_KELUARGA", "PASANGAN"],
                    tgl_lahir=dates("1970-01-05", "1975-03-01", "1980-03-01", "1978-06-01", "1990-01-01",
                                    "2015-01-01")), 4),
    "KK-07": (multi("expect_values_to_be_constant_within_group", ["no_kk", "desil"]),
              frame(no_kk=["K1", "K1", "K2"], desil=[3, 3, 7]), frame(no_kk=["K1", "K1", "K2"], desil=[3, 4, 7]), 2),
    "REG-01": (col("expect_column_values_to_be_in_set", "region_code_system", value_set=["kemendagri", "bps"]),
               frame(region_code_system=["kemendagri", "bps"]), frame(region_code_system=["guess"]), 1),
    "REG-02": (col("expect_column_values_to_be_kemendagri_village", "kode_desa"), frame(kode_desa=[V, "18.06.24.2007"]),
               frame(kode_desa=["18.06.01.2999", "1806011001"]), 2),
    "REG-03": (col("expect_column_values_to_be_bps_village", "kode_bps", bridge={"1802020026": V}),
               frame(kode_bps=["1802020026"]), frame(kode_bps=["1802020999", "18020"]), 2),
    "REG-04": (multi("expect_village_code_to_match_hierarchy", ["kode_desa", "kode_kec", "kode_prov"],
                     levels=["kec", "prov"]),
               frame(kode_desa=[V, V], kode_kec=["18.06.01", None], kode_prov=["18", "18"]),
               frame(kode_desa=[V, V], kode_kec=["18.06.02", "18.06.01"], kode_prov=["18", "17"]), 2),
    "REG-05": (multi("expect_village_name_to_match_reference", ["kode_desa", "nama_desa"]),
               frame(kode_desa=["18.06.24.2007", "18.06.24.2007", V], nama_desa=["PEKON PEKON AMPAI", "Ampay", "Baros"]),
               frame(kode_desa=["18.06.24.2007"], nama_desa=["SUKARAJA"]), 1),
    "REG-06": (col("expect_column_values_to_be_in_set", "in_scope", value_set=[True], mostly=0.98),
               frame(in_scope=[True] * 100), frame(in_scope=[True] * 90 + [False] * 10), 10),
    "REG-07": (col("expect_column_values_to_not_be_null", "kode_desa_source"), frame(kode_desa_source=["1806011001"]),
               frame(kode_desa_source=[None, "1806011001"]), 1),
    "NAME-01": (col("expect_column_values_to_not_be_null", "nama_norm"), frame(nama_norm=["ANI"]),
                frame(nama_norm=["ANI", None]), 1),
    "NAME-07": (col("expect_column_value_lengths_to_be_between", "nama", max_value=60), frame(nama=["ANI", "A" * 60]),
                frame(nama=["A" * 61]), 1),
    "NAME-07 (I, single token)": (col("expect_column_values_to_match_regex", "nama_norm", regex=" "),
                                  frame(nama_norm=["SITI AMINAH"]), frame(nama_norm=["SUKARNO"]), 1),
    "DOB-01": (col("expect_column_values_to_be_plausible_birth_date", "tgl_lahir", as_of=AS_OF),
               frame(tgl_lahir=dates("1980-05-17", "1906-12-01")),
               frame(tgl_lahir=dates("2027-01-01", "1900-01-02")), 2),
    "DOB-01 (birth year)": (col("expect_column_values_to_be_plausible_birth_year", "birth_year", as_of=AS_OF),
                            frame(birth_year=pd.array([1980, 1905, None, 2026], dtype="Int64")),
                            frame(birth_year=pd.array([2027, 1904, 1980], dtype="Int64")), 2),
    "DOB-02": (col("expect_column_values_to_be_precise_birth_date", "tgl_lahir"), frame(tgl_lahir=dates("1980-05-17")),
               frame(tgl_lahir=dates("1980-01-01", "1980-07-01", "1980-12-31", "1980-03-15")), 4),
    "DOB-03": (multi("expect_age_to_agree_with_recorded_age", ["tgl_lahir", "umur"], as_of=AS_OF),
               frame(tgl_lahir=dates("1980-06-01", "1980-12-01"), umur=["46", "45"]),
               frame(tgl_lahir=dates("1980-06-01"), umur=["40"]), 1),
    "PRG-01": (col("expect_column_values_to_be_between", "desil", min_value=1, max_value=10),
               frame(desil=[1, 10, None]), frame(desil=[0, 11]), 2),
    "PRG-02": (multi("expect_recipients_within_desil_ceiling", ["desil", "pkh", "bpnt", "pbi_jk"],
                     ceilings={"PKH": 4, "BPNT": 5, "PBI-JK": 5}),
               frame(desil=[4, 5, 9], pkh=[True, False, False], bpnt=[False, True, False], pbi_jk=[False, True, False]),
               frame(desil=[5, 6], pkh=[True, False], bpnt=[False, True], pbi_jk=[False, False]), 2),
    "PRG-03": (multi("expect_pbi_jk_without_other_jkn_segment", ["pbi_jk", "jkn_segmen"]),
               frame(pbi_jk=[True, False], jkn_segmen=["PBI-JK", "PPU"]),
               frame(pbi_jk=[True, True], jkn_segmen=["PBI JK;PPU", "PBPU"]), 2),
}


@pytest.mark.parametrize("rule", list(CASES))
def test_rule_expectation_passes_and_fails(rule):
    expectation, good, bad, unexpected = CASES[rule]
    assert validate(expectation, good) == (True, 0), f"{rule}: passing rows were rejected"
    assert validate(expectation, bad) == (False, unexpected), f"{rule}: failing rows not caught"


def test_every_listed_rule_has_a_case():
    listed = ([f"NIK-{i:02d}" for i in range(1, 12)] + [f"KK-{i:02d}" for i in range(1, 8)]
              + [f"REG-{i:02d}" for i in range(1, 8)] + ["NAME-01", "NAME-07", "DOB-01", "DOB-02", "DOB-03"]
              + ["PRG-01", "PRG-02", "PRG-03"])
    assert {r.split(" ")[0] for r in CASES} == set(listed)


def test_mostly_threshold_decides():
    exp = col("expect_column_values_to_not_carry_code", "nik_issue", code="NIK_PLACEHOLDER", mostly=0.9)
    issues = [None] * 92 + ["NIK_PLACEHOLDER"] * 5 + ["MISSING"] * 3
    assert validate(exp, frame(nik_issue=issues)) == (True, 5)  # 5 of 100 rows, nulls count as clean rows
    strict = {**exp, "kwargs": {**exp["kwargs"], "mostly": 0.99}}
    assert validate(strict, frame(nik_issue=issues)) == (False, 5)


def test_as_of_defaults_to_today_in_the_deployments_time_zone():
    today = pd.Timestamp(local_date())
    expectation = col("expect_column_values_to_be_plausible_birth_date", "tgl_lahir")
    assert validate(expectation, frame(tgl_lahir=pd.Series([today + pd.Timedelta(days=1)]))) == (False, 1)
    assert validate(expectation, frame(tgl_lahir=pd.Series([today]))) == (True, 0)
