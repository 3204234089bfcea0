"""Model governance: one promoted model scores every night; a new one is trained only on request
or when the data drifted, and replaces it only when it does no worse on clerical labels.

Retraining every night made every night's clusters depend on that night's EM run: a model that
drifted on one odd delivery would reshuffle person ids with nobody asking. Here the promoted
model (a Splink JSON file, with what it was trained on and how it scored) lives in a folder of
the artifacts; `decide_training` says whether tonight trains, `promotion` whether the candidate
replaces the promoted model. Only counts and scores are kept, never record values.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from splink import Linker

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.linkage.model import MODEL_VERSION, as_backend_table, record_ids

# Columns whose completeness the model's m and u depend on (null levels weigh nothing).
PROFILED_COLUMNS = ("nik", "no_kk", "name_key", "dob", "dob_year", "jenis_kelamin", "kode_desa", "alamat_key")
# Drift that calls for retraining. A column's null share moving by 5 points changes how often
# its levels are seen by more than EM's own run-to-run noise on a regency (measured under 1
# point between seeds); a quarter more or fewer records means feeds were added or lost.
MAX_NULL_SHIFT = 0.05
MAX_SIZE_CHANGE = 0.25


def data_profile(records: pd.DataFrame) -> dict[str, object]:
    """What the model was trained on, in counts and shares: records per feed, null share per column."""
    return {
        "records": len(records),
        "feeds": {str(k): int(v) for k, v in records["feed"].value_counts().sort_index().items()},
        "null_share": {c: round(float(records[c].isna().mean()), 4) for c in PROFILED_COLUMNS if c in records},
    }


def drift(current: dict[str, object], trained: dict[str, object]) -> list[str]:
    """Why the data no longer looks like what the promoted model was trained on (empty: it does)."""
    reasons = []
    before, now = int(trained["records"]), int(current["records"])
    if before and abs(now - before) / before > MAX_SIZE_CHANGE:
        reasons.append(f"records {before} -> {now}")
    for column, share in current["null_share"].items():
        old = trained["null_share"].get(column)
        if old is not None and abs(share - old) > MAX_NULL_SHIFT:
            reasons.append(f"null share of {column} {old:.1%} -> {share:.1%}")
    return reasons


@dataclass(frozen=True)
class LabelScores:
    """The model's decisions (probability >= threshold) on clerically labelled pairs."""

    labelled_pairs: int
    positives: int
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def label_table(must_link: pd.DataFrame, cannot_link: pd.DataFrame) -> pd.DataFrame:
    """Clerical decisions (GANDA: 1, BUKAN_GANDA: 0) as a Splink labels table."""
    frames = [must_link.assign(clerical_match_score=1.0), cannot_link.assign(clerical_match_score=0.0)]
    labels = pd.concat([f[["unique_id_l", "unique_id_r", "clerical_match_score"]] for f in frames], ignore_index=True)
    # Splink compares a pair in one orientation; a pair labelled twice keeps its last decision.
    ordered = labels["unique_id_l"] > labels["unique_id_r"]
    labels.loc[ordered, ["unique_id_l", "unique_id_r"]] = labels.loc[ordered, ["unique_id_r", "unique_id_l"]].values
    labels = labels[labels["unique_id_l"] != labels["unique_id_r"]]
    return labels.drop_duplicates(["unique_id_l", "unique_id_r"], keep="last").reset_index(drop=True)


