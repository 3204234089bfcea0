"""A nightly run on another Lampung regency (issue #17): Kabupaten Pringsewu's generated feeds,
the pipeline scoped to 18.10, publish golden persons in Pringsewu, linked as well as Tanggamus's."""

import pandas as pd
import pytest

from dtsen_pipeline.warehouse import engine_for, read_sql, read_table
from tests.support import check_evaluations, run_nightly, sample_deployment

pytestmark = pytest.mark.slow

KABUPATEN, PERSONS, SEED = "18.10", 1_500, 7


def test_a_pringsewu_night_publishes_its_persons(tmp_path):
    landing, settings, instance = sample_deployment(tmp_path, PERSONS, SEED, kabupaten=KABUPATEN)
    assert settings.scope == KABUPATEN
    run_id, success = run_nightly(settings, instance)
    failed = [key for key, e in check_evaluations(instance, run_id).items() if not e.passed]
    assert success and failed == []

    engine = engine_for(settings.warehouse_url)
    persons = read_table(engine, "golden", "person", ["person_id", "kode_desa"])
    truth = pd.read_csv(landing / "_truth" / "persons.csv")
    assert abs(len(persons) - len(truth)) / len(truth) < 0.05
    placed = persons["kode_desa"].dropna()
    assert placed.str.startswith(KABUPATEN + ".").mean() > 0.99
    villages = read_table(engine, "reference", "village", ["kode_desa"])["kode_desa"]
    assert len(villages) == 131 and villages.str.startswith(KABUPATEN + ".").all()

    evaluation = read_sql(engine, "SELECT * FROM linkage.evaluation")
    pairwise = evaluation[(evaluation["scope"] == "all") & (evaluation["level"] == "pairwise")]
    assert pairwise["f1"].iloc[-1] > 0.99, pairwise.to_string()
