"""Clerical-review helpers: stable pair ids, masking, level labels."""

import json

from dtsen_pipeline.linkage.review import level_labels, mask_identifier, pair_id


def test_pair_id_is_stable_and_unordered():
    assert pair_id("a", "b") == pair_id("b", "a")
    assert pair_id("a", "b") != pair_id("a", "c")
    assert pair_id("dtsen:x.csv#1", "pekon:y.csv#2").startswith("R")


def test_mask_identifier_hides_the_middle():
    assert mask_identifier("1806014107850001") == "1806********0001"
    assert mask_identifier(None) is None
    assert mask_identifier("123") == "***"


def test_level_labels_follow_splink_gamma_order(tmp_path):
    model = {"comparisons": [{"output_column_name": "dob", "comparison_levels": [
        {"is_null_level": True, "label_for_charts": "null"},
        {"label_for_charts": "exact"}, {"label_for_charts": "swap"}, {"label_for_charts": "else"}]}]}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model))
    assert level_labels(path) == {"gamma_dob": {2: "exact", 1: "swap", 0: "else", -1: "missing on one side"}}


def test_relatives_refused_for_unlike_names_are_not_queued_for_review():
    import pandas as pd

    from dtsen_pipeline.linkage.model import LinkageConfig
    from dtsen_pipeline.linkage.review import review_pairs

    pairs = pd.DataFrame({"unique_id_l": ["a", "c", "e"], "unique_id_r": ["b", "d", "f"],
                          "match_probability": [0.6, 0.95, 0.7], "match_weight": [0.5, 4.0, 1.0]})
    refused = pd.DataFrame({"unique_id_l": ["a", "c"], "unique_id_r": ["b", "d"],
                            "reason": ["NAME_CONFLICT", "THIN_EVIDENCE"]})
    queued = review_pairs(pairs, refused, LinkageConfig())
    assert queued[["unique_id_l", "reason"]].values.tolist() == [["c", "THIN_EVIDENCE"], ["e", "UNCERTAIN"]]


def _queue():
    import pandas as pd

    from dtsen_pipeline.linkage.review import review_queue

    staged = pd.DataFrame({
        "record_id": ["b1", "d1", "p1", "p2", "p3", "p4", "p5", "p6"],
        "feed": ["bansos", "dtsen", "pekon", "pekon", "pekon", "pekon", "pekon", "pekon"],
        "nama": ["SITI", "SITI", "SITI", "SITI", "BUDI", "BUDI", "ANI", "ANI"],
        "nik": ["1806014107850001", "1806014107850002", "1806014107850001", None, "1806010101900001",
                "1806010101900010", "1806015505010003", "1806015505010003"],
        "no_kk": ["1806010101010001", "1806010101010001", "1806010101010002", None, None, None, "1", "1"],
        "kode_desa": ["18.06.01.2001"] * 6 + ["18.06.02.2001"] * 2,
        "kode_kecamatan": ["18.06.01"] * 6 + ["18.06.02"] * 2,
    })
    queued = pd.DataFrame({
        "pair_id": ["R1", "R2", "R3", "R4"],
        "unique_id_l": ["p3", "b1", "p1", "p5"], "unique_id_r": ["p4", "d1", "p2", "p6"],
        "reason": ["UNCERTAIN", "NIK_CONFLICT", "UNCERTAIN", "UNCERTAIN"],
        "match_probability": [0.5, 0.95, 0.31, 0.6],
        "gamma_name_key": [5, 5, 5, 5], "gamma_dob": [-1, 3, -1, 2]})
    clusters = pd.DataFrame({"unique_id": staged["record_id"], "cluster_id": staged["record_id"]})
    labels = {"gamma_name_key": {5: "Exact match on name_key"}, "gamma_dob": {3: "one character apart",
                                                                              2: "same year", -1: "missing on one side"}}
    return review_queue(queued, staged, clusters, labels)


def test_the_queue_is_ranked_by_what_a_decision_changes_per_kecamatan():
    queue = _queue().set_index("ID_PASANGAN")
    # A programme record first (R2), then two pekon pairs: the more uncertain (R1, p=0.5) before R3.
    assert queue.loc[["R2", "R1", "R3"], "PRIORITAS"].tolist() == [1, 2, 3]
    assert queue.loc["R4", "PRIORITAS"] == 1  # its own kecamatan's list


def test_the_reviewer_sees_where_two_masked_niks_differ_and_the_evidence_in_indonesian():
    import pandas as pd

    queue = _queue().set_index("ID_PASANGAN")
    assert queue.loc["R2", "NIK_A_SAMAR"][:12] == queue.loc["R2", "NIK_B_SAMAR"][:12] == "1806********"
    assert queue.loc["R2", "NIK_BEDA_DI_DIGIT"] == "16"
    assert queue.loc["R1", "NIK_BEDA_DI_DIGIT"] == "15, 16"
    assert queue.loc["R4", "NIK_BEDA_DI_DIGIT"] == "sama" and pd.isna(queue.loc["R3", "NIK_BEDA_DI_DIGIT"])
    assert queue.loc["R2", "BUKTI_NAMA"] == "nama sama" and queue.loc["R2", "BUKTI_TGL_LAHIR"] == "tanggal lahir beda 1 angka"
    assert queue.loc["R1", "BUKTI_TGL_LAHIR"] == "tanggal lahir tidak ada di salah satu data"


def test_a_month_holds_the_capped_share_the_rest_waits():
    from dtsen_pipeline.linkage.review import monthly_share

    month, waiting = monthly_share(_queue(), cap_per_kecamatan=2)
    assert sorted(month["ID_PASANGAN"]) == ["R1", "R2", "R4"] and waiting == 1


def test_every_level_of_the_model_has_indonesian_wording():
    """A model change that adds or renames a level fails here until reports/labels.py has its words."""
    from dtsen_pipeline.linkage.model import settings
    from dtsen_pipeline.reports.labels import ELSE, EVIDENCE

    spec = settings().get_settings("duckdb").as_dict()
    for comparison in spec["comparisons"]:
        column = comparison["output_column_name"]
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert level["label_for_charts"] in EVIDENCE[column], (column, level["label_for_charts"])
        assert ELSE in EVIDENCE[column]
