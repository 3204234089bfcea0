"""Stable ids across nightly refreshes: which id each group of records keeps, gets or retires.

Linkage gives arbitrary cluster ids every night; downstream teams need a person or a family to
keep its id. Each group (a person cluster, or a family) is a set of *units* (source records,
and for a family its No. KK), and each unit has *keys* it can be recognised by next time, in
order of trust: the record id, then a digest of its NIK (a monthly re-delivery renames files,
so record ids alone would not survive). The previous run's state maps keys to ids.

Rules (tested in tests/golden/test_identity.py):
- a unit's previous id is the id of its most trusted key found in the previous state (record id,
  then NIK digest, then, for a record without a valid NIK, a digest of feed + name key + birth
  date); a key found in two groups of one run is ambiguous and not kept;
- a group takes the id most of its previously known units had; ties go to the oldest id (lowest
  sequence number); an id goes to one group only, claims are served largest first, so when a
  person splits, the part holding most of the old records keeps the id;
- a group left without an id gets a new one: sequence numbers are never reused, and an id is
  never derived from a NIK, No. KK or name;
- an id no group took is MERGE-retired into the id that holds most of its old units (ties:
  oldest), or REMOVED (dormant) when none of its units is left; a dormant id keeps its keys,
  so a person whose records come back (a pekon file missing for a month) gets the id back
  (RESTORED);
- a group given a new id although some of its units were known records SPLIT from each old id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dtsen_pipeline.int_sets import intersect, setdiff, unique_sorted

ACTIVE, DORMANT, RETIRED = "ACTIVE", "DORMANT", "RETIRED"
MERGE, SPLIT, REMOVED, RESTORED = "MERGE", "SPLIT", "REMOVED", "RESTORED"
ID_DIGITS = 10

UNIT_COLUMNS = ("group", "unit", "key", "key_rank")
STATE_COLUMNS = ("key", "id")
REGISTRY_COLUMNS = ("id", "seq", "status", "issued_run_id", "changed_run_id", "successor_id")
CHANGE_COLUMNS = ("run_id", "kind", "old_id", "new_id", "units")


def format_id(prefix: str, seq: int) -> str:
    """`P0000000042`: a prefix and a zero-padded sequence number (carries no personal data)."""
    return f"{prefix}{seq:0{ID_DIGITS}d}"


def key_digest(kind: str, value: str) -> str:
    """A matching key for an identifier. Not a pseudonym: a NIK's digest can be brute-forced,
    so the state holding it is restricted like the staging tables."""
    return kind + ":" + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:24]


def empty_state() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in STATE_COLUMNS})


def empty_registry() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in REGISTRY_COLUMNS})
    frame["seq"] = frame["seq"].astype("int64")
    return frame


def empty_changes() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in CHANGE_COLUMNS})
    frame["units"] = frame["units"].astype("int64")
    return frame


@dataclass(frozen=True)
class Assignment:
    """The outcome of one run: ids per group, and the state, registry and changes to keep."""

    ids: pd.DataFrame  # group, id
    state: pd.DataFrame | None  # key, id: what the next run matches against (None: the warehouse holds it)
    registry: pd.DataFrame  # every id ever issued, with its status
    changes: pd.DataFrame  # this run's merges, splits, removals and restorations
    run_id: str

    def stats(self) -> dict[str, int]:
        """Counts for logs and metadata (ids only, never keys)."""
        kinds = self.changes["kind"].value_counts()
        return {
            "groups": len(self.ids),
            "new_ids": int((self.registry["issued_run_id"] == self.run_id).sum()),
            **{kind.lower(): int(kinds.get(kind, 0)) for kind in (MERGE, SPLIT, REMOVED, RESTORED)},
        }


@dataclass(frozen=True)
class Votes:
    """What the id rules need of this run's units and the last state, whoever worked it out (pandas
    here, `unit_votes`; the warehouse in the pipeline, `id_state`): at 640,000 persons the units and
    the state are millions of string keys, and joining them is the warehouse's work.

    A group's anchor is its smallest unit (in sorted order, as a code any side can give): it breaks
    ties and orders new ids the same way on every side."""

    groups: np.ndarray  # the group value of each group code (object)
    anchor: np.ndarray  # int64 per group code: orders the groups as their smallest units sort
    # g (group code), id (str), n: how many of the group's units the last state knows under that id, each
    # by its most trusted key (one row per group and id: a group's votes, not its millions of units)
    known: pd.DataFrame


def _check_units(units: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in UNIT_COLUMNS if c not in units.columns]
    if missing:
        raise ValueError(f"units lack column(s) {', '.join(missing)}")
    return units[list(UNIT_COLUMNS)]


def units_in_two_groups(count: int) -> ValueError:
    return ValueError(f"{count} unit(s) belong to more than one group")


def unit_votes(units: pd.DataFrame, previous_state: pd.DataFrame) -> Votes:
    """Each unit's previous id, from its most trusted key found in `previous_state` (key, id)."""
    units = _check_units(units)
    group, groups = pd.factorize(units["group"])
    unit, _ = pd.factorize(units["unit"], sort=True)
    owners = pd.DataFrame({"u": unit, "g": group}).drop_duplicates()
    if owners["u"].duplicated().any():
        raise units_in_two_groups(int(owners["u"].duplicated().sum()))
    anchor = np.full(len(groups), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(anchor, group, unit)
    state = previous_state if len(previous_state) else empty_state()
    key_codes, keys = pd.factorize(pd.concat([units["key"], state["key"]], ignore_index=True))
    state_ids, id_names = pd.factorize(state["id"])
    key_to_id = np.full(len(keys), -1, dtype=np.int64)
    key_to_id[key_codes[len(units):]] = state_ids
    old = key_to_id[key_codes[: len(units)]]
    found = old >= 0
    rank = units["key_rank"].to_numpy()
    known = pd.DataFrame({"g": group[found], "u": unit[found], "rank": rank[found], "id": old[found]})
    known = known.sort_values(["u", "rank"], kind="stable").drop_duplicates("u")
    known = known.groupby(["g", "id"], sort=False).size().rename("n").reset_index()
    names = np.asarray(id_names, dtype=object)
    known = pd.DataFrame({"g": known["g"].to_numpy(dtype=np.int64),
                          "id": names[known["id"].to_numpy()] if len(known) else np.array([], dtype=object),
                          "n": known["n"].to_numpy(dtype=np.int64)})
    return Votes(groups=np.asarray(groups, dtype=object), anchor=anchor, known=known)


def _claim(known: pd.DataFrame, anchor: np.ndarray, seq: np.ndarray, n_groups: int) -> np.ndarray:
    """Greedy claims, largest vote first, then oldest id, then the group's smallest unit:
    the id code each group takes (-1: none)."""
    votes = known.groupby(["g", "id"])["n"].sum().rename("votes").reset_index()
    votes["seq"] = seq[votes["id"].to_numpy()]
    votes["anchor"] = anchor[votes["g"].to_numpy()]
    votes = votes.sort_values(["votes", "seq", "anchor", "id"], ascending=[False, True, True, True])
    assigned = np.full(n_groups, -1, dtype=np.int64)
    taken: set[int] = set()
    for g, old_id in zip(votes["g"].to_numpy().tolist(), votes["id"].to_numpy().tolist(), strict=True):
        if assigned[g] >= 0 or old_id in taken:
            continue
        assigned[g] = old_id
        taken.add(old_id)
    return assigned


def assign_ids(units: pd.DataFrame, previous_state: pd.DataFrame, registry: pd.DataFrame, *,
               prefix: str, run_id: str) -> Assignment:
    """Stable ids for the groups in `units` (columns group, unit, key, key_rank; rank 0 = most trusted)."""
    out = issue_ids(unit_votes(units, previous_state), registry, prefix=prefix, run_id=run_id)
    state = next_state(units, out.ids, previous_state, out.registry)
    return Assignment(ids=out.ids, state=state, registry=out.registry, changes=out.changes, run_id=run_id)


def _id_codes(registry: pd.DataFrame, voted: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Codes for the ids: the registry's by position (it is in sequence order), then any voted id
    the registry lacks, sorted (no sequence number: inf). Returns the names, each code's sequence
    number and the voted ids' codes; nothing depends on the order the votes came in. Arrow's hash
    lookup: millions of votes against the registry's ids."""
    issued = pa.array(registry["id"].to_numpy(dtype=object), type=pa.string())
    votes = pa.array(voted, type=pa.string(), from_pandas=True) if len(voted) else pa.array([], type=pa.string())
    codes = pc.index_in(votes, value_set=issued).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    missing = codes < 0
    unregistered = np.array([], dtype=object)
    if missing.any():
        strays = np.asarray(votes.filter(pa.array(missing)).to_pylist(), dtype=object)
        unregistered = np.unique(strays)
        codes[missing] = len(issued) + np.searchsorted(unregistered, strays)
    names = registry["id"].astype(str).tolist() + [str(i) for i in unregistered]
    seq = np.concatenate([registry["seq"].to_numpy(dtype=float), np.full(len(unregistered), np.inf)])
    return names, seq, codes


def issue_ids(votes: Votes, registry: pd.DataFrame, *, prefix: str, run_id: str) -> Assignment:
    """The rules above, applied to the units' `votes`: ids per group, the registry and this run's
    changes (the state for the next run is `next_state`'s, or the warehouse's)."""
    registry = registry.sort_values("seq", ignore_index=True) if len(registry) else empty_registry()
    names, seq, known_ids = _id_codes(registry, votes.known["id"])
    known = pd.DataFrame({"g": votes.known["g"].to_numpy(dtype=np.int64), "id": known_ids,
                          "n": votes.known["n"].to_numpy(dtype=np.int64)})
    n_groups = len(votes.groups)
    anchor = votes.anchor
    assigned = _claim(known, anchor, seq, n_groups)

    next_seq = int(registry["seq"].max()) + 1 if len(registry) else 1
    fresh = np.flatnonzero(assigned < 0)
    fresh = fresh[np.argsort(anchor[fresh], kind="stable")]
    new_codes = np.arange(len(names), len(names) + len(fresh))
    assigned[fresh] = new_codes
    new_names = [format_id(prefix, next_seq + i) for i in range(len(fresh))]
    ids = np.array(names + new_names, dtype=object)
    seq = np.concatenate([seq, np.arange(next_seq, next_seq + len(fresh), dtype=float)])

    known["new"] = assigned[known["g"].to_numpy()]
    taken = unique_sorted(assigned)
    status = registry["status"].to_numpy(dtype=object)  # the registry's ids are codes 0..n-1 (`_id_codes`)
    active = np.flatnonzero(status == ACTIVE).astype(np.int64)
    dormant = np.flatnonzero(status == DORMANT).astype(np.int64)
    gone = setdiff(active, taken)
    # an id nobody took: merged into the id holding most of its old units (ties: oldest), else removed
    left = known[known["id"].isin(gone)]
    held = left.groupby(["id", "new"])["n"].sum().rename("n").reset_index()
    held["seq"] = seq[held["new"].to_numpy()]
    best = held.sort_values(["id", "n", "seq"], ascending=[True, False, True]).drop_duplicates("id")
    successor_code = dict(zip(best["id"].tolist(), best["new"].tolist(), strict=True))
    total = left.groupby("id")["n"].sum()
    successor: dict[str, str | None] = {}
    changes: list[tuple[str, str, str | None, int]] = []
    for old in sorted(gone.tolist(), key=lambda i: ids[i]):
        if old in successor_code:
            successor[ids[old]] = ids[successor_code[old]]
            changes.append((MERGE, ids[old], ids[successor_code[old]], int(total[old])))
        else:
            successor[ids[old]] = None
            changes.append((REMOVED, ids[old], None, 0))
    # a group given a new id although it holds known units: split from each of those old ids
    split = known[known["new"].isin(new_codes)].groupby(["new", "id"])["n"].sum().rename("n").reset_index()
    changes.extend((SPLIT, ids[o], ids[n], int(k)) for n, o, k in split.itertuples(index=False, name=None))
    back = intersect(dormant, taken)
    back_units = known[known["id"].isin(back)].groupby("id")["n"].sum()
    restored = [ids[i] for i in back.tolist()]
    changes.extend((RESTORED, ids[i], ids[i], int(back_units.get(i, 0))) for i in back.tolist())

    registry = _update_registry(registry, new_names, successor, restored, next_seq, run_id)
    out_ids = pd.DataFrame({"group": votes.groups, "id": ids[assigned]})
    change_frame = pd.DataFrame(
        [(run_id, kind, old, new, n) for kind, old, new, n in changes], columns=list(CHANGE_COLUMNS))
    change_frame["units"] = change_frame["units"].astype("int64")
    return Assignment(ids=out_ids, state=None, registry=registry, changes=change_frame, run_id=run_id)


def _update_registry(registry: pd.DataFrame, new_names: list[str], successor: dict[str, str | None],
                     restored: list[str], next_seq: int, run_id: str) -> pd.DataFrame:
    gone = registry["id"].isin(list(successor))
    if gone.any():
        succ = registry.loc[gone, "id"].map(successor)
        registry.loc[gone, "successor_id"] = succ
        registry.loc[gone, "status"] = succ.notna().map({True: RETIRED, False: DORMANT})
        registry.loc[gone, "changed_run_id"] = run_id
    back = registry["id"].isin(restored)
    registry.loc[back, "status"] = ACTIVE
    registry.loc[back, "changed_run_id"] = run_id
    fresh = pd.DataFrame({
        "id": new_names,
        "seq": np.arange(next_seq, next_seq + len(new_names), dtype=np.int64),
        "status": ACTIVE,
        "issued_run_id": run_id,
        "changed_run_id": run_id,
        "successor_id": None,
    })
    merged = pd.concat([registry, fresh], ignore_index=True) if len(registry) else fresh
    merged["seq"] = merged["seq"].astype("int64")
    return merged[list(REGISTRY_COLUMNS)].sort_values("seq", ignore_index=True)


def next_state(units: pd.DataFrame, ids: pd.DataFrame, previous_state: pd.DataFrame,
               registry: pd.DataFrame) -> pd.DataFrame:
    """Keys of this run's groups (a key seen in two groups is dropped as ambiguous) plus the
    keys of dormant ids, so a removed person can come back. `ids`: group, id; `registry`: updated."""
    owner = pd.Series(ids["id"].to_numpy(dtype=object), index=ids["group"].to_numpy(dtype=object))
    current = pd.DataFrame({"key": _column(units["key"]), "id": units["group"].map(owner).to_numpy(dtype=object)})
    current = current.drop_duplicates()
    current = current[~current["key"].duplicated(keep=False)]
    state = previous_state if len(previous_state) else empty_state()
    dormant = registry.loc[registry["status"] == DORMANT, "id"]
    kept = state[state["id"].isin(dormant) & ~state["key"].isin(current["key"])]
    return pd.concat([current, kept[list(STATE_COLUMNS)]], ignore_index=True)


def _digests(kind: str, values: pd.Series) -> pd.Series:
    """`key_digest(kind, v)` of each value, hashed once per distinct value, as Arrow strings."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    hashed = pd.array([key_digest(kind, str(v)) for v in distinct], dtype="str")
    return pd.Series(hashed.take(codes) if len(codes) else hashed[:0], dtype="str")


def _column(values: pd.Series) -> pd.Series:
    """A column without its index, its type kept (Arrow strings stay Arrow strings: a million
    Python string objects cost several times the memory)."""
    return values.reset_index(drop=True)


def record_units(records: pd.DataFrame, group_column: str) -> pd.DataFrame:
    """Units of source records (columns record_id, nik, <group_column>, optionally feed, name_key,
    tgl_lahir): each record is known by its record id first, then by a digest of its NIK, then
    (a record without a valid NIK) by a digest of its feed, name key and birth date. The pipeline
    builds the same rows in the warehouse (`id_state.record_units_sql`)."""
    record_id = records["record_id"].astype("str")
    by_record = pd.DataFrame({"group": _column(records[group_column]), "unit": _column(record_id),
                              "key": _column("rec:" + record_id), "key_rank": 0})
    frames = [by_record]
    has_nik = records["nik"].notna().to_numpy()
    nik_keys = _digests("nik", records.loc[has_nik, "nik"].astype("str"))
    frames.append(pd.DataFrame({"group": _column(records.loc[has_nik, group_column]),
                                "unit": _column(record_id[has_nik]), "key": nik_keys, "key_rank": 1}))
    if {"feed", "name_key", "tgl_lahir"} <= set(records.columns):
        usable = (records["nik"].isna() & records["name_key"].notna() & records["tgl_lahir"].notna()).to_numpy()
        part = records[usable]
        who = (part["feed"].astype("str") + "|" + part["name_key"].astype("str") + "|"
               + part["tgl_lahir"].astype("str"))
        who_keys = _digests("who", who)
        frames.append(pd.DataFrame({"group": _column(part[group_column]), "unit": _column(record_id[usable]),
                                    "key": who_keys, "key_rank": 2}))
    return pd.concat(frames, ignore_index=True)


def person_units(records: pd.DataFrame) -> pd.DataFrame:
    """Person clusters (record_id, cluster_id, nik) as units grouped by cluster."""
    return record_units(records, "cluster_id")


def household_units(records: pd.DataFrame) -> pd.DataFrame:
    """Families (record_id, nik, no_kk: the member's surviving No. KK) as units grouped by No. KK:
    the members' records, plus the No. KK itself as one more unit (worth one record's vote)."""
    members = record_units(records, "no_kk")
    families = pd.Series(records["no_kk"].dropna().unique()).astype(records["no_kk"].dtype)
    kk_keys = _digests("kk", families.astype("str"))
    family_unit = pd.DataFrame({"group": _column(families), "unit": kk_keys, "key": kk_keys, "key_rank": 0})
    return pd.concat([members, family_unit], ignore_index=True)
