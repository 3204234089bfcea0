"""Which deliveries a feed has received and which of them are in force: pure rules, no I/O.

A delivery is one file's content, identified by the SHA-256 of its bytes (`delivery_id`), so
the same content under any name is the same delivery and is ingested once. The registry keeps
one entry per (file name, content) the pipeline has seen, with a status:

- `loaded`: records are in `raw.<feed>`; the delivery takes part in the in-force selection.
- `duplicate`: the content was already loaded under another name; nothing is read again.
- `rejected`, `unreadable`, `empty`: not usable; the feed keeps what was in force before.
- `held_back`: loaded, but the feed's staging suite failed on it (`quality.gate`); its records
  are taken out of raw again and the feed keeps what was in force before.
- `suspect`: a snapshot much smaller than the delivery in force for its scope, or whose last
  line is cut (an interrupted copy): not loaded until an operator accepts it (`dtsen accept`).
- `refused`: a link, or a path resolving outside the landing folder: never read.
  These six are examined again on every run while the file is in the landing folder (a fixed
  feed declaration or threshold can then accept them); loaded deliveries are never read twice.
- `pruned`: was loaded, then superseded for longer than the raw retention (`ingest.retention`):
  its records left `raw.<feed>`. Like a loaded one it is not read again while its file sits
  unchanged in the landing folder; sent again, it is read again as a new delivery.

In force (`snapshot_scope` in the feed's YAML):
- `append`: every loaded delivery.
- `snapshot`: per scope, the newest loaded delivery. A delivery's scope is the value of the
  feed's scope columns (canonical, as staged) shared by most of its data records: `bansos`
  (program, periode), `pekon` kode_desa; the whole feed when the feed declares none.
  "Newest" is the delivery that arrived last: first seen by the latest run, or delivered again
  (the same content re-sent, under its own name with a newer modification time or under another
  name: `arrived` is then set to that run), so re-sending a good file restores it; deliveries of
  the same run are ordered by file modification time, then by file name.

A loaded delivery stays in the registry and in raw even when its file is later removed from
the landing folder: the landing folder is an inbox, not the archive. `superseded` records when a
loaded delivery stopped being in force (`mark_superseded`), which the raw retention counts from.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

ACCEPTED = "loaded"
HELD_BACK = "held_back"
SUSPECT = "suspect"
REFUSED = "refused"  # a link, or a path resolving outside the landing folder: never read
PRUNED = "pruned"  # superseded beyond the raw retention: records gone from raw.<feed>
STATUSES = ("loaded", "duplicate", "rejected", "unreadable", "empty", HELD_BACK, SUSPECT, REFUSED, PRUNED)
UNNAMED_SCOPE = ""  # scope of a snapshot delivery whose records name no scope value
_SCOPE_JOIN = "|"


@dataclass(frozen=True)
class Delivery:
    """One registry entry: a file name seen with one content. No record values."""

    feed: str
    delivery_id: str  # sha256 of the file's bytes
    source_file: str  # path relative to the landing folder, as delivered
    record_file: str  # `source_file` of its records in raw (differs when a name is reused)
    status: str
    records: int
    size: int
    mtime: float  # file modification time, seconds since the epoch
    first_seen: pd.Timestamp
    first_run: str
    scope: str = UNNAMED_SCOPE
    problem: str | None = None
    note: str | None = None
    in_force: bool = False
    arrived: pd.Timestamp | None = None  # when the content last arrived (None: at first_seen)
    superseded: pd.Timestamp | None = None  # when a loaded delivery left force (None: in force, or never loaded)

    @property
    def arrival(self) -> pd.Timestamp:
        return self.first_seen if _missing(self.arrived) else self.arrived

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def content_id(path: Path) -> str:
    """SHA-256 of the file's bytes, read in chunks (large extracts need not fit in memory twice)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def record_file_name(source_file: str, delivery_id: str, registry: list[Delivery]) -> str:
    """Provenance name of a new delivery's records.

    The file name as delivered, unless an earlier loaded delivery of the feed already used that
    name for other content (a file replaced in place). Then `<name>@<first 12 hex of its id>`,
    so every `record_id` (`<feed>:<source_file>#<row>`) stays unique and stable.
    """
    # A pruned delivery keeps its name: its record ids may still be cited (history, review files).
    taken = {d.record_file for d in registry if d.status in (ACCEPTED, PRUNED)}
    return source_file if source_file not in taken else f"{source_file}@{delivery_id[:12]}"


def scope_key(values: pd.DataFrame) -> str:
    """The scope most data records name (`PKH|2026-10`, `18.06.01.2001`); '' when none does."""
    return scope_keys(values, pd.Series("", index=values.index)).get("", UNNAMED_SCOPE)


def scope_keys(values: pd.DataFrame, delivery: pd.Series) -> dict[str, str]:
    """`scope_key` of each delivery's records, for many deliveries at once (181 pekon files
    are one pass, not 181): `delivery` names each record's delivery. A delivery none of whose
    records names a complete scope is left out."""
    if values.shape[1] == 0:
        return {}
    complete = values.dropna()
    if complete.empty:
        return {}
    columns = [complete[c].astype("str") for c in complete.columns]
    keys = columns[0]
    for column in columns[1:]:  # column-wise concatenation: no per-row Python
        keys = keys + _SCOPE_JOIN + column
    counts = pd.DataFrame({"delivery": delivery.loc[complete.index].astype("str"), "key": keys}).value_counts()
    ranked = counts.rename("n").reset_index().sort_values(["delivery", "n", "key"], ascending=[True, False, True])
    # The key most records name; a tie goes to the smallest value, so the choice is reproducible.
    first = ranked.drop_duplicates("delivery")
    return dict(zip(first["delivery"].tolist(), first["key"].astype("str").tolist(), strict=True))


