"""The suite files themselves: GX accepts every declared expectation, rule ids and severities are valid,
and the person feeds' staging suites are the shared person-feed suite plus each feed's own."""

import datetime as dt
import json
import re

import pytest

from dtsen_pipeline.config import EXPECTATIONS_DIR
from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.quality import gx_suites
from dtsen_pipeline.quality.gate import QUARANTINE_RULE

SUITES = sorted(EXPECTATIONS_DIR.glob("*__*.json"))
SHARED = EXPECTATIONS_DIR / "person_feed.json"
PERSON_FEEDS = sorted(name for name, spec in load_feed_specs().items() if spec.entity == "person")
RULE_ID = re.compile(r"^(NIK|KK|REG|NAME|DOB|PRG)-\d{2}(\.\.(NIK|KK|REG|NAME|DOB|PRG)-\d{2})?$")


def declared(path):
    """The suite's expectations as declared: its included files' and its own, no thresholds applied."""
    return gx_suites.read_suite_file(path, thresholds={})["expectations"]


def test_there_is_a_suite_per_staging_and_build_table():
    names = {p.stem for p in SUITES}
    assert {"staging__dtsen", "staging__dukcapil", "staging__pekon", "staging__bansos", "staging__verval",
            "build__person", "build__person_source", "build__household"} <= names


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_gx_accepts_every_declared_expectation(path):
    expectations = declared(path)
    suite = gx_suites.load_suite(path, person_feeds=PERSON_FEEDS)  # raises when GX silently dropped one
    assert len(suite.expectations) == len(expectations) > 0
    assert [e.expectation_type for e in suite.expectations] == [d["type"] for d in expectations]


def test_the_feeds_golden_tables_may_hold_come_from_the_feed_registry():
    """build__person_source names no feed: a person feed added by YAML is a value it accepts."""
    path = EXPECTATIONS_DIR / "build__person_source.json"
    feed_sets = [e["kwargs"]["value_set"] for e in gx_suites.read_suite_file(path, person_feeds=("dtsen", "blt_desa"))
                 ["expectations"] if e["kwargs"].get("column") == "feed"]
    assert feed_sets == [["dtsen", "blt_desa"]]
    with pytest.raises(gx_suites.SuiteDefinitionError, match="person feeds"):
        gx_suites.load_suite(path)


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_rule_ids_and_severities(path):
    for exp in declared(path):
        meta = exp["meta"]
        assert meta["severity"] in gx_suites.SEVERITIES
        if "rule" in meta:
            assert RULE_ID.match(meta["rule"]), meta["rule"]


def test_rules_covered_by_the_suites():
    rules = {p.stem: {e["meta"].get("rule") for e in declared(p)} for p in SUITES}
    everywhere = set().union(*rules.values())
    implemented = ({f"NIK-{i:02d}" for i in (1, 4, 5, 9, 10, 11)} | {"NIK-01..NIK-08"}
                   | {f"KK-{i:02d}" for i in range(1, 8)} | {"REG-01", "REG-02", "REG-05", "REG-06", "REG-07"}
                   | {"NAME-01", "NAME-07", "DOB-01", "DOB-02", "PRG-01", "PRG-02"})
    assert implemented <= everywhere
    # Rules whose data no feed carries (DOB-03 UMUR, PRG-03 JKN segment, REG-03 BPS codes, REG-04 separate
    # parent codes) have expectations tested on fixtures but no suite column to run on.
    assert not {"DOB-03", "PRG-03", "REG-03", "REG-04"} & everywhere
    for feed in ("dtsen", "dukcapil", "pekon"):
        assert {"NIK-09", "NIK-10", "NIK-11", "KK-04", "KK-05", "KK-06", "REG-06", "DOB-02"} <= rules[f"staging__{feed}"]


@pytest.mark.parametrize("bad", [
    {"type": "expect_column_values_to_be_valid_nikk", "kwargs": {"column": "nik"}},  # unknown type
    {"type": "expect_column_values_to_be_valid_nik", "kwargs": {"colum": "nik"}},  # misspelt kwarg
    {"type": "expect_kk_to_have_one_head", "kwargs": {"column_list": ["no_kk"]}},  # invalid kwarg value
])
def test_an_invalid_expectation_is_refused(tmp_path, bad):
    path = tmp_path / "staging__x.json"
    path.write_text(json.dumps({"name": "staging__x", "expectations": [
        {"type": "expect_column_values_to_be_valid_nik", "kwargs": {"column": "nik"}, "meta": {"severity": "error"}},
        {**bad, "meta": {"severity": "error"}},
    ]}))
    with pytest.raises(gx_suites.SuiteDefinitionError, match="staging__x.json"):
        gx_suites.load_suite(path)


