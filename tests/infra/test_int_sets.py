"""dtsen_pipeline.int_sets gives NumPy's answers (it only replaces NumPy's slower hashing)."""

from __future__ import annotations

import numpy as np
import pytest

from dtsen_pipeline import int_sets


def _arrays(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.integers(-50, 500, size=5_000)  # many repeats, negative codes (-1: not found) too
    others = rng.integers(0, 700, size=800)
    return values, others


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_answers_as_numpy(seed: int) -> None:
    values, others = _arrays(seed)
    assert np.array_equal(int_sets.isin(values, others), np.isin(values, others))
    assert np.array_equal(int_sets.unique_sorted(values), np.unique(values))
    assert np.array_equal(int_sets.setdiff(values, others), np.setdiff1d(values, others))
    assert np.array_equal(int_sets.intersect(values, others), np.intersect1d(values, others))


def test_empty_arrays_and_shapes() -> None:
    empty = np.array([], dtype=np.int64)
    some = np.array([3, 1, 3, 2], dtype=np.int64)
    assert int_sets.isin(empty, some).dtype == bool and len(int_sets.isin(empty, some)) == 0
    assert not int_sets.isin(some, empty).any()
    assert np.array_equal(int_sets.unique_sorted(empty), np.unique(empty))
    assert np.array_equal(int_sets.setdiff(some, empty), np.array([1, 2, 3]))
    assert len(int_sets.intersect(some, empty)) == 0
    grid = np.array([[1, 5], [7, 1]])
    assert np.array_equal(int_sets.isin(grid, [1, 7]), np.isin(grid, [1, 7]))
    assert int_sets.unique_sorted(some).dtype == np.int64
