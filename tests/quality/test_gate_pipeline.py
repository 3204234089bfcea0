"""The quality gate in real runs (2,000 generated persons), one outcome per test group:

- run A publishes a good month;
- run B brings next month's deliveries (a corrected DTSEN extract, a shorter pekon snapshot) plus two
  broken ones: a civil-registry extract with 30% of its NIKs through Excel (`1.80601E+15`, NIK-02)
  and one pekon file with a shifted column (QUAR-01). Those two are held back, the feeds keep what
  was in force, and the run publishes with the good deliveries;
- run C sees the same landing folder plus an interrupted copy of the DTSEN extract (10% of it, the
  last line cut): the held-back files are examined again and held back again, with no record loaded
  twice, and the cut extract is held as suspect, so the golden tables stay as run B published them;
- run D gets a civil-registry extract listing every member of five cards as head, and KK-05 on
  build.person set to 1.0 (no card may have two heads): publication is blocked
  whole, the step fails naming the rule, and golden.* stays as run C published it;
- on a fresh warehouse, run E1's first DTSEN extract is broken: DTSEN is required, nothing is
  published; run E2 adds a good extract and publishes, the civil registry's broken first delivery
  still held back (a feed that is not required publishes empty).
"""

import csv
import io
import os

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import DagsterEventType

from dtsen_pipeline.quality.gx_suites import THRESHOLDS_FILE
from dtsen_pipeline.sample.next_month import NEW_DTSEN, OLD_DTSEN, next_month
from dtsen_pipeline.summary import summary_lines
from dtsen_pipeline.warehouse import read_sql, read_table, table_exists
from tests.support import check_evaluations, run_nightly, sample_deployment

pytestmark = pytest.mark.slow

PERSONS = 2_000
GOLDEN = {"person": "person_id", "person_source": "record_id", "household": "household_id"}
HELD_TAG = "dtsen/held_back_feeds"


def _golden(engine) -> dict[str, pd.DataFrame]:
    return {t: read_table(engine, "golden", t).sort_values(key).reset_index(drop=True) for t, key in GOLDEN.items()}


def _rewrite_csv(source, target, change, encoding="utf-8", delimiter=","):
    """Write `target` from `source` with `change(row_number, row)` applied to each data row."""
    rows = list(csv.reader(io.StringIO(source.read_text(encoding=encoding)), delimiter=delimiter))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(
        [rows[0], *(change(i, row) for i, row in enumerate(rows[1:]))])
    target.write_text(out.getvalue(), encoding=encoding)


def _excel_niks(share_in_ten: int):
    def change(i, row):
        if i % 10 < share_in_ten and len(row[0]) == 16 and row[0].isdigit():
            row[0] = f"{row[0][0]}.{row[0][1:6]}E+15"
        return row
    return change


def _five_families_with_every_member_head(source, target) -> None:
    """A civil-registry extract in which five cards list every member as Kepala Keluarga (KK-05)."""
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"))))
    header = rows[0]
    kk, head = header.index("NO_KK"), header.index("STAT_HBKEL")
    cards = list(dict.fromkeys(r[kk] for r in rows[1:] if r[kk]))[:5]
    _rewrite_csv(source, target, lambda _, r: [*r[:head], "KEPALA KELUARGA", *r[head + 1:]]
                 if r[kk] in cards else r)


def _shifted(_, row):
    return ["", *row[:-1]]  # a column inserted by hand at the front: every value one to the right


def _damage_dukcapil(landing) -> str:
    """A newer civil-registry extract in which 30% of the NIKs went through Excel."""
    old = sorted((landing / "dukcapil").glob("*.csv"))[-1]
    target = landing / "dukcapil" / "DUKCAPIL_1806_20261231.csv"
    _rewrite_csv(old, target, _excel_niks(3))
    old.unlink()
    return target.name


