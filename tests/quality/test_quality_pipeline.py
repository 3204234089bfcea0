"""The quality suites in a real run (2,000 generated persons): a good delivery publishes with
every check passing, rule counts in the checks, offline Data Docs and the scorecard. What a
failing suite does to publication is tested in test_gate_pipeline.
"""

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from dtsen_pipeline.quality.data_docs import remote_asset_links
from dtsen_pipeline.quality.row_rules import ROW_FLAGS
from dtsen_pipeline.warehouse import read_table
from tests.support import check_evaluations, run_nightly, sample_deployment

pytestmark = pytest.mark.slow

PERSONS = 2_000
KNOWN_FLAGS = set(ROW_FLAGS) | {"NIK_SEX_MISMATCH", "NIK_DOB_MISMATCH", "OUT_OF_SCOPE", "SEX_UNKNOWN_CODE",
                                "RELATIONSHIP_UNKNOWN_CODE"}


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quality_run")
    _, settings, instance = sample_deployment(tmp, PERSONS, seed=11)
    engine = sa.create_engine(settings.warehouse_url)

    run1, ok1 = run_nightly(settings, instance)
    state1 = {
        "flags": read_table(engine, "golden", "person", ["quality_flags"]) if ok1 else None,
        "scorecard": read_table(engine, "quality", "scorecard") if ok1 else None,
        "staged_niks": set(pd.concat([read_table(engine, "staging", f, ["nik"]) for f in
                                      ("dtsen", "dukcapil", "pekon", "bansos")])["nik"].dropna()),
    }
    history = read_table(engine, "quality", "scorecard_history")
    engine.dispose()
    return {"settings": settings, "instance": instance, "run1": run1, "ok1": ok1,
            "history": history, **state1}


def test_first_run_publishes_with_every_check_passing(one_run):
    assert one_run["ok1"]
    checks = check_evaluations(one_run["instance"], one_run["run1"])
    gx = {k: v for k, v in checks.items() if k[1] == "gx_suite"}
    assert len(gx) == 8 and all(e.passed for e in gx.values())
    assert {k[0] for k, v in checks.items() if k[1] == "gx_warnings"} == {k[0] for k in gx}


def test_check_metadata_has_rule_counts_and_percentages(one_run):
    checks = check_evaluations(one_run["instance"], one_run["run1"])
    meta = checks[("staging/dtsen", "gx_suite")].metadata
    rows = meta["results_json"].value
    assert len(rows) == meta["expectations"].value > 40
    nik10 = next(r for r in rows if r["rule"] == "NIK-10")
    assert nik10["unexpected_count"] > 0 and 0 < nik10["unexpected_percent"] < 20 and nik10["element_count"] > 1000
    assert "| NIK-10 |" in meta["results"].value
    docs = meta["data_docs"].value
    assert docs.endswith("index.html") and one_run["run1"] in docs


def test_data_docs_per_run_offline_and_free_of_identifiers(one_run):
    docs = one_run["settings"].artifacts_dir / "data_docs" / one_run["run1"]
    pages = list(docs.rglob("*.html"))
    assert (docs / "index.html").exists() and len(list((docs / "validations").rglob("*.html"))) == 8
    assert remote_asset_links(docs) == []
    niks = one_run["staged_niks"]
    assert len(niks) > 1000
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not [n for n in niks if n in text], page.name


def test_warnings_travel_into_the_golden_person_table(one_run):
    flags = one_run["flags"]["quality_flags"]
    codes = {c for f in flags for c in f.split(";") if c}
    assert (flags != "").mean() > 0.05
    assert {"NIK_DOB_MISMATCH", "DOB_IMPRECISE", "INCLUSION_CANDIDATE"} <= codes <= KNOWN_FLAGS


def test_scorecard_per_feed_and_kecamatan(one_run):
    card = one_run["scorecard"]
    feeds = card[card["level"] == "feed"].set_index("feed")
    assert set(feeds.index) == {"dtsen", "dukcapil", "pekon", "bansos"}
    assert feeds["padan_share"].notna().to_dict() == {"bansos": False, "dtsen": True, "dukcapil": False,
                                                      "pekon": False}
    assert 0.85 < feeds.loc["dtsen", "padan_share"] < 1
    assert feeds.loc["bansos", "damaged_id_share"] > feeds.loc["dukcapil", "damaged_id_share"]
    kec = card[(card["level"] == "kecamatan") & (card["feed"] == "dtsen")]
    assert kec["records"].sum() == feeds.loc["dtsen", "records"] and len(kec) >= 15
    assert kec["kecamatan"].notna().sum() >= 15


def test_history_keeps_the_published_run(one_run):
    history = one_run["history"]
    assert set(history["run_id"]) == {one_run["run1"]}
    assert json.loads(history.drop(columns=["run_at"]).to_json(orient="records"))
