"""The golden tables' column descriptions for the Dagster UI (`dagster/column_schema`).

They come from the declared schema (`publish/golden_schema.yaml`, `contract.load_contract`), the
same file publication checks against and docs/golden.md's column tables are generated from: one
source, shipped with the package, so the UI, the contract and the docs say the same thing.
"""

from __future__ import annotations

from dtsen_pipeline.publish.contract import Contract, load_contract


def golden_descriptions(contract: Contract | None = None) -> dict[str, dict[str, str]]:
    """{table: {column: meaning}} of every declared golden table."""
    contract = contract or load_contract()
    return {table: {c.name: c.meaning for c in columns} for table, columns in contract.tables.items()}


def describe(table: str, columns: list[str], descriptions: dict[str, dict[str, str]]) -> dict[str, str | None]:
    """Each column's meaning for golden.<table> (None where the declaration does not describe it)."""
    own = descriptions.get(table, {})
    return {c: own.get(c) for c in columns}
