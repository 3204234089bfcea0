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

from dtsen_pipeline.int_sets import intersect, isin, setdiff, unique_sorted

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
    state: pd.DataFrame  # key, id: what the next run matches against
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


def _check_units(units: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in UNIT_COLUMNS if c not in units.columns]
    if missing:
        raise ValueError(f"units lack column(s) {', '.join(missing)}")
    return units[list(UNIT_COLUMNS)]


@dataclass
class _Codes:
    """Every string of one run as an integer code (sorting and joining 10^6 strings is slow)."""

    group: np.ndarray  # per unit row: group code
    unit: np.ndarray  # per unit row: unit code; codes follow the units' sort order (anchors)
    key: np.ndarray  # per unit row: key code
    rank: np.ndarray  # per unit row: key rank
    groups: pd.Index
    keys: pd.Index
    state_key: np.ndarray  # per previous-state row: key code
    state_id: np.ndarray  # per previous-state row: id code
    ids: list[str]  # id code -> id
    seq: np.ndarray  # id code -> sequence number (inf: not in the registry)


def _encode(units: pd.DataFrame, state: pd.DataFrame, registry: pd.DataFrame) -> _Codes:
    group, groups = pd.factorize(units["group"])
    unit, _ = pd.factorize(units["unit"], sort=True)
    key_codes, keys = pd.factorize(pd.concat([units["key"], state["key"]], ignore_index=True))
    id_codes, id_names = pd.factorize(pd.concat([state["id"], registry["id"]], ignore_index=True))
    seq = np.full(len(id_names), np.inf)
    seq[id_codes[len(state):]] = registry["seq"].to_numpy(dtype=float)
    return _Codes(group=group, unit=unit, key=key_codes[: len(units)], rank=units["key_rank"].to_numpy(),
                  groups=pd.Index(groups), keys=pd.Index(keys), state_key=key_codes[len(units):],
                  state_id=id_codes[: len(state)], ids=[str(i) for i in id_names], seq=seq)


def _previous_ids(c: _Codes) -> pd.DataFrame:
    """g, u, id: each unit's id code in the previous run, from its most trusted known key."""
    key_to_id = np.full(len(c.keys), -1, dtype=np.int64)
    key_to_id[c.state_key] = c.state_id
    old = key_to_id[c.key]
    found = old >= 0
    known = pd.DataFrame({"g": c.group[found], "u": c.unit[found], "rank": c.rank[found], "id": old[found]})
    known = known.sort_values(["u", "rank"], kind="stable").drop_duplicates("u")
    return known[["g", "u", "id"]].reset_index(drop=True)


def _claim(known: pd.DataFrame, anchor: np.ndarray, seq: np.ndarray, n_groups: int) -> np.ndarray:
    """Greedy claims, largest vote first, then oldest id, then the group's smallest unit:
    the id code each group takes (-1: none)."""
    votes = known.groupby(["g", "id"]).size().rename("votes").reset_index()
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
    units = _check_units(units)
    registry = registry.copy() if len(registry) else empty_registry()
    previous_state = previous_state if len(previous_state) else empty_state()
    c = _encode(units, previous_state, registry)
    owners = pd.DataFrame({"u": c.unit, "g": c.group}).drop_duplicates()
    if owners["u"].duplicated().any():
        raise ValueError(f"{int(owners['u'].duplicated().sum())} unit(s) belong to more than one group")
    n_groups = len(c.groups)
    anchor = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(anchor, c.group, c.unit)

    known = _previous_ids(c)
    assigned = _claim(known, anchor, c.seq, n_groups)

    next_seq = int(registry["seq"].max()) + 1 if len(registry) else 1
    fresh = np.flatnonzero(assigned < 0)
    fresh = fresh[np.argsort(anchor[fresh], kind="stable")]
    new_codes = np.arange(len(c.ids), len(c.ids) + len(fresh))
    assigned[fresh] = new_codes
    new_names = [format_id(prefix, next_seq + i) for i in range(len(fresh))]
    ids = np.array(c.ids + new_names, dtype=object)
    seq = np.concatenate([c.seq, np.arange(next_seq, next_seq + len(fresh), dtype=float)])

    status = registry.set_index("id")["status"]
    known["new"] = assigned[known["g"].to_numpy()]
    taken = unique_sorted(assigned)
    code_of = {name: i for i, name in enumerate(c.ids)}
    active = np.array([code_of[i] for i in status.index[status == ACTIVE] if i in code_of], dtype=np.int64)
    dormant = np.array([code_of[i] for i in status.index[status == DORMANT] if i in code_of], dtype=np.int64)
    gone = setdiff(active, taken)
    # an id nobody took: merged into the id holding most of its old units (ties: oldest), else removed
    left = known[known["id"].isin(gone)]
    held = left.groupby(["id", "new"]).size().rename("n").reset_index()
    held["seq"] = seq[held["new"].to_numpy()]
    best = held.sort_values(["id", "n", "seq"], ascending=[True, False, True]).drop_duplicates("id")
    successor_code = dict(zip(best["id"].tolist(), best["new"].tolist(), strict=True))
    total = left.groupby("id").size()
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
    split = known[known["new"].isin(new_codes)].groupby(["new", "id"]).size().rename("n").reset_index()
    changes.extend((SPLIT, ids[o], ids[n], int(k)) for n, o, k in split.itertuples(index=False, name=None))
    back = intersect(dormant, taken)
    back_units = known[known["id"].isin(back)].groupby("id").size()
    restored = [ids[i] for i in back.tolist()]
    changes.extend((RESTORED, ids[i], ids[i], int(back_units.get(i, 0))) for i in back.tolist())

    registry = _update_registry(registry, new_names, successor, restored, next_seq, run_id)
    out_ids = pd.DataFrame({"group": c.groups.to_numpy(dtype=object), "id": ids[assigned]})
    state = _next_state(c, assigned, ids, registry)
    change_frame = pd.DataFrame(
        [(run_id, kind, old, new, n) for kind, old, new, n in changes], columns=list(CHANGE_COLUMNS))
    change_frame["units"] = change_frame["units"].astype("int64")
    return Assignment(ids=out_ids, state=state, registry=registry, changes=change_frame, run_id=run_id)


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


