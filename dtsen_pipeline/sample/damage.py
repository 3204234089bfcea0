"""Record corruption: what feeds get wrong about a person, drawn per record.

Every person record written by a feed starts from the true registered values and passes
through these functions. They work on whole columns (arrays of person indices) and touch
only the randomly selected rows, so the cost stays proportional to the damage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dtsen_pipeline.sample.identifiers import digit_typo
from dtsen_pipeline.sample.names import VARIANT_KINDS, VARIANT_WEIGHTS, name_variant
from dtsen_pipeline.sample.population import Population, date_parts
from dtsen_pipeline.sample.regions import out_of_scope_villages

_KIND_P = np.array(VARIANT_WEIGHTS) / sum(VARIANT_WEIGHTS)


@dataclass
class Dob:
    """A column of written birth dates as integer parts."""

    y: np.ndarray
    m: np.ndarray
    d: np.ndarray


@dataclass
class DobShape:
    """Per written birth date: `precision` 0 full, 1 year and month, 2 year only; `other` written
    in another order than the feed's usual one; `variant` which spelling (0-2) of the shape."""

    precision: np.ndarray
    other: np.ndarray
    variant: np.ndarray


# What follows a separator typed into an address: words, so the record stays repairable (the
# field after ALAMAT, an RT number, tells where the surplus field came from).
ALAMAT_SUFFIXES = ("GG. MELATI", "DEKAT MASJID", "BLOK B", "SEBELAH BALAI PEKON", "JL. RAYA")


def _month_length(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    first = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(int)


class Damager:
    """Applies the damage rates of one feed to columns of person records."""

    def __init__(self, pop: Population, rng: np.random.Generator) -> None:
        self.pop = pop
        self.rng = rng

    def mask(self, n: int, rate: float) -> np.ndarray:
        """Boolean selection of about `rate` of n records."""
        return self.rng.random(n) < rate

    def names(self, pidx: np.ndarray, rate: float, base: np.ndarray | None = None) -> np.ndarray:
        """Registered names, with a variant (title, abbreviation, spelling, typo...) at `rate`."""
        out = (self.pop.name[pidx] if base is None else base).copy()
        hit = np.flatnonzero(self.mask(len(pidx), rate))
        if len(hit) == 0:
            return out
        kinds = self.rng.choice(len(VARIANT_KINDS), size=len(hit), p=_KIND_P)
        uu = self.rng.random((len(hit), 4))
        sex = self.pop.sex[pidx[hit]]
        father = self.pop.father_given[pidx[hit]]
        year = self.pop.dob[pidx[hit]].astype("datetime64[Y]").astype(int) + 1970
        for j, i in enumerate(hit.tolist()):
            kind = VARIANT_KINDS[kinds[j]]
            out[i] = name_variant(out[i], kind, int(sex[j]), father[j], uu[j], int(year[j]))
        return out

    def dob(self, pidx: np.ndarray, swap: float, day_typo: float, year_off: float) -> Dob:
        """Registered birth dates with day/month swaps, day typos and year off by one."""
        y, m, d = date_parts(self.pop.dob[pidx])
        y, m, d = y.copy(), m.copy(), d.copy()
        n = len(pidx)
        swappable = (d <= 12) & (d != m)
        share = max(swappable.mean(), 1e-9) if n else 1.0
        sw = swappable & self.mask(n, min(swap / share, 1.0))
        m[sw], d[sw] = d[sw].copy(), m[sw].copy()
        typo = self.mask(n, day_typo) & ~sw
        if typo.any():
            mlen = _month_length(y[typo], m[typo])
            old = d[typo]
            delta = self.rng.choice(np.array([-2, -1, 1, 2, 10, -10]), size=int(typo.sum()))
            new = old + delta
            new = np.where((new < 1) | (new > mlen), np.where(old < 28, old + 1, old - 1), new)
            d[typo] = new
        yo = self.mask(n, year_off) & ~sw & ~typo
        y[yo] += np.where(self.rng.random(int(yo.sum())) < 0.5, -1, 1)
        feb29 = (m == 2) & (d == 29) & ~((y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0)))
        d[feb29] = 28
        return Dob(y, m, d)

    def dob_shape(self, n: int, year_only: float, year_month: float, other_order: float) -> DobShape:
        """How much of each written birth date the agency knew, and which it wrote in another order."""
        u = self.rng.random(n)
        precision = np.where(u < year_only, 2, np.where(u < year_only + year_month, 1, 0))
        other = (precision == 0) & self.mask(n, other_order)
        return DobShape(precision, other, self.rng.integers(0, 3, n))

    def alamat_separator(self, n: int, rate: float) -> np.ndarray:
        """Records whose address gets an unquoted separator (with a suffix chosen per record)."""
        hit = self.mask(n, rate)
        return np.where(hit, self.rng.integers(0, len(ALAMAT_SUFFIXES), n), -1)

    def ids(self, values: np.ndarray, typo: float, missing: float = 0.0) -> np.ndarray:
        """16-digit identifiers with one-digit typos; missing ones become ''."""
        out = values.copy()
        n = len(out)
        hit = np.flatnonzero(self.mask(n, typo))
        uu = self.rng.random((len(hit), 2))
        for j, i in enumerate(hit.tolist()):
            out[i] = digit_typo(out[i], uu[j, 0], uu[j, 1])
        if missing > 0:
            out[self.mask(n, missing)] = ""
        return out

    def sex(self, pidx: np.ndarray, flip: float) -> np.ndarray:
        """Sex codes 1/2 with a few flipped (NIK_SEX_MISMATCH in the pipeline)."""
        s = self.pop.sex[pidx].copy()
        f = self.mask(len(pidx), flip)
        s[f] = 3 - s[f]
        return s

    def village_codes(
        self, vidx: np.ndarray, rate: float, unit: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dotted village code, village and kecamatan name per record; a few outside the regency.

        `unit` groups records (e.g. one family) so all rows of a unit move out together.
        """
        v = self.pop.villages
        code = v.code[vidx].copy()
        vname = v.name[vidx].copy()
        kname = v.kec_name[vidx].copy()
        outside = out_of_scope_villages(self.pop.regency.code)
        if unit is None:
            hit = self.mask(len(vidx), rate)
            pick = self.rng.integers(0, len(outside), int(hit.sum()))
        else:
            ukeys, inverse = np.unique(unit, return_inverse=True)
            hit = self.mask(len(ukeys), rate)[inverse]
            pick = self.rng.integers(0, len(outside), len(ukeys))[inverse][hit]
        code[hit] = [outside[k][0] for k in pick]
        vname[hit] = [outside[k][1] for k in pick]
        kname[hit] = [outside[k][2] for k in pick]
        return code, vname, kname
