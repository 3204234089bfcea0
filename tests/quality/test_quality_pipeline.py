"""The quality suites in a real run (2,000 generated persons): a good delivery publishes, and a
delivery that breaks an error-severity rule blocks publication while the last golden tables stay.

Run 1 publishes. Run 2 receives a civil-registry extract in which every NIK went through Excel
(`1.80601E+15`): NIK-02's share passes the feed's threshold, the blocking `gx_suite` check on
staging/dukcapil fails, nothing downstream runs, and golden.* is exactly what run 1 published.
"""

import csv
import io
import json

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import DagsterEventType

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.quality.data_docs import remote_asset_links
from dtsen_pipeline.quality.row_rules import ROW_FLAGS
from dtsen_pipeline.warehouse import read_table
from tests.support import make_settings, run_nightly

pytestmark = pytest.mark.slow

PERSONS = 2_000
GOLDEN = {"person": "person_id", "person_source": "record_id", "household": "household_id"}
KNOWN_FLAGS = set(ROW_FLAGS) | {"NIK_SEX_MISMATCH", "NIK_DOB_MISMATCH", "OUT_OF_SCOPE", "SEX_UNKNOWN_CODE",
                                "RELATIONSHIP_UNKNOWN_CODE"}


def _golden(engine) -> dict[str, pd.DataFrame]:
    return {t: read_table(engine, "golden", t).sort_values(key).reset_index(drop=True) for t, key in GOLDEN.items()}


def _checks(instance, run_id) -> dict[tuple[str, str], object]:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    out = {}
    for r in records:
        e = r.event_log_entry.dagster_event.event_specific_data
        out[(e.asset_key.to_user_string(), e.check_name)] = e
    return out


def _damage_dukcapil_niks(landing) -> int:
    """Replace the civil-registry delivery by a newer one whose NIKs Excel turned into 1.80601E+15."""
    old = sorted((landing / "dukcapil").glob("*.csv"))[-1]
    rows = list(csv.reader(io.StringIO(old.read_text(encoding="utf-8"))))
    nik = [h.strip().upper() for h in rows[0]].index("NIK")
    damaged = 0
    for row in rows[1:]:
        if len(row) > nik and len(row[nik]) == 16 and row[nik].isdigit():
            row[nik] = f"{row[nik][0]}.{row[nik][1:6]}E+15"
            damaged += 1
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (landing / "dukcapil" / "DUKCAPIL_1806_20261231.csv").write_text(out.getvalue(), encoding="utf-8")
    old.unlink()
    return damaged


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from dagster import DagsterInstance

    from dtsen_pipeline.sample import generate

    tmp = tmp_path_factory.mktemp("quality_run")
    landing = tmp / "landing"
    generate(persons=PERSONS, seed=11, out_dir=landing)
    home = write_instance_config(tmp / "dagster_home")
    settings = make_settings(tmp, landing, f"duckdb:///{tmp / 'warehouse.duckdb'}")
    instance = DagsterInstance.from_config(str(home))
    engine = sa.create_engine(settings.warehouse_url)

    run1, ok1 = run_nightly(settings, instance)
    golden1 = _golden(engine) if ok1 else None
    state1 = {
        "flags": read_table(engine, "golden", "person", ["quality_flags"]) if ok1 else None,
        "scorecard": read_table(engine, "quality", "scorecard") if ok1 else None,
        "staged_niks": set(pd.concat([read_table(engine, "staging", f, ["nik"]) for f in
                                      ("dtsen", "dukcapil", "pekon", "bansos")])["nik"].dropna()),
    }
    engine.dispose()

    damaged = _damage_dukcapil_niks(landing)
    run2, ok2 = run_nightly(settings, instance)
    engine = sa.create_engine(settings.warehouse_url)
    golden2 = _golden(engine)
    history = read_table(engine, "quality", "scorecard_history")
    engine.dispose()
    return {"settings": settings, "instance": instance, "run1": run1, "ok1": ok1, "run2": run2, "ok2": ok2,
            "golden1": golden1, "golden2": golden2, "damaged": damaged, "history": history, **state1}


