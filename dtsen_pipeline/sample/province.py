"""A province's sample: every regency's five feeds, and the people who moved between regencies.

Each regency is drawn on its own (`generate`, seed + its position), into `<out>/<code>/`. Then the
movers: of the people a regency's population has left (status PINDAH, whole families and single
persons), a share now live in another regency of the province. As in real deliveries, their old
regency's lists (DTSEN, the programme lists, the village file) still carry them; only the civil
registry of their new regency knows where they are: it holds them in one of its villages, on a
new No. KK, with the NIK, name, birth date and mother's name they always had (their name and
date typed as that registry types them). A person's NIK does not change when they move.

Truth, in a multi-regency deployment's layout: each regency's truth in `<out>/_truth/<code>/`,
with the arrivals added (person and family keys prefixed with their origin regency,
`1806-P0000123`), and `<out>/_truth/movers.csv` pairing each mover's origin key with their key in
the new regency.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from dtsen_pipeline.province.evaluate import MOVERS_FILE
from dtsen_pipeline.sample import formats
from dtsen_pipeline.sample.context import Context
from dtsen_pipeline.sample.feed_dukcapil import build_dukcapil
from dtsen_pipeline.sample.generator import DEFAULT_AS_OF, generate
from dtsen_pipeline.sample.population import PINDAH, Population, build_population
from dtsen_pipeline.sample.profiles import rates_for
from dtsen_pipeline.sample.regions import regency

DEFAULT_MOVERS_SHARE = 0.5  # of those who left a regency, the share who settled elsewhere in the province


@dataclass(frozen=True)
class ProvinceSummary:
    """Counts only."""

    regencies: int
    persons: int
    movers: int

    def lines(self) -> list[str]:
        return [f"{k}: {v}" for k, v in self.__dict__.items()]


@dataclass
class _Arrivals:
    """Dukcapil rows of people arriving in one regency, with their truth."""

    rows: list[list[str]]
    records: list[dict[str, object]]
    persons: list[dict[str, object]]
    families: list[dict[str, object]]
    family_keys: set[str]


def generate_province(regencies: list[str], persons: int, seed: int, out_dir: Path, *,
                      as_of: date = DEFAULT_AS_OF, profile: str = "base",
                      movers_share: float = DEFAULT_MOVERS_SHARE) -> ProvinceSummary:
    """`persons` people in each of `regencies` (Kemendagri codes of Lampung), drawn into
    `out_dir/<code>/`, and the movers between them (module docstring). The same seed gives the
    same bytes."""
    out_dir = Path(out_dir)
    if (out_dir / "_truth").exists() and any((out_dir / "_truth").iterdir()):
        raise FileExistsError(f"{out_dir} already holds a province sample (_truth/)")
    rates = rates_for(profile)
    total = 0
    for offset, code in enumerate(regencies):
        total += generate(persons, seed + offset, out_dir / code, as_of, profile=profile, kabupaten=code).persons
    pops = {code: build_population(persons, seed + offset, as_of, rates, code) for offset, code in enumerate(regencies)}
    rng = np.random.default_rng([seed, 1817])
    arrivals: dict[str, _Arrivals] = {code: _Arrivals([], [], [], [], set()) for code in regencies}
    movers: list[dict[str, object]] = []
    for offset, origin in enumerate(regencies):
        others = [code for code in regencies if code != origin]
        if not others:
            break
        pop = pops[origin]
        ctx = Context(pop=pop, rates=rates, seed=seed + offset, as_of=as_of)
        chosen = _movers(pop, rng, movers_share)
        if len(chosen) == 0:
            continue
        destination_of_family = {int(f): others[int(rng.integers(len(others)))] for f in np.unique(pop.fam[chosen])}
        truth = _truth_rows(out_dir / origin / "_truth")
        ctx.in_dukcapil = np.zeros(pop.n_persons, dtype=bool)
        ctx.in_dukcapil[chosen] = True
        ctx.dukcapil_dead = np.zeros(pop.n_persons, dtype=bool)
        table = build_dukcapil(ctx)  # the movers as a civil registry types them
        for destination in sorted(set(destination_of_family.values())):
            rows = np.flatnonzero([destination_of_family[int(f)] == destination for f in table.family])
            _arrive(arrivals[destination], table, rows, pop, pops[destination], origin, truth, rng, movers)
    for code in regencies:
        _write_arrivals(out_dir / code, arrivals[code])
    for code in regencies:  # the deployment's layout: <landing>/_truth/<code>/ beside movers.csv
        (out_dir / "_truth").mkdir(parents=True, exist_ok=True)
        shutil.rmtree(out_dir / "_truth" / code, ignore_errors=True)
        shutil.move(out_dir / code / "_truth", out_dir / "_truth" / code)
    pd.DataFrame(movers, columns=["origin_regency", "origin_person_key", "destination_regency",
                                  "destination_person_key", "level"]).to_csv(out_dir / "_truth" / MOVERS_FILE,
                                                                             index=False)
    return ProvinceSummary(regencies=len(regencies), persons=total, movers=len(movers))


def _movers(pop: Population, rng: np.random.Generator, share: float) -> np.ndarray:
    """People who left (PINDAH) and settled in the province: whole families together, then singles."""
    left = pop.status == PINDAH
    family_settles = rng.random(pop.n_families) < share
    person_settles = rng.random(pop.n_persons) < share
    settles = np.where(pop.fam_moved[pop.fam], family_settles[pop.fam], person_settles)
    return np.flatnonzero(left & settles)


def _truth_rows(truth: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The origin regency's truth of persons and families, by key."""
    persons = pd.read_csv(truth / "persons.csv", dtype=str, keep_default_na=False).set_index("person_key")
    families = pd.read_csv(truth / "families.csv", dtype=str, keep_default_na=False).set_index("family_key")
    return persons, families


