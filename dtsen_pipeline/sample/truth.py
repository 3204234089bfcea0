"""The answer key under `_truth/`: which real person and family each source record is.

No names, NIKs or dates go here (only synthetic keys, codes, statuses and flags), so the
truth can sit next to test data without becoming a second copy of personal data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dtsen_pipeline.sample.feed_verval import VervalResult
from dtsen_pipeline.sample.flag_truth import FlagTruth
from dtsen_pipeline.sample.population import STATUS_NAMES, Population
from dtsen_pipeline.sample.writers import Written

PERSON_FEEDS: tuple[str, ...] = ("dtsen", "dukcapil", "bansos", "pekon")


def _csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_truth(
    out_dir: Path,
    pop: Population,
    written: list[Written],
    verval_written: list[Written],
    verval: VervalResult,
    in_dtsen_person: np.ndarray,
    flags: FlagTruth,
) -> dict[str, int]:
    """Write records, junk, persons, families and verval truth; return row counts.

    persons.csv and families.csv end with the true flags (`flag_*`, see flag_truth.py)."""
    tdir = out_dir / "_truth"
    tdir.mkdir(parents=True, exist_ok=True)
    recs = [w for w in written if w.feed in PERSON_FEEDS]
    person = np.concatenate([w.person for w in recs])
    family = np.concatenate([w.family for w in recs])
    records = pd.DataFrame(
        {
            "feed": np.concatenate([np.full(len(w.person), w.feed, dtype=object) for w in recs]),
            "source_file": np.concatenate([np.full(len(w.person), w.relpath, dtype=object) for w in recs]),
            "source_row": np.concatenate([w.source_row for w in recs]),
            "person_key": pop.person_key(person),
            "family_key": pop.family_key(family),
        }
    )
    _csv(records, tdir / "records.csv")

    junk_rows = [(w.feed, w.relpath, r, k) for w in [*written, *verval_written] for r, k in w.junk]
    _csv(pd.DataFrame(junk_rows, columns=["feed", "source_file", "source_row", "kind"]), tdir / "junk.csv")

    all_p = np.arange(pop.n_persons)
    persons = pd.DataFrame(
        {
            "person_key": pop.person_key(all_p),
            "family_key": pop.family_key(pop.fam),
            "kode_desa": pop.villages.code[pop.fam_village[pop.fam]],
            "jenis_kelamin": np.where(pop.sex == 1, "L", "P"),
            "status": np.array(STATUS_NAMES, dtype=object)[pop.status],
            "in_dtsen": in_dtsen_person,
            "dob_imprecise": pop.dob_imprecise,
        }
    )
    _csv(pd.concat([persons, flags.persons], axis=1), tdir / "persons.csv")

    all_f = np.arange(pop.n_families)
    families = pd.DataFrame(
        {
            "family_key": pop.family_key(all_f),
            "kode_desa": pop.villages.code[pop.fam_village],
            "desil": pd.array(np.where(pop.fam_desil > 0, pop.fam_desil, 0), dtype="Int64"),
            "pkh": pop.fam_pkh,
            "bpnt": pop.fam_bpnt,
            "pbi_jk": pop.fam_pbi,
            "in_dtsen": pop.fam_in_dtsen,
            "head_person_key": pop.person_key(pop.fam_head),
            "latent_desil": pop.fam_latent_desil,
            "moved_away": pop.fam_moved,
        }
    )
    families.loc[pop.fam_desil == 0, "desil"] = pd.NA
    _csv(pd.concat([families, flags.families], axis=1), tdir / "families.csv")

    vrows = []
    for w, subj, other, hasil in zip(
        verval_written, verval.subject, verval.other_person, verval.hasil, strict=True
    ):
        for i in range(len(w.source_row)):
            vrows.append(
                (
                    w.relpath,
                    int(w.source_row[i]),
                    hasil[i],
                    pop.person_key(np.array([subj[i]]))[0] if subj[i] >= 0 else "",
                    pop.family_key(np.array([w.family[i]]))[0],
                    pop.person_key(np.array([other[i]]))[0] if other[i] >= 0 else "",
                )
            )
    _csv(
        pd.DataFrame(
            vrows,
            columns=["source_file", "source_row", "hasil", "person_key", "family_key", "other_person_key"],
        ),
        tdir / "verval.csv",
    )
    return {"records": len(records), "junk": len(junk_rows), "verval": len(vrows)}


def write_field_truth(out_dir: Path, moves: pd.DataFrame, reregistrations: pd.DataFrame) -> None:
    """The field profile's extra truth: movers inside the kabupaten and re-registered families.

    Separate files, so the base profile's truth stays exactly as it was."""
    _csv(moves, out_dir / "_truth" / "moves.csv")
    _csv(reregistrations, out_dir / "_truth" / "reregistrations.csv")
