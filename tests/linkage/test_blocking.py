"""Blocking across villages: a mover's stale record is a candidate pair, and the comparison
count grows with the data (more people live in more villages), not as n squared."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from dtsen_pipeline.linkage.model import (
    _SESSIONS,
    LinkageConfig,
    close_linker,
    new_linker,
    record_ids,
    register_blocked_pairs,
    score_pairs,
    settings,
    train,
)
from dtsen_pipeline.linkage.prepare import linkage_input
from dtsen_pipeline.linkage.quality import blocking_recall

GIVEN = ["SITI", "DEWI", "BUDI", "AGUS", "RINA", "EKO", "SRI", "ANDI", "NUR", "WAHYU", "YANTI", "JOKO"]
FAMILY = ["AMINAH", "LESTARI", "SANTOSO", "PRATAMA", "WATI", "HIDAYAT", "SUSANTI", "SAPUTRA", "RAHAYU"]


def _population(persons: int, villages: int, seed: int) -> pd.DataFrame:
    """Persons spread over `villages` (about 40 per village), two records each in one village."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(persons):
        village = int(rng.integers(villages))
        kec = village // 20 + 1
        dob = pd.Timestamp("1950-01-01") + pd.Timedelta(days=int(rng.integers(0, 25_000)))
        nik = f"1806{kec:02d}{dob:%d%m%y}{p % 10_000:04d}"
        base = {"nik": nik, "no_kk": f"1806{kec:02d}{p:010d}", "name_key": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
                "tgl_lahir": dob, "dob_imprecise": False, "jenis_kelamin": "P",
                "kode_desa": f"18.06.{kec:02d}.{2000 + village:04d}", "kode_kecamatan": f"18.06.{kec:02d}",
                "alamat": f"Dusun {int(rng.integers(1, 6))}"}
        rows.append({**base, "record_id": f"dukcapil:{p}#1", "feed": "dukcapil", "person_key": f"P{p}"})
        rows.append({**base, "record_id": f"pekon:{p}#1", "feed": "pekon", "person_key": f"P{p}"})
    return pd.DataFrame(rows)


def _with_mover(population: pd.DataFrame) -> pd.DataFrame:
    """A woman who moved: DTSEN still lists her in the old village and family, without a NIK."""
    new_home = population.iloc[0]
    stale = {**new_home.to_dict(), "record_id": "dtsen:stale#1", "feed": "dtsen", "nik": None,
             "no_kk": "1806990000000001", "kode_desa": "18.06.09.2199", "kode_kecamatan": "18.06.09",
             "alamat": "Gang Mawar"}
    return pd.concat([population, pd.DataFrame([stale])], ignore_index=True)


def _blocking(staged: pd.DataFrame) -> dict:
    return blocking_recall(linkage_input(staged), staged[["record_id", "person_key"]])


def test_a_movers_stale_record_in_another_village_is_a_candidate_pair():
    staged = _with_mover(_population(1_000, 25, seed=1))
    assert _blocking(staged)["recall"] == 1.0
    # Only the mover's stale record and her civil-registry record: a pair across villages, no NIK.
    pair = staged[staged["record_id"].isin(["dtsen:stale#1", "dukcapil:0#1"])]
    result = blocking_recall(linkage_input(staged), pair[["record_id", "person_key"]])
    assert result["true_pairs"] == 1 and result["recall"] == 1.0
    village_rules = {k: r for k, r in result["recall_by_rule"].items() if "kode_desa" in k}
    assert village_rules and set(village_rules.values()) == {0.0}  # no rule inside a village sees it


def test_comparisons_grow_with_the_data_not_as_n_squared():
    small = _blocking(_with_mover(_population(2_000, 50, seed=2)))["comparisons"]
    large = _blocking(_with_mover(_population(4_000, 100, seed=3)))["comparisons"]
    records = 2 * 4_000 + 1
    assert large < 0.01 * records * (records - 1) / 2
    assert large / small < 2.6  # twice the people in twice the villages: about twice the comparisons


def _candidates(records: pd.DataFrame) -> set[tuple[str, str]]:
    linker = new_linker(records, settings())
    pairs = record_ids(linker).decoded(register_blocked_pairs(linker).as_pandas_dataframe(), ["join_key_l", "join_key_r"])
    return set(zip(pairs["join_key_l"], pairs["join_key_r"], strict=True))


