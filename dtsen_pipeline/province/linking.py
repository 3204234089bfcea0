"""Golden persons of several regencies linked to each other with Splink (`link_only`: only pairs
across regencies are scored; each regency has already found its own duplicates).

A person who moves keeps their NIK, name, birth date and sex, so these four compare. Their village
and No. KK change by definition, so they do not. The m probabilities are fixed (below, with why),
not trained by EM: movers are well under 1% of a province's people, too few in any block for EM to
tell them from the crowd, while a registry's view of the same person is well known from the
regency model. The u probabilities are estimated from random pairs of each run's own persons,
which needs no labels and holds at any size.

Clustering is guarded: links are taken strongest first, and a link that would put two persons of
one regency in one province person is refused (the regency's own linkage kept them apart with more
evidence than a cross-regency pair has). A pair whose names are not even similar goes to review
whatever its score: one NIK and birth date under two names is a NIK used twice (domain notes,
"1 NIK used by 2 people"), not a move. The scoring runs on the deployment's linkage backend
(`DTSEN_LINKAGE_BACKEND`: Splink's in-process DuckDB or a local Spark, `linkage.backend` sessions).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

from dtsen_pipeline.domain.names import name_columns
from dtsen_pipeline.linkage.backend import DUCKDB, LOCAL_SPARK, SparkOptions, open_session

ACCEPT_THRESHOLD = 0.9  # a province link at or above this joins two regencies' persons
REVIEW_THRESHOLD = 0.5  # from here up to ACCEPT_THRESHOLD: for clerical review
# u of the two NIK levels, fixed (see _comparisons): Splink's defaults for a level at weight +10
# and +3 (u = m / 2^weight), the values every measured DuckDB run used.
EXACT_NIK_U = {"u_probability": 0.95 / 2**10, "fix_u_probability": True}
SLIPPED_NIK_U = {"u_probability": 0.03 / 2**3, "fix_u_probability": True}
PERSON_COLUMNS = ["person_id", "nik", "nama", "tgl_lahir", "birth_year", "jenis_kelamin", "kode_desa", "no_kk",
                  "in_dukcapil", "is_dead", "is_recipient"]


@dataclass(frozen=True)
class ProvinceLinks:
    """Scored pairs across regencies (ids and scores only) and the guarded province persons."""

    pairs: pd.DataFrame  # regency_l, person_id_l, regency_r, person_id_r, match_probability, nik_agrees, decision
    persons: pd.DataFrame  # regency, person_id, province_person_id


def _comparisons() -> list[cl.CustomComparison]:
    nik = cl.CustomComparison(output_column_name="nik", comparison_levels=[
        cll.NullLevel("nik"),
        # u of both NIK levels fixed, not sampled: two different people of two regencies share a NIK,
        # or hold NIKs one key apart, too rarely for 2 million random pairs to see. When the
        # sample saw none, Splink took its default weight (+10 for the exact NIK); when it met one
        # or two movers by chance (Spark's sample did at 4 regencies, DuckDB's did not) it took
        # their rate, about a million, and the same persons' movers were found with recall 0.905
        # on DuckDB and 0.983 on Spark. Fixed at the default. A higher NIK weight finds more
        # movers but merges more people who are not one: at 4 regencies x 300,000 (seed 107),
        # u 1e-6 gave recall 0.9757 and precision 0.9947, the default 0.9171 and 0.9996.
        cll.ExactMatchLevel("nik").configure(m_probability=0.95, **EXACT_NIK_U),  # the NIK is for life
        # One key slipped, in the birth date or serial only. Across regencies a difference in the
        # region digits is the NIK's structure, not a typo: two people born on one day in the 6th
        # kecamatan of two regencies have NIKs one edit apart (measured at Lampung size: 60,000
        # such pairs linked before this level asked for the same region digits).
        cll.CustomLevel("substr(nik_l, 1, 6) = substr(nik_r, 1, 6) AND damerau_levenshtein(nik_l, nik_r) <= 1",
                        label_for_charts="one edit outside the region digits",
                        base_dialect_str="duckdb").configure(m_probability=0.03, **SLIPPED_NIK_U),
        cll.ElseLevel().configure(m_probability=0.02)])
    name = cl.CustomComparison(output_column_name="name_key", comparison_levels=[
        cll.NullLevel("name_key"),
        cll.ExactMatchLevel("name_key").configure(m_probability=0.85),
        cll.JaroWinklerLevel("name_key", 0.92).configure(m_probability=0.10),
        cll.JaroWinklerLevel("name_key", 0.80).configure(m_probability=0.03),
        cll.ElseLevel().configure(m_probability=0.02)])
    dob = cl.CustomComparison(output_column_name="tgl_lahir", comparison_levels=[
        cll.NullLevel("birth_year"),
        cll.ExactMatchLevel("tgl_lahir").configure(m_probability=0.88),
        cll.ExactMatchLevel("birth_year").configure(m_probability=0.09),  # a default 1 Jan or 31 Dec
        cll.ElseLevel().configure(m_probability=0.03)])
    sex = cl.CustomComparison(output_column_name="jenis_kelamin", comparison_levels=[
        cll.NullLevel("jenis_kelamin"),
        cll.ExactMatchLevel("jenis_kelamin").configure(m_probability=0.99),
        cll.ElseLevel().configure(m_probability=0.01)])
    return [nik, name, dob, sex]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="person_id",
        blocking_rules_to_generate_predictions=[
            block_on("nik"), block_on("tgl_lahir", "substr(name_key, 1, 3)"), block_on("birth_year", "name_key")],
        comparisons=_comparisons(),
        retain_intermediate_calculation_columns=False,
    )


def linkable(persons: pd.DataFrame) -> pd.DataFrame:
    """The columns the model compares, from a regency's golden persons (no record values leave
    the linkage's own session)."""
    names = name_columns(persons["nama"].astype("string"))
    dob = pd.to_datetime(persons["tgl_lahir"], errors="coerce")
    return pd.DataFrame({
        "person_id": persons["person_id"].astype(str),
        "nik": persons["nik"].astype("string"),
        "name_key": names["name_key"].astype("string"),
        "tgl_lahir": dob.dt.strftime("%Y-%m-%d").astype("string"),
        "birth_year": pd.to_numeric(persons["birth_year"], errors="coerce").astype("Int64"),
        "jenis_kelamin": persons["jenis_kelamin"].astype("string"),
    })


