"""The quality gate's pure parts: how a failure is told, QUAR-01, and holding deliveries back."""

import datetime as dt

import pandas as pd

from dtsen_pipeline.ingest import deliveries
from dtsen_pipeline.ingest.deliveries import ACCEPTED, HELD_BACK, Delivery
from dtsen_pipeline.ingest.gated import _worst_new_file, staged_share_by_file
from dtsen_pipeline.ingest.standardise import StagingResult
from dtsen_pipeline.quality import gate
from dtsen_pipeline.quality.gx_suites import ExpectationOutcome, SuiteOutcome


def _outcome(rule, success, mostly=0.99, unexpected=0, of=1000, severity="error"):
    return ExpectationOutcome(expectation="expect_column_values_to_not_carry_code", column="nik_issue", rule=rule,
                              severity=severity, success=success, mostly=mostly, element_count=of,
                              unexpected_count=unexpected, unexpected_percent=round(100 * unexpected / of, 4))


def _suite(*outcomes):
    return SuiteOutcome(suite="staging__bansos", rows=1000, outcomes=outcomes)


def test_a_failure_names_suite_rule_share_threshold_and_rows():
    line = gate.failure_line("staging__bansos", _outcome("NIK-02", False, mostly=0.9, unexpected=312, of=1000))
    assert line == ("staging__bansos NIK-02 column_values_to_not_carry_code on nik_issue: observed 31.20% failing "
                    "(312 rows of 1,000), allowed at most 10.00% (mostly 0.9)")


def test_an_invariant_allows_none():
    outcome = ExpectationOutcome("expect_column_values_to_be_valid_nik", "nik", "NIK-01..NIK-08", "error", False,
                                 None, 500, 3, 0.6)
    assert gate.failure_line("build__person", outcome).endswith("allowed none (invariant, or mostly 1)")


def test_only_failing_error_expectations_count():
    suite = _suite(_outcome("NIK-01", True), _outcome("NIK-02", False, unexpected=50),
                   _outcome("NIK-09", False, unexpected=90, severity="warning"), _outcome("KK-01", False, unexpected=20))
    assert gate.failed_rules(suite) == ["KK-01", "NIK-02"]
    assert len(gate.failure_lines(suite)) == 2 and all("NIK-09" not in line for line in gate.failure_lines(suite))


def test_quar01_judges_the_share_of_data_records_quarantined():
    assert gate.staged_share_outcome(1000, 100, mostly=0.9).success
    failing = gate.staged_share_outcome(1000, 101, mostly=0.9)
    assert not failing.success and failing.rule == gate.QUARANTINE_RULE and failing.unexpected_percent == 10.1
    assert gate.staged_share_outcome(0, 0, mostly=0.9).success  # a file of junk only is not judged here


def test_quar01_per_file_excludes_junk_and_finds_every_failing_new_file():
    raw = pd.DataFrame({"source_file": ["a.csv"] * 10 + ["b.csv"] * 10 + ["old.csv"] * 10})
    quarantine = pd.DataFrame({
        "source_file": ["a.csv"] * 4 + ["b.csv"] * 6 + ["old.csv"] * 9,
        "reason": ["SUMMARY_ROW", "EMPTY_ROW", "REGION_BAD_FORMAT", "MISSING_NAME"] + ["REGION_BAD_FORMAT"] * 6
        + ["REGION_BAD_FORMAT"] * 9,
    })
    shares = staged_share_by_file(raw, StagingResult(staged=pd.DataFrame(), quarantine=quarantine))
    assert shares.loc["a.csv", ["data_records", "quarantined"]].tolist() == [8, 2]
    worst, failing = _worst_new_file(shares, {"a.csv", "b.csv"}, mostly=0.9)
    assert failing == {"a.csv", "b.csv"}  # 25% and 60%; old.csv is not new, so not judged
    assert worst.unexpected_count == 6 and worst.element_count == 10
    _, failing = _worst_new_file(shares, {"a.csv", "b.csv"}, mostly=0.7)
    assert failing == {"b.csv"}


def _delivery(delivery_id, first_seen, status=ACCEPTED, scope=""):
    return Delivery(feed="dukcapil", delivery_id=delivery_id, source_file=f"{delivery_id}.csv",
                    record_file=f"{delivery_id}.csv", status=status, records=10, size=100, mtime=0.0,
                    first_seen=pd.Timestamp(first_seen), first_run=delivery_id, scope=scope)


def test_holding_back_the_newest_snapshot_puts_the_previous_one_back_in_force():
    registry = deliveries.select_in_force([_delivery("old", "2026-11-01"), _delivery("new", "2026-12-01")],
                                          "snapshot", scoped=False)
    assert [d.delivery_id for d in registry if d.in_force] == ["new"]
    held = deliveries.hold_back(registry, {"new"}, {"new": "held back by the staging suite: NIK-02"},
                                "snapshot", scoped=False)
    by_id = {d.delivery_id: d for d in held}
    assert by_id["new"].status == HELD_BACK and not by_id["new"].in_force and "NIK-02" in by_id["new"].problem
    assert by_id["old"].in_force and by_id["old"].status == ACCEPTED


def test_holding_back_a_first_delivery_leaves_nothing_in_force():
    registry = deliveries.select_in_force([_delivery("first", "2026-12-01")], "snapshot", scoped=False)
    held = deliveries.hold_back(registry, {"first"}, {}, "snapshot", scoped=False)
    assert not any(d.in_force for d in held)


def test_decisions_as_rows_and_tag():
    held = gate.GateDecision(gate="staging", target="dukcapil", suite="staging__dukcapil", decision=gate.HELD_BACK,
                             rows_validated=1000, failures=["staging__dukcapil NIK-02 ..."], rules=["NIK-02"],
                             deliveries_held=1, data_docs="/docs/page.html")
    passed = gate.GateDecision(gate="staging", target="pekon", suite="staging__pekon", decision=gate.PASSED,
                               rows_validated=50)
    frame = gate.decision_frame([held, passed], "run-1", dt.datetime(2026, 12, 4))
    assert list(frame.columns) == list(gate.GATE_COLUMNS) and len(frame) == 2
    assert frame.loc[0, "failed_rules"] == "NIK-02" and frame.loc[0, "deliveries_held"] == 1
    assert gate.held_back_tag([held, passed]) == "dukcapil:NIK-02"
    assert "held back" in held.message and "NIK-02" in held.message and "/docs/page.html" in held.message
