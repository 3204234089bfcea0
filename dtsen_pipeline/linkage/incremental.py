"""Incremental nights: score only the records that changed since the pairs in force were scored.

Between two nights a regency's deliveries change a little (a pekon file re-sent, next month's
list): re-scoring every candidate pair repeats the whole prediction for the few records that
moved. When tonight's model and predict threshold are the ones that scored the pairs in force,
the pairs of unchanged records are kept and only the pairs with a new or changed record on a
side are scored (`model.score_pairs(touched=...)`), with the promoted model and no training.
Clustering then runs on every pair as on any night, so each cluster that gains or loses a record
is re-examined by the guards and the verified decisions, and ids stay stable as they always do.

A record is "changed" when any column Splink compares differs (`fingerprints`): a corrected
name, a typo fixed. A record id names its file and row, so a feed re-delivered under a new file
name (next month's civil-registry extract) gives every record a new id: records are therefore
matched by content (feed and every compared value), not by id, and the pairs of a record whose
content is unchanged are carried over under its new id (identical records are interchangeable:
they score alike). A full rebuild runs when asked (DTSEN_LINKAGE_FULL),
on the first night, when the model, its version or the predict threshold changed, or when more
than `max_share` of the records are new, changed or gone (then a full prediction is cheaper).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dtsen_pipeline.linkage.record_ids import arrow_ids
from dtsen_pipeline.warehouse import quote

DEFAULT_MAX_SHARE = 0.2


def fingerprints(records: pd.DataFrame) -> pd.DataFrame:
    """`unique_id`, `fingerprint`: a hash of every column the model compares, per record.

    DuckDB's `hash` of the columns in name order, on an in-memory connection of its own (both
    cores; 0.9 s at 1.8 million records against 3.3 s for pandas' `hash_pandas_object`). Another
    hash function (this one before, or a DuckDB release that hashes differently) only makes the
    next night's fingerprints all differ from the stored ones: that night is a full rebuild."""
    import duckdb

    columns = sorted(c for c in records.columns if c != "unique_id")
    with duckdb.connect(":memory:") as connection:
        connection.register("records", records[["unique_id", *columns]])
        hashed = connection.sql(
            f"SELECT hash({', '.join(quote(c) for c in columns)}) AS fingerprint FROM records").to_arrow_table()
    # the ids stay Arrow strings: through Python objects and back cost 0.9 s at 1.8 million records
    return pd.DataFrame({"unique_id": records["unique_id"].astype("str").reset_index(drop=True),
                         "fingerprint": hashed.column("fingerprint").to_numpy().view(np.int64)})  # 64 bits, as BIGINT


