"""Freed heap memory goes back to the operating system between steps."""

import sys

import numpy as np
import pytest

from dtsen_pipeline.memory import release_freed_memory


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux, where the pipeline runs)")
def test_memory_a_step_freed_is_returned():
    blocks = [np.ones(12_000) for _ in range(20_000)]  # ~1.9 GB in 96 kB blocks: heap, not mmap
    keep = np.ones(10)  # allocated last: the heap's top stays in use, so only trimming can return the rest
    held = _resident_mb()
    del blocks
    freed_but_kept = _resident_mb()
    assert release_freed_memory()
    released = _resident_mb()
    assert held - released > 1000, (held, freed_but_kept, released)
    assert keep.sum() == 10
