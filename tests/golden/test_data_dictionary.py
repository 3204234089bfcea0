"""The data dictionary (docs/golden.md, linked from the README) documents every golden column,
flag, reason and worklist column the code produces."""

import re

import pytest
import sqlalchemy as sa

from dtsen_pipeline.config import PROJECT_ROOT
from dtsen_pipeline.golden.flags import FLAGS, REASON_CODES
from dtsen_pipeline.golden.sql_models import discover_models
from dtsen_pipeline.reports.worklists import WORKLIST_COLUMNS
from dtsen_pipeline.warehouse import read_table
from tests.golden.world import World

DOC = PROJECT_ROOT / "docs" / "golden.md"


@pytest.fixture(scope="module")
def documented() -> set[str]:
    text = re.sub(r"```.*?```", "", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)  # code blocks
    return {name for quoted in re.findall(r"`([^`\n]+)`", text) for name in re.split(r"[\s,/()]+", quoted)}


@pytest.fixture(scope="module")
def build_columns():
    w = World()
    w.add("dukcapil", "a", nik=w.nik(), no_kk="1806011701200001", hubungan="KEPALA_KELUARGA")
    engine = sa.create_engine("duckdb:///:memory:")
    w.build(engine)
    tables = [m.table for m in discover_models() if m.schema == "build"]
    columns = {t: list(read_table(engine, "build", t).columns) for t in tables}
    engine.dispose()
    return columns


def test_the_readme_links_the_dictionary():
    assert "docs/golden.md" in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_golden_table_and_column_is_documented(build_columns, documented):
    text = DOC.read_text(encoding="utf-8")
    assert set(build_columns) == {"person", "person_source", "household", "flag", "id_change"}
    for table, columns in build_columns.items():
        assert f"`golden.{table}`" in text, table
        missing = [c for c in columns if c not in documented]
        assert not missing, f"golden.{table}: {missing} not in docs/golden.md"


def test_every_flag_and_reason_is_documented(documented):
    for f in FLAGS:
        assert f.code in documented and f.column in documented, f.code
    assert not [r for r in REASON_CODES if r not in documented]


def test_every_worklist_column_is_documented(documented):
    assert not [c for c in WORKLIST_COLUMNS if c not in documented]
