"""How two 16-digit identifiers (NIK, No. KK) differ: the typing errors a clerk makes.

A NIK mistyped once is one digit substituted or two adjacent digits swapped (Damerau distance
one between values of the same length). Anything further apart is treated as another person.
Pure functions, shared by the clustering guards and the linkage diagnostics.
"""

from __future__ import annotations

EQUAL = "equal"
ONE_DIGIT = "one_digit"
TRANSPOSED = "transposed"
OTHER = "other"
MISSING = "missing"


def id_edit(a: object, b: object) -> str:
    """`equal`, `one_digit` (one substitution), `transposed` (two adjacent digits swapped),
    `other`, or `missing` when either side has no value (None, NaN, empty)."""
    if not (isinstance(a, str) and isinstance(b, str) and a and b):
        return MISSING
    if a == b:
        return EQUAL
    if len(a) != len(b):
        return OTHER
    diff = edit_positions(a, b)
    if len(diff) == 1:
        return ONE_DIGIT
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return TRANSPOSED
    return OTHER


def edit_positions(a: str, b: str) -> list[int]:
    """Positions where two ids of the same length differ."""
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def is_typo_apart(a: str, b: str) -> bool:
    """One keystroke error apart: one digit substituted or two adjacent digits swapped."""
    return id_edit(a, b) in (ONE_DIGIT, TRANSPOSED)
