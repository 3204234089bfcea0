"""The generator's flag truth is consistent with the rest of its truth, and the scoring is right."""

import pandas as pd
import pytest

from dtsen_pipeline.golden.evaluate import HOUSEHOLD_FLAGS, PERSON_FLAGS, Truth, inclusion_truth, score_flags


@pytest.fixture(scope="module")
def truth(sample_landing):
    persons = pd.read_csv(sample_landing / "_truth" / "persons.csv")
    families = pd.read_csv(sample_landing / "_truth" / "families.csv")
    records = pd.read_csv(sample_landing / "_truth" / "records.csv")
    return persons, families, records


def test_every_flag_has_a_truth_column_and_true_cases(truth):
    persons, families, _ = truth
    for flag in PERSON_FLAGS:
        assert persons[flag].dtype == bool and persons[flag].any(), flag
    for flag in HOUSEHOLD_FLAGS:
        assert families[flag].dtype == bool and families[flag].any(), flag


def test_person_flags_agree_with_status_coverage_and_records(truth):
    persons, families, records = truth
    assert (persons.loc[persons.flag_dead_recipient, "status"] == "MATI").all()
    # base profile: every mover left the kabupaten (PINDAH), alone or with the whole family
    moved = persons[persons.flag_moved_recipient]
    assert (moved.status == "PINDAH").all() and set(moved.move_level) == {"family", "person"}
    assert (persons.loc[persons.status == "PINDAH", "move_level"].isin(["family", "person"])).all()
    assert persons.loc[persons.flag_dead_recipient | persons.flag_moved_recipient, "recipient"].all()
    missing = persons[persons.flag_missing_from_dtsen]
    assert (missing.status == "HIDUP").all() and not missing.in_dtsen.any()
    per_feed = records[records.feed != "bansos"].groupby(["person_key", "feed"]).size().groupby("person_key").max()
    assert set(per_feed[per_feed > 1].index) == set(persons.loc[persons.flag_duplicate_records, "person_key"])
    assert persons.loc[persons.flag_multiple_kk, "in_dtsen"].all()


def test_family_flags_agree_with_desil_and_programmes(truth):
    _, families, _ = truth
    programme = families.pkh | families.bpnt | families.pbi_jk
    exclusion = families[families.flag_exclusion_candidate]
    assert exclusion.desil.isin([1, 2]).all() and not (programme[exclusion.index]).any()
    assert (inclusion_truth(families, {"PKH": 4, "BPNT": 5, "PBI-JK": 5}) == families.flag_inclusion_candidate).all()
    assert not families.loc[families.flag_missing_from_dtsen, "in_dtsen"].any()


def test_scoring_counts_precision_and_recall_per_true_subject():
    truth = Truth(
        records=pd.DataFrame({"record_id": ["r1", "r2", "r3", "r4"], "person_key": ["A", "A", "B", "C"],
                              "family_key": ["F", "F", "F", "G"]}),
        persons=pd.DataFrame({"person_key": ["A", "B", "C"], **{f: [True, False, True] for f in PERSON_FLAGS}}),
        families=pd.DataFrame({"family_key": ["F", "G"], "desil": [5, None], "pkh": [True, False],
                               "bpnt": [False, False], "pbi_jk": [False, False],
                               **{f: [True, False] for f in HOUSEHOLD_FLAGS}}),
    )
    # the pipeline split A into p1 and p2 (both flagged), flagged B wrongly, missed C
    persons = pd.DataFrame({"person_id": ["p1", "p2", "p3", "p4"], **{f: [True, True, True, False] for f in PERSON_FLAGS}})
    households = pd.DataFrame({"household_id": ["h1", "h2"], **{f: [True, True] for f in HOUSEHOLD_FLAGS}})
    source = pd.DataFrame({"person_id": ["p1", "p2", "p3", "p4"], "household_id": ["h1", "h1", "h1", "h2"],
                           "record_id": ["r1", "r2", "r3", "r4"]})
    scores = score_flags(persons, households, source, truth).set_index(["level", "flag"])
    row = scores.loc[("person", "flag_dead_recipient")]
    assert (row["truth"], row["flagged"], row["true_positive"]) == (2, 3, 2)
    assert row["precision"] == pytest.approx(2 / 3) and row["recall"] == pytest.approx(1 / 2)
    row = scores.loc[("household", "flag_inclusion_candidate")]
    assert row["precision"] == pytest.approx(1 / 2) and row["recall"] == 1.0
    rescored = score_flags(persons, households, source, truth, {"PKH": 5, "BPNT": 5, "PBI-JK": 5})
    assert rescored.set_index(["level", "flag"]).loc[("household", "flag_inclusion_candidate"), "truth"] == 0


def test_field_profile_counts_movers_inside_the_kabupaten_whatever_the_status_says(tmp_path):
    """Moved recipients are defined by what happened: a recipient who moved to another village of
    the kabupaten (status still HIDUP, nobody wrote PINDAH, the list kept the old village) is one."""
    from dtsen_pipeline.sample import generate

    generate(persons=8_000, seed=5, out_dir=tmp_path, profile="field")
    persons = pd.read_csv(tmp_path / "_truth" / "persons.csv", keep_default_na=False)
    moves = pd.read_csv(tmp_path / "_truth" / "moves.csv", dtype=str)
    moved = persons[persons.flag_moved_recipient]
    inside = moved[moved.person_key.isin(moves.person_key)]
    assert len(inside) > 0 and (inside.status == "HIDUP").all()
    assert set(inside.move_level) <= {"family", "person"}
    level = moves.set_index("person_key")["level"]
    assert (inside.set_index("person_key")["move_level"] == level.reindex(inside.person_key)).all()
    away = moved[~moved.person_key.isin(moves.person_key)]
    assert (away.status == "PINDAH").all()
    assert moved.recipient.all() and not persons.loc[~persons.recipient, "flag_moved_recipient"].any()
