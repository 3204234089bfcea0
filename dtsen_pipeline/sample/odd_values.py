"""Partial and reordered birth dates and separators typed into addresses (issue #10).

Each feed draws these from its own named random stream (per file), so adding them left every
other damage of the sample as it was, and the same seed and scale give the same bytes.
"""

from __future__ import annotations

import numpy as np

from dtsen_pipeline.sample import formats
from dtsen_pipeline.sample.context import Context
from dtsen_pipeline.sample.damage import ALAMAT_SUFFIXES, Damager, Dob


def birth_dates(ctx: Context, stream: str, dob: Dob, style: str, factor: float) -> list[str]:
    """The feed's written birth dates: year-only, year-month and other-order ones at the
    `dob_*` rates times `factor` (village systems 2, DTSEN 1, the civil registry 0.1)."""
    rates = ctx.rates
    shaper = Damager(ctx.pop, ctx.rng(stream + ".dates"))
    shape = shaper.dob_shape(len(dob.y), min(1.0, rates.dob_year_only * factor),
                             min(1.0, rates.dob_year_month * factor), min(1.0, rates.dob_other_order * factor))
    return formats.birth_dates(dob.y, dob.m, dob.d, style, shape.precision, shape.other, shape.variant)


def split_addresses(ctx: Context, stream: str, alamat: np.ndarray, sep: str, factor: float = 1.0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Addresses with `<sep> <words>` typed into a few (written unquoted by the CSV writer), and
    the mask of those records."""
    pick = Damager(ctx.pop, ctx.rng(stream + ".alamat")).alamat_separator(
        len(alamat), min(1.0, ctx.rates.alamat_separator * factor))
    hit = pick >= 0
    out = np.asarray(alamat, dtype=object).copy()
    suffixes = np.array(ALAMAT_SUFFIXES, dtype=object)
    out[hit] = [f"{a}{sep} {s}" for a, s in zip(out[hit].tolist(), suffixes[pick[hit]].tolist(), strict=True)]
    return out, hit
