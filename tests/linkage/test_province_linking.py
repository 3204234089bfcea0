"""Cross-regency scoring with Splink (issue #17): a mover's two persons link; two people whose
NIKs differ only in the region digits (born the same day in the same-numbered kecamatan of two
regencies) do not, however alike their names."""

import logging

import numpy as np
import pandas as pd

from dtsen_pipeline.linkage.backend import SPARK
from dtsen_pipeline.province.linking import ACCEPT_THRESHOLD, guarded_persons, score_pairs

FIRST = ["SITI", "ENY", "AHMAD", "MUHAMMAD", "NUR", "SRI", "BUDI", "DEWI", "AGUS", "RINA", "YULI", "EKO"]
LAST = ["AMINAH", "PURWANTI", "RAHMAWATI", "SAPUTRA", "HIDAYAT", "LESTARI", "SUNARTI", "WIBOWO", "FAUZI"]


def _crowd(regency_digits: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    born = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 25_000, n), unit="D")
    sex = rng.choice(["L", "P"], n)
    day = born.day.to_numpy() + np.where(sex == "P", 40, 0)
    nik = [f"{regency_digits}{rng.integers(1, 20):02d}{d:02d}{b.month:02d}{b.year % 100:02d}{rng.integers(1, 9999):04d}"
           for d, b in zip(day, born, strict=True)]
    return pd.DataFrame({
        "person_id": [f"P{regency_digits}{i:05d}" for i in range(n)], "nik": nik,
        "nama": [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(n)],
        "tgl_lahir": born.date, "birth_year": born.year, "jenis_kelamin": sex})


def _person(person_id, nik, nama, born, sex="P"):
    born = pd.Timestamp(born)
    return {"person_id": person_id, "nik": nik, "nama": nama, "tgl_lahir": born.date(), "birth_year": born.year,
            "jenis_kelamin": sex}


