"""Hand each GX metric on a pandas batch only the columns its domain names.

GX's pandas engine computes every column metric on the whole batch: before it looks at the one
column, it filters every column of the frame (rows with a value, rows of a condition). A staging
suite has about 50 expectations over some 25 columns and 600,000 rows at regency scale, so the
suites spent most of their time copying columns no expectation at hand reads (2 of the 7 s of
the DTSEN staging suite; the suites run one at a time, under a lock). `narrow_compute_domains`
wraps the engine's `get_compute_domain` so that a column, column-pair or multicolumn domain's
data is only those columns, after the row filtering GX applies on the whole frame (a row
condition may name any column). Table domains keep the whole frame. The outcomes are GX's own:
`tests/quality/test_gx_domains.py` runs every suite with and without it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine

_ORIGINAL = PandasExecutionEngine.get_compute_domain


def domain_columns(domain_type: str | MetricDomainTypes, accessor: dict[str, Any]) -> list[str] | None:
    """The columns a column, column-pair or multicolumn domain reads; None for any other domain."""
    kind = MetricDomainTypes(domain_type)
    if kind == MetricDomainTypes.COLUMN:
        return [accessor["column"]]
    if kind == MetricDomainTypes.COLUMN_PAIR:
        return [accessor["column_A"], accessor["column_B"]]
    if kind == MetricDomainTypes.MULTICOLUMN:
        return list(accessor["column_list"])
    return None


def _narrowed(original: Callable) -> Callable:
    @functools.wraps(original)
    def get_compute_domain(self, domain_kwargs, domain_type, accessor_keys=None):
        data, compute_kwargs, accessor_kwargs = original(self, domain_kwargs, domain_type, accessor_keys)
        columns = domain_columns(domain_type, accessor_kwargs)
        if columns is not None and all(column in data.columns for column in columns):
            data = data[columns]  # a missing column stays GX's to report
        return data, compute_kwargs, accessor_kwargs

    get_compute_domain.narrowed = True
    return get_compute_domain


def narrow_compute_domains(enabled: bool = True) -> None:
    """Install (or, `enabled=False`, remove) the narrowing; idempotent."""
    PandasExecutionEngine.get_compute_domain = _narrowed(_ORIGINAL) if enabled else _ORIGINAL


def narrowing_installed() -> bool:
    return getattr(PandasExecutionEngine.get_compute_domain, "narrowed", False)