def _arrive(into: _Arrivals, table, rows: np.ndarray, origin_pop: Population, pop: Population, origin: str,
            truth: tuple[pd.DataFrame, pd.DataFrame], rng: np.random.Generator, movers: list[dict[str, object]]) -> None:
    """Each moving family settles in a village of `pop`'s regency on a new card of its kecamatan."""
    persons, families = truth
    prefix = regency(origin).digits
    new_place: dict[int, tuple[int, str]] = {}  # origin family -> (host family for the address, new No. KK)
    issued = f"{pop.as_of:%d%m%y}"  # the new card: kecamatan, date of issue, serial (domain rule KK-01)
    for i in rows.tolist():
        family = int(table.family[i])
        if family not in new_place:
            host = int(rng.integers(pop.n_families))
            kec = "".join(f"{part:02d}" for part in formats.kode_parts(pop.villages.code[pop.fam_village[host]])[:3])
            new_place[family] = (host, f"{kec}{issued}{int(rng.integers(1, 10_000)):04d}")
        host, kk = new_place[family]
        code = pop.villages.code[pop.fam_village[host]]
        parts = formats.kode_parts(code)
        row = {h: str(table.columns[h][i]) for h in table.header}
        row.update(NO_KK=kk, ALAMAT=str(pop.fam_alamat[host]), NO_RT=f"{int(pop.fam_rt[host]):03d}",
                   NO_RW=f"{int(pop.fam_rw[host]):03d}", NO_PROP=str(parts[0]), NO_KAB=str(parts[1]),
                   NO_KEC=str(parts[2]), NO_KEL=str(parts[3]), STATUS_HIDUP="HIDUP", TGL_MATI="")
        into.rows.append([row[h] for h in table.header])
        person_key = str(origin_pop.person_key(np.array([table.person[i]]))[0])
        family_key = str(origin_pop.family_key(np.array([family]))[0])
        new_person, new_family = f"{prefix}-{person_key}", f"{prefix}-{family_key}"
        into.records.append({"person_key": new_person, "family_key": new_family})
        person = persons.loc[person_key].to_dict()
        person.update(person_key=new_person, family_key=new_family, kode_desa=code, status="HIDUP", in_dtsen="False",
                      recipient="False", move_level="")
        into.persons.append({k: ("False" if k.startswith("flag_") else v) for k, v in person.items()})
        if new_family not in into.family_keys:
            into.family_keys.add(new_family)
            household = families.loc[family_key].to_dict()
            household.update(family_key=new_family, kode_desa=code, in_dtsen="False", pkh="False", bpnt="False",
                             pbi_jk="False", head_person_key=new_person, moved_away="False")
            into.families.append({k: ("False" if k.startswith("flag_") else v) for k, v in household.items()})
        level = "family" if bool(origin_pop.fam_moved[family]) else "person"
        movers.append({"origin_regency": origin, "origin_person_key": person_key,
                       "destination_regency": pop.regency.code, "destination_person_key": new_person,
                       "level": level})


def _write_arrivals(folder: Path, arrivals: _Arrivals) -> None:
    """Insert the arrivals' rows into the regency's civil-registry extract, before its truncated
    last row (the export still ends with one), and add them to its truth."""
    if not arrivals.rows:
        return
    (path,) = (folder / "dukcapil").glob("*.csv")
    relpath = f"dukcapil/{path.name}"
    text = path.read_text(encoding="utf-8")
    newline = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    body, last = text.rsplit(newline, 1)
    buf = io.StringIO()
    csv.writer(buf, delimiter=",", lineterminator=newline).writerows(arrivals.rows)
    path.write_text(body + newline + buf.getvalue() + last, encoding="utf-8")

    truth = folder / "_truth"
    junk = pd.read_csv(truth / "junk.csv", dtype={"source_row": "int64"})
    mine = (junk["source_file"] == relpath) & (junk["kind"] == "MALFORMED_ROW")
    first = int(junk.loc[mine, "source_row"].iloc[0])
    junk.loc[mine, "source_row"] = first + len(arrivals.rows)
    junk.to_csv(truth / "junk.csv", index=False)
    records = pd.DataFrame([{"feed": "dukcapil", "source_file": relpath, "source_row": first + i, **r}
                            for i, r in enumerate(arrivals.records)])
    _append_csv(truth / "records.csv", records)
    _append_csv(truth / "persons.csv", pd.DataFrame(arrivals.persons))
    _append_csv(truth / "families.csv", pd.DataFrame(arrivals.families))


def _append_csv(path: Path, rows: pd.DataFrame) -> None:
    header = pd.read_csv(path, nrows=0).columns.tolist()
    rows.reindex(columns=header).to_csv(path, mode="a", header=False, index=False)
