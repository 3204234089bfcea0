"""Value formatting shared by the feed builders (dates, padded numbers, region parts).

Each feed spells the same value differently (docs/feeds.md); these helpers keep the spelling
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
    """RT/RW as '003' or '3' (both occur, docs/feeds.md)."""
    return [f"{v:03d}" if p else str(v) for v, p in zip(values.tolist(), padded.tolist(), strict=True)]


def kode_parts(code: str) -> tuple[int, int, int, int]:
    """'18.06.01.2001' -> (18, 6, 1, 2001), Dukcapil's unpadded integer parts."""
    a, b, c, d = code.split(".")
    return int(a), int(b), int(c), int(d)


def birth_dates(y: np.ndarray, m: np.ndarray, d: np.ndarray, style: str, precision: np.ndarray,
                other: np.ndarray, variant: np.ndarray) -> list[str]:
    """Birth dates as each agency writes them, partial and reordered ones included (issue #10).

    `style` is the feed's usual order: `iso` (DTSEN: YYYY-MM-DD; partial as 1985-00-00, 1985,
    1985-07-00, 1985-07; another order YYYY/MM/DD or YYYYMMDD), `dmy/` (pekon: DD/MM/YYYY; partial
    00/00/1985, --/--/1985, 1985, 00/07/1985, 07/1985; another order MM/DD/YYYY, only where the
    day is above 12, so the date stays readable) or `dmy-` (civil registry: partial 00-00-1985,
    00-07-1985). `precision` 0 full, 1 year-month, 2 year; `variant` picks the spelling.
    """
    out = []
    for a, b, c, p, o, v in zip(y.tolist(), m.tolist(), d.tolist(), precision.tolist(), other.tolist(),
                                variant.tolist(), strict=True):
        if style == "iso":
            if p == 2:
                text = f"{a:04d}-00-00" if v != 1 else f"{a:04d}"
            elif p == 1:
                text = f"{a:04d}-{b:02d}-00" if v != 1 else f"{a:04d}-{b:02d}"
            elif o:
                text = f"{a:04d}/{b:02d}/{c:02d}" if v != 1 else f"{a:04d}{b:02d}{c:02d}"
            else:
                text = f"{a:04d}-{b:02d}-{c:02d}"
        else:
            sep = style[-1]
            if p == 2:
                text = (f"00{sep}00{sep}{a:04d}", f"--{sep}--{sep}{a:04d}", f"{a:04d}")[v if sep == "/" else 0]
            elif p == 1:
                text = f"00{sep}{b:02d}{sep}{a:04d}" if v != 1 or sep != "/" else f"{b:02d}/{a:04d}"
            elif o and sep == "/" and c > 12:
                text = f"{b:02d}/{c:02d}/{a:04d}"
            else:
                text = f"{c:02d}{sep}{b:02d}{sep}{a:04d}"
        out.append(text)
    return out
