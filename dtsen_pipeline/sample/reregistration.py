"""Families registered twice in DTSEN (field profile): the second registration differs.

A family re-registered after a move or a new enumeration is rarely copied verbatim: the
enumerator writes another address, spells a member's name differently, and the new survey
gives another desil. The base generator copies the family as is; here each second
registration gets at least one such change, recorded in `_truth/reregistrations.csv`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from dtsen_pipeline.sample.feed_dtsen import DtsenResult
from dtsen_pipeline.sample.population import Population
from dtsen_pipeline.sample.profiles import damerau_name
from dtsen_pipeline.sample.writers import SUMMARY_ROW

ADDRESS_CHANGED = 0.6  # another street/dusun written at the second enumeration
NAME_CHANGED = 0.5  # one member's name spelled differently
DESIL_CHANGED = 0.5  # the second survey puts the family one decile up or down
MEMBER_DROPPED = 0.3  # a member (not the first listed) left out of the second registration


def change_second_registrations(
    dtsen: DtsenResult, pop: Population, rng: np.random.Generator
) -> pd.DataFrame:
    """Alter each family's second registration in the DTSEN table in place; return the truth."""
    t = dtsen.table
    id_kel = np.asarray(t.columns["ID_KELUARGA"], dtype=object)
    own = dtsen.listing_family[: len(t.person)] == t.family
    second = own & (id_kel != dtsen.id_keluarga[t.family])
    fams = np.unique(t.family[second])
    cols = {k: list(t.columns[k]) for k in ("ALAMAT", "NAMA", "DESIL_NASIONAL")}
    rows = []
    drop = np.zeros(len(t.person), bool)
    for f in fams.tolist():
        idx = np.flatnonzero(second & (t.family == f))
        u = rng.random(4)
        kinds = []
        if len(idx) > 1 and rng.random() < MEMBER_DROPPED:
            drop[idx[-1]] = True
            idx = idx[:-1]
            kinds.append("member_dropped")
        if u[0] < ADDRESS_CHANGED:
            other = pop.fam_alamat[int(rng.integers(0, pop.n_families))]
            for i in idx.tolist():
                cols["ALAMAT"][i] = other
            kinds.append("address")
        if u[1] < NAME_CHANGED or not kinds:
            i = int(idx[int(u[3] * len(idx))])
            cols["NAMA"][i] = damerau_name(str(cols["NAMA"][i]), float(rng.random()))
            kinds.append("name")
        d = str(cols["DESIL_NASIONAL"][idx[0]])
        if u[2] < DESIL_CHANGED and d.isdigit():
            nd = str(min(10, max(1, int(d) + (1 if rng.random() < 0.5 else -1))))
            for i in idx.tolist():
                cols["DESIL_NASIONAL"][i] = nd
            kinds.append("desil")
        rows.append((pop.family_key(np.array([f]))[0], dtsen.id_keluarga[f], id_kel[idx[0]], "+".join(kinds)))
    for k, v in cols.items():
        t.columns[k] = np.array(v, dtype=object)
    _drop_rows(dtsen, drop)
    return pd.DataFrame(rows, columns=["family_key", "id_keluarga_first", "id_keluarga_second", "changed"])


def _drop_rows(dtsen: DtsenResult, drop: np.ndarray) -> None:
    """Remove records from the DTSEN table and keep what flag truth and verval read aligned."""
    if not drop.any():
        return
    t, keep = dtsen.table, ~drop
    gone = set(t.person[drop].tolist())
    t.columns = {k: np.asarray(v, dtype=object)[keep] for k, v in t.columns.items()}
    t.person, t.family = t.person[keep], t.family[keep]
    if t.unquoted_rows is not None:
        t.unquoted_rows = t.unquoted_rows[keep]
    dtsen.listing_family = dtsen.listing_family[: len(keep)][keep]
    t.junk = [replace(j, values={**j.values, "ID_ART": str(len(t.person))})
              if j.kind == SUMMARY_ROW and j.values and "ID_ART" in j.values else j for j in t.junk]
    # a dropped copy leaves its person with one record: no longer a pair for verval GANDA
    dtsen.ganda_pairs[:] = [g for g in dtsen.ganda_pairs if g[0] not in gone]
