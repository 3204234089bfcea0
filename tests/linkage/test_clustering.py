"""The clustering guards: what may and may not end up in one person's cluster."""

import pandas as pd
import pytest

from dtsen_pipeline.linkage.clustering import ClusterGuards, guarded_clusters

NIK_A = "1806014107850001"
NIK_A_TYPO = "1806014107850007"  # one digit apart
NIK_A_SWAPPED = "1806014107580001"  # two adjacent digits swapped (85 -> 58)
NIK_A_TWO_DIGITS = "1806014107850072"  # two digits apart, not a swap
NIK_B = "1806025203900002"  # far apart


def _records(rows):
    frame = pd.DataFrame(rows, columns=["unique_id", "nik", "jenis_kelamin", "dob_year", "dob_imprecise"])
    frame["dob_year"] = frame["dob_year"].astype("Int64")
    return frame


def _pairs(rows, dob_gamma=6):
    """Scored pairs; the birth dates agree exactly (gamma 6) unless said otherwise."""
    frame = pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability",
                                        "gamma_name_key"])
    frame["gamma_dob"] = dob_gamma
    return frame


def _cluster_sets(result):
    return sorted(sorted(g) for g in result.clusters.groupby("cluster_id")["unique_id"].apply(list))


def test_clean_component_is_kept_whole():
    records = _records([("a", NIK_A, "P", 1985, False), ("b", NIK_A, "P", 1985, False), ("c", None, "P", 1985, False)])
    pairs = _pairs([("a", "b", 25.0, 1.0, 5), ("b", "c", 6.0, 0.98, 4)])
    result = guarded_clusters(records, pairs, threshold=0.5)
    assert _cluster_sets(result) == [["a", "b", "c"]]
    assert result.refused == {}


def test_conflicting_niks_are_never_merged_even_with_strong_evidence():
    records = _records([("a", NIK_A, "P", 1985, False), ("b", NIK_B, "P", 1985, False)])
    result = guarded_clusters(records, _pairs([("a", "b", 40.0, 1.0, 5)]), threshold=0.5)
    assert _cluster_sets(result) == [["a"], ["b"]]
    assert result.refused == {"NIK_CONFLICT": 1}
    assert result.refused_edges[["unique_id_l", "unique_id_r", "reason"]].values.tolist() == [["a", "b", "NIK_CONFLICT"]]


@pytest.mark.parametrize("other_nik", [NIK_A_TYPO, NIK_A_SWAPPED])
def test_a_nik_typo_is_one_person_only_when_names_and_birth_dates_agree(other_nik):
    records = _records([("a", NIK_A, "P", 1985, False), ("b", other_nik, "P", 1985, False)])
    typo = guarded_clusters(records, _pairs([("a", "b", 12.0, 0.999, 5)]), threshold=0.5)
    assert _cluster_sets(typo) == [["a", "b"]]
    twins = guarded_clusters(records, _pairs([("a", "b", 12.0, 0.999, 1)]), threshold=0.5)
    assert _cluster_sets(twins) == [["a"], ["b"]]
    assert twins.refused == {"NIK_NEAR_MISS": 1}
    other_day = guarded_clusters(records, _pairs([("a", "b", 12.0, 0.999, 5)], dob_gamma=2), threshold=0.5)
    assert other_day.refused == {"NIK_NEAR_MISS": 1}


def test_a_nik_typo_with_a_shortened_name_needs_the_same_date():
    """HERLINA ~ HERLINA WATI (a token dropped): one person when the birth dates are the same."""
    records = _records([("a", NIK_A, "P", 1985, False), ("b", NIK_A_SWAPPED, "P", 1985, False)])
    same_day = guarded_clusters(records, _pairs([("a", "b", 20.0, 0.999, 3)], dob_gamma=6), threshold=0.5)
    assert _cluster_sets(same_day) == [["a", "b"]]
    day_typo = guarded_clusters(records, _pairs([("a", "b", 20.0, 0.999, 3)], dob_gamma=3), threshold=0.5)
    assert day_typo.refused == {"NIK_NEAR_MISS": 1}


def test_without_a_birth_date_a_nik_typo_needs_identical_names():
    """Programme lists carry no birth date: then only an identical name vouches for the typo."""
    records = _records([("a", NIK_A, "P", 1985, False), ("b", NIK_A_SWAPPED, "P", None, False)])
    same_name = guarded_clusters(records, _pairs([("a", "b", 12.0, 0.999, 5)], dob_gamma=-1), threshold=0.5)
    assert _cluster_sets(same_name) == [["a", "b"]]
    near_name = guarded_clusters(records, _pairs([("a", "b", 12.0, 0.999, 4)], dob_gamma=-1), threshold=0.5)
    assert near_name.refused == {"NIK_NEAR_MISS": 1}