def test_one_pass_candidate_pairs_are_the_pairs_splinks_own_blocking_makes():
    staged = _with_mover(_population(1_500, 30, seed=4))
    # Damage as the feeds carry it: NIKs missing, mistyped by one digit, two digits swapped.
    staged.loc[staged.index % 7 == 0, "nik"] = None
    typo = (staged.index % 11 == 1) & staged["nik"].notna()
    staged.loc[typo, "nik"] = staged.loc[typo, "nik"].str[:10] + "9" + staged.loc[typo, "nik"].str[11:]
    swap = (staged.index % 13 == 1) & staged["nik"].notna()
    staged.loc[swap, "nik"] = staged.loc[swap, "nik"].map(lambda n: n[:7] + n[8] + n[7] + n[9:])
    records = linkage_input(staged)
    splinks_own = new_linker(records, settings())
    splink_pairs = record_ids(splinks_own).decoded(
        splinks_own.inference.compute_blocked_pairs_for_predict().as_pandas_dataframe(), ["join_key_l", "join_key_r"])
    expected = set(zip(splink_pairs["join_key_l"], splink_pairs["join_key_r"], strict=True))
    assert len(expected) > 1_500
    assert _candidates(records) == expected
    # The benchmark's comparison count is the number of pairs the model scores.
    assert blocking_recall(records, staged[["record_id", "person_key"]])["comparisons"] == len(expected)


def test_namesakes_with_known_nik_far_apart_are_no_candidates_but_a_record_without_nik_is():
    person = {"no_kk": "1806011203040001", "name_key": "SITI AMINAH", "tgl_lahir": pd.Timestamp("1980-05-01"),
              "dob_imprecise": False, "jenis_kelamin": "P", "kode_desa": "18.06.01.2001",
              "kode_kecamatan": "18.06.01", "alamat": "Dusun 1", "feed": "dukcapil"}
    staged = pd.DataFrame([
        {**person, "record_id": "a", "nik": "1806014105800001"},
        # Another SITI AMINAH of the same dusun, born another day: a NIK two parts away.
        {**person, "record_id": "b", "nik": "1806016208750003", "tgl_lahir": pd.Timestamp("1975-08-22")},
        # A programme-list row without a usable NIK, same name and dusun: may be either of them.
        {**person, "record_id": "c", "nik": None, "feed": "pekon", "tgl_lahir": pd.NaT},
        # The first one again with one digit mistyped in her NIK.
        {**person, "record_id": "d", "nik": "1806014105800007", "feed": "pekon"},
    ])
    candidates = _candidates(linkage_input(staged))
    assert ("a", "b") not in candidates
    assert {("a", "c"), ("b", "c"), ("a", "d")} <= candidates


def test_a_closed_linker_lets_its_duckdb_go():
    """close_linker ends the linker's in-memory DuckDB (records and predictions) at once."""
    linker = new_linker(linkage_input(_with_mover(_population(200, 5, seed=4))), settings())
    connection = _SESSIONS[linker][0].connection
    assert connection.execute("SELECT 1").fetchone() == (1,)
    close_linker(linker)
    assert linker not in _SESSIONS
    with pytest.raises(duckdb.ConnectionException):
        connection.execute("SELECT 1")


def test_scoring_leaves_no_candidate_pairs_or_predictions_in_the_linkers_duckdb():
    """score_pairs hands pandas the scored pairs and drops the candidate-pair and prediction tables
    (gigabytes at regency scale) before the clustering runs; the linker can still score again."""
    records = linkage_input(_with_mover(_population(600, 12, seed=5)))
    linker = new_linker(records, settings())
    config = LinkageConfig()
    train(linker, config, len(records))
    connection = _SESSIONS[linker][0].connection

    def tables() -> set[str]:
        return {name for (name,) in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()}

    before = tables()
    first = score_pairs(linker, config)
    assert len(first) >= 600  # at least each person's two records
    left = tables() - before
    assert not {t for t in left if "blocked_pairs" in t or "predict" in t}, left
    again = score_pairs(linker, config)
    key = ["unique_id_l", "unique_id_r"]
    pd.testing.assert_frame_equal(first.sort_values(key, ignore_index=True), again.sort_values(key, ignore_index=True))
    close_linker(linker)
