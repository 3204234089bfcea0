"""Orchestration: population -> five feeds -> truth, written under one output directory.

Kept separate from the builders so the order of the steps (and therefore which random
stream feeds which file) is visible in one place.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dtsen_pipeline.sample.context import Context
from dtsen_pipeline.sample.feed_bansos import build_bansos
from dtsen_pipeline.sample.feed_dtsen import build_dtsen
from dtsen_pipeline.sample.feed_dukcapil import build_dukcapil
from dtsen_pipeline.sample.feed_pekon import build_pekon
from dtsen_pipeline.sample.feed_verval import build_verval
from dtsen_pipeline.sample.flag_truth import flag_truth
from dtsen_pipeline.sample.moves import apply_to_dukcapil, apply_to_pekon, draw_moves, moves_frame
from dtsen_pipeline.sample.population import build_population
from dtsen_pipeline.sample.profiles import FIELD_DAMAGE, damage_table, rates_for
from dtsen_pipeline.sample.rates import Rates
from dtsen_pipeline.sample.regions import KABUPATEN, regency
from dtsen_pipeline.sample.reregistration import change_second_registrations
from dtsen_pipeline.sample.truth import write_field_truth, write_truth
from dtsen_pipeline.sample.writers import Table, Written, write_table

FEEDS: tuple[str, ...] = ("dtsen", "dukcapil", "bansos", "pekon", "verval")
OUTPUT_DIRS: tuple[str, ...] = (*FEEDS, "_truth")
DEFAULT_AS_OF = date(2026, 11, 15)


@dataclass(frozen=True)
class SampleSummary:
    """Counts only (never personal data), for the CLI and for tests."""

    persons: int
    families: int
    dtsen_records: int
    dukcapil_records: int
    bansos_files: int
    bansos_records: int
    pekon_files: int
    pekon_records: int
    verval_files: int
    verval_records: int
    junk_records: int
    truth_records: int

    def lines(self) -> list[str]:
        """Human-readable 'name: value' lines."""
        return [f"{k}: {v}" for k, v in self.__dict__.items()]


def _prepare(out_dir: Path, overwrite: bool) -> None:
    existing = [d for d in OUTPUT_DIRS if (out_dir / d).exists() and any((out_dir / d).iterdir())]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out_dir} already holds {', '.join(existing)}; pass overwrite=True (--overwrite)"
        )
    for d in existing:
        shutil.rmtree(out_dir / d)
    out_dir.mkdir(parents=True, exist_ok=True)


def generate(
    persons: int,
    seed: int,
    out_dir: Path,
    as_of: date = DEFAULT_AS_OF,
    *,
    overwrite: bool = False,
    rates: Rates | None = None,
    damage_scale: float = 1.0,
    profile: str = "base",
    kabupaten: str = KABUPATEN,
) -> SampleSummary:
    """Write a deterministic sample of the five feeds plus `_truth/` for `persons` people living in
    `kabupaten`, a Lampung kabupaten/kota by Kemendagri code (default 18.06 Tanggamus).

    `damage_scale` multiplies every record-damage rate (`Rates.scaled`), e.g. 3 to see the rarer
    damage (partial dates, separators in addresses) often in a small sample. `profile` 'field'
    adds the independently designed damage of profiles.py; 'base' is the generator as before."""
    out_dir = Path(out_dir)
    regency(kabupaten)  # rejects a code outside Lampung before anything is written
    profile_rates = rates_for(profile)  # also rejects an unknown profile
    rates = profile_rates if rates is None else rates
    field_dmg = FIELD_DAMAGE.scaled(damage_scale) if profile == "field" else None
    if damage_scale != 1.0:
        rates = rates.scaled(damage_scale)
    _prepare(out_dir, overwrite)
    pop = build_population(persons, seed, as_of, rates, kabupaten)
    ctx = Context(pop=pop, rates=rates, seed=seed, as_of=as_of)
    moves = draw_moves(pop, ctx.rng("field.moves"), field_dmg.moved_family_inside,
                       field_dmg.moved_person_inside) if field_dmg is not None else None

    def field(t: Table) -> Table:
        """The field profile's own damage; the civil registry only gets the movers' new place."""
        if field_dmg is not None and moves is not None:
            if t.feed == "dukcapil":
                apply_to_dukcapil(t, pop, moves)
            else:
                damage_table(t, field_dmg, ctx.rng(f"field.damage.{t.relpath}"))
        return t

    dtsen = build_dtsen(ctx)
    rereg = None
    if field_dmg is not None:
        rereg = change_second_registrations(dtsen, pop, ctx.rng("field.reregistration"))
    written: list[Written] = [write_table(field(dtsen.table), out_dir)]
    dtsen.table.columns = {}
    written.append(write_table(field(build_dukcapil(ctx)), out_dir))
    written.extend(write_table(field(t), out_dir) for t in build_bansos(ctx))
    pekon = build_pekon(ctx)
    if moves is not None:
        apply_to_pekon(pekon, pop, moves)
    written.extend(write_table(field(t), out_dir) for t in pekon)
    verval = build_verval(ctx, dtsen)
    verval_written = [write_table(t, out_dir) for t in verval.tables]
    flags = flag_truth(pop, written, dtsen, moves)
    counts = write_truth(out_dir, pop, written, verval_written, verval, dtsen.listed, flags)
    if moves is not None and rereg is not None:
        write_field_truth(out_dir, moves_frame(pop, moves), rereg)

    def records(feed: str) -> int:
        return int(sum(len(w.source_row) for w in written if w.feed == feed))

    return SampleSummary(
        persons=pop.n_persons,
        families=pop.n_families,
        dtsen_records=records("dtsen"),
        dukcapil_records=records("dukcapil"),
        bansos_files=sum(w.feed == "bansos" for w in written),
        bansos_records=records("bansos"),
        pekon_files=sum(w.feed == "pekon" for w in written),
        pekon_records=records("pekon"),
        verval_files=len(verval_written),
        verval_records=int(sum(len(w.source_row) for w in verval_written)),
        junk_records=counts["junk"],
        truth_records=counts["records"],
    )


__all__ = ["DEFAULT_AS_OF", "FEEDS", "SampleSummary", "generate"]
