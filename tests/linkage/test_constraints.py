"""Verified decisions become constraints, with tier precedence."""

import pandas as pd

from dtsen_pipeline.linkage.constraints import decisions_in_force, verval_constraints
from dtsen_pipeline.linkage.review import pair_id

NIK_1, NIK_2 = "1806014107850001", "1806025203900002"


def _verval(rows):
    return pd.DataFrame(rows, columns=["record_id", "nik", "nik_ganda", "hasil", "tingkat", "tanggal", "id_pasangan"])


def _records():
    return pd.DataFrame({"unique_id": ["d:1", "d:2", "p:1", "x:1"], "nik": [NIK_1, NIK_1, NIK_2, None]})


def test_higher_tier_overrides_lower_and_later_overrides_earlier():
    verval = _verval([
        ("v:1", NIK_1, NIK_2, "GANDA", "PEKON", "2026-10-01", None),
        ("v:2", NIK_2, NIK_1, "BUKAN_GANDA", "KECAMATAN", "2026-09-01", None),  # earlier but higher tier
        ("v:3", NIK_1, NIK_2, "GANDA", "PEKON", "2026-11-01", None),
    ])
    assert decisions_in_force(verval).values.tolist() == [[NIK_1, NIK_2, "BUKAN_GANDA"]]
    later = _verval([("v:1", NIK_1, NIK_2, "BUKAN_GANDA", "KABUPATEN", "2026-10-01", None),
                     ("v:2", NIK_1, NIK_2, "GANDA", "KABUPATEN", "2026-11-01", None)])
    assert decisions_in_force(later)["hasil"].tolist() == ["GANDA"]


def test_ganda_links_every_record_of_both_niks():
    must, cannot = verval_constraints(_verval([("v:1", NIK_1, NIK_2, "GANDA", "PEKON", "2026-10-01", None)]),
                                      _records())
    assert cannot.empty
    linked = set(must["unique_id_l"]) | set(must["unique_id_r"])
    assert linked == {"d:1", "d:2", "p:1"}


def test_bukan_ganda_forbids_every_cross_pair():
    must, cannot = verval_constraints(_verval([("v:1", NIK_2, NIK_1, "BUKAN_GANDA", "KECAMATAN", "2026-10-01",
                                                None)]), _records())
    assert must.empty
    assert sorted(map(sorted, cannot.values.tolist())) == [["d:1", "p:1"], ["d:2", "p:1"]]


def test_review_pair_decisions_need_the_pair_registry():
    pid = pair_id("p:1", "x:1")
    verval = _verval([("v:1", None, None, "GANDA", "PEKON", "2026-10-01", pid.lower())])
    registry = pd.DataFrame({"pair_id": [pid], "unique_id_l": ["p:1"], "unique_id_r": ["x:1"]})
    must, _ = verval_constraints(verval, _records(), registry)
    assert must.values.tolist() == [["p:1", "x:1"]]
    unknown, _ = verval_constraints(verval, _records(), registry.iloc[0:0])
    assert unknown.empty


def test_a_review_pair_decision_on_a_record_no_longer_delivered_is_dropped():
    pid = pair_id("p:1", "gone:9")
    verval = _verval([("v:1", None, None, "GANDA", "PEKON", "2026-10-01", pid)])
    registry = pd.DataFrame({"pair_id": [pid], "unique_id_l": ["p:1"], "unique_id_r": ["gone:9"]})
    must, cannot = verval_constraints(verval, _records(), registry)
    assert must.empty and cannot.empty