def test_a_birth_date_known_to_the_year_only_counts_as_no_date():
    """A partial date (year only) agreeing on the year vouches as much as a missing one: an
    identical name lets the typo through; two full dates of one year that differ do not."""
    def records(dob_b):
        frame = _records([("a", NIK_A, "P", 1985, False), ("b", NIK_A_TYPO, "P", 1985, False)])
        return frame.assign(dob=["1985-07-01", dob_b])

    year_only = guarded_clusters(records(None), _pairs([("a", "b", 12.0, 0.999, 5)], dob_gamma=2), threshold=0.5)
    assert _cluster_sets(year_only) == [["a", "b"]]
    near_name = guarded_clusters(records(None), _pairs([("a", "b", 12.0, 0.999, 4)], dob_gamma=2), threshold=0.5)
    assert near_name.refused == {"NIK_NEAR_MISS": 1}
    other_date = guarded_clusters(records("1985-03-12"), _pairs([("a", "b", 12.0, 0.999, 5)], dob_gamma=2),
                                  threshold=0.5)
    assert other_date.refused == {"NIK_NEAR_MISS": 1}


KK = "1806012301150004"
NIK_TWIN = "1806014107850002"  # born the same day in the same kecamatan: the next sequence number


def _family(rows):
    """(unique_id, feed, nik, nik_prefix15): one family (No. KK) as the feeds list it."""
    frame = pd.DataFrame(rows, columns=["unique_id", "feed", "nik", "nik_prefix15"])
    return frame.assign(no_kk=KK, jenis_kelamin="P", dob_year=pd.array([None] * len(frame), dtype="Int64"),
                        dob_imprecise=False)


def _edges(rows, nik_gamma, name_gamma):
    """Scored edges on one No. KK with no birth date on a side."""
    frame = pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r"])
    return frame.assign(match_weight=12.0, match_probability=0.999, gamma_nik=nik_gamma, gamma_no_kk=4,
                        gamma_dob=-1, gamma_name_key=name_gamma)


def test_a_nik_cut_to_15_digits_on_the_card_of_its_only_holder_is_that_person():
    """SITI AMINAH ~ SITI AMINA (Jaro-Winkler 0.82 level), a programme row whose NIK Excel cut to
    15 digits, on the same card: one person unless the registry lists a twin sharing the digits."""
    alone = _family([("reg", "dukcapil", NIK_A, NIK_A[:15]), ("row", "bansos", None, NIK_A[:15])])
    result = guarded_clusters(alone, _edges([("reg", "row")], nik_gamma=3, name_gamma=1), threshold=0.5)
    assert _cluster_sets(result) == [["reg", "row"]]
    with_twin = pd.concat([alone, _family([("twin", "dukcapil", NIK_TWIN, NIK_TWIN[:15])])], ignore_index=True)
    result = guarded_clusters(with_twin, _edges([("reg", "row")], nik_gamma=3, name_gamma=1), threshold=0.5)
    assert _cluster_sets(result) == [["reg"], ["row"], ["twin"]]
    assert result.refused == {"NAME_CONFLICT": 1}


def test_a_mistyped_nik_near_only_one_family_member_is_that_member():
    """Without a birth date, a name with a dropped token and NIK digits swapped: one person when
    no other member of the family on the registry is one typing error from the mistyped NIK."""
    family = _family([("reg", "dukcapil", NIK_A, NIK_A[:15]), ("twin", "dukcapil", NIK_TWIN, NIK_TWIN[:15]),
                      ("swapped", "bansos", NIK_A_SWAPPED, NIK_A_SWAPPED[:15]),
                      ("typo", "bansos", NIK_A_TYPO, NIK_A_TYPO[:15])])
    swapped = guarded_clusters(family, _edges([("reg", "swapped")], nik_gamma=1, name_gamma=3), threshold=0.5)
    assert ["reg", "swapped"] in _cluster_sets(swapped)
    # ...0007 is one digit from the person (...0001) and from the twin (...0002): left to names and dates.
    typo = guarded_clusters(family, _edges([("reg", "typo")], nik_gamma=2, name_gamma=3), threshold=0.5)
    assert _cluster_sets(typo) == [["reg"], ["swapped"], ["twin"], ["typo"]]
    assert typo.refused == {"NIK_NEAR_MISS": 1}


def test_twins_stay_apart_however_strong_the_rest_of_the_evidence():
    """Twins share card, village, address and birth date: weight alone must not merge them."""
    records = _records([("a", NIK_A, "P", 1985, False), ("b", NIK_A_TYPO, "P", 1985, False)])
    result = guarded_clusters(records, _pairs([("a", "b", 35.0, 1.0, 0)]), threshold=0.5)
    assert _cluster_sets(result) == [["a"], ["b"]]
    assert result.refused == {"NIK_NEAR_MISS": 1}


def test_two_digits_apart_is_another_person_even_with_agreeing_details():
    records = _records([("a", NIK_A, "P", 1985, False), ("b", NIK_A_TWO_DIGITS, "P", 1985, False)])
    result = guarded_clusters(records, _pairs([("a", "b", 30.0, 1.0, 5)]), threshold=0.5)
    assert _cluster_sets(result) == [["a"], ["b"]]
    assert result.refused == {"NIK_CONFLICT": 1}


