"""Which persons and families truly carry each flag, from what the generator knows.

The generator knows every true death and move, each family's DTSEN desil and true programme
membership, who DTSEN lists and under which family, and how many records each person got in
each feed. These columns are written into `_truth/persons.csv` and `_truth/families.csv` with
the same names as the golden tables' flag columns, so the pipeline's flags can be scored
(precision and recall) against them. Definitions (they mirror the flag dictionary of docs/golden.md):

- duplicate records: more than one record in DTSEN, the civil registry or one pekon file;
- in multiple KK: DTSEN lists the person under another family besides their own;
- dead recipient: the registered recipient of a family on a programme's current list, truly
  dead (MATI);
- moved recipient: that recipient no longer lives where the list places them, whatever any
  status column says: moved away from the kabupaten (PINDAH), or (field profile) moved to
  another village of the kabupaten, alone or with the whole family, while every programme list
  kept the old village and the old No. KK (the generator never updates a list for a move).
  `move_level` says which: `family` (the whole card moved) or `person` (one member left);
- person missing from DTSEN: alive (HIDUP), in the civil registry or pekon data, not listed by
  DTSEN, while DTSEN lists their own family;
- family missing from DTSEN: no member listed under the family, a living member in the civil
  registry or pekon data;
- inclusion candidate: a programme above its desil ceiling (PKH 4, BPNT and PBI-JK 5, the
  defaults of Kepmensos 79/HUK/2025 as reported; `families.csv` also holds desil and
  programmes, so other ceilings can be re-scored);
- exclusion candidate: DTSEN desil 1-2, a living member, no programme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS
from dtsen_pipeline.sample.feed_dtsen import DtsenResult
from dtsen_pipeline.sample.moves import Moves
from dtsen_pipeline.sample.population import HIDUP, MATI, PINDAH, Population
from dtsen_pipeline.sample.writers import Written


@dataclass(frozen=True)
class FlagTruth:
    persons: pd.DataFrame  # one row per person, in person order
    families: pd.DataFrame  # one row per family, in family order


def _records_per_person(pop: Population, written: list[Written], feed: str) -> np.ndarray:
    counts = np.zeros(pop.n_persons, np.int64)
    for w in written:
        if w.feed == feed:
            np.add.at(counts, w.person, 1)
    return counts


def _any_member(pop: Population, per_person: np.ndarray) -> np.ndarray:
    out = np.zeros(pop.n_families, bool)
    np.logical_or.at(out, pop.fam, per_person)
    return out


def move_levels(pop: Population, moves: Moves | None) -> np.ndarray:
    """Per person: 'family' when their whole family moved (away, or inside the kabupaten),
    'person' when they moved alone, '' when they live where they did."""
    level = np.full(pop.n_persons, "", dtype=object)
    away = pop.status == PINDAH
    level[away] = np.where(pop.fam_moved[pop.fam[away]], "family", "person")
    if moves is not None:
        level[moves.person] = moves.level
    return level


def flag_truth(pop: Population, written: list[Written], dtsen: DtsenResult, moves: Moves | None = None) -> FlagTruth:
    """The true flags of every person and family; `moves`: the field profile's movers inside
    the kabupaten."""
    n_dtsen = _records_per_person(pop, written, "dtsen")
    n_dukcapil = _records_per_person(pop, written, "dukcapil")
    n_pekon = _records_per_person(pop, written, "pekon")
    (dtsen_written,) = [w for w in written if w.feed == "dtsen"]
    listed_under = dtsen.listing_family[: len(dtsen_written.person)]
    own = listed_under == pop.fam[dtsen_written.person]

    receiving = pop.fam_pkh | pop.fam_bpnt | pop.fam_pbi
    recipient = np.zeros(pop.n_persons, bool)
    recipient[pop.recipient()[receiving]] = True
    alive = pop.status == HIDUP
    registered_elsewhere = np.zeros(pop.n_persons, bool)
    registered_elsewhere[dtsen_written.person[~own]] = True
    has_own_family_record = (n_dukcapil + n_pekon + _records_per_person(pop, written, "bansos")) > 0
    has_own_family_record[dtsen_written.person[own]] = True
    family_listed = np.zeros(pop.n_families, bool)
    family_listed[pop.fam[dtsen_written.person[own]]] = True
    in_registry_or_pekon = (n_dukcapil + n_pekon) > 0
    move_level = move_levels(pop, moves)

    persons = pd.DataFrame({
        "recipient": recipient,
        "flag_duplicate_records": (n_dtsen > 1) | (n_dukcapil > 1) | (n_pekon > 1),
        "flag_multiple_kk": registered_elsewhere & has_own_family_record,
        "flag_dead_recipient": recipient & (pop.status == MATI),
        "flag_moved_recipient": recipient & (move_level != ""),
        "flag_missing_from_dtsen": alive & in_registry_or_pekon & ~dtsen.listed & family_listed[pop.fam],
        "move_level": move_level,
    })

    desil = pop.fam_desil.astype(int)
    ranked = desil > 0
    above = ranked & (
        (pop.fam_pkh & (desil > DEFAULT_CEILINGS["PKH"]))
        | (pop.fam_bpnt & (desil > DEFAULT_CEILINGS["BPNT"]))
        | (pop.fam_pbi & (desil > DEFAULT_CEILINGS["PBI-JK"]))
    )
    any_alive = _any_member(pop, alive)
    families = pd.DataFrame({
        "flag_inclusion_candidate": above,
        "flag_exclusion_candidate": ranked & (desil <= 2) & ~receiving & any_alive,
        "flag_missing_from_dtsen": ~family_listed & _any_member(pop, alive & in_registry_or_pekon),
        "flag_duplicate_records": _any_member(pop, persons["flag_duplicate_records"].to_numpy()),
        "flag_dead_recipient": _any_member(pop, persons["flag_dead_recipient"].to_numpy()),
        "flag_moved_recipient": _any_member(pop, persons["flag_moved_recipient"].to_numpy()),
        "flag_member_in_multiple_kk": _any_member(pop, persons["flag_multiple_kk"].to_numpy()),
        "flag_member_missing_from_dtsen": _any_member(pop, persons["flag_missing_from_dtsen"].to_numpy()),
    })
    return FlagTruth(persons=persons, families=families)