def _two_regencies(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Two regencies' crowds and the planted persons: a mover, a mover whose NIK slipped, and two
    people whose NIKs differ in the region digits only."""
    tanggamus, pringsewu = _crowd("1806", 600, rng), _crowd("1810", 600, rng)
    planted_a = pd.DataFrame([
        _person("MOVER", "1806066911890002", "ENY PURWANTI", "1989-11-29"),
        _person("TYPO", "1806134504760001", "ENDANG SUNARTI", "1976-04-05"),
        _person("NATIVE", "1806066509810001", "SADIYAH", "1981-09-25"),
    ])
    planted_b = pd.DataFrame([
        _person("MOVER_NOW", "1806066911890002", "ENY PURWANTI", "1989-11-29"),  # the NIK is for life
        _person("TYPO_NOW", "1806134504760007", "ENDANG SUNARTI", "1976-04-05"),  # one key slipped in the serial
        _person("NAMESAKE", "1807066509810001", "SADIYAH NOVITA", "1981-09-25"),  # region digits differ
    ])
    return {"18.06": pd.concat([tanggamus, planted_a], ignore_index=True),
            "18.10": pd.concat([pringsewu, planted_b], ignore_index=True)}


def _probability(pairs: pd.DataFrame, a: str, b: str) -> float:
    hit = pairs[((pairs["person_id_l"] == a) & (pairs["person_id_r"] == b))
                | ((pairs["person_id_l"] == b) & (pairs["person_id_r"] == a))]
    return float(hit["match_probability"].max()) if len(hit) else 0.0


def test_a_mover_links_and_a_neighbours_namesake_does_not():
    by_regency = _two_regencies(np.random.default_rng(7))
    pairs = score_pairs(by_regency)
    assert set(pairs["regency_l"]) | set(pairs["regency_r"]) <= {"18.06", "18.10"}
    assert (pairs["regency_l"] != pairs["regency_r"]).all()  # link_only: never two of one regency

    assert _probability(pairs, "MOVER", "MOVER_NOW") >= ACCEPT_THRESHOLD
    assert _probability(pairs, "TYPO", "TYPO_NOW") >= ACCEPT_THRESHOLD
    assert _probability(pairs, "NATIVE", "NAMESAKE") < ACCEPT_THRESHOLD
    links = guarded_persons(pairs, by_regency)
    ids = dict(zip(links.persons["person_id"], links.persons["province_person_id"], strict=True))
    assert ids["MOVER"] == ids["MOVER_NOW"] and ids["TYPO"] == ids["TYPO_NOW"] and ids["NATIVE"] != ids["NAMESAKE"]


def test_only_a_slip_outside_the_region_digits_counts_as_a_nik_typo():
    import duckdb

    from dtsen_pipeline.province.linking import settings

    nik = next(c for c in settings().get_settings("duckdb").comparisons if c.output_column_name == "nik")
    labels = [level.label_for_charts for level in nik.comparison_levels]

    def level(a: str, b: str) -> str:
        """The label of the first level whose condition holds for the pair (Splink's CASE WHEN)."""
        for one in nik.comparison_levels:
            if one.sql_condition == "ELSE":
                return one.label_for_charts
            sql = f"SELECT ({one.sql_condition}) FROM (SELECT '{a}' AS nik_l, '{b}' AS nik_r)"
            if duckdb.sql(sql).fetchall()[0][0]:
                return one.label_for_charts
        raise AssertionError("no level")

    slip, exact, other = labels[2], labels[1], labels[-1]
    assert slip == "one edit outside the region digits"
    assert level("1806066911890002", "1806066911890002") == exact
    assert level("1806066911890002", "1806066911890007") == slip  # the serial: a slip
    assert level("1806066911890002", "1806066911980002") == slip  # two birth digits swapped
    assert level("1806066911890002", "1807066911890002") == other  # region digits: another person


def test_the_province_scoring_gives_the_same_pairs_on_spark(spark_ready):
    """DTSEN_LINKAGE_BACKEND=spark: the same cross-regency pairs and probabilities as on DuckDB
    (the u probabilities come from random pairs of the same seed on each backend)."""
    by_regency = _two_regencies(np.random.default_rng(7))
    # 60 more movers, as registries see them: a third with a letter of the name mistyped, a third
    # with the birth date defaulted to 1 January of its year.
    movers = by_regency["18.06"].head(60).copy()
    movers["person_id"] = "NOW_" + movers["person_id"]
    movers.loc[movers.index[:20], "nama"] = movers["nama"].str[:-1] + "I"
    movers.loc[movers.index[20:40], "tgl_lahir"] = [pd.Timestamp(year=y, month=1, day=1).date()
                                                     for y in movers["birth_year"][20:40]]
    by_regency["18.10"] = pd.concat([by_regency["18.10"], movers], ignore_index=True)
    on_duckdb = score_pairs(by_regency)
    on_spark = score_pairs(by_regency, backend=SPARK)
    key = ["person_id_l", "person_id_r"]
    both = on_duckdb.merge(on_spark, on=key, suffixes=("_duckdb", "_spark"))
    assert len(on_duckdb) >= 60 and len(both) >= 0.99 * max(len(on_duckdb), len(on_spark))
    accepted = [(frame["match_probability"] >= ACCEPT_THRESHOLD).sum() for frame in (on_duckdb, on_spark)]
    assert accepted[0] == accepted[1]
    difference = (both["match_probability_duckdb"] - both["match_probability_spark"]).abs().max()
    assert difference < 0.05
    logging.getLogger(__name__).info(f"{len(on_duckdb)} / {len(on_spark)} pairs (DuckDB / Spark), {len(both)} in "
                                     f"both, {accepted[0]} accepted on each, largest difference {difference:.2e}")
    assert _probability(on_spark, "MOVER", "MOVER_NOW") >= ACCEPT_THRESHOLD
    assert _probability(on_spark, "TYPO", "TYPO_NOW") >= ACCEPT_THRESHOLD
    assert _probability(on_spark, "NATIVE", "NAMESAKE") < ACCEPT_THRESHOLD
