"""Shared state of one generator run: the population, the dates and seeded random streams.

Each feed draws from its own named stream, so changing one feed's logic does not reshuffle
the others, and the same seed always gives the same bytes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from dtsen_pipeline.sample.population import MATI, PINDAH, Population
from dtsen_pipeline.sample.rates import Rates


@dataclass
class Context:
    """Inputs every feed builder needs."""

    pop: Population
    rates: Rates
    seed: int
    as_of: date
    in_dukcapil: np.ndarray = field(init=False)
    dukcapil_dead: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        rng = self.rng("coverage.dukcapil")
        pop = self.pop
        n = pop.n_persons
        baby = (np.datetime64(self.as_of, "D") - pop.dob).astype(int) < 365
        missing = rng.random(n) < np.where(baby, 0.10, (1 - self.rates.dukcapil_persons) * 0.85)
        moved_out = (pop.status == PINDAH) & (rng.random(n) < self.rates.dukcapil_drops_moved)
        self.in_dukcapil = ~(missing | moved_out)
        self.dukcapil_dead = (pop.status == MATI) & (rng.random(n) < self.rates.dukcapil_records_death)

    def rng(self, name: str) -> np.random.Generator:
        """An independent generator for `name`, fixed by the run seed."""
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    @property
    def created(self) -> datetime:
        """Timestamp stored in .xlsx metadata (fixed, so files are byte-identical per seed)."""
        return datetime(self.as_of.year, self.as_of.month, self.as_of.day, 8, 0, 0)

    def hubungan_text(self, pidx: np.ndarray, rel: np.ndarray | None = None) -> np.ndarray:
        """Dukcapil/pekon relationship words for records of persons `pidx`."""
        rel = self.pop.rel[pidx] if rel is None else rel
        sex = self.pop.sex[pidx]
        out = np.select(
            [
                rel == 1,
                (rel == 2) & (sex == 2),
                rel == 2,
                rel == 3,
                rel == 4,
                rel == 5,
                (rel == 6) & (pidx % 2 == 0),
                rel == 6,
                rel == 7,
                (rel == 8) & (pidx % 5 == 0),
            ],
            [
                "KEPALA KELUARGA",
                "ISTRI",
                "SUAMI",
                "ANAK",
                "MENANTU",
                "CUCU",
                "ORANG TUA",
                "MERTUA",
                "PEMBANTU",
                "LAINNYA",
            ],
            "FAMILI LAIN",
        )
        return out.astype(object)


def month_shift(d: date, months: int) -> date:
    """First day of the month `months` away from d's month."""
    idx = d.year * 12 + d.month - 1 + months
    return date(idx // 12, idx % 12 + 1, 1)
