"""The province step's pure parts (issue #17): which way a linked person moved, the guarded
clustering of cross-regency links, and the No. KK issue date it orders two cards by."""

import datetime as dt

import pandas as pd

from dtsen_pipeline.domain.identifiers import kk_issue_date
from dtsen_pipeline.province.linking import guarded_persons
from dtsen_pipeline.province.movers import MOVED, REGISTERED_TWICE, UNPLACED, classify

AS_OF = dt.date(2026, 11, 15)


def _person(regency, person_id, province_id, *, in_dukcapil, kk="1806010101900001", dead=False, recipient=False):
    return {"regency": regency, "person_id": person_id, "province_person_id": province_id,
            "kode_desa": f"{regency}.01.2001", "no_kk": kk, "in_dukcapil": in_dukcapil, "is_dead": dead,
            "is_recipient": recipient}


def test_the_registry_that_holds_the_person_alive_is_where_they_live_now():
    persons = pd.DataFrame([
        _person("18.06", "P1", "X", in_dukcapil=False, recipient=True),  # the old list still pays them
        _person("18.10", "P9", "X", in_dukcapil=True),
        _person("18.06", "P2", "Y", in_dukcapil=True),  # nobody else: no row
    ])
    movers = classify(persons, AS_OF)
    assert len(movers) == 1
    row = movers.iloc[0]
    assert (row["kind"], row["from_regency"], row["from_person_id"], row["to_regency"], row["to_person_id"]) == (
        MOVED, "18.06", "P1", "18.10", "P9")
    assert row["from_is_recipient"] and not row["old_registry_open"] and row["evidence"] == "DUKCAPIL"


def test_two_registries_holding_them_the_later_card_decides_and_the_old_record_is_reported_open():
    persons = pd.DataFrame([
        _person("18.06", "P1", "X", in_dukcapil=True, kk="1806010101950001"),  # card of 1 Jan 1995
        _person("18.10", "P9", "X", in_dukcapil=True, kk="1810020103260007"),  # card of 1 Mar 2026
    ])
    row = classify(persons, AS_OF).iloc[0]
    assert (row["kind"], row["evidence"], row["from_regency"], row["to_regency"]) == (
        MOVED, "DUKCAPIL_KK_TERBARU", "18.06", "18.10")
    assert row["old_registry_open"]


def test_without_a_later_card_two_registrations_go_to_review_and_nobody_placed_too():
    same_day = pd.DataFrame([
        _person("18.06", "P1", "X", in_dukcapil=True, kk="1806011511260001"),
        _person("18.10", "P9", "X", in_dukcapil=True, kk="1810021511260007"),
    ])
    assert set(classify(same_day, AS_OF)["kind"]) == {REGISTERED_TWICE}
    unreadable = same_day.assign(no_kk=["1806011511260001", "0000"])
    assert set(classify(unreadable, AS_OF)["kind"]) == {REGISTERED_TWICE}
    nowhere = same_day.assign(in_dukcapil=False)
    movers = classify(nowhere, AS_OF)
    assert set(movers["kind"]) == {UNPLACED} and len(movers) == 2 and movers["to_regency"].isna().all()
    dead = same_day.assign(is_dead=[False, True])  # dead in one registry: the other holds them alive
    assert classify(dead, AS_OF).iloc[0]["to_regency"] == "18.06"


def _pair(left, right, p, *, names_differ=False):
    return {"regency_l": left[0], "person_id_l": left[1], "regency_r": right[0], "person_id_r": right[1],
            "match_probability": p, "nik_agrees": True, "names_differ": names_differ}


def test_links_are_taken_strongest_first_and_never_join_two_persons_of_one_regency():
    by_regency = {"18.06": pd.DataFrame({"person_id": ["A1", "A2"]}), "18.10": pd.DataFrame({"person_id": ["B1"]}),
                  "18.01": pd.DataFrame({"person_id": ["C1", "C2"]})}
    pairs = pd.DataFrame([
        _pair(("18.06", "A1"), ("18.10", "B1"), 0.99),
        _pair(("18.06", "A2"), ("18.10", "B1"), 0.95),  # B1 is already A1's: refused
        _pair(("18.01", "C1"), ("18.10", "B1"), 0.97),
        _pair(("18.01", "C2"), ("18.06", "A2"), 0.7),  # below the accept threshold
        _pair(("18.01", "C2"), ("18.06", "A1"), 0.999, names_differ=True),  # one NIK, two names
    ])
    links = guarded_persons(pairs, by_regency)
    assert links.pairs["decision"].tolist() == ["LINKED", "REFUSED_SAME_REGENCY", "LINKED", "REVIEW",
                                                "REVIEW_NAMES_DIFFER"]
    ids = dict(zip(links.persons["regency"] + ":" + links.persons["person_id"], links.persons["province_person_id"],
                   strict=True))
    assert ids["18.06:A1"] == ids["18.10:B1"] == ids["18.01:C1"] == "1801-C1"  # the smallest member's label
    assert ids["18.06:A2"] == "1806-A2" and ids["18.01:C2"] == "1801-C2"
    assert len(links.persons) == 5


def test_a_no_kk_says_when_it_was_issued():
    issued = kk_issue_date(pd.Series(["1806011511260001", "1806015511990001", "1806013102260001", None, "12"]),
                           AS_OF)
    assert issued.iloc[0] == pd.Timestamp("2026-11-15") and issued.iloc[1] == pd.Timestamp("1999-11-15")
    assert issued.iloc[2:].isna().all()  # 31 February, missing, not 16 digits


def test_a_later_card_older_than_a_move_could_be_does_not_decide():
    persons = pd.DataFrame([
        _person("18.06", "P1", "X", in_dukcapil=True, kk="1806010101950001"),
        _person("18.10", "P9", "X", in_dukcapil=True, kk="1810020101200007"),  # 2020: not this year's move
    ])
    assert set(classify(persons, AS_OF)["kind"]) == {REGISTERED_TWICE}
