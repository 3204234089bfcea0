"""Blocking across villages: a mover's stale record is a candidate pair, and the comparison
count grows with the data (more people live in more villages), not as n squared."""

import numpy as np
import pandas as pd

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