def _shift_one_pekon_file(landing) -> str:
    """A second export of one pekon whose operator inserted a column: a new snapshot of its scope."""
    source = sorted((landing / "pekon").glob("pekon_*.csv"))[0]
    target = source.with_name(source.stem + "_revisi.csv")
    _rewrite_csv(source, target, _shifted, encoding="cp1252")
    return target.name


def _registry(engine, feed) -> pd.DataFrame:
    return read_sql(engine, "SELECT * FROM raw.delivery WHERE feed = :f", f=feed)


def _messages(instance, run_id) -> str:
    return "\n".join(str(e.message or "") + str(e.dagster_event.event_specific_data or "") if e.dagster_event
                     else str(e.message or "") for e in instance.all_logs(run_id))


def _step_failures(instance, run_id) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE).records
    return [r.event_log_entry.dagster_event.event_specific_data.user_failure_data.description or ""
            for r in records if r.event_log_entry.dagster_event.event_specific_data.user_failure_data]


def _niks(engine) -> set[str]:
    return set(pd.concat([read_table(engine, "staging", f, ["nik"]) for f in ("dtsen", "dukcapil", "pekon", "bansos")
                          if table_exists(engine, "staging", f)])["nik"].dropna())


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gate_run")
    landing, settings, instance = sample_deployment(tmp, PERSONS, seed=23)
    engine = sa.create_engine(settings.warehouse_url)
    out = {"instance": instance, "settings": settings, "engine": engine}

    out["A"], out["okA"] = run_nightly(settings, instance)
    out["goldenA"] = _golden(engine)
    out["dukcapilA"] = read_table(engine, "staging", "dukcapil").sort_values("record_id", ignore_index=True)
    out["raw_dukcapil_A"] = read_sql(engine, "SELECT count(*) AS n FROM raw.dukcapil")["n"].iloc[0]
    out["niks"] = _niks(engine)

    clean_dukcapil = tmp / "clean_dukcapil.csv"  # run D damages the last clean extract otherwise
    clean_dukcapil.write_bytes(sorted((landing / "dukcapil").glob("*.csv"))[-1].read_bytes())
    next_month(landing)
    out["dukcapil_file"] = _damage_dukcapil(landing)
    out["pekon_file"] = _shift_one_pekon_file(landing)
    out["B"], out["okB"] = run_nightly(settings, instance)
    out["goldenB"] = _golden(engine)
    out["dukcapilB"] = read_table(engine, "staging", "dukcapil").sort_values("record_id", ignore_index=True)
    out["summaryB"] = "\n".join(summary_lines(engine))
    out["auditB"] = read_sql(engine, "SELECT * FROM audit.run WHERE run_id = :r", r=out["B"])
    out["dukcapil_registry_B"] = _registry(engine, "dukcapil")  # run D delivers the civil registry again

    lines = (landing / NEW_DTSEN).read_bytes().split(b"\n")
    cut = b"\n".join(lines[: len(lines) // 10]) + b"\n" + lines[len(lines) // 10][:20]
    (landing / "dtsen" / "DTSEN_1806_202612_salinan.csv").write_bytes(cut)
    out["C"], out["okC"] = run_nightly(settings, instance)
    out["goldenC"] = _golden(engine)
    out["raw_dukcapil_C"] = read_sql(engine, "SELECT count(*) AS n FROM raw.dukcapil")["n"].iloc[0]

    thresholds = tmp / "thresholds.yaml"
    thresholds.write_text(THRESHOLDS_FILE.read_text(encoding="utf-8") + "build__person:\n  KK-05: 1.0\n",
                          encoding="utf-8")
    os.environ["DTSEN_QUALITY_THRESHOLDS"] = str(thresholds)
    _five_families_with_every_member_head(clean_dukcapil, landing / "dukcapil" / "DUKCAPIL_1806_20270115.csv")
    try:
        out["D"], out["okD"] = run_nightly(settings, instance)
    finally:
        del os.environ["DTSEN_QUALITY_THRESHOLDS"]
    out["goldenD"] = _golden(engine)
    out["summaryD"] = "\n".join(summary_lines(engine))
    yield out
    engine.dispose()


def test_run_a_publishes_with_every_gate_passed(month):
    assert month["okA"]
    gate = read_sql(month["engine"], "SELECT * FROM quality.gate WHERE run_id = :r", r=month["A"])
    assert set(gate["decision"]) == {"passed"} and len(gate) == 8  # five feeds, three build tables


def test_broken_deliveries_are_held_back_and_the_run_publishes_the_rest(month):
    assert month["okB"]
    engine = month["engine"]
    assert set(month["goldenB"]["person"]["run_id"]) == {month["B"]}  # republished by run B
    pd.testing.assert_frame_equal(month["dukcapilB"], month["dukcapilA"], obj="staging.dukcapil")
    dukcapil = month["dukcapil_registry_B"].set_index("source_file")
    held = dukcapil.loc[f"dukcapil/{month['dukcapil_file']}"]
    assert held["status"] == "held_back" and not held["in_force"] and "NIK-02" in held["problem"]
    assert dukcapil["in_force"].sum() == 1
    pekon = _registry(engine, "pekon").set_index("source_file")
    shifted = pekon.loc[f"pekon/{month['pekon_file']}"]
    assert shifted["status"] == "held_back" and "QUAR-01" in shifted["problem"]
    assert pekon[pekon["status"] == "held_back"].shape[0] == 1  # the other pekon files went on
    dtsen = _registry(engine, "dtsen").set_index("source_file")
    assert dtsen.loc[NEW_DTSEN, "in_force"] and not dtsen.loc[OLD_DTSEN, "in_force"]  # a good delivery published
    assert not read_sql(engine, "SELECT count(*) AS n FROM staging.dtsen WHERE source_file = :f",
                        f=OLD_DTSEN)["n"].iloc[0]


def test_the_held_back_feeds_are_unmissable(month):
    instance, run = month["instance"], month["B"]
    tags = instance.get_run_by_id(run).tags
    assert set(tags[HELD_TAG].split(";")) == {"dukcapil:NIK-02", "pekon:QUAR-01"}
    checks = check_evaluations(instance, run)
    red = checks[("staging/dukcapil", "gx_suite")]
    assert not red.passed and "NIK-02" in red.description and "mostly 0.95" in red.description
    assert "observed 3" in red.description  # about 30% of the records, as a share
    assert not checks[("staging/pekon", "gx_suite")].passed
    assert checks[("staging/dtsen", "gx_suite")].passed and checks[("staging/dtsen", "in_force_for_publication")].passed
    assert month["auditB"]["held_back"].iloc[0] == "dukcapil:NIK-02;pekon:QUAR-01"
    summary = month["summaryB"]
    assert "staging dukcapil: HELD BACK (1 new delivery(ies)" in summary
    assert "NIK-02" in summary and "allowed at most 5.00% (mostly 0.95)" in summary and "QUAR-01" in summary
    assert "Data Docs:" in summary


def test_no_identifier_in_the_messages(month):
    text = "\n".join([month["summaryB"], month["summaryD"], _messages(month["instance"], month["B"]),
                      _messages(month["instance"], month["D"]),
                      read_sql(month["engine"], "SELECT problem FROM raw.delivery WHERE problem IS NOT NULL")
                      ["problem"].str.cat(sep="\n")])
    niks = month["niks"]
    assert len(niks) > 1000
    assert not [n for n in niks if n in text]


def test_held_back_files_are_examined_again_without_loading_twice(month):
    assert month["okC"]
    tags = month["instance"].get_run_by_id(month["C"]).tags
    assert set(tags[HELD_TAG].split(";")) == {"dukcapil:NIK-02", "pekon:QUAR-01"}
    assert month["raw_dukcapil_C"] == month["raw_dukcapil_A"]  # the held records left raw again


def _without_run(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {t: f.drop(columns=["run_id"]) for t, f in frames.items()}


def test_an_interrupted_copy_is_suspect_and_the_golden_tables_stay(month):
    dtsen = _registry(month["engine"], "dtsen").set_index("source_file")
    suspect = dtsen.loc["dtsen/DTSEN_1806_202612_salinan.csv"]
    assert suspect["status"] == "suspect" and not suspect["in_force"] and "last line is cut" in suspect["problem"]
    assert dtsen.loc[NEW_DTSEN, "in_force"]
    for table, before in _without_run(month["goldenB"]).items():
        pd.testing.assert_frame_equal(_without_run(month["goldenC"])[table], before, obj=f"golden.{table}")


def test_a_failing_build_suite_blocks_publication_whole(month):
    assert not month["okD"]
    for table, before in month["goldenC"].items():
        pd.testing.assert_frame_equal(month["goldenD"][table], before, obj=f"golden.{table}")
    failures = _step_failures(month["instance"], month["D"])
    assert any("build__person KK-05" in f and "allowed none" in f for f in failures), failures
    assert "build build.person: PUBLICATION BLOCKED; rules KK-05" in month["summaryD"]
    gate = read_sql(month["engine"], "SELECT * FROM quality.gate WHERE run_id = :r", r=month["D"])
    assert gate.set_index("target").loc["build.person", "decision"] == "blocked"


@pytest.fixture(scope="module")
def first_delivery(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gate_first")
    landing, settings, instance = sample_deployment(tmp, PERSONS, seed=29)
    good = landing / OLD_DTSEN
    parked = tmp / "DTSEN_good.csv"
    good.rename(parked)
    _rewrite_csv(parked, landing / "dtsen" / "DTSEN_1806_202610.csv", _shifted, encoding="utf-8-sig", delimiter=";")
    _damage_dukcapil(landing)
    engine = sa.create_engine(settings.warehouse_url)
    out = {"instance": instance, "engine": engine}
    out["E1"], out["okE1"] = run_nightly(settings, instance)
    out["golden_after_E1"] = table_exists(engine, "golden", "person")
    out["summaryE1"] = "\n".join(summary_lines(engine))
    parked.rename(landing / NEW_DTSEN)  # the agency sends the extract again, whole
    out["E2"], out["okE2"] = run_nightly(settings, instance)
    out["staged_dukcapil_E2"] = read_sql(engine, "SELECT count(*) AS n FROM staging.dukcapil")["n"].iloc[0]
    out["persons_E2"] = read_sql(engine, "SELECT count(*) AS n FROM golden.person")["n"].iloc[0]
    yield out
    engine.dispose()


def test_a_broken_first_extract_of_a_required_feed_publishes_nothing(first_delivery):
    assert not first_delivery["okE1"] and not first_delivery["golden_after_E1"]
    checks = check_evaluations(first_delivery["instance"], first_delivery["E1"])
    blocked = checks[("staging/dtsen", "in_force_for_publication")]
    assert not blocked.passed and "required for publication" in blocked.description
    assert "staging dtsen: PUBLICATION BLOCKED" in first_delivery["summaryE1"]
    (failure,) = _step_failures(first_delivery["instance"], first_delivery["E1"])
    assert "required for publication" in failure and "staging__dtsen QUAR-01" in failure
    assert "QUAR-01" in first_delivery["summaryE1"]


def test_a_feed_that_is_not_required_publishes_empty_while_its_first_delivery_is_held(first_delivery):
    assert first_delivery["okE2"]
    assert first_delivery["staged_dukcapil_E2"] == 0 and first_delivery["persons_E2"] > PERSONS * 0.9
    tags = first_delivery["instance"].get_run_by_id(first_delivery["E2"]).tags
    assert tags[HELD_TAG] == "dukcapil:NIK-02"
