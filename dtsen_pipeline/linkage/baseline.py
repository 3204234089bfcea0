"""A plain Splink model in the documented default style, for comparison in the benchmark only.

Raw-ish fields (first and last name token without folding, birth date, NIK with edit-distance
levels, sex, village), the blocking rules and training steps of Splink's own examples, and
plain connected components. Not used by the pipeline. Runs on either backend (linkage.backend).
"""

from __future__ import annotations

import pandas as pd
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

from dtsen_pipeline.linkage.backend import DUCKDB, open_session


def plain_input(staged: pd.DataFrame) -> pd.DataFrame:
    names = staged["nama"].astype("str").str.upper().str.strip().str.split()
    return pd.DataFrame({
        "unique_id": staged["record_id"].astype("str"),
        "first_name": names.str[0],
        "surname": names.str[-1],
        "dob": pd.to_datetime(staged["tgl_lahir"]).dt.strftime("%Y-%m-%d").astype("str"),
        "nik": staged["nik"].astype("str"),
        "sex": staged["jenis_kelamin"].astype("str"),
        "city": staged["kode_desa"].astype("str"),
    })


def plain_splink_clusters(staged: pd.DataFrame, threshold: float = 0.9, seed: int = 1,
                          backend: str = DUCKDB) -> pd.DataFrame:
    records = plain_input(staged)
    session = open_session(backend, memory_limit="5GB")
    try:
        return _plain_clusters(session, records, threshold, seed)
    finally:
        session.close()


def _plain_clusters(session, records: pd.DataFrame, threshold: float, seed: int) -> pd.DataFrame:
    table = session.db_api.register(session.native(records), dataset_display_name="plain")
    settings = SettingsCreator(
        link_type="dedupe_only",
        # Splink's tutorial style (a name with the birth date, names with the place) plus NIK. The
        # tutorial's first-name + surname rule alone explodes at regency scale: mononyms make
        # thousands of "SUTRISNO SUTRISNO" pairs (measured: 45 GB of DuckDB spill at 640k persons).
        blocking_rules_to_generate_predictions=[
            block_on("nik"), block_on("first_name", "dob"), block_on("surname", "dob"),
            block_on("first_name", "surname", "city")],
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]),
            cl.LevenshteinAtThresholds("surname", [1, 2]),
            cl.DateOfBirthComparison("dob", input_is_string=True,
                                     datetime_metrics=["month", "year", "year"], datetime_thresholds=[1, 1, 10]),
            cl.LevenshteinAtThresholds("nik", [1]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True)],
    )
    linker = Linker(table, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname", "dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname", "city"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    return clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
