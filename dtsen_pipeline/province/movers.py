"""Which way a province person moved: the regency whose civil registry holds them alive is where
they live now; every other regency that still has them is where they came from.

When the civil registries of two regencies both hold the person alive (a move the old registry
never closed: "pindah tanpa dihapus"), a card issued within the last MOVE_CARD_MONTHS, later than
the other (the No. KK's issue date, a soft fact), says where they live now; the move is still
reported with `old_registry_open`, so the old regency's registry can close its record. With no later card to tell, `TERDAFTAR_GANDA`: for
review, not a move. A person no registry holds alive cannot be placed: `TANPA_DUKCAPIL`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dtsen_pipeline.domain.identifiers import kk_issue_date

MOVED = "PINDAH_ANTAR_KABUPATEN"
REGISTERED_TWICE = "TERDAFTAR_GANDA"
UNPLACED = "TANPA_DUKCAPIL"
# A move issues a card in the new regency. A later card older than this is not the move's: two
# registries holding someone alive for longer is a double registration to review.
MOVE_CARD_MONTHS = 24
COLUMNS = ["province_person_id", "kind", "evidence", "old_registry_open", "from_regency", "from_person_id",
           "from_kode_desa", "from_is_recipient", "to_regency", "to_person_id", "to_kode_desa"]


def _current(group: pd.DataFrame, recent_since: pd.Timestamp) -> tuple[pd.Series | None, str, str]:
    """The member where the person lives now, the kind of the case and its evidence."""
    placed = group[group["placed"]]
    if len(placed) == 1:
        return placed.iloc[0], MOVED, "DUKCAPIL"
    if len(placed) == 0:
        return None, UNPLACED, ""
    issued = placed["kk_issued"].dropna()
    newest = issued[issued == issued.max()] if len(issued) else issued
    if len(newest) == 1 and len(issued) == len(placed) and newest.iloc[0] >= recent_since:
        return placed.loc[newest.index[0]], MOVED, "DUKCAPIL_KK_TERBARU"
    return None, REGISTERED_TWICE, ""


def classify(persons: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """One row per regency person a move leaves behind (`from_*`), with where the person is now
    (`to_*`); `persons`: regency, person_id, province_person_id, kode_desa, no_kk, in_dukcapil,
    is_dead, is_recipient, for every person of the province."""
    shared = persons[persons.duplicated("province_person_id", keep=False)].copy()
    if shared.empty:
        return pd.DataFrame(columns=COLUMNS)
    shared["placed"] = shared["in_dukcapil"].fillna(False).astype(bool) & ~shared["is_dead"].fillna(False).astype(bool)
    shared["kk_issued"] = kk_issue_date(shared["no_kk"], as_of)
    recent_since = pd.Timestamp(as_of) - pd.DateOffset(months=MOVE_CARD_MONTHS)
    rows = []
    for pid, group in shared.groupby("province_person_id", sort=True):
        to, kind, evidence = _current(group, recent_since)
        left = group if to is None else group.drop(index=to.name)
        for person in left.itertuples(index=False):
            rows.append({
                "province_person_id": pid, "kind": kind, "evidence": evidence,
                "old_registry_open": bool(person.placed) and to is not None,
                "from_regency": person.regency, "from_person_id": person.person_id,
                "from_kode_desa": person.kode_desa,
                "from_is_recipient": bool(person.is_recipient) if pd.notna(person.is_recipient) else False,
                "to_regency": None if to is None else to["regency"],
                "to_person_id": None if to is None else to["person_id"],
                "to_kode_desa": None if to is None else to["kode_desa"]})
    return pd.DataFrame(rows, columns=COLUMNS)