def test_sex_and_birth_year_conflicts_need_overwhelming_evidence():
    records = _records([("a", None, "L", 1970, False), ("b", None, "P", 1970, False),
                        ("c", None, "L", 1990, False)])
    weak = guarded_clusters(records, _pairs([("a", "b", 10.0, 0.99, 5), ("a", "c", 10.0, 0.99, 5)]), threshold=0.5)
    assert _cluster_sets(weak) == [["a"], ["b"], ["c"]]
    assert weak.refused == {"SEX_CONFLICT": 1, "BIRTH_YEAR_CONFLICT": 1}
    strong = guarded_clusters(records, _pairs([("a", "b", 30.0, 1.0, 5)]), threshold=0.5)
    assert ["a", "b"] in _cluster_sets(strong)


def test_imprecise_birth_dates_do_not_count_as_conflicts():
    records = _records([("a", None, "L", 1970, True), ("b", None, "L", 1975, False)])
    result = guarded_clusters(records, _pairs([("a", "b", 10.0, 0.99, 5)]), threshold=0.5)
    assert _cluster_sets(result) == [["a", "b"]]


def test_oversized_chains_are_split_strongest_edges_first():
    ids = [f"r{i:02d}" for i in range(6)]
    records = _records([(i, None, "P", 1980, False) for i in ids])
    chain = _pairs([(ids[i], ids[i + 1], 20.0 - i, 0.99, 5) for i in range(5)])
    result = guarded_clusters(records, chain, threshold=0.5, guards=ClusterGuards(max_cluster_size=3))
    sizes = sorted(len(c) for c in _cluster_sets(result))
    assert max(sizes) <= 3 and sum(sizes) == 6
    assert result.refused.get("OVERSIZE", 0) >= 1
    assert ["r00", "r01", "r02"] in _cluster_sets(result)  # the strongest edges were kept


def test_below_threshold_pairs_are_not_edges():
    records = _records([("a", None, "P", 1980, False), ("b", None, "P", 1980, False)])
    result = guarded_clusters(records, _pairs([("a", "b", 1.0, 0.4, 5)]), threshold=0.5)
    assert _cluster_sets(result) == [["a"], ["b"]]


def test_must_link_merges_and_cannot_link_separates():
    records = _records([("a", NIK_A, "P", 1985, False), ("b", NIK_A, "P", 1985, False),
                        ("c", None, "P", 1985, False), ("d", None, "P", 1985, False)])
    pairs = _pairs([("a", "b", 30.0, 1.0, 5)])
    links = pd.DataFrame
    result = guarded_clusters(
        records, pairs, threshold=0.5,
        must_link=links({"unique_id_l": ["c"], "unique_id_r": ["d"]}),
        cannot_link=links({"unique_id_l": ["a"], "unique_id_r": ["b"]}))
    assert _cluster_sets(result) == [["a"], ["b"], ["c", "d"]]
    assert result.refused == {"CANNOT_LINK": 1}


def test_cluster_ids_are_deterministic():
    records = _records([("b", None, "P", 1980, False), ("a", None, "P", 1980, False)])
    result = guarded_clusters(records, _pairs([("a", "b", 10.0, 0.99, 5)]), threshold=0.5)
    assert set(result.clusters["cluster_id"]) == {"a"}


def _thin_pairs(rows):
    """Scored pairs on which no NIK, No. KK or birth date could be compared (a programme-list row)."""
    frame = pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability",
                                        "gamma_name_key"])
    frame["gamma_nik"], frame["gamma_no_kk"], frame["gamma_dob"] = -1, -1, -1
    return frame


def test_a_programme_row_next_to_two_namesakes_joins_neither():
    # Two SUTRISNOs of one dusun, each on the civil registry, and a programme-list row
    # "SUTRISNO, Dusun II" without a NIK or a birth date: it may be either of them.
    records = _records([("a", NIK_A, "L", 1960, False), ("b", NIK_B, "L", 1972, False), ("x", None, None, None, False)])
    pairs = _thin_pairs([("a", "x", 3.0, 0.9, 5), ("b", "x", 3.0, 0.9, 5)])
    result = guarded_clusters(records, pairs, threshold=0.5)
    assert _cluster_sets(result) == [["a"], ["b"], ["x"]]
    assert result.refused == {"AMBIGUOUS_NAMESAKE": 2}
    assert set(result.refused_edges["reason"]) == {"AMBIGUOUS_NAMESAKE"}


def test_a_programme_row_next_to_one_person_joins_them_and_rows_of_two_lists_do_too():
    # One SUTRISNO with two records (registry and DTSEN), and the row of two programme lists.
    records = _records([("a", NIK_A, "L", 1960, False), ("a2", NIK_A, "L", 1960, False),
                        ("x", None, None, None, False), ("y", None, None, None, False)])
    pairs = pd.concat([_pairs([("a", "a2", 25.0, 1.0, 5)]),
                       _thin_pairs([("a", "x", 3.0, 0.9, 5), ("a2", "x", 3.0, 0.9, 5), ("a", "y", 3.0, 0.9, 5),
                                    ("x", "y", 2.0, 0.8, 5)])], ignore_index=True)
    result = guarded_clusters(records, pairs, threshold=0.5)
    assert _cluster_sets(result) == [["a", "a2", "x", "y"]]
    assert result.refused == {}
