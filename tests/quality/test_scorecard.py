"""Scorecard shares per feed and kecamatan, quarantined rows placed by their raw village code."""

import datetime as dt

import pandas as pd
import pytest

from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.quality import scorecard as sc

SPECS = load_feed_specs()


def staged_dtsen() -> pd.DataFrame:
    return pd.DataFrame({
        "kode_kecamatan": ["18.06.01", "18.06.01", "18.06.02", "18.06.02"],
        "nik": ["1806014107850001", None, "1806014107850002", None],
        "nik_issue": [None, "NIK_EXCEL_DAMAGED", None, "MISSING"],
        "kk_issue": [None, None, "KK_BAD_FORMAT", None],
        "status_padan": ["PADAN", "TIDAK PADAN", "PADAN", "PADAN"],
        "tgl_lahir": pd.to_datetime(["1980-01-01", "1980-05-17", None, "1990-02-03"]),
        "dob_imprecise": [True, False, False, False],
    })


def quarantine() -> pd.DataFrame:
    return pd.DataFrame({"feed": ["dtsen", "dtsen", "pekon"], "source_file": ["dtsen/a.csv"] * 2 + ["pekon/p.csv"],
                         "source_row": [7, 8, 1], "reason": ["MISSING_NAME", "REPEATED_HEADER", "MISSING_NAME"],
                         "detail": [None, None, None]})


def raw_dtsen() -> pd.DataFrame:
    return pd.DataFrame({"source_file": ["dtsen/a.csv"] * 2, "source_row": [7, 8],
                         "KODE_WILAYAH": ["1806022012", "KODE_WILAYAH"]})


@pytest.fixture()
def card() -> pd.DataFrame:
    records = {"dtsen": sc.record_frame("dtsen", staged_dtsen(), quarantine(), raw_dtsen(), SPECS["dtsen"])}
    return sc.scorecard(records, "run-1", dt.datetime(2026, 11, 29, 1, 0), {"18.06.01": "Kota Agung",
                                                                           "18.06.02": "Talang Padang"})


def test_feed_row(card):
    row = card[(card["level"] == "feed")].iloc[0]
    assert row["records"] == 5  # 4 staged + 1 quarantined data row (the repeated header is not a record)
    assert row["valid_nik_share"] == pytest.approx(2 / 5)
    assert row["padan_share"] == pytest.approx(3 / 4)  # of staged DTSEN rows
    assert row["damaged_id_share"] == pytest.approx(2 / 5)
    assert row["imprecise_dob_share"] == pytest.approx(1 / 3)  # of rows with a birth date
    assert row["missing_name_share"] == pytest.approx(1 / 5)


def test_kecamatan_rows_place_quarantined_rows_by_raw_code(card):
    kec = card[card["level"] == "kecamatan"].set_index("kode_kecamatan")
    assert list(kec.index) == ["18.06.01", "18.06.02"]
    assert kec.loc["18.06.02", "records"] == 3 and kec.loc["18.06.02", "missing_name_share"] == pytest.approx(1 / 3)
    assert kec.loc["18.06.01", "kecamatan"] == "Kota Agung"
    assert kec.loc["18.06.01", "missing_name_share"] == 0


def test_history_keeps_one_set_of_rows_per_run_appended_in_place(card, warehouse):
    from dtsen_pipeline.warehouse import append_table, read_table

    columns = list(sc.SCORECARD_COLUMNS)
    assert append_table(warehouse, card[columns], "quality", "scorecard_history", replace_run="run-1") == len(card)
    second = card[columns].assign(run_id="run-2")
    append_table(warehouse, second, "quality", "scorecard_history", replace_run="run-2")
    rows = append_table(warehouse, second, "quality", "scorecard_history", replace_run="run-2")  # run-2 again
    history = read_table(warehouse, "quality", "scorecard_history")
    assert rows == 2 * len(card)
    assert history.groupby("run_id").size().to_dict() == {"run-1": len(card), "run-2": len(card)}
    assert history.loc[history["run_id"] == "run-1", "records"].sum() == card["records"].sum()


def test_append_keeps_earlier_rows_and_adapts_to_a_new_column(warehouse):
    import pandas as pd

    from dtsen_pipeline.warehouse import append_table, read_table

    append_table(warehouse, pd.DataFrame({"pair_id": ["a", "b"], "score": [0.5, None]}), "linkage", "kept",
                 unique_by=["pair_id"])
    append_table(warehouse, pd.DataFrame({"pair_id": ["b", "c"], "score": [0.9, None]}), "linkage", "kept",
                 unique_by=["pair_id"])
    kept = read_table(warehouse, "linkage", "kept").sort_values("pair_id")
    assert list(kept["pair_id"]) == ["a", "b", "c"] and kept["score"].isna().tolist() == [False, True, True]
    append_table(warehouse, pd.DataFrame({"pair_id": ["d"], "score": [0.1], "note": ["x"]}), "linkage", "kept",
                 unique_by=["pair_id"])
    kept = read_table(warehouse, "linkage", "kept").sort_values("pair_id")
    assert list(kept["pair_id"]) == ["a", "b", "c", "d"] and kept["note"].tolist()[-1] == "x"


def test_markdown_shows_percentages(card):
    md = sc.markdown(card)
    assert "| dtsen | 5 | 40.0% | 75.0% | 40.0% | 33.3% | 20.0% |" in md
