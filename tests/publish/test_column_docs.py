"""The golden column descriptions are read from docs/golden.md's column tables."""

from dtsen_pipeline.publish.column_docs import EVERY_TABLE, column_descriptions, describe, golden_descriptions

PAGE = """# Golden

## Columns of every golden table

| column | meaning |
|---|---|
| `run_id` | the publishing run |

## `golden.person` (one row per person)

| column | meaning |
|---|---|
| `person_id` | stable id |
| `nik`, `nama` | surviving values |

### Flags

| flag | meaning |
|---|---|
| `DEAD_RECIPIENT` | not a column |
"""


def test_rows_naming_several_columns_describe_each_and_later_tables_are_ignored():
    described = column_descriptions(PAGE)
    assert described["person"] == {"person_id": "stable id", "nik": "surviving values", "nama": "surviving values"}
    assert described[EVERY_TABLE] == {"run_id": "the publishing run"}
    assert describe("person", ["nik", "run_id", "extra"], described) == {
        "nik": "surviving values", "run_id": "the publishing run", "extra": None}


def test_the_project_page_describes_the_golden_tables():
    described = golden_descriptions()
    assert {"person", "person_source", "household", "flag", "id_change"} <= set(described)
    assert "DEAD_RECIPIENT" not in described["flag"] and "flag" in described["flag"]


def test_a_deployment_without_the_docs_gets_no_descriptions(tmp_path):
    assert golden_descriptions(tmp_path / "missing.md") == {}
