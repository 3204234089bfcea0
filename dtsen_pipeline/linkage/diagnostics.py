"""Where linkage goes wrong, by kind: missed true pairs and golden persons that merge people.

Against a truth table (the sample's), every true pair of records is described by how its two
records differ (NIK and No. KK: equal, one digit, adjacent digits swapped, other, missing;
village; name; birth date), so a recall loss can be traced to a damage kind rather than to an
average. Merged clusters (one golden person holding two or more true persons) are described the
same way, from the pair of records that joined them. Only counts leave this module.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from dtsen_pipeline.domain.id_edits import id_edit


def _pairs_within(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """Every unordered pair of records sharing `group` (unique_id_l < unique_id_r)."""
    sized = frame[frame.groupby(group)[group].transform("size") > 1]
    pairs = sized.merge(sized, on=group, suffixes=("_l", "_r"))
    return pairs[pairs["unique_id_l"] < pairs["unique_id_r"]].reset_index(drop=True)


def _value(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column].astype("object")
    return values.where(values.notna() & (values.astype("str") != "nan") & (values.astype("str") != "None"))


# How a pair's two records can differ; describe_pairs computes the kinds asked for.
PAIR_KINDS = ("village", "nik", "no_kk", "name", "dob", "feeds")
_KIND_COLUMNS = {"village": ("kode_desa",), "nik": ("nik",), "no_kk": ("no_kk",), "name": ("name_key",),
                 "dob": ("dob", "dob_year"), "feeds": ("feed",)}


def describe_pairs(pairs: pd.DataFrame, records: pd.DataFrame,
                   kinds: Iterable[str] = PAIR_KINDS) -> pd.DataFrame:
    """Add to record pairs (unique_id_l, unique_id_r) how their records differ, for each of `kinds`
    (the NIK and No. KK relations cost a Python call per pair: ask only for what is needed)."""
    kinds = tuple(kinds)
    columns = list(dict.fromkeys(c for kind in kinds for c in _KIND_COLUMNS[kind]))
    values = records[["unique_id", *columns]].copy()
    for column in columns:
        values[column] = _value(values, column)
    out = pairs[["unique_id_l", "unique_id_r"]].merge(values.add_suffix("_l"), on="unique_id_l")
    out = out.merge(values.add_suffix("_r"), on="unique_id_r")
    described = pd.DataFrame({"unique_id_l": out["unique_id_l"], "unique_id_r": out["unique_id_r"]})
    for identifier in ("nik", "no_kk"):
        if identifier in kinds:
            described[identifier] = [id_edit(a, b) for a, b in zip(out[f"{identifier}_l"], out[f"{identifier}_r"],
                                                                   strict=True)]
    if "village" in kinds:
        described["village"] = _agreement(out["kode_desa_l"], out["kode_desa_r"], "same", "different")
    if "name" in kinds:
        described["name"] = _agreement(out["name_key_l"], out["name_key_r"], "same", "different")
    if "dob" in kinds:
        dob = _agreement(out["dob_l"], out["dob_r"], "same", "different")
        year_only = dob.eq("missing") & out["dob_year_l"].notna() & out["dob_year_r"].notna()
        described["dob"] = dob.mask(year_only, "year_only")
    if "feeds" in kinds:
        feeds = out[["feed_l", "feed_r"]].astype("str")
        described["feeds"] = feeds.min(axis=1) + "-" + feeds.max(axis=1)
    return described


def _agreement(left: pd.Series, right: pd.Series, same: str, different: str) -> pd.Series:
    kind = pd.Series(different, index=left.index, dtype="object")
    kind[left.astype("str") == right.astype("str")] = same
    kind[left.isna() | right.isna()] = "missing"
    return kind


def true_pairs(records: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Record pairs of the same true person: unique_id_l, unique_id_r, person_key."""
    keyed = records[["unique_id"]].merge(truth[["record_id", "person_key"]],
                                         left_on="unique_id", right_on="record_id")
    return _pairs_within(keyed[["unique_id", "person_key"]], "person_key")


