"""The review loop on real (generated) data: facilitators' decisions bind the next linkage run.

A pair the model merged but a facilitator confirmed BUKAN_GANDA is kept apart; a pair of
records the model kept apart but a facilitator confirmed GANDA is merged.
"""

import json
import math

import pandas as pd
import pytest
import sqlalchemy as sa

from dtsen_pipeline.linkage.constraints import verval_constraints
from dtsen_pipeline.linkage.prepare import linkage_input
from dtsen_pipeline.linkage.review import pair_id
from dtsen_pipeline.linkage.run import run_linkage
from dtsen_pipeline.warehouse import read_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def records(duckdb_run):
    engine = sa.create_engine(duckdb_run.settings.warehouse_url)
    staged = pd.concat([read_table(engine, "staging", f) for f in ("dtsen", "dukcapil", "pekon", "bansos")],
                       ignore_index=True)
    engine.dispose()
    return linkage_input(staged)


def _cluster_of(run) -> dict[str, str]:
    return dict(zip(run.clusters["unique_id"], run.clusters["cluster_id"], strict=True))


def _decision(pid: str, hasil: str) -> dict:
    return {"record_id": f"verval:test.csv#{pid}", "nik": None, "nik_ganda": None, "hasil": hasil,
            "tingkat": "KECAMATAN", "tanggal": "2026-11-20", "id_pasangan": pid}


def test_decisions_override_the_model_on_the_next_run(records, tmp_path):
    first = run_linkage(records, tmp_path / "m1.json")
    cluster = _cluster_of(first)
    merged = first.pairs[[cluster[a] == cluster[b] for a, b in
                          zip(first.pairs["unique_id_l"], first.pairs["unique_id_r"], strict=True)]]
    merged_pair = merged.sort_values("match_probability").iloc[0][["unique_id_l", "unique_id_r"]].tolist()
    members = pd.Series(cluster).reset_index()
    members.columns = ["unique_id", "cluster_id"]
    singles = members.groupby("cluster_id")["unique_id"].first().tolist()
    apart_pair = [singles[0], singles[1]]
    assert cluster[apart_pair[0]] != cluster[apart_pair[1]]

    registry = pd.DataFrame([{"pair_id": pair_id(*p), "unique_id_l": p[0], "unique_id_r": p[1]}
                             for p in (merged_pair, apart_pair)])
    verval = pd.DataFrame([_decision(pair_id(*merged_pair), "BUKAN_GANDA"),
                           _decision(pair_id(*apart_pair), "GANDA")])
    must, cannot = verval_constraints(verval, records, registry)
    second = run_linkage(records, tmp_path / "m2.json", must_link=must, cannot_link=cannot)
    cluster = _cluster_of(second)
    assert cluster[merged_pair[0]] != cluster[merged_pair[1]]
    assert cluster[apart_pair[0]] == cluster[apart_pair[1]]
    assert second.stats["must_link_pairs"] == 1 and second.stats["cannot_link_pairs"] == 1


def _same(a, b) -> bool:
    """Equal, with floats compared to 1e-9 (DuckDB sums in parallel, so the last bits may differ)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_training_is_reproducible(records, tmp_path):
    one = run_linkage(records, tmp_path / "a.json")
    two = run_linkage(records, tmp_path / "b.json")
    models = [json.loads((tmp_path / name).read_text()) for name in ("a.json", "b.json")]
    for model in models:
        model.pop("linker_uid")  # a random name Splink gives each linker
    assert _same(models[0], models[1])
    assert one.clusters.equals(two.clusters)
