"""A feed whose staging would come out the same is not staged again (ingest.staging_state): what
the fingerprint covers, the date ages are reckoned at, and two nights on real sample feeds."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.code_version import files_digest
from dtsen_pipeline.ingest.deliveries import ACCEPTED, Delivery
from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.ingest.runner import run_feeds
from dtsen_pipeline.ingest.staging_state import STATE_TABLE, reckoning_date, staging_fingerprint
from dtsen_pipeline.quality.gate import HELD_BACK, PASSED, StagingGate
from dtsen_pipeline.warehouse import qualified, read_sql, read_table

SPECS = load_feed_specs()
AS_OF = dt.date(2026, 11, 30)


def _delivery(delivery_id: str, arrived: str, in_force: bool = True, record_file: str | None = None) -> Delivery:
    return Delivery(feed="pekon", delivery_id=delivery_id, source_file=f"{delivery_id}.xlsx",
                    record_file=record_file or f"{delivery_id}.xlsx", status=ACCEPTED, records=10, size=100,
                    mtime=0.0, first_seen=pd.Timestamp(arrived), first_run="r", in_force=in_force)


def test_ages_are_reckoned_at_the_newest_delivery_in_force_never_after_the_run_date():
    registry = [_delivery("a", "2026-10-02 03:00"), _delivery("b", "2026-11-20 18:30"),
                _delivery("c", "2026-11-28 03:00", in_force=False)]
    # 18:30 UTC on 20 November is 21 November in Jakarta, where the deployment's dates are kept.
    assert reckoning_date(registry, AS_OF) == dt.date(2026, 11, 21)
    assert reckoning_date(registry, dt.date(2026, 11, 1)) == dt.date(2026, 11, 1)  # a re-run of an earlier day
    assert reckoning_date(registry[2:], AS_OF) == AS_OF  # nothing in force
    assert reckoning_date([], AS_OF) == AS_OF


def test_the_fingerprint_changes_with_whatever_staging_is_a_function_of():
    registry = [_delivery("a", "2026-10-02"), _delivery("b", "2026-11-20")]
    base = dict(scope="18.06", reckoned_at=dt.date(2026, 11, 20), ceilings={"PKH": 2}, thresholds={"NIK-01": 0.9},
                staged_share=0.5)

    def fingerprint(registry=registry, **changes):
        return staging_fingerprint("pekon", registry, **{**base, **changes})

    assert fingerprint() == fingerprint(registry=list(reversed(registry)))  # the order of the registry is not
    changed = [
        fingerprint(registry=[*registry, _delivery("c", "2026-11-21")]),  # a new delivery
        fingerprint(registry=registry[:1]),  # one left force
        fingerprint(registry=[registry[0], _delivery("b2", "2026-11-20", record_file="b.xlsx")]),  # re-sent, changed
        fingerprint(scope="18.10"),
        fingerprint(reckoned_at=dt.date(2026, 11, 21)),
        fingerprint(ceilings={"PKH": 3}),
        fingerprint(thresholds={"NIK-01": 0.95}),
        fingerprint(staged_share=0.6),
    ]
    assert len({fingerprint(), *changed}) == len(changed) + 1


def test_a_changed_source_file_or_suite_changes_the_code_digest(tmp_path):
    package, suites = tmp_path / "package", tmp_path / "expectations"
    (package / "__pycache__").mkdir(parents=True)
    suites.mkdir()
    (package / "rules.py").write_text("LIMIT = 120\n")
    (suites / "staging__pekon.json").write_text('{"mostly": 0.9}')

    def digest() -> str:
        return files_digest([package, suites]).hexdigest()

    first = digest()
    (package / "__pycache__" / "rules.cpython-311.pyc").write_bytes(b"compiled")  # not source
    (package / "notes.md").write_text("a note")
    assert digest() == first
    (suites / "staging__pekon.json").write_text('{"mostly": 0.95}')
    second = digest()
    (package / "rules.py").write_text("LIMIT = 110\n")
    third = digest()
    (package / "new_rule.py").write_text("")
    assert len({first, second, third, digest()}) == 4


def _night(engine, landing, run_id: str, **kwargs):
    return run_feeds(engine, landing, [SPECS["pekon"], SPECS["bansos"]], ingest={"pekon", "bansos"},
                     stage={"pekon", "bansos"}, scope="18.06", as_of=AS_OF, run_id=run_id, workers=2,
                     gate=StagingGate(), **kwargs)


def _staged(engine, feed: str) -> pd.DataFrame:
    return read_table(engine, "staging", feed).sort_values("record_id", ignore_index=True)


def test_a_night_without_new_deliveries_leaves_the_feeds_staging_as_it_is(tmp_path, sample_landing):
    landing = tmp_path / "landing"
    for feed in ("pekon", "bansos"):
        shutil.copytree(sample_landing / feed, landing / feed)
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'nights.duckdb'}")
    first = _night(engine, landing, "night-1")
    assert all(o.staged is not None and o.carried is None and o.gated.decision.decision == PASSED
               for o in first.values())
    before = {feed: _staged(engine, feed) for feed in first}
    with engine.begin() as conn:  # a marked name: a feed staged again from raw would lose it
        conn.exec_driver_sql("UPDATE staging.bansos SET nama = 'TANDA' WHERE record_id = "
                             "(SELECT min(record_id) FROM staging.bansos)")

    second = _night(engine, landing, "night-2")
    for feed, outcome in second.items():
        assert outcome.staged is None and outcome.carried is not None, feed
        assert outcome.carried.run_id == "night-1"
        assert outcome.carried.staged == first[feed].staged  # the counts of the run that staged it
        assert outcome.carried.decision.decision == PASSED
    assert (_staged(engine, "bansos")["nama"] == "TANDA").sum() == 1  # not rewritten

    # A village sends its file again without its last row: that feed is staged again, the other is
    # left as it is.
    village = sorted((landing / "pekon").glob("*.csv"))[0]
    lines = village.read_bytes().rstrip(b"\r\n").splitlines(keepends=True)
    village.write_bytes(b"".join(lines[:-1]))
    third = _night(engine, landing, "night-3")
    assert third["pekon"].staged is not None and third["pekon"].carried is None
    assert third["bansos"].carried is not None and third["bansos"].carried.run_id == "night-1"
    state = read_sql(engine, f"SELECT feed, run_id FROM {qualified(*STATE_TABLE)} ORDER BY feed")
    assert state.values.tolist() == [["bansos", "night-1"], ["pekon", "night-3"]]

    # Asked for (DTSEN_RESTAGE), every feed is staged again, from raw: the marker is gone.
    fourth = _night(engine, landing, "night-4", restage=True)
    assert all(o.staged is not None and o.carried is None for o in fourth.values())
    assert _staged(engine, "bansos").equals(before["bansos"])


def test_other_ceilings_stage_the_feed_again(tmp_path, sample_landing):
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing / "bansos", landing / "bansos")
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'ceilings.duckdb'}")
    nights = [run_feeds(engine, landing, [SPECS["bansos"]], ingest={"bansos"}, stage={"bansos"}, scope="18.06",
                        as_of=AS_OF, run_id=f"night-{n}", workers=1, gate=StagingGate(), ceilings=ceilings)["bansos"]
              for n, ceilings in enumerate(({"PKH": 4}, {"PKH": 4}, {"PKH": 5}))]
    assert [o.carried is not None for o in nights] == [False, True, False]


def test_the_asset_reports_a_carried_feed_with_the_run_that_staged_it(tmp_path, sample_landing):
    from dagster import AssetKey, materialize

    from assets.ingest import ingest_and_stage_feeds
    from dtsen_pipeline.resources import default_resources
    from tests.support import make_settings

    landing = tmp_path / "landing"
    shutil.copytree(sample_landing / "verval", landing / "verval")
    settings = make_settings(tmp_path, landing, f"duckdb:///{tmp_path / 'asset.duckdb'}")
    selection = [AssetKey(["raw", "verval"]), AssetKey(["staging", "verval"])]
    runs = [materialize([ingest_and_stage_feeds], selection=selection, resources=default_resources(settings))
            for _ in range(2)]
    staged = [next(m for m in run.asset_materializations_for_node("ingest_and_stage_feeds")
                   if m.asset_key == AssetKey(["staging", "verval"])) for run in runs]
    assert "restaged" not in staged[0].metadata
    assert staged[1].metadata["restaged"].value is False
    assert staged[1].metadata["staged_by_run"].value == runs[0].run_id
    assert staged[1].metadata["rows_staged"].value == staged[0].metadata["rows_staged"].value > 0
    checks = {e.check_name: e for e in runs[1].get_asset_check_evaluations()}
    assert checks["gx_suite"].passed and checks["gx_suite"].metadata["validated_by_run"].value == runs[0].run_id
    gate = read_sql(sa.create_engine(settings.warehouse_url),
                    "SELECT run_id, decision, failures FROM quality.gate WHERE target = 'verval' ORDER BY decided_at")
    assert gate["run_id"].tolist() == [runs[0].run_id, runs[1].run_id]
    assert gate["decision"].tolist() == [PASSED, PASSED]
    assert f"carried: staged and validated by run {runs[0].run_id}" in gate["failures"].iloc[1]


def _pekon_night(engine, landing, run_id: str):
    return run_feeds(engine, landing, [SPECS["pekon"]], ingest={"pekon"}, stage={"pekon"}, scope="18.06",
                     as_of=AS_OF, run_id=run_id, workers=1, gate=StagingGate())["pekon"]


def test_a_staging_the_gate_held_deliveries_back_from_is_never_carried(tmp_path, sample_landing):
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing / "pekon", landing / "pekon")
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'held.duckdb'}")
    assert _pekon_night(engine, landing, "night-1").staged is not None

    # A village re-sends its file with every name blank: its records go to the quarantine
    # (MISSING_NAME), QUAR-01 holds the file back, its earlier delivery stays in force. Such a
    # staging is never remembered, so it is never carried.
    village = sorted((landing / "pekon").glob("*.csv"))[0]
    good = village.read_bytes()
    header, *rows = good.decode("utf-8").splitlines()
    name = header.split(",").index("nama")
    blanked = [",".join("" if i == name else v for i, v in enumerate(row.split(","))) for row in rows]
    village.write_text("\n".join([header, *blanked]) + "\n", encoding="utf-8")
    for night in ("night-2", "night-3"):  # the broken file is examined again while it lies there
        held = _pekon_night(engine, landing, night)
        assert held.carried is None and held.gated.decision.decision == HELD_BACK
        assert held.gated.decision.deliveries_held == 1
        assert read_sql(engine, f"SELECT * FROM {qualified(*STATE_TABLE)}").empty  # nothing to carry

    village.write_bytes(good)  # the village sends its good file again
    again = _pekon_night(engine, landing, "night-4")
    assert again.carried is None and again.gated.decision.decision == PASSED
    assert again.staged.rows_in == held.staged.rows_in
    carried = _pekon_night(engine, landing, "night-5")
    assert carried.carried is not None and carried.carried.run_id == "night-4"