def _newest_first(deliveries: list[Delivery]) -> list[Delivery]:
    return sorted(deliveries, key=lambda d: (d.arrival, d.mtime, d.source_file), reverse=True)


def select_in_force(registry: list[Delivery], delivery_mode: str, scoped: bool) -> list[Delivery]:
    """The registry with `in_force` set as the feed's delivery mode says."""
    loaded = [d for d in registry if d.status == ACCEPTED]
    if delivery_mode == "append":
        chosen = {d.delivery_id for d in loaded}
    else:
        chosen = set()
        seen_scopes: set[str] = set()
        for d in _newest_first(loaded):
            scope = d.scope if scoped else UNNAMED_SCOPE
            if scope not in seen_scopes:
                seen_scopes.add(scope)
                chosen.add(d.delivery_id)
    return [replace(d, in_force=d.status == ACCEPTED and d.delivery_id in chosen) for d in registry]


def hold_back(registry: list[Delivery], delivery_ids: set[str], problems: dict[str, str],
              delivery_mode: str, scoped: bool) -> list[Delivery]:
    """The registry with these loaded deliveries `held_back` (their problem says which rules
    failed) and the in-force selection made again without them."""
    held = [replace(d, status=HELD_BACK, problem=problems.get(d.delivery_id), in_force=False)
            if d.status == ACCEPTED and d.delivery_id in delivery_ids else d for d in registry]
    return select_in_force(held, delivery_mode, scoped)


def delivered_again(registry: list[Delivery], delivery_id: str, now: pd.Timestamp) -> list[Delivery]:
    """The registry with the loaded delivery of this content marked as arrived `now`."""
    return [replace(d, arrived=now) if d.status == ACCEPTED and d.delivery_id == delivery_id else d
            for d in registry]


def mark_superseded(registry: list[Delivery], now: pd.Timestamp) -> list[Delivery]:
    """The registry with `superseded` set to `now` on loaded deliveries that are out of force and
    had no date yet, and cleared on those in force again (a good file sent again)."""
    def marked(d: Delivery) -> Delivery:
        if d.in_force:
            return replace(d, superseded=None) if d.superseded is not None else d
        if d.status == ACCEPTED and _missing(d.superseded):
            return replace(d, superseded=now)
        return d
    return [marked(d) for d in registry]


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def shrink_problem(source_file: str, records: int, current: Delivery, limit: float) -> str | None:
    """Why a snapshot is `suspect` when it holds fewer than `limit` of the records of the
    delivery in force for its scope (None when it does not)."""
    if current.records <= 0 or records >= limit * current.records:
        return None
    return (f"file {source_file}: {records:,} records, {records / current.records:.0%} of the {current.records:,} "
            f"of {current.source_file} in force for its scope (a snapshot below {limit:.0%} is held as suspect); "
            f"accept it with: dtsen accept {current.feed} {source_file}")


def registry_frame(registry: list[Delivery]) -> pd.DataFrame:
    """The registry as a table (`raw.delivery` rows of one feed)."""
    columns = list(Delivery.__dataclass_fields__)
    frame = pd.DataFrame([d.as_dict() for d in registry], columns=columns)
    for name in ("records", "size"):
        frame[name] = frame[name].astype("int64")
    frame["mtime"] = frame["mtime"].astype("float64")
    frame["in_force"] = frame["in_force"].astype(bool)
    frame["first_seen"] = pd.to_datetime(frame["first_seen"]).astype("datetime64[us]")
    frame["arrived"] = pd.to_datetime(frame["arrived"]).astype("datetime64[us]")
    frame["superseded"] = pd.to_datetime(frame["superseded"]).astype("datetime64[us]")
    for name in ("feed", "delivery_id", "source_file", "record_file", "status", "first_run", "scope",
                 "problem", "note"):
        frame[name] = frame[name].astype("str")
    return frame


def registry_from_frame(frame: pd.DataFrame) -> list[Delivery]:
    out = []
    for row in frame.to_dict(orient="records"):
        def text(name: str, row: dict = row) -> str | None:
            value = row.get(name)
            return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)

        out.append(Delivery(
            feed=str(row["feed"]), delivery_id=str(row["delivery_id"]), source_file=str(row["source_file"]),
            record_file=str(row["record_file"]), status=str(row["status"]), records=int(row["records"]),
            size=int(row["size"]), mtime=float(row["mtime"]), first_seen=pd.Timestamp(row["first_seen"]),
            first_run=str(row["first_run"]), scope=text("scope") or UNNAMED_SCOPE, problem=text("problem"),
            note=text("note"), in_force=bool(row["in_force"]),
            arrived=None if _missing(row.get("arrived")) else pd.Timestamp(row["arrived"]),
            superseded=None if _missing(row.get("superseded")) else pd.Timestamp(row["superseded"]),
        ))
    return out
