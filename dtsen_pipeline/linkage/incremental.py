"""Incremental nights: score only the records that changed since the pairs in force were scored.

Between two nights a regency's deliveries change a little (a pekon file re-sent, next month's
list): re-scoring every candidate pair repeats the whole prediction for the few records that
moved. When tonight's model and predict threshold are the ones that scored the pairs in force,
the pairs of unchanged records are kept and only the pairs with a new or changed record on a
side are scored (`model.score_pairs(touched=...)`), with the promoted model and no training.
Clustering then runs on every pair as on any night, so each cluster that gains or loses a record
is re-examined by the guards and the verified decisions, and ids stay stable as they always do.

A record is "changed" when any column Splink compares differs (`fingerprints`): a corrected
name, a re-sent file whose rows shifted. A full rebuild runs when asked (DTSEN_LINKAGE_FULL),
on the first night, when the model, its version or the predict threshold changed, or when more
than `max_share` of the records are new, changed or gone (then a full prediction is cheaper).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd

PAIR_ID_COLUMNS = ("unique_id_l", "unique_id_r")
DEFAULT_MAX_SHARE = 0.2


def fingerprints(records: pd.DataFrame) -> pd.DataFrame:
    """`unique_id`, `fingerprint`: a hash of every column the model compares, per record."""
    values = records.drop(columns=["unique_id"])
    hashed = pd.util.hash_pandas_object(values[sorted(values.columns)], index=False)
    return pd.DataFrame({"unique_id": records["unique_id"].astype("str").to_numpy(),
                         "fingerprint": hashed.astype("uint64").map("{:016x}".format).to_numpy()})


def pair_signature(model_json: str, model_version: str, predict_threshold: float) -> str:
    """What the pairs in force were scored with: the model's parameters and blocking rules, its
    version and the predict threshold. Equal signatures: the kept pairs score as tonight would."""
    model = json.loads(model_json)
    payload = json.dumps({"model": model, "version": model_version, "threshold": predict_threshold}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Plan:
    """Tonight's choice: `full_reason` None is an incremental night over `touched` records."""

    full_reason: str | None
    touched: frozenset[str] = frozenset()  # new or changed record ids, scored tonight
    removed: frozenset[str] = frozenset()  # record ids gone since the pairs in force
    records: int = 0

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
    known = previous.set_index("unique_id")["fingerprint"]
    now = tonight.set_index("unique_id")["fingerprint"]
    before = known.reindex(now.index)
    touched = frozenset(now.index[before.isna() | (before != now)])
    removed = frozenset(known.index.difference(now.index))
    share = (len(touched) + len(removed)) / max(len(now), 1)
    if share > max_share:
        return Plan(f"{share:.1%} of the records new, changed or removed (above {max_share:.0%})", records=len(now))
    return Plan(None, touched, removed, len(now))


def merged_pairs(previous: pd.DataFrame, scored: pd.DataFrame, night: Plan) -> pd.DataFrame:
    """The pairs in force whose two records are unchanged, with tonight's newly scored pairs."""
    stale = night.touched | night.removed
    keep = ~(previous["unique_id_l"].isin(stale) | previous["unique_id_r"].isin(stale))
    kept = previous.loc[keep, [c for c in scored.columns if c in previous.columns]]
    if kept.empty:
        return scored.reset_index(drop=True)
    if scored.empty:
        return kept.reset_index(drop=True)
    return pd.concat([kept, scored], ignore_index=True)
