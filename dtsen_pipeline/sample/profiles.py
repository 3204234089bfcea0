"""Damage profiles: `base` (the generator as it always was) and `field`, designed separately.

`field` is written from what real deliveries show (docs/feeds.md, damage), not from `base`:
movers inside the kabupaten with stale records in the old village, adjacent-digit
transpositions and other Damerau errors in NIK / No. KK, spreadsheet damage of other kinds in
programme lists, names with dropped or added tokens and titles. Its extra steps run on the
built tables before they are written, from their own random streams, so `base` is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from dtsen_pipeline.sample.rates import RATES, Rates
from dtsen_pipeline.sample.writers import Table


@dataclass(frozen=True)
class FieldDamage:
    """Rates of the field profile's own damage kinds (per record unless said otherwise)."""

    moved_family_inside: float = 0.015  # families that moved to another village of the regency
    moved_person_inside: float = 0.025  # adults that joined a card in another village
    id_transposition: float = 0.012  # two adjacent digits swapped while typing (NIK, No. KK)
    id_substitution: float = 0.006  # one digit mistyped
    id_insert_delete: float = 0.002  # a digit typed twice or skipped: 17 or 15 digits
    xls_apostrophe: float = 0.05  # programme lists: '1806... (text-forcing apostrophe kept)
    xls_16th_zeroed: float = 0.01  # Excel's 15-digit precision: last digit became 0
    xls_spaced: float = 0.01  # NIK typed in groups: '1806 0123 ...' or with dashes
    name_title: float = 0.04  # H., HJ., BPK., IBU, S.PD added
    name_token_dropped: float = 0.05  # second or last name token left out
    name_typo: float = 0.03  # one letter doubled, dropped or swapped

    def scaled(self, factor: float) -> FieldDamage:
        """Record-level rates multiplied by `factor` (movers are population events, not scaled)."""
        keep = {"moved_family_inside", "moved_person_inside"}
        return replace(self, **{f.name: min(1.0, getattr(self, f.name) * factor)
                                for f in fields(self) if f.name not in keep})


# The field profile's rates for the knobs both profiles share; independent choices, not base x k.
FIELD_RATES = replace(
    RATES,
    nik_typo=0.008,  # fewer plain substitutions: transpositions take their place (FieldDamage)
    kk_typo=0.004,
    nik_missing_dtsen=0.015,
    name_variant=0.06,
    dob_swap=0.015,  # day/month swapped
    dob_day_typo=0.01,
    dob_year_off=0.02,  # ages estimated at enumeration: year one off is more common
    dob_year_only=0.02,  # older villagers with only a birth year
    dob_year_month=0.002,
    dob_other_order=0.01,
    dtsen_lists_moved=0.9,  # DTSEN keeps people who left the kabupaten even longer
    dtsen_family_registered_twice=0.02,
    xlsx_id_scientific=0.04,
    csv_id_dot_zero=0.005,
    alamat_separator=0.004,
)

PROFILES: tuple[str, ...] = ("base", "field")


def rates_for(profile: str) -> Rates:
    """The shared rates of `profile`."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return RATES if profile == "base" else FIELD_RATES


_ID_COLUMNS = {"NIK", "NO_KK", "NIK_KPM", "nik", "no_kk"}
_NAME_COLUMNS = {"NAMA", "NAMA_KPM", "nama"}
_TITLES = ("H.", "HJ.", "BPK.", "IBU", "S.PD")


def damerau(value: str, kind: str, u: float, d: int) -> str:
    """One Damerau edit of a digit string: transposition, substitution, insertion or deletion."""
    n = len(value)
    i = min(int(u * (n - 1)), n - 2)
    if kind == "transpose":
        if value[i] == value[i + 1]:
            i = next((j for j in range(n - 1) if value[j] != value[j + 1]), i)
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    if kind == "substitute":
        c = str((int(value[i]) + 1 + d % 9) % 10)
        return value[:i] + c + value[i + 1:]
    if kind == "insert":
        return value[:i] + value[i] + value[i:]
    return value[:i] + value[i + 1:]


def damerau_name(value: str, u: float) -> str:
    """A name with two adjacent letters swapped (one typing slip)."""
    return _name(value, "typo", u)


def _name(value: str, kind: str, u: float) -> str:
    tokens = value.split()
    if kind == "title":
        return f"{_TITLES[int(u * len(_TITLES))]} {value}"
    if kind == "drop" and len(tokens) > 1:
        del tokens[1 + int(u * (len(tokens) - 1))]
        return " ".join(tokens)
    if kind == "typo" and len(value) > 3:
        i = 1 + int(u * (len(value) - 3))
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    return value


def damage_table(table: Table, dmg: FieldDamage, rng: np.random.Generator) -> None:
    """Apply the field profile's identifier, spreadsheet and name damage to one table in place."""
    n = len(table.person)
    for col in table.header:
        if col not in table.columns or (col not in _ID_COLUMNS and col not in _NAME_COLUMNS):
            continue
        values = list(table.columns[col])
        u, d, pick = rng.random(n), rng.integers(0, 9, n), rng.random(n)
        for i, v in enumerate(values):
            if not isinstance(v, str) or not v:
                continue
            if col in _NAME_COLUMNS:
                r = pick[i]
                kind = ("title" if r < dmg.name_title else "drop" if r < dmg.name_title + dmg.name_token_dropped
                        else "typo" if r < dmg.name_title + dmg.name_token_dropped + dmg.name_typo else "")
                values[i] = _name(v, kind, u[i]) if kind else v
                continue
            if not (v.isdigit() and len(v) == 16):
                continue
            values[i] = _identifier(v, pick[i], u[i], int(d[i]), dmg, table.feed == "bansos")
        table.columns[col] = np.array(values, dtype=object)


def _identifier(v: str, r: float, u: float, d: int, dmg: FieldDamage, spreadsheet: bool) -> str:
    edges = np.cumsum([dmg.id_transposition, dmg.id_substitution, dmg.id_insert_delete / 2,
                       dmg.id_insert_delete / 2])
    kinds = ("transpose", "substitute", "insert", "delete")
    k = int(np.searchsorted(edges, r, side="right"))
    if k < 4:
        return damerau(v, kinds[k], u, d)
    if not spreadsheet:
        return v
    r2 = (r - edges[-1]) / max(1e-12, 1 - edges[-1])
    if r2 < dmg.xls_apostrophe:
        return "'" + v
    if r2 < dmg.xls_apostrophe + dmg.xls_16th_zeroed:
        return v[:15] + "0"
    if r2 < dmg.xls_apostrophe + dmg.xls_16th_zeroed + dmg.xls_spaced:
        sep = " " if d % 2 else "-"
        return sep.join(v[j:j + 4] for j in range(0, 16, 4))
    return v


FIELD_DAMAGE = FieldDamage()
