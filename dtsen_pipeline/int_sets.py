"""Set operations on large integer arrays, through pandas' hash tables.

NumPy 2.4's `np.isin`, `np.unique`, `np.setdiff1d` and `np.intersect1d` took 1.6-1.8 s each for
1.8 million int64 values (a regency's person records) on the 2-core machine; pandas' hash tables
give the same answers in 0.17-0.27 s (`python benchmarks/bench_int_sets.py`). The results are
NumPy's: boolean masks in the order of `values`, unique values sorted ascending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def isin(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """`np.isin(values, candidates)`: for each value, whether it is among the candidates."""
    values = np.asarray(values)
    if values.size == 0:
        return np.zeros(values.shape, dtype=bool)
    return pd.Series(values.ravel()).isin(np.asarray(candidates).ravel()).to_numpy(dtype=bool).reshape(values.shape)


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """`np.unique(values)`: the distinct values, ascending."""
    values = np.asarray(values).ravel()
    return np.sort(pd.unique(values)) if values.size else values.copy()


def setdiff(values: np.ndarray, others: np.ndarray) -> np.ndarray:
    """`np.setdiff1d(values, others)`: the distinct values not among the others, ascending."""
    distinct = unique_sorted(values)
    return distinct[~isin(distinct, others)]


def intersect(values: np.ndarray, others: np.ndarray) -> np.ndarray:
    """`np.intersect1d(values, others)`: the distinct values also among the others, ascending."""
    distinct = unique_sorted(values)
    return distinct[isin(distinct, others)]