def pair_signature(model_json: str, model_version: str, predict_threshold: float) -> str:
    """What the pairs in force were scored with: the model's parameters and blocking rules, its
    version and the predict threshold. Equal signatures: the kept pairs score as tonight would."""
    model = json.loads(model_json)
    payload = json.dumps({"model": model, "version": model_version, "threshold": predict_threshold}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class Plan:
    """Tonight's choice: `full_reason` None is an incremental night over `touched` records."""

    full_reason: str | None
    touched: frozenset[str] = frozenset()  # tonight's ids of new or changed records, scored tonight
    removed: frozenset[str] = frozenset()  # earlier ids whose content is gone
    records: int = 0
    carried: pd.Series | None = None  # earlier id -> tonight's id, for records whose content is unchanged

    @property
    def incremental(self) -> bool:
        return self.full_reason is None

    def describe(self) -> str:
        if self.incremental:
            return (f"incremental: {len(self.touched):,} new or changed and {len(self.removed):,} removed of "
                    f"{self.records:,} records")
        return f"full rebuild: {self.full_reason}"


def plan(tonight: pd.DataFrame, previous: pd.DataFrame | None, signature: str, previous_signature: str | None,
         *, full_requested: bool = False, max_share: float = DEFAULT_MAX_SHARE) -> Plan:
    """Incremental or full, and which records to score. `tonight` and `previous` are `fingerprints`
    frames; `previous_signature` is the `pair_signature` of the pairs in force (None: none yet)."""
    if full_requested:
        return Plan("asked for (DTSEN_LINKAGE_FULL or a retraining run)", records=len(tonight))
    if previous is None or previous_signature is None:
        return Plan("no pairs scored before", records=len(tonight))
    if previous_signature != signature:
        return Plan("the model or the predict threshold changed since the pairs in force", records=len(tonight))
    carried, touched, removed = _same_content(previous, tonight)
    share = max(len(touched), len(removed)) / max(len(tonight), 1)  # a changed record is one of each
    if share > max_share:
        return Plan(f"{share:.1%} of the records new, changed or removed (above {max_share:.0%})",
                    records=len(tonight))
    return Plan(None, touched, removed, len(tonight), carried)


def _objects(values: pd.Series) -> np.ndarray:
    """A column as a NumPy object array: pandas' Arrow-backed strings test membership one value at
    a time in Python (measured: 34 s for a night's 1.8 million ids), NumPy and an object Index hash."""
    return values.to_numpy(dtype=object)


def _index(values: np.ndarray) -> pd.Index:
    return pd.Index(values, dtype=object)


def _texts(values: pa.Array) -> pd.Index:
    return pd.Index(pd.array(values, dtype="str"))


def _same_content(previous: pd.DataFrame,
                  tonight: pd.DataFrame) -> tuple[pd.Series, frozenset[str], frozenset[str]]:
    """Earlier id -> tonight's id of each record whose compared content is unchanged: the same id
    first, then the k-th earlier record of a content with the k-th of tonight's (in the order
    given; identical contents are interchangeable). Also tonight's ids not carried over (new or
    changed) and the earlier ids not carried over (removed). Ids are looked up in Arrow (each
    side's ids are unique), the contents matched on the fingerprints' integers."""
    ids_before, ids_now = arrow_ids(previous["unique_id"]), arrow_ids(tonight["unique_id"])
    fp_before = previous["fingerprint"].to_numpy(dtype=np.int64)
    fp_now = tonight["fingerprint"].to_numpy(dtype=np.int64)
    at = pc.index_in(ids_now, value_set=ids_before).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    same_now = at >= 0
    same_now[same_now] = fp_before[at[same_now]] == fp_now[same_now]
    same_before = np.zeros(len(ids_before), dtype=bool)
    same_before[at[same_now]] = True

    def ranked(fp: np.ndarray) -> pd.DataFrame:
        order = np.argsort(fp, kind="stable")
        sorted_fp = fp[order]
        starts = np.r_[0, np.flatnonzero(sorted_fp[1:] != sorted_fp[:-1]) + 1]
        rank = np.arange(len(fp)) - np.repeat(starts, np.diff(np.r_[starts, len(fp)]))
        out = np.empty(len(fp), dtype=np.int64)
        out[order] = rank
        return pd.DataFrame({"fp": fp, "rank": out})

    rest_before, rest_now = np.flatnonzero(~same_before), np.flatnonzero(~same_now)
    left = ranked(fp_before[rest_before]).assign(row=rest_before)
    right = ranked(fp_now[rest_now]).assign(row=rest_now)
    moved = left.merge(right, on=["fp", "rank"], suffixes=("_before", "_now"))
    rows_before, rows_now = moved["row_before"].to_numpy(), moved["row_now"].to_numpy()
    same = ids_before.filter(pa.array(same_before))
    carried = pd.Series(pd.array(pa.concat_arrays([same, ids_now.take(rows_now)]), dtype="str"),
                        index=_texts(pa.concat_arrays([same, ids_before.take(rows_before)])))
    kept_before, kept_now = same_before.copy(), same_now.copy()
    kept_before[rows_before], kept_now[rows_now] = True, True
    touched = frozenset(ids_now.filter(pa.array(~kept_now)).to_pylist())
    removed = frozenset(ids_before.filter(pa.array(~kept_before)).to_pylist())
    return carried, touched, removed


def kept_pairs(previous: pd.DataFrame, carried: pd.Series, columns: list[str]) -> pd.DataFrame:
    """The pairs in force whose two records' content is unchanged, under tonight's ids (the
    smaller id on the left, as Splink writes them), with the `columns` the pairs in force have.
    `carried`: earlier id -> tonight's id (`Plan.carried`). The warehouse does the same in SQL
    (`linkage.pairs_store.kept_pairs_in_warehouse`) without holding every pair in force."""
    lookup, now_ids = _index(carried.index.to_numpy()), carried.to_numpy(dtype=object)
    at_left = lookup.get_indexer(_objects(previous["unique_id_l"]))
    at_right = lookup.get_indexer(_objects(previous["unique_id_r"]))
    keep = (at_left >= 0) & (at_right >= 0)
    kept = previous.loc[keep, [c for c in columns if c in previous.columns]].copy()
    left, right = now_ids[at_left[keep]], now_ids[at_right[keep]]
    swap = left > right
    kept["unique_id_l"], kept["unique_id_r"] = np.where(swap, right, left), np.where(swap, left, right)
    return kept.reset_index(drop=True)


def with_scored(kept: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Tonight's pairs: the kept pairs in force and the newly scored ones."""
    if kept.empty:
        return scored.reset_index(drop=True)
    if scored.empty:
        return kept.reset_index(drop=True)
    return pd.concat([kept, scored], ignore_index=True)
