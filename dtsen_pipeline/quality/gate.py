"""The quality gate: what a failing suite means for publication, and how a failure is told.

Two kinds of suite, two consequences:

- A feed's *staging* suite judges what an agency delivered. When one of its error-severity
  expectations fails, the feed's deliveries first seen in this run are held back (the feed keeps
  the deliveries in force before the run, as for a rejected file) and the run publishes with the
  other feeds. A held-back feed left with nothing in force blocks publication only when the feed
  is `required` (DTSEN: golden tables without the national data would be of no use).
- A *build* suite judges our own output (the candidate golden tables): a failure blocks
  publication whole; the last published tables stay.

Every failure is told the same way, in the log, the step failure, the check, `quality.gate` and
the printed summary: suite, rule id, expectation, observed share, allowed share, rows concerned and
the Data Docs page. Counts only: expectations are validated with a result format that returns no
values (`gx_suites.RESULT_FORMAT`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dtsen_pipeline.quality.gx_suites import (
    ExpectationOutcome,
    SuiteOutcome,
    load_thresholds,
    run_suite,
    suite_path,
)

PASSED = "passed"  # the suite passed: what was delivered is in force
HELD_BACK = "held_back"  # new deliveries failed the suite and were held back; earlier ones stay in force
FAILED = "failed"  # the suite failed and nothing new could be held back (reported, not blocking)
BLOCKED = "blocked"  # publication blocked: a build suite failed, or a required feed has nothing in force
DECISIONS = (PASSED, HELD_BACK, FAILED, BLOCKED)  # every value of quality.gate.decision (docs/rules.md)
GATE_COLUMNS = ("run_id", "gate", "target", "suite", "decision", "deliveries_held", "rows_validated",
                "failed_rules", "failures", "data_docs", "decided_at")
QUARANTINE_RULE = "QUAR-01"  # share of a feed's data records that staging kept (thresholds.yaml)
DEFAULT_STAGED_SHARE = 0.9


def _percent(value: float) -> str:
    return f"{value:.2f}%"


def failure_line(suite: str, outcome: ExpectationOutcome) -> str:
    """One failing expectation as a sentence of counts: never a value from the data."""
    column = f" on {outcome.column}" if outcome.column else ""
    name = f"{suite} {outcome.rule or '-'} {outcome.expectation.removeprefix('expect_')}{column}"
    rows = "" if outcome.unexpected_count is None else f"{outcome.unexpected_count:,} rows"
    if outcome.element_count is not None and rows:
        rows += f" of {outcome.element_count:,}"
    observed = (f"observed {_percent(outcome.unexpected_percent)} failing ({rows})"
                if outcome.unexpected_percent is not None else f"{rows or 'some rows'} failing")
    allowed = ("allowed none (invariant, or mostly 1)" if outcome.mostly is None
               else f"allowed at most {_percent((1 - outcome.mostly) * 100)} (mostly {outcome.mostly:g})")
    return f"{name}: {observed}, {allowed}"


def error_failures(outcome: SuiteOutcome) -> list[ExpectationOutcome]:
    return [o for o in outcome.outcomes if o.severity == "error" and not o.success]


def failure_lines(outcome: SuiteOutcome) -> list[str]:
    """The failing error-severity expectations of a suite, one sentence each."""
    return [failure_line(outcome.suite, o) for o in error_failures(outcome)]


def failed_rules(outcome: SuiteOutcome) -> list[str]:
    return sorted({o.rule or o.expectation for o in error_failures(outcome)})


def staged_enough(quarantined_share: float, mostly: float) -> bool:
    """GX's reading of `mostly`: at least that share passes (tolerant of float rounding: 1 - 0.9)."""
    return 1 - quarantined_share >= mostly - 1e-9


def staged_share_outcome(data_records: int, quarantined: int, mostly: float) -> ExpectationOutcome:
    """QUAR-01: a delivery whose records mostly end in the quarantine (a shifted column, the wrong
    file) would pass every staging expectation on the few rows left: the gate judges that share too.
    `data_records` excludes junk (empty, totals, repeated headers), which is quarantined by design."""
    share = quarantined / data_records if data_records else 0.0
    return ExpectationOutcome(
        expectation="expect_delivered_records_to_be_staged", column=None, rule=QUARANTINE_RULE, severity="error",
        success=staged_enough(share, mostly), mostly=mostly, element_count=data_records, unexpected_count=quarantined,
        unexpected_percent=round(share * 100, 4))


def with_outcome(outcome: SuiteOutcome, extra: ExpectationOutcome) -> SuiteOutcome:
    return SuiteOutcome(suite=outcome.suite, rows=outcome.rows, outcomes=(*outcome.outcomes, extra),
                        docs_index=outcome.docs_index, docs_page=outcome.docs_page)