def score_labels(linker: Linker, labels: pd.DataFrame, threshold: float) -> LabelScores | None:
    """Precision and recall of the linker's model on labelled pairs, at `threshold` (None: no labels).

    Uses Splink's `register_labels_table` and `accuracy_analysis_from_labels_table`: the pairs are
    scored directly, whatever the blocking rules, so a label is evidence even for a pair blocking missed."""
    if labels.empty:
        return None
    coded = record_ids(linker).encoded(labels, ["unique_id_l", "unique_id_r"])  # as the backend numbers them
    table = linker.table_management.register_table(as_backend_table(linker, coded), "dtsen_clerical_labels",
                                                   overwrite=True)
    registered = linker.table_management.register_labels_table(table)
    accuracy = linker.evaluation.accuracy_analysis_from_labels_table(
        registered, output_type="table", threshold_match_probability=threshold).as_pandas_dataframe()
    positives = int((labels["clerical_match_score"] >= 0.5).sum())
    at = accuracy[accuracy["match_probability"] >= threshold].sort_values("match_probability").head(1)
    tp = int(at["tp"].iloc[0]) if len(at) else 0
    fp = int(at["fp"].iloc[0]) if len(at) else 0
    fn = positives - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LabelScores(len(labels), positives, tp, fp, fn, round(precision, 5), round(recall, 5), round(f1, 5))


@dataclass(frozen=True)
class PromotedModel:
    path: Path
    model_version: str
    promoted_at: str
    run_id: str
    profile: dict[str, object]
    label_scores: dict[str, object] | None

    def usable(self) -> bool:
        """Made by this code's model version (comparisons and blocking it can score with) and present."""
        return self.model_version == MODEL_VERSION and self.path.is_file()


class ModelRegistry:
    """A folder holding the promoted model (`promoted.json` + its Splink JSON) and its history."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def _pointer(self) -> Path:
        return self.folder / "promoted.json"

    def promoted(self) -> PromotedModel | None:
        if not self._pointer.is_file():
            return None
        meta = json.loads(self._pointer.read_text())
        return PromotedModel(path=self.folder / meta["model_file"], model_version=meta["model_version"],
                             promoted_at=meta["promoted_at"], run_id=meta["run_id"], profile=meta["profile"],
                             label_scores=meta.get("label_scores"))

    def promote(self, model_json: Path, run_id: str, profile: dict[str, object],
                label_scores: LabelScores | None) -> PromotedModel:
        """Copy the model in and point `promoted.json` at it (written last, so a crash keeps the old one)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"person_model_v{MODEL_VERSION}_{run_id}.json"
        shutil.copyfile(model_json, self.folder / name)
        meta = {"model_file": name, "model_version": MODEL_VERSION, "run_id": run_id,
                "promoted_at": utc_now().replace(tzinfo=dt.UTC).isoformat(timespec="seconds"), "profile": profile,
                "label_scores": label_scores.as_dict() if label_scores else None}
        temporary = self._pointer.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(meta, indent=2))
        temporary.replace(self._pointer)
        with (self.folder / "history.jsonl").open("a") as history:
            history.write(json.dumps(meta) + "\n")
        return self.promoted()


def decide_training(requested: bool, promoted: PromotedModel | None, profile: dict[str, object]) -> str | None:
    """Why tonight trains a model (None: score with the promoted one)."""
    if requested:
        return "requested"
    if promoted is None:
        return "no promoted model yet"
    if not promoted.usable():
        return f"promoted model (version {promoted.model_version}) is not usable by model version {MODEL_VERSION}"
    reasons = drift(profile, promoted.profile)
    return "drift: " + "; ".join(reasons) if reasons else None


def promotion(candidate: LabelScores | None, incumbent: LabelScores | None,
              promoted: PromotedModel | None) -> tuple[bool, str]:
    """(promote?, why): a candidate replaces the promoted model only if it does no worse on the
    same clerical labels (F1, then recall: a missed duplicate is what the kabupaten complains of)."""
    if promoted is None or not promoted.usable():
        return True, "no usable promoted model"
    if candidate is None or incumbent is None:
        return False, "no clerical labels to compare the models on: the promoted model stays"
    if (candidate.f1, candidate.recall) >= (incumbent.f1, incumbent.recall):
        return True, f"labelled pairs: F1 {candidate.f1} >= {incumbent.f1}"
    return False, f"labelled pairs: F1 {candidate.f1} < {incumbent.f1} of the promoted model"