def recall_by_kind(records: pd.DataFrame, clusters: pd.DataFrame, truth: pd.DataFrame,
                   kinds: Iterable[str] = PAIR_KINDS) -> dict[str, object]:
    """True pairs and linked (same cluster) true pairs, for each value of each pair description
    in `kinds`. `clusters`: unique_id, cluster_id."""
    kinds = tuple(kinds)
    pairs = describe_pairs(true_pairs(records, truth), records, kinds)
    cluster_of = clusters.set_index("unique_id")["cluster_id"]
    pairs["linked"] = pairs["unique_id_l"].map(cluster_of).to_numpy() == pairs["unique_id_r"].map(cluster_of).to_numpy()
    out: dict[str, object] = {"true_pairs": len(pairs), "linked": int(pairs["linked"].sum())}
    for column in kinds:
        grouped = pairs.groupby(column)["linked"].agg(["size", "sum"])
        out[column] = {str(k): {"true_pairs": int(r["size"]), "linked": int(r["sum"]),
                                "recall": round(r["sum"] / r["size"], 5) if r["size"] else 1.0}
                       for k, r in grouped.iterrows()}
    return out


def merged_persons(records: pd.DataFrame, clusters: pd.DataFrame, truth: pd.DataFrame) -> dict[str, object]:
    """Golden persons (clusters) holding records of two or more true persons, per kind of joining pair.

    Each merged cluster is described by its closest cross-person record pair (NIK relation
    first, then name, then birth date), so a cluster is counted once."""
    keyed = clusters.merge(truth[["record_id", "person_key"]], left_on="unique_id", right_on="record_id")
    persons_in = keyed.groupby("cluster_id")["person_key"].nunique()
    merged_ids = persons_in[persons_in > 1].index
    true_persons = int(keyed["person_key"].nunique())
    result: dict[str, object] = {
        "true_persons": true_persons, "merged_clusters": len(merged_ids),
        "merged_per_10000_persons": round(len(merged_ids) / true_persons * 10_000, 3) if true_persons else 0.0,
    }
    if not len(merged_ids):
        result["by_kind"] = {}
        return result
    inside = keyed[keyed["cluster_id"].isin(merged_ids)][["unique_id", "cluster_id", "person_key"]]
    pairs = _pairs_within(inside, "cluster_id")
    pairs = pairs[pairs["person_key_l"] != pairs["person_key_r"]]
    described = describe_pairs(pairs, records).merge(pairs[["unique_id_l", "unique_id_r", "cluster_id"]],
                                                     on=["unique_id_l", "unique_id_r"])
    described["kind"] = described.apply(_merge_kind, axis=1)
    rank = {k: i for i, k in enumerate(MERGE_KINDS)}
    described["rank"] = described["kind"].map(rank)
    closest = described.sort_values(["cluster_id", "rank"]).drop_duplicates("cluster_id")
    result["by_kind"] = {str(k): int(v) for k, v in closest["kind"].value_counts().items()}
    return result


# From the strongest reason two different people were taken for one to the weakest.
MERGE_KINDS = ("same_nik", "nik_typo_apart", "same_kk_same_name", "same_name_and_dob", "same_kk",
               "same_name", "other")


def _merge_kind(pair: pd.Series) -> str:
    if pair["nik"] == "equal":
        return "same_nik"
    if pair["nik"] in ("one_digit", "transposed"):
        return "nik_typo_apart"
    if pair["no_kk"] == "equal" and pair["name"] == "same":
        return "same_kk_same_name"
    if pair["name"] == "same" and pair["dob"] == "same":
        return "same_name_and_dob"
    if pair["no_kk"] == "equal":
        return "same_kk"
    if pair["name"] == "same":
        return "same_name"
    return "other"


def dtsen_duplicates_found(clusters: pd.DataFrame, truth: pd.DataFrame) -> dict[str, object]:
    """Persons listed twice in DTSEN: found (all their DTSEN records in one cluster) and the
    precision of a cluster with two or more DTSEN records (it holds one true person listed twice)."""
    keyed = clusters.merge(truth[["record_id", "person_key", "feed"]], left_on="unique_id", right_on="record_id")
    dtsen = keyed[keyed["feed"] == "dtsen"]
    per_person = dtsen.groupby("person_key").agg(records=("unique_id", "size"), clusters=("cluster_id", "nunique"))
    twice = per_person[per_person["records"] > 1]
    per_cluster = dtsen.groupby(["cluster_id", "person_key"]).size().rename("n").reset_index()
    flagged = dtsen.groupby("cluster_id").size()
    flagged = flagged[flagged > 1].index
    right = per_cluster[per_cluster["cluster_id"].isin(flagged) & (per_cluster["n"] > 1)]["cluster_id"].nunique()
    return {
        "persons_listed_twice": len(twice),
        "found": int((twice["clusters"] == 1).sum()),
        "recall": round(float((twice["clusters"] == 1).mean()), 5) if len(twice) else 1.0,
        "flagged_clusters": len(flagged),
        "precision": round(right / len(flagged), 5) if len(flagged) else 1.0,
    }
