"""NumPy's set operations against dtsen_pipeline.int_sets on a regency's number of records.

    python benchmarks/bench_int_sets.py [n]

Random int64 codes (1.8 million by default, 1% of them changed in the second array); prints
seconds per call and whether the answers agree.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from dtsen_pipeline import int_sets


def _seconds(call) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main(n: int) -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(0, 10**12, n)
    others = values.copy()
    others[::100] += 1
    pairs = {
        "isin": (lambda: np.isin(values, others), lambda: int_sets.isin(values, others)),
        "unique": (lambda: np.unique(values), lambda: int_sets.unique_sorted(values)),
        "setdiff1d": (lambda: np.setdiff1d(values, others), lambda: int_sets.setdiff(values, others)),
        "intersect1d": (lambda: np.intersect1d(values, others), lambda: int_sets.intersect(values, others)),
    }
    print(f"{n:,} int64 values, numpy {np.__version__}")
    for name, (numpy_call, ours) in pairs.items():
        numpy_s, expected = _seconds(numpy_call)
        ours_s, got = _seconds(ours)
        print(f"  {name:12s} numpy {numpy_s:6.3f} s   int_sets {ours_s:6.3f} s   same: {np.array_equal(expected, got)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_800_000)
