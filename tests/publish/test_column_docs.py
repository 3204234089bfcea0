"""The golden column descriptions the UI shows come from the declared schema (golden_schema.yaml)."""

from dtsen_pipeline.publish.column_docs import describe, golden_descriptions
from dtsen_pipeline.publish.contract import load_contract


def test_every_declared_column_is_described_and_unknown_ones_are_none():
    described = golden_descriptions()
    contract = load_contract()
    assert set(described) == set(contract.tables) >= {"person", "person_source", "household", "flag", "id_change"}
    assert all(meaning for columns in described.values() for meaning in columns.values())
    assert "DEAD_RECIPIENT" not in described["flag"] and "flag" in described["flag"]
    meanings = describe("person", ["person_id", "not_declared"], described)
    assert meanings["person_id"] and meanings["not_declared"] is None
