"""A plain-text summary of the last run, read back from the warehouse: counts only, no personal data."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.ingest.raw_store import count_in_force
from dtsen_pipeline.warehouse import count_rows, read_sql, table_exists

HOUSEHOLD_FLAGS = (
    "flag_duplicate_records", "flag_dead_recipient", "flag_moved_recipient", "flag_inclusion_candidate",
    "flag_exclusion_candidate", "flag_missing_from_dtsen", "flag_member_in_multiple_kk",
)


_DECISION_TEXT = {
    "held_back": "HELD BACK ({held} new delivery(ies); the deliveries in force before stay)",
    "blocked": "PUBLICATION BLOCKED",
    "failed": "FAILED (nothing new to hold back)",
}


def gate_lines(engine: sa.Engine) -> list[str]:
    """The quality gate's decisions of the latest run that made any (`quality.gate`): every feed held
    back and every suite that failed, with its rules, shares and thresholds; counts only."""
    if not table_exists(engine, "quality", "gate"):
        return []
    rows = read_sql(engine, "SELECT * FROM quality.gate WHERE run_id = (SELECT run_id FROM quality.gate "
                            "ORDER BY decided_at DESC LIMIT 1) ORDER BY gate DESC, target")
    if rows.empty:
        return []
    lines = [f"Quality gate (run {rows['run_id'].iloc[0]}):"]
    passed = rows[rows["decision"] == "passed"]
    if len(passed):
        lines.append(f"  passed: {', '.join(passed['target'])}")
    for r in rows[rows["decision"] != "passed"].itertuples():
        what = _DECISION_TEXT.get(r.decision, r.decision).format(held=int(r.deliveries_held))
        lines.append(f"  {r.gate} {r.target}: {what}; rules {r.failed_rules or '-'}")
        lines += [f"    - {line}" for line in str(r.failures or "").splitlines() if line]
        if isinstance(r.data_docs, str) and r.data_docs:
            lines.append(f"    Data Docs: {r.data_docs}")
    return lines


def output_lines(artifacts: Path, run_id: str) -> list[str]:
    """Where the run's files are: report, Data Docs, worklists, review files, linkage charts."""
    outputs = [
        ("report (open in a browser)", sorted((artifacts / "reports" / run_id).glob("*.html"))),
        ("Data Docs (quality checks)", [artifacts / "data_docs" / run_id / "index.html"]),
        ("worklists per pekon and kecamatan", [artifacts / "worklists" / run_id]),
        ("duplicate-review files per kecamatan", [artifacts / "linkage" / run_id / "review"]),
        ("linkage model charts", [artifacts / "linkage" / run_id / "charts"]),
    ]
    lines = [f"Outputs of run {run_id}:"]
    for label, paths in outputs:
        found = [p for p in paths if p.exists()]
        lines.append(f"  {label + ':':<38} {found[0] if found else '(not written by this run)'}")
    return lines


def summary_lines(engine: sa.Engine, artifacts: Path | None = None, run_id: str | None = None) -> list[str]:
    lines = ["Rows per stage (raw -> staged + quarantined):",
             f"  {'feed':<9} {'raw rows':>9}    {'staged':>9}   {'quarantined':>11}"]
    for feed in load_feed_specs():
        if not table_exists(engine, "raw", feed):
            lines.append(f"  {feed:<9} not ingested")
            continue
        raw = count_in_force(engine, feed)  # deliveries in force, not superseded ones
        staged = count_rows(engine, "staging", feed)
        quarantined = count_rows(engine, "quality", f"quarantine__{feed}")
        lines.append(f"  {feed:<9} {raw:>9,} -> {staged:>9,} + {quarantined:>11,}")
    lines += gate_lines(engine)
    if table_exists(engine, "quality", "quarantine"):
        lines.append("Quarantined rows by reason:")
        reasons = read_sql(engine, "SELECT reason, count(*) AS n FROM quality.quarantine GROUP BY reason ORDER BY n DESC")
        lines += [f"  {r.reason:<20} {r.n:>8,}" for r in reasons.itertuples()] or ["  none"]
    if table_exists(engine, "golden", "person"):
        lines.append(f"Golden persons:    {count_rows(engine, 'golden', 'person'):>9,}")
        lines.append(f"Golden households: {count_rows(engine, 'golden', 'household'):>9,}")
        sums = ", ".join(f"sum(case when {f} then 1 else 0 end) as {f}" for f in HOUSEHOLD_FLAGS)
        flags = read_sql(engine, f"SELECT {sums} FROM golden.household").iloc[0]
        lines.append("Households flagged:")
        lines += [f"  {f.removeprefix('flag_'):<26} {int(flags[f] or 0):>8,}" for f in HOUSEHOLD_FLAGS]
    if table_exists(engine, "golden", "flag"):
        rows = read_sql(engine, "SELECT flag, count(*) AS n, sum(case when verval_status = 'UNVERIFIED' then 1 else 0 end) "
                                "AS open FROM golden.flag GROUP BY flag ORDER BY flag")
        lines.append("Flags (golden.flag):")
        lines.append(f"  {'flag':<26} {'raised':>8} {'not yet verified':>17}")
        lines += [f"  {r.flag:<26} {int(r.n):>8,} {int(r.open):>17,}" for r in rows.itertuples()] or ["  none"]
    if table_exists(engine, "evaluation", "flag"):
        scores = read_sql(engine, "SELECT level, flag, precision, recall FROM evaluation.flag WHERE run_id = "
                                  "(SELECT run_id FROM evaluation.flag ORDER BY evaluated_at DESC LIMIT 1)")
        lines.append("Flags vs truth (precision / recall):")
        lines += [f"  {r.level:<9} {r.flag.removeprefix('flag_'):<28} {r.precision or 0:.3f} / {r.recall or 0:.3f}"
                  for r in scores.itertuples()]
    if table_exists(engine, "linkage", "evaluation"):
        scores = read_sql(engine, "SELECT level, precision, recall, f1, clusters, true_persons "
                                  "FROM linkage.evaluation WHERE scope = 'all' AND run_id = "
                                  "(SELECT run_id FROM linkage.evaluation ORDER BY evaluated_at DESC LIMIT 1)")
        for row in scores.itertuples():
            lines.append(f"Linkage vs truth ({row.level}): precision {row.precision:.4f}, recall {row.recall:.4f}, "
                         f"F1 {row.f1:.4f}; {int(row.clusters):,} clusters for {int(row.true_persons):,} true persons")
    if artifacts is not None and run_id is not None:
        lines += output_lines(artifacts, run_id)
    return lines
