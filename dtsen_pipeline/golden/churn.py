"""How many person ids a run changes, and when that is too many to publish.

A month in a regency changes few persons' ids: deaths (about 0.05% of people a month), moves out
of the kabupaten, re-registrations found and clerical merges stay well under 2% together. When
a run would merge, split or drop the ids of more than `MAX_ID_CHURN` of the previously active
persons, the likelier cause is a fault (a model or blocking change, a feed delivered half), and
every worklist and downstream join keyed on person_id would churn with it: publication stops
until someone looks (or raises DTSEN_MAX_ID_CHURN for a run that is meant to reshape ids).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_ID_CHURN = 0.05  # the default of DTSEN_MAX_ID_CHURN (`publication.max_id_churn`)


@dataclass(frozen=True)
class IdChurn:
    previous_active: int
    merged: int
    split: int
    removed: int
    threshold: float

    @property
    def changed(self) -> int:
        return self.merged + self.split + self.removed

    @property
    def share(self) -> float:
        return self.changed / self.previous_active if self.previous_active else 0.0

    @property
    def plausible(self) -> bool:
        """A first run (nothing published before) has nothing to churn."""
        return self.share <= self.threshold

    def describe(self) -> str:
        return (f"{self.changed} person id changes ({self.merged} merged, {self.split} split, {self.removed} "
                f"removed) against {self.previous_active} ids active before: {self.share:.2%}; "
                f"limit {self.threshold:.0%}")


def id_churn(stats: dict[str, int], previous_active: int, threshold: float) -> IdChurn:
    """From `person_identity`'s counts (merge, split, removed) and the ids active before the run."""
    return IdChurn(previous_active, int(stats.get("merge", 0)), int(stats.get("split", 0)),
                   int(stats.get("removed", 0)), threshold)