def _next_state(c: _Codes, assigned: np.ndarray, ids: np.ndarray, registry: pd.DataFrame) -> pd.DataFrame:
    """Keys of this run's groups (a key seen in two groups is dropped as ambiguous) plus the
    keys of dormant ids, so a removed person can come back."""
    current = pd.DataFrame({"k": c.key, "id": assigned[c.group]}).drop_duplicates()
    current = current[~current["k"].duplicated(keep=False)]
    # On id codes, not id strings: testing 2 million strings for membership sorts them (4 s).
    dormant = pd.Index(c.ids, dtype=object).get_indexer(
        registry.loc[registry["status"] == DORMANT, "id"].to_numpy(dtype=object))
    state_ids = ids[c.state_id] if len(c.state_id) else np.array([], dtype=object)
    keep = isin(c.state_id, dormant[dormant >= 0]) & ~isin(c.state_key, current["k"].to_numpy())
    keys = np.concatenate([current["k"].to_numpy(), c.state_key[keep]])
    owner = np.concatenate([ids[current["id"].to_numpy()], state_ids[keep]])
    state = pd.DataFrame({"key": _column(pd.Series(c.keys.take(keys))) if len(keys) else [], "id": owner})
    return state


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
    (a record without a valid NIK) by a digest of its feed, name key and birth date. Digests the
    warehouse computed (`nik_key`, `who_key`: `key_digest`'s values) are taken as they are."""
    record_id = records["record_id"].astype("str")
    by_record = pd.DataFrame({"group": _column(records[group_column]), "unit": _column(record_id),
                              "key": _column("rec:" + record_id), "key_rank": 0})
    frames = [by_record]
    has_nik = records["nik"].notna().to_numpy()
    nik_keys = (_column(records.loc[has_nik, "nik_key"].astype("str")) if "nik_key" in records.columns
                else _digests("nik", records.loc[has_nik, "nik"].astype("str")))
    frames.append(pd.DataFrame({"group": _column(records.loc[has_nik, group_column]),
                                "unit": _column(record_id[has_nik]), "key": nik_keys, "key_rank": 1}))
    if {"feed", "name_key", "tgl_lahir"} <= set(records.columns):
        usable = (records["nik"].isna() & records["name_key"].notna() & records["tgl_lahir"].notna()).to_numpy()
        part = records[usable]
        if "who_key" in records.columns:
            who_keys = _column(part["who_key"].astype("str"))
        else:
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
    if "kk_key" in records.columns:  # the warehouse's digests (`key_digest("kk", no_kk)`)
        first = records[["no_kk", "kk_key"]].dropna(subset=["no_kk"]).drop_duplicates("no_kk")
        families, kk_keys = _column(first["no_kk"]), _column(first["kk_key"].astype("str"))
    else:
        families = pd.Series(records["no_kk"].dropna().unique()).astype(records["no_kk"].dtype)
        kk_keys = _digests("kk", families.astype("str"))
    family_unit = pd.DataFrame({"group": _column(families), "unit": kk_keys, "key": kk_keys, "key_rank": 0})
    return pd.concat([members, family_unit], ignore_index=True)
