"""Movers inside the kabupaten (field profile): who moved, from which village to which.

A move is known to the civil registry (the new No. KK, the new village) long before DTSEN and
the programme lists catch up, and nobody writes PINDAH for most movers; so the old village's
records stay as they were and only the civil registry is rewritten (`apply_to_dukcapil`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dtsen_pipeline.sample import formats
from dtsen_pipeline.sample.population import HIDUP, Population
from dtsen_pipeline.sample.writers import Table


@dataclass(frozen=True)
class Moves:
    """One row per moved person: new village index and new No. KK (old ones are the population's)."""

    person: np.ndarray
    new_village: np.ndarray
    new_kk: np.ndarray
    new_family: np.ndarray  # family whose address they now share (host card, or a neighbour)
    level: np.ndarray  # "family" | "person"


def draw_moves(pop: Population, rng: np.random.Generator, family_rate: float, person_rate: float) -> Moves:
    """Pick whole families and single adults that moved to another village of the kabupaten."""
    nv = len(pop.villages.code)
    alive = pop.status == HIDUP
    fam_hit = (rng.random(pop.n_families) < family_rate) & ~pop.fam_moved
    fam_new_v = (pop.fam_village + 1 + rng.integers(0, nv - 1, pop.n_families)) % nv
    p_fam = np.flatnonzero(fam_hit[pop.fam] & alive)
    # individual movers: an adult joins a family card in another village (marriage, work)
    grown = pop.dob <= np.datetime64(pop.as_of) - np.timedelta64(18 * 365, "D")
    not_head = pop.fam_head[pop.fam] != np.arange(pop.n_persons)
    adult = alive & grown & not_head & ~fam_hit[pop.fam] & ~pop.fam_moved[pop.fam]
    p_ind = np.flatnonzero(adult & (rng.random(pop.n_persons) < person_rate))
    host = rng.integers(0, pop.n_families, len(p_ind))
    same = pop.fam_village[host] == pop.fam_village[pop.fam[p_ind]]
    host[same] = (host[same] + 1) % pop.n_families
    neighbour = _family_in(pop, fam_new_v[pop.fam[p_fam]], rng)
    person = np.concatenate([p_fam, p_ind])
    order = np.argsort(person, kind="stable")
    return Moves(
        person=person[order],
        new_village=np.concatenate([fam_new_v[pop.fam[p_fam]], pop.fam_village[host]])[order],
        new_kk=np.concatenate([_new_kk(pop, pop.fam[p_fam], fam_new_v[pop.fam[p_fam]]), pop.fam_kk[host]])[order],
        new_family=np.concatenate([neighbour, host])[order],
        level=np.concatenate([np.full(len(p_fam), "family", object), np.full(len(p_ind), "person", object)])[order],
    )


def _family_in(pop: Population, village: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A family living in each given village (its address stands for the movers' new one)."""
    by_v = np.argsort(pop.fam_village, kind="stable")
    lo = np.searchsorted(pop.fam_village[by_v], village, side="left")
    hi = np.searchsorted(pop.fam_village[by_v], village, side="right")
    pick = lo + (rng.random(len(village)) * np.maximum(hi - lo, 1)).astype(np.int64)
    return by_v[np.minimum(pick, len(by_v) - 1)]


def _new_kk(pop: Population, fam: np.ndarray, village: np.ndarray) -> np.ndarray:
    """A moved family gets a new card issued in the new kecamatan: new prefix, other serial."""
    kec = [formats.kode_parts(c) for c in pop.villages.code[village].tolist()]
    return np.array(
        [f"{a:02d}{b:02d}{c:02d}" + k[6:12] + f"{(int(k[12:]) + 5000) % 10000:04d}"
         for (a, b, c, _), k in zip(kec, pop.fam_kk[fam].tolist(), strict=True)],
        dtype=object,
    )


def apply_to_dukcapil(table: Table, pop: Population, moves: Moves) -> None:
    """The civil registry places movers in their new village and on their new card."""
    pos = {int(p): i for i, p in enumerate(moves.person.tolist())}
    rows = [i for i, p in enumerate(table.person.tolist()) if p in pos]
    cols = {k: list(table.columns[k]) for k in ("NO_KK", "NO_KEC", "NO_KEL")}
    for i in rows:
        m = pos[int(table.person[i])]
        parts = formats.kode_parts(pop.villages.code[moves.new_village[m]])
        cols["NO_KK"][i] = moves.new_kk[m]
        cols["NO_KEC"][i], cols["NO_KEL"][i] = str(parts[2]), str(parts[3])
    for k, v in cols.items():
        table.columns[k] = np.array(v, dtype=object)


_PEKON_FROM_FAMILY = ("alamat", "rt", "rw", "dusun")


def apply_to_pekon(tables: list[Table], pop: Population, moves: Moves) -> None:
    """Village files are kept current: a mover leaves the old pekon file and, when the new
    village delivers, appears in its file with the new card and address."""
    pos = {int(p): i for i, p in enumerate(moves.person.tolist())}
    by_code = {t.relpath: t for t in tables if not t.empty}
    moved_rows: list[tuple[int, dict[str, object]]] = []
    for t in tables:
        hit = np.array([int(p) in pos for p in t.person.tolist()], dtype=bool)
        if not hit.any():
            continue
        for i in np.flatnonzero(hit).tolist():
            moved_rows.append((pos[int(t.person[i])], {k: t.columns[k][i] for k in t.columns}))
        _keep(t, ~hit)
    for m, row in moved_rows:
        code = pop.villages.code[moves.new_village[m]]
        target = by_code.get(f"pekon/pekon_{code.replace('.', '')}.csv")
        if target is None:
            continue
        f = moves.new_family[m]
        row.update(no_kk=moves.new_kk[m], kode_desa=code, alamat=pop.fam_alamat[f],
                   rt=str(pop.fam_rt[f]), rw=str(pop.fam_rw[f]), dusun=pop.fam_dusun[f])
        _append(target, row, int(moves.person[m]), int(pop.fam[moves.person[m]]))


def _keep(t: Table, keep: np.ndarray) -> None:
    t.columns = {k: np.asarray(v, dtype=object)[keep] for k, v in t.columns.items()}
    t.person, t.family = t.person[keep], t.family[keep]
    if t.unquoted_rows is not None:
        t.unquoted_rows = t.unquoted_rows[keep]


def _append(t: Table, row: dict[str, object], person: int, family: int) -> None:
    t.columns = {k: np.append(np.asarray(v, dtype=object), np.array([row.get(k, "")], dtype=object))
                 for k, v in t.columns.items()}
    t.person, t.family = np.append(t.person, person), np.append(t.family, family)
    if t.unquoted_rows is not None:
        t.unquoted_rows = np.append(t.unquoted_rows, False)


def moves_frame(pop: Population, moves: Moves) -> pd.DataFrame:
    """`_truth/moves.csv`: true keys with old and new village and card."""
    p = moves.person
    return pd.DataFrame(
        {
            "person_key": pop.person_key(p),
            "family_key": pop.family_key(pop.fam[p]),
            "level": moves.level,
            "old_kode_desa": pop.villages.code[pop.fam_village[pop.fam[p]]],
            "new_kode_desa": pop.villages.code[moves.new_village],
            "old_no_kk": pop.fam_kk[pop.fam[p]],
            "new_no_kk": moves.new_kk,
        }
    )
