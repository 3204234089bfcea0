"""Value formatting shared by the feed builders (dates, padded numbers, region parts).

Each feed spells the same value differently (feeds.md); these helpers keep the spelling
rules in one place and work on whole columns at once.
"""

from __future__ import annotations

import numpy as np


def iso(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> list[str]:
    """YYYY-MM-DD (DTSEN, verval)."""
    return [f"{a:04d}-{b:02d}-{c:02d}" for a, b, c in zip(y.tolist(), m.tolist(), d.tolist(), strict=True)]


def dmy(y: np.ndarray, m: np.ndarray, d: np.ndarray, sep: str) -> list[str]:
    """DD-MM-YYYY (Dukcapil) or DD/MM/YYYY (pekon)."""
    return [
        f"{c:02d}{sep}{b:02d}{sep}{a:04d}" for a, b, c in zip(y.tolist(), m.tolist(), d.tolist(), strict=True)
    ]


def rt_rw(values: np.ndarray, padded: np.ndarray) -> list[str]:
    """RT/RW as '003' or '3' (both occur, feeds.md)."""
    return [f"{v:03d}" if p else str(v) for v, p in zip(values.tolist(), padded.tolist(), strict=True)]


def kode_parts(code: str) -> tuple[int, int, int, int]:
    """'18.06.01.2001' -> (18, 6, 1, 2001), Dukcapil's unpadded integer parts."""
    a, b, c, d = code.split(".")
    return int(a), int(b), int(c), int(d)
