"""Record ids as the linkage backend numbers them: positions in sorted order, both ways."""

import pandas as pd
import pytest

from dtsen_pipeline.linkage.record_ids import UNKNOWN, RecordIds

IDS = pd.Series(["pekon:pekon_1806011001.csv#12", "dukcapil:DUKCAPIL_1806_20261115.csv#4711",
                 "dtsen:DTSEN_1806_2026-11.csv#2", "dukcapil:DUKCAPIL_1806_20261115.csv#472",
                 "bansos:PKH_2026-T4.xlsx#9"])


def test_positions_order_a_pair_as_the_ids_do():
    ids = RecordIds(IDS)
    codes = ids.codes(IDS)
    for a in range(len(IDS)):
        for b in range(len(IDS)):
            assert (codes[a] < codes[b]) == (IDS[a] < IDS[b])
    assert sorted(codes) == list(range(len(IDS)))


def test_decoding_gives_the_ids_back_and_an_unknown_id_matches_no_record():
    ids = RecordIds(IDS)
    pairs = pd.DataFrame({"unique_id_l": IDS[:3].values, "unique_id_r": IDS[2:].values, "w": [1.0, 2.0, 3.0]})
    coded = ids.encoded(pairs, ["unique_id_l", "unique_id_r"])
    assert coded["unique_id_l"].dtype == "int64"
    back = ids.decoded(coded, ["unique_id_l", "unique_id_r"])
    pd.testing.assert_frame_equal(back.astype({"unique_id_l": object, "unique_id_r": object}),
                                  pairs.astype({"unique_id_l": object, "unique_id_r": object}))
    assert ids.codes(pd.Series(["verval:V.csv#1", "zz", ""])).tolist() == [UNKNOWN] * 3


def test_duplicate_or_missing_ids_are_refused():
    with pytest.raises(ValueError, match="unique"):
        RecordIds(pd.concat([IDS, IDS.head(1)], ignore_index=True))
    with pytest.raises(ValueError, match="without a record id"):
        RecordIds(pd.Series(["a", None], dtype=object))


def test_a_few_ids_asked_of_many_records_get_the_same_positions_as_many():
    """A night's touched records or the clerical labels (a few ids of many records) are looked up
    the other way round (`RecordIds._few_codes`): the positions must be the same as the whole
    lookup's, for repeated, unknown and missing ids too."""
    many = pd.Series([f"pekon:pekon_1806011002.csv#{n}" for n in range(400)] + list(IDS))
    ids = RecordIds(many)
    asked = pd.Series([many[7], "zz", many[399], None, many[7], IDS[4]], dtype="str", index=[5, 3, 9, 1, 0, 2])
    assert len(asked) * 8 < len(many)  # the few-ids path
    expected = {v: p for p, v in enumerate(sorted(many))}
    codes = ids.codes(asked)
    assert codes.index.tolist() == [5, 3, 9, 1, 0, 2]
    assert codes.tolist() == [expected[many[7]], UNKNOWN, expected[many[399]], UNKNOWN, expected[many[7]],
                              expected[IDS[4]]]
    assert ids.codes(pd.concat([asked] * 20, ignore_index=True)).tolist() == codes.tolist() * 20  # the other path