def test_an_unknown_severity_is_refused(tmp_path):
    path = tmp_path / "staging__x.json"
    path.write_text(json.dumps({"name": "staging__x", "expectations": [
        {"type": "expect_column_to_exist", "kwargs": {"column": "nik"}, "meta": {"severity": "fatal"}}]}))
    with pytest.raises(gx_suites.SuiteDefinitionError, match="severity"):
        gx_suites.load_suite(path)


def test_thresholds_are_per_feed_and_only_replace_declared_mostly(tmp_path, monkeypatch):
    from dtsen_pipeline.resources import QualitySettings, from_environment

    def deployment_thresholds():  # DTSEN_QUALITY_THRESHOLDS, as the assets read it
        return from_environment(QualitySettings).process_config_and_initialize().thresholds()

    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("staging__pekon:\n  NIK-08: 0.5\n  NIK-01..NIK-08: 0.5\n")
    monkeypatch.setenv("DTSEN_QUALITY_THRESHOLDS", str(thresholds))
    pekon = gx_suites.read_suite_file(EXPECTATIONS_DIR / "staging__pekon.json", deployment_thresholds())
    dtsen = gx_suites.read_suite_file(EXPECTATIONS_DIR / "staging__dtsen.json", deployment_thresholds())

    def mostly(data, rule):
        return [e["kwargs"].get("mostly") for e in data["expectations"] if e["meta"].get("rule") == rule]

    assert mostly(pekon, "NIK-08") == [0.5]
    assert mostly(pekon, "NIK-01..NIK-08") == [None]  # an invariant declares no mostly and stays strict
    assert mostly(dtsen, "NIK-08") == [0.99]
    thresholds.write_text("staging__pekon:\n  NIK-08: 1.5\n")
    with pytest.raises(gx_suites.SuiteDefinitionError, match="within 0..1"):
        deployment_thresholds()


def test_the_deployment_ceilings_reach_the_prg_02_expectation():
    ceilings = {"PKH": 6, "BPNT": 5, "PBI-JK": 5}
    data = gx_suites.read_suite_file(EXPECTATIONS_DIR / "staging__dtsen.json", ceilings=ceilings)
    (prg02,) = [e for e in data["expectations"] if e["type"] == gx_suites.CEILING_EXPECTATION]
    assert prg02["kwargs"]["ceilings"] == ceilings
    assert gx_suites.load_suite(EXPECTATIONS_DIR / "staging__dtsen.json", ceilings=ceilings)  # GX accepts it


def test_the_run_date_reaches_the_expectations_that_reckon_ages():
    data = gx_suites.read_suite_file(EXPECTATIONS_DIR / "staging__dtsen.json", as_of=dt.date(2026, 3, 1))
    dated = [e for e in data["expectations"] if e["type"] in gx_suites.AS_OF_EXPECTATIONS]
    assert dated and all(e["kwargs"]["as_of"] == "2026-03-01" for e in dated)
    assert gx_suites.load_suite(EXPECTATIONS_DIR / "staging__dtsen.json", as_of=dt.date(2026, 3, 1))  # GX accepts it
    undated = gx_suites.read_suite_file(EXPECTATIONS_DIR / "staging__dtsen.json")
    assert not any("as_of" in e.get("kwargs", {}) for e in undated["expectations"])  # GX then reckons at today


def test_the_shipped_thresholds_file_names_real_suites_and_rules():
    thresholds = gx_suites.load_thresholds(gx_suites.THRESHOLDS_FILE)
    assert thresholds
    for suite, rules in thresholds.items():
        with_mostly = {e["meta"].get("rule") for e in declared(EXPECTATIONS_DIR / f"{suite}.json") if "mostly" in e["kwargs"]}
        assert set(rules) - {QUARANTINE_RULE} <= with_mostly, suite  # QUAR-01 is the gate's own rule


