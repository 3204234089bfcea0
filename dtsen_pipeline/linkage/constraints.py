"""Verified decisions from the verval feed become clustering constraints.

`GANDA` (duplicate of another record) is a must-link between the records carrying the two NIKs;
`BUKAN_GANDA` (confirmed not a duplicate) a cannot-link. For each pair of NIKs the decision in
force follows tier precedence: KABUPATEN over KECAMATAN over PEKON, and within a tier the later.
"""

from __future__ import annotations

import pandas as pd

TIER_RANK = {"PEKON": 1, "KECAMATAN": 2, "KABUPATEN": 3}
PAIR_DECISIONS = ("GANDA", "BUKAN_GANDA")
_COLUMNS = ["unique_id_l", "unique_id_r"]


def decisions_in_force(verval: pd.DataFrame) -> pd.DataFrame:
    """One row per unordered NIK pair: nik_a, nik_b, hasil (the decision in force)."""
    rows = verval[verval["hasil"].isin(PAIR_DECISIONS) & verval["nik"].notna() & verval["nik_ganda"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=["nik_a", "nik_b", "hasil"])
    frame = pd.DataFrame({
        "nik_a": rows[["nik", "nik_ganda"]].min(axis=1),
        "nik_b": rows[["nik", "nik_ganda"]].max(axis=1),
        "hasil": rows["hasil"],
        "rank": rows["tingkat"].map(TIER_RANK).fillna(0),
        "tanggal": pd.to_datetime(rows["tanggal"]),
        "record_id": rows["record_id"],
    })
    frame = frame.sort_values(["rank", "tanggal", "record_id"], ascending=False)
    return frame.drop_duplicates(["nik_a", "nik_b"])[["nik_a", "nik_b", "hasil"]].reset_index(drop=True)


def pair_decisions_in_force(verval: pd.DataFrame, review_pairs: pd.DataFrame) -> pd.DataFrame:
    """Decisions on clerical-review pairs (ID_PASANGAN): unique_id_l, unique_id_r, hasil."""
    if "id_pasangan" not in verval or review_pairs.empty:
        return pd.DataFrame(columns=[*_COLUMNS, "hasil"])
    rows = verval[verval["hasil"].isin(PAIR_DECISIONS) & verval["id_pasangan"].notna()]
    frame = pd.DataFrame({
        "pair_id": rows["id_pasangan"].astype("str").str.strip().str.upper(),
        "hasil": rows["hasil"],
        "rank": rows["tingkat"].map(TIER_RANK).fillna(0),
        "tanggal": pd.to_datetime(rows["tanggal"]),
        "record_id": rows["record_id"],
    }).sort_values(["rank", "tanggal", "record_id"], ascending=False).drop_duplicates("pair_id")
    known = review_pairs[["pair_id", "unique_id_l", "unique_id_r"]]
    return frame.merge(known, on="pair_id", how="inner")[[*_COLUMNS, "hasil"]]


def verval_constraints(verval: pd.DataFrame, records: pd.DataFrame,
                       review_pairs: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(must_link, cannot_link) record pairs for the linkage records (unique_id, nik).

    Decisions come by NIK pair (NIK, NIK_GANDA) or by clerical-review pair (ID_PASANGAN, looked
    up in `review_pairs`: pair_id, unique_id_l, unique_id_r from earlier runs).
    """
    decisions = decisions_in_force(verval)
    wanted = set(decisions["nik_a"]) | set(decisions["nik_b"])
    by_nik = records.loc[records["nik"].isin(wanted), ["unique_id", "nik"]]
    records_of = by_nik.groupby("nik")["unique_id"].apply(sorted).to_dict()
    must, cannot = [], []
    for nik_a, nik_b, hasil in decisions.itertuples(index=False):
        left, right = records_of.get(nik_a, []), records_of.get(nik_b, [])
        if not left or not right:
            continue
        if hasil == "GANDA":
            anchor = left[0]
            must += [(anchor, other) for other in left[1:] + right if other != anchor]
        elif nik_a != nik_b:  # two people sharing one NIK cannot be told apart by NIK
            cannot += [(a, b) for a in left for b in right]
    if review_pairs is not None:
        decided = pair_decisions_in_force(verval, review_pairs)
        # which of the decided records are linked tonight: the few decided ids looked up among the
        # records, not a set of every record id (1.4 s at 1.8 million records)
        mentioned = pd.concat([decided["unique_id_l"], decided["unique_id_r"]]).unique()
        known = set(records.loc[records["unique_id"].isin(mentioned), "unique_id"])
        for left, right, hasil in decided.itertuples(index=False):
            if left in known and right in known:
                (must if hasil == "GANDA" else cannot).append((left, right))
    return pd.DataFrame(must, columns=_COLUMNS), pd.DataFrame(cannot, columns=_COLUMNS)