def test_first_run_publishes_with_every_check_passing(two_runs):
    assert two_runs["ok1"]
    checks = _checks(two_runs["instance"], two_runs["run1"])
    gx = {k: v for k, v in checks.items() if k[1] == "gx_suite"}
    assert len(gx) == 8 and all(e.passed for e in gx.values())
    assert {k[0] for k, v in checks.items() if k[1] == "gx_warnings"} == {k[0] for k in gx}


def test_check_metadata_has_rule_counts_and_percentages(two_runs):
    checks = _checks(two_runs["instance"], two_runs["run1"])
    meta = checks[("staging/dtsen", "gx_suite")].metadata
    rows = meta["results_json"].value
    assert len(rows) == meta["expectations"].value > 40
    nik10 = next(r for r in rows if r["rule"] == "NIK-10")
    assert nik10["unexpected_count"] > 0 and 0 < nik10["unexpected_percent"] < 20 and nik10["element_count"] > 1000
    assert "| NIK-10 |" in meta["results"].value
    docs = meta["data_docs"].value
    assert docs.endswith("index.html") and two_runs["run1"] in docs


def test_data_docs_per_run_offline_and_free_of_identifiers(two_runs):
    docs = two_runs["settings"].artifacts_dir / "data_docs" / two_runs["run1"]
    pages = list(docs.rglob("*.html"))
    assert (docs / "index.html").exists() and len(list((docs / "validations").rglob("*.html"))) == 8
    assert remote_asset_links(docs) == []
    niks = two_runs["staged_niks"]
    assert len(niks) > 1000
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not [n for n in niks if n in text], page.name


def test_warnings_travel_into_the_golden_person_table(two_runs):
    flags = two_runs["flags"]["quality_flags"]
    codes = {c for f in flags for c in f.split(";") if c}
    assert (flags != "").mean() > 0.05
    assert {"NIK_DOB_MISMATCH", "DOB_IMPRECISE", "INCLUSION_CANDIDATE"} <= codes <= KNOWN_FLAGS


def test_scorecard_per_feed_and_kecamatan(two_runs):
    card = two_runs["scorecard"]
    feeds = card[card["level"] == "feed"].set_index("feed")
    assert set(feeds.index) == {"dtsen", "dukcapil", "pekon", "bansos"}
    assert feeds["padan_share"].notna().to_dict() == {"bansos": False, "dtsen": True, "dukcapil": False,
                                                      "pekon": False}
    assert 0.85 < feeds.loc["dtsen", "padan_share"] < 1
    assert feeds.loc["bansos", "damaged_id_share"] > feeds.loc["dukcapil", "damaged_id_share"]
    kec = card[(card["level"] == "kecamatan") & (card["feed"] == "dtsen")]
    assert kec["records"].sum() == feeds.loc["dtsen", "records"] and len(kec) >= 15
    assert kec["kecamatan"].notna().sum() >= 15


def test_blocking_failure_keeps_the_published_golden_tables(two_runs):
    assert two_runs["damaged"] > 1000
    assert not two_runs["ok2"]
    checks = _checks(two_runs["instance"], two_runs["run2"])
    failed = checks[("staging/dukcapil", "gx_suite")]
    assert not failed.passed
    assert "NIK-02" in failed.metadata["failed_rules"].value
    assert ("build/person", "gx_suite") not in checks  # nothing downstream of the failed check ran
    for table, before in two_runs["golden1"].items():
        pd.testing.assert_frame_equal(two_runs["golden2"][table], before, obj=f"golden.{table}")


def test_history_keeps_the_published_run(two_runs):
    history = two_runs["history"]
    assert set(history["run_id"]) == {two_runs["run1"]}  # run 2 was blocked before the scorecard
    assert json.loads(history.drop(columns=["run_at"]).to_json(orient="records"))