def score_pairs(by_regency: dict[str, pd.DataFrame], seed: int = 42, memory_limit: str = "4GB",
                backend: str = DUCKDB, spark: SparkOptions = LOCAL_SPARK) -> pd.DataFrame:
    """Pairs of persons of different regencies scored at or above REVIEW_THRESHOLD, on `backend`."""
    present = {code: frame for code, frame in by_regency.items() if len(frame)}
    columns = ["regency_l", "person_id_l", "regency_r", "person_id_r", "match_probability", "nik_agrees",
               "names_differ"]
    if len(present) < 2:
        return pd.DataFrame(columns=columns)
    session = open_session(backend, memory_limit, spark)
    try:
        tables = [session.db_api.register(session.native(linkable(frame)),
                                          dataset_display_name=f"r{code.replace('.', '')}")
                  for code, frame in present.items()]
        linker = Linker(tables, settings(), log_level=None)
        linker.training.estimate_probability_two_random_records_match([block_on("nik")], recall=0.9)
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
        scored = linker.inference.predict(threshold_match_probability=REVIEW_THRESHOLD).as_pandas_dataframe()
    finally:
        session.close()
    if scored.empty:
        return pd.DataFrame(columns=columns)
    code_of = {f"r{code.replace('.', '')}": code for code in present}
    return pd.DataFrame({
        "regency_l": scored["source_dataset_l"].map(code_of), "person_id_l": scored["person_id_l"].astype(str),
        "regency_r": scored["source_dataset_r"].map(code_of), "person_id_r": scored["person_id_r"].astype(str),
        "match_probability": scored["match_probability"].astype(float),
        "nik_agrees": scored["gamma_nik"].astype(int) == 2,
        "names_differ": scored["gamma_name_key"].astype(int) == 0,  # the else level: not even similar
    })[columns]


def guarded_persons(pairs: pd.DataFrame, by_regency: dict[str, pd.DataFrame]) -> ProvinceLinks:
    """Province persons from the links at or above ACCEPT_THRESHOLD, strongest first, refusing a
    link that would join two persons of one regency; every regency person gets a province id
    (the smallest `<regency>-<person_id>` of its province person: stable while regency ids are)."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}
    regencies_of: dict[tuple[str, str], set[str]] = {}

    def root(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        regencies_of.setdefault(node, {node[0]})
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    decisions = []
    ordered = pairs.sort_values(["match_probability", "regency_l", "person_id_l", "regency_r", "person_id_r"],
                                ascending=[False, True, True, True, True], kind="stable")
    for row in ordered.itertuples(index=False):
        if row.match_probability < ACCEPT_THRESHOLD:
            decisions.append("REVIEW")
            continue
        if row.names_differ:  # one NIK and birth date, two names: a NIK used twice, not one person
            decisions.append("REVIEW_NAMES_DIFFER")
            continue
        a, b = root((row.regency_l, row.person_id_l)), root((row.regency_r, row.person_id_r))
        if a == b:
            decisions.append("LINKED")
        elif regencies_of[a] & regencies_of[b]:
            decisions.append("REFUSED_SAME_REGENCY")
        else:
            low, high = sorted((a, b))
            parent[high] = low
            regencies_of[low] |= regencies_of.pop(high)
            decisions.append("LINKED")
    decided = ordered.assign(decision=decisions).sort_index()
    persons = pd.concat([pd.DataFrame({"regency": code, "person_id": frame["person_id"].astype(str)})
                         for code, frame in by_regency.items()], ignore_index=True)
    own = persons["regency"].str.replace(".", "", regex=False) + "-" + persons["person_id"]
    label = {node: f"{node[0].replace('.', '')}-{node[1]}" for node in parent}
    smallest: dict[tuple[str, str], str] = {}
    for node in parent:  # only persons some link touched; everyone else is a province person alone
        key = root(node)
        smallest[key] = min(smallest.get(key, label[node]), label[node])
    joined = {label[node]: smallest[root(node)] for node in parent}
    persons["province_person_id"] = own.map(joined).fillna(own)
    return ProvinceLinks(pairs=decided, persons=persons)