def test_every_gating_share_rule_of_a_staging_suite_has_a_measured_threshold():
    """Error-severity share rules hold deliveries back: each is set, with its reason, in thresholds.yaml."""
    thresholds = gx_suites.load_thresholds(gx_suites.THRESHOLDS_FILE)
    for path in sorted(EXPECTATIONS_DIR.glob("staging__*.json")):
        gating = {e["meta"]["rule"] for e in declared(path)
                  if e["meta"].get("severity", "error") == "error" and "mostly" in e["kwargs"]}
        assert gating | {QUARANTINE_RULE} <= set(thresholds[path.stem]), path.name


def _key(exp):
    """What makes two expectations the same check: type and kwargs, whatever their `mostly`."""
    return json.dumps([exp["type"], {k: v for k, v in exp["kwargs"].items() if k != "mostly"}], sort_keys=True)


@pytest.mark.parametrize("feed", PERSON_FEEDS)
def test_a_person_feed_suite_is_the_shared_suite_plus_its_own(feed):
    path = EXPECTATIONS_DIR / f"staging__{feed}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["name"] == path.stem  # validation results and Data Docs keep the feed's suite name
    assert data["include"] == [SHARED.name]
    shared = json.loads(SHARED.read_text(encoding="utf-8"))["expectations"]
    assert declared(path) == shared + data["expectations"]
    keys = [_key(e) for e in declared(path)]
    assert len(keys) == len(set(keys))  # the feed adds nothing person_feed.json already checks


def test_what_every_person_feed_checks_alike_is_declared_once_in_the_shared_suite():
    """A feed's own file holds what differs: its columns, its grouping, a warning's share (the
    usable-NIK share is the feed's own; thresholds.yaml sets only gating shares)."""
    own = [{json.dumps(e, sort_keys=True) for e in json.loads((EXPECTATIONS_DIR / f"staging__{f}.json").read_text())[
        "expectations"]} for f in PERSON_FEEDS]
    assert len(own) >= 2 and not set.intersection(*own)
    assert SHARED not in SUITES  # not a suite of its own: no table, no check, no Data Docs page


@pytest.mark.parametrize("feed", PERSON_FEEDS)
def test_each_feed_gates_the_shared_expectations_with_its_own_thresholds(feed):
    shipped = gx_suites.load_thresholds(gx_suites.THRESHOLDS_FILE)
    thresholds = shipped[f"staging__{feed}"]
    suite = gx_suites.read_suite_file(EXPECTATIONS_DIR / f"staging__{feed}.json", shipped)
    shared = {_key(e) for e in declared(SHARED)}
    gating = [e for e in suite["expectations"] if _key(e) in shared and "mostly" in e["kwargs"]
              and e["meta"]["severity"] == "error"]
    assert gating
    for exp in gating:
        assert exp["kwargs"]["mostly"] == thresholds[exp["meta"]["rule"]], (feed, exp["meta"])


def test_the_shared_expectations_take_a_different_mostly_per_feed():
    def mostly(feed, rule):
        suite = gx_suites.read_suite_file(EXPECTATIONS_DIR / f"staging__{feed}.json",
                                          gx_suites.load_thresholds(gx_suites.THRESHOLDS_FILE))
        return {e["kwargs"]["mostly"] for e in suite["expectations"]
                if e["meta"].get("rule") == rule and e["type"] == "expect_column_values_to_not_carry_code"}

    assert mostly("bansos", "NIK-02") == {0.15} and mostly("dtsen", "NIK-02") == {0.95}
    assert mostly("pekon", "NIK-08") == {0.85} and mostly("dukcapil", "NIK-08") == {0.95}


def test_an_included_expectation_declared_again_is_refused(tmp_path):
    shared = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nik"}, "meta": {"severity": "error"}}
    (tmp_path / "shared.json").write_text(json.dumps({"name": "shared", "expectations": [shared]}))
    path = tmp_path / "staging__x.json"
    path.write_text(json.dumps({"name": "staging__x", "include": ["shared.json"], "expectations": [
        {**shared, "kwargs": {"column": "nik", "mostly": 0.9}}]}))
    with pytest.raises(gx_suites.SuiteDefinitionError, match="declared twice"):
        gx_suites.read_suite_file(path, thresholds={})
    path.write_text(json.dumps({"name": "staging__x", "include": ["staging__x.json"], "expectations": []}))
    with pytest.raises(gx_suites.SuiteDefinitionError, match="within itself"):
        gx_suites.read_suite_file(path, thresholds={})
