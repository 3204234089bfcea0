"""Flag precision and recall against the sample generator's truth (`_truth/*.csv`).

Each golden person is the true person holding most of its source records, each golden
household the true family holding most of its members' records (ties: the smaller key). For
a flag, precision = flagged subjects whose true subject carries the flag / flagged subjects;
recall = true subjects carrying the flag that some flagged subject maps to / true subjects
carrying it. Real deployments have no truth: `load_truth` returns None and nothing is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS  # the ceilings the sample's truth columns use
from dtsen_pipeline.schema import make_record_id

PERSON_FLAGS: tuple[str, ...] = (
    "flag_duplicate_records", "flag_multiple_kk", "flag_dead_recipient", "flag_moved_recipient",
    "flag_missing_from_dtsen",
)
HOUSEHOLD_FLAGS: tuple[str, ...] = (
    "flag_inclusion_candidate", "flag_exclusion_candidate", "flag_missing_from_dtsen",
    "flag_duplicate_records", "flag_dead_recipient", "flag_moved_recipient", "flag_member_in_multiple_kk",
    "flag_member_missing_from_dtsen",
)
SCORE_COLUMNS = ("level", "flag", "truth", "flagged", "true_positive", "precision", "recall")


@dataclass(frozen=True)
class Truth:
    records: pd.DataFrame  # record_id, person_key, family_key
    persons: pd.DataFrame  # person_key, flag_* ...
    families: pd.DataFrame  # family_key, desil, pkh, bpnt, pbi_jk, flag_* ...


def load_truth(truth_dir: Path) -> Truth | None:
    """The generator's truth, or None when the folder has none (real data) or predates flags."""
    paths = {name: truth_dir / f"{name}.csv" for name in ("records", "persons", "families")}
    if not all(p.is_file() for p in paths.values()):
        return None
    records = pd.read_csv(paths["records"], dtype={"feed": "str", "source_file": "str", "person_key": "str",
                                                    "family_key": "str", "source_row": "int64"})
    records["record_id"] = make_record_id(records["feed"], records["source_file"], records["source_row"])
    persons = pd.read_csv(paths["persons"], dtype={"person_key": "str", "family_key": "str"})
    families = pd.read_csv(paths["families"], dtype={"family_key": "str"})
    if not set(PERSON_FLAGS) <= set(persons.columns):
        return None
    return Truth(records[["record_id", "person_key", "family_key"]], persons, families)


def _majority(links: pd.DataFrame, subject: str, key: str) -> pd.Series:
    counts = links.groupby([subject, key]).size().rename("n").reset_index()
    counts = counts.sort_values([subject, "n", key], ascending=[True, False, True])
    return counts.drop_duplicates(subject).set_index(subject)[key]


def subject_maps(person_source: pd.DataFrame, truth: Truth) -> tuple[pd.Series, pd.Series]:
    """person_id -> person_key and household_id -> family_key (majority of source records)."""
    links = person_source[["person_id", "household_id", "record_id"]].merge(truth.records, on="record_id")
    return _majority(links, "person_id", "person_key"), _majority(links.dropna(subset=["household_id"]),
                                                                  "household_id", "family_key")


def inclusion_truth(families: pd.DataFrame, max_desil: dict[str, int]) -> pd.Series:
    """The inclusion-candidate truth under other ceilings (desil and programmes are in the truth)."""
    desil = pd.to_numeric(families["desil"], errors="coerce")
    above = pd.Series(False, index=families.index)
    for program, column in (("PKH", "pkh"), ("BPNT", "bpnt"), ("PBI-JK", "pbi_jk")):
        above |= families[column].astype(bool) & (desil > max_desil[program]).fillna(False)
    return above


def _score(level: str, flag: str, flagged_ids: pd.Series, mapping: pd.Series, true_keys: set[str]) -> dict:
    mapped = flagged_ids.map(mapping)
    tp = int(mapped.isin(true_keys).sum())
    found = len(set(mapped.dropna()) & true_keys)
    return {"level": level, "flag": flag, "truth": len(true_keys), "flagged": len(flagged_ids),
            "true_positive": tp,
            "precision": tp / len(flagged_ids) if len(flagged_ids) else None,
            "recall": found / len(true_keys) if true_keys else None}


def score_flags(persons: pd.DataFrame, households: pd.DataFrame, person_source: pd.DataFrame, truth: Truth,
                max_desil: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per level and flag: truth count, flagged count, true positives, precision, recall."""
    person_map, household_map = subject_maps(person_source, truth)
    families = truth.families.copy()
    if max_desil is not None and max_desil != DEFAULT_CEILINGS:
        families["flag_inclusion_candidate"] = inclusion_truth(families, max_desil)
    rows = []
    for flag in PERSON_FLAGS:
        true_keys = set(truth.persons.loc[truth.persons[flag].astype(bool), "person_key"])
        rows.append(_score("person", flag, persons.loc[persons[flag].fillna(False).astype(bool), "person_id"],
                           person_map, true_keys))
    for flag in HOUSEHOLD_FLAGS:
        true_keys = set(families.loc[families[flag].astype(bool), "family_key"])
        flagged = households.loc[households[flag].fillna(False).astype(bool), "household_id"]
        rows.append(_score("household", flag, flagged, household_map, true_keys))
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
