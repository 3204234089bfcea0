"""A feed whose staging would come out the same tonight is not staged again.

Staging is a function of the feed's deliveries in force, the deployment's settings (scope,
programme ceilings, the suite's thresholds), the code and reference data, and the date its ages
are reckoned at. Most nights a kabupaten receives a few pekon files; the DTSEN extract, the
civil registry and the programme lists arrive monthly. Staging those unchanged feeds again (at
640,000 persons, 47 s of the two threads' time on such a night) only rewrites the same tables.

So each published staging leaves a fingerprint of everything it was a function of in
`quality.staging_state`, with the counts and the gate's decision it published. A night whose
fingerprint for a feed is the stored one leaves staging.<feed> and its quarantine part as they
are and reports the stored figures, naming the run that staged them. Anything else stages the
feed again: a delivery added, replaced, held back or pruned from force; a setting; a changed
source file of the package, its suites or the reference data's version; or a full rebuild asked
for (`DTSEN_RESTAGE`). A staging the gate held deliveries back from is never carried.

Why ages are reckoned at the feed's newest delivery (`reckoning_date`) and not at the run's
date: a delivery states ages as of when it was made (DTSEN's `umur`, a family's heads and
children), and checking them against a later date finds mismatches that are only the calendar
moving on. Nothing downstream reads staging's reckoning: the golden tables reckon ages at the
run's date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.clock import local_date, utc_now
from dtsen_pipeline.code_version import code_digest
from dtsen_pipeline.ingest.deliveries import Delivery
from dtsen_pipeline.ingest.staging_tables import StagedFeed, quarantine_part
from dtsen_pipeline.quality import gate
from dtsen_pipeline.warehouse import ensure_schemas, qualified, read_sql, table_exists, write_transaction

STATE_TABLE = ("quality", "staging_state")
CARRIED_DECISIONS = (gate.PASSED, gate.FAILED)  # published without holding a delivery back


def reckoning_date(registry: Iterable[Delivery], as_of: dt.date) -> dt.date:
    """The date a feed's ages are reckoned at: the day its newest delivery in force arrived (in the
    deployment's time zone), never later than the run's date (a re-run of an earlier day reckons
    at that day); the run's date when nothing is in force."""
    arrivals = [d.arrival for d in registry if d.in_force and not pd.isna(d.arrival)]
    if not arrivals:
        return as_of
    newest = local_date(pd.Timestamp(max(arrivals)).to_pydatetime())
    return min(newest, as_of)


def staging_fingerprint(feed: str, registry: Iterable[Delivery], *, scope: str, reckoned_at: dt.date,
                        ceilings: Mapping[str, int], thresholds: Mapping[str, object],
                        staged_share: float) -> str:
    """Everything the feed's staging and its gate are a function of, as one digest."""
    in_force = sorted((d.delivery_id, d.record_file) for d in registry if d.in_force)
    content = {
        "feed": feed,
        "in_force": in_force,
        "scope": scope,
        "reckoned_at": reckoned_at.isoformat(),
        "ceilings": dict(sorted(ceilings.items())),
        "thresholds": json.loads(json.dumps(thresholds, sort_keys=True, default=str)),
        "staged_share": staged_share,
        "code": code_digest(),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CarriedStaging:
    """A feed's staging left as an earlier run published it: that run's counts and gate decision."""

    feed: str
    run_id: str  # the run that staged and validated what is in force
    staged_at: dt.datetime
    staged: StagedFeed
    decision: gate.GateDecision | None  # None: staged without a gate
    warnings_failed: tuple[str, ...]  # rules of the warning-severity expectations that failed
    fingerprint: str


def carried_staging(engine: sa.Engine, feed: str, fingerprint: str) -> CarriedStaging | None:
    """The feed's staging as stored, when it was published under `fingerprint` and its tables are
    still there; else None (stage again)."""
    if not table_exists(engine, *STATE_TABLE):
        return None
    rows = read_sql(engine, f"SELECT run_id, staged_at, record FROM {qualified(*STATE_TABLE)} "
                            "WHERE feed = :feed AND fingerprint = :fingerprint", feed=feed, fingerprint=fingerprint)
    if rows.empty:
        return None
    if not (table_exists(engine, "staging", feed) and table_exists(engine, "quality", quarantine_part(feed))):
        return None
    row = rows.iloc[0]
    record = json.loads(row["record"])
    return CarriedStaging(feed=feed, run_id=str(row["run_id"]), staged_at=pd.Timestamp(row["staged_at"]).to_pydatetime(),
                          staged=StagedFeed(**record["staged"]),
                          decision=gate.GateDecision(**record["decision"]) if record["decision"] else None,
                          warnings_failed=tuple(record["warnings_failed"]), fingerprint=fingerprint)


def remember_staging(engine: sa.Engine, feed: str, fingerprint: str | None, run_id: str, staged: StagedFeed | None,
                     decision: gate.GateDecision | None, warnings_failed: Iterable[str]) -> None:
    """Keep the fingerprint of the staging just published, or forget the feed's (`fingerprint` None,
    or a decision that held deliveries back: the next night stages again)."""
    ensure_schemas(engine, [STATE_TABLE[0]])
    target = qualified(*STATE_TABLE)
    with write_transaction(engine) as conn:
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {target} (feed VARCHAR PRIMARY KEY, fingerprint VARCHAR "
                             "NOT NULL, run_id VARCHAR NOT NULL, staged_at TIMESTAMP NOT NULL, record TEXT NOT NULL)")
        conn.execute(sa.text(f"DELETE FROM {target} WHERE feed = :feed"), {"feed": feed})
        if fingerprint is None or staged is None or (decision is not None and decision.decision not in CARRIED_DECISIONS):
            return
        record = {"staged": asdict(staged), "decision": asdict(decision) if decision else None,
                  "warnings_failed": sorted(set(warnings_failed))}
        conn.execute(sa.text(f"INSERT INTO {target} VALUES (:feed, :fingerprint, :run_id, :staged_at, :record)"),
                     {"feed": feed, "fingerprint": fingerprint, "run_id": run_id, "staged_at": utc_now(),
                      "record": json.dumps(record)})