@dataclass(frozen=True)
class GateDecision:
    """What the gate decided for one feed (staging) or one build table in one run: counts only."""

    gate: str  # staging | build
    target: str  # the feed, or the build table
    suite: str
    decision: str
    rows_validated: int
    failures: list[str] = field(default_factory=list)  # `failure_line`s of the suite that decided
    rules: list[str] = field(default_factory=list)
    deliveries_held: int = 0
    data_docs: str | None = None
    note: str | None = None  # why publication is blocked, for a required feed left empty

    @classmethod
    def of(cls, gate: str, target: str, outcome: SuiteOutcome, decision: str,
           deliveries_held: int = 0) -> GateDecision:
        """The decision on a validation: its failing rules, their sentences and its Data Docs page."""
        return cls(gate=gate, target=target, suite=outcome.suite, decision=decision, rows_validated=outcome.rows,
                   failures=failure_lines(outcome), rules=failed_rules(outcome), deliveries_held=deliveries_held,
                   data_docs=str(outcome.docs_page or outcome.docs_index or "") or None)

    @property
    def message(self) -> str:
        """The decision in one paragraph (log line, check description, step failure)."""
        head = {
            PASSED: f"{self.gate} suite {self.suite} passed",
            HELD_BACK: (f"feed {self.target}: {self.deliveries_held} new delivery(ies) held back by the staging "
                        f"suite {self.suite}; the deliveries in force before this run stay in force"),
            FAILED: f"{self.gate} suite {self.suite} failed (nothing new to hold back; reported)",
            BLOCKED: f"publication blocked by {self.gate} suite {self.suite}",
        }[self.decision]
        lines = [head + (f": {self.note}" if self.note else "")]
        lines += [f"  - {line}" for line in self.failures]
        if self.data_docs and self.failures:
            lines.append(f"  Data Docs: {self.data_docs}")
        return "\n".join(lines)

    def row(self, run_id: str, decided_at: dt.datetime) -> dict[str, object]:
        return {"run_id": run_id, "gate": self.gate, "target": self.target, "suite": self.suite,
                "decision": self.decision, "deliveries_held": self.deliveries_held,
                "rows_validated": self.rows_validated, "failed_rules": ",".join(self.rules),
                "failures": "\n".join([*([self.note] if self.note else []), *self.failures]),
                "data_docs": self.data_docs, "decided_at": decided_at}


def decision_frame(decisions: list[GateDecision], run_id: str, decided_at: dt.datetime) -> pd.DataFrame:
    """Rows of `quality.gate` (one per feed or build table per run, kept across runs)."""
    frame = pd.DataFrame([d.row(run_id, decided_at) for d in decisions], columns=list(GATE_COLUMNS))
    for column in GATE_COLUMNS:
        if column in ("deliveries_held", "rows_validated"):
            frame[column] = frame[column].astype("int64")
        elif column == "decided_at":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
        else:
            frame[column] = frame[column].astype("str")
    return frame


def held_back_tag(decisions: list[GateDecision]) -> str:
    """`feed:RULE,RULE;feed:RULE` for the run tag and audit.run ('' when nothing was held back)."""
    return ";".join(f"{d.target}:{','.join(d.rules)}" for d in decisions if d.decision == HELD_BACK)


_GX_LOCK = threading.Lock()  # Great Expectations' context is not thread-safe; feeds stage on threads


@dataclass(frozen=True)
class StagingGate:
    """The staging suites as the ingest runner applies them: one validation per feed, rendered into
    the run's Data Docs folder, with the deployment's `thresholds` (`{suite: {rule: mostly}}`,
    default: `expectations/thresholds.yaml`; QUAR-01's among them), programme `ceilings` and the
    run's date `as_of` (ages are reckoned at it)."""

    docs_dir: Path | None = None
    thresholds: Mapping[str, Mapping[str, float]] | None = None
    ceilings: Mapping[str, int] | None = None
    as_of: dt.date | None = None

    def validate(self, feed: str) -> Callable[[pd.DataFrame], SuiteOutcome]:
        path = suite_path("staging", feed)

        def validate(frame: pd.DataFrame) -> SuiteOutcome:
            with _GX_LOCK:
                return run_suite(frame, path, docs_dir=self.docs_dir, thresholds=self.thresholds,
                                 ceilings=self.ceilings, as_of=self.as_of)

        return validate

    def staged_share(self, feed: str) -> float:
        thresholds = load_thresholds() if self.thresholds is None else self.thresholds
        return thresholds.get(f"staging__{feed}", {}).get(QUARANTINE_RULE, DEFAULT_STAGED_SHARE)
