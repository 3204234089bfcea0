"""The golden tables' column descriptions, from their data dictionary (docs/golden.md).

The page documents each published table in a section `` ## `golden.<table>` `` whose first table
lists `| column(s) | meaning |`, several columns sharing a row where they share a meaning, and
the columns every table carries under "Columns of every golden table". Dagster shows the result
as each golden asset's column schema, so the UI and the docs say the same thing.

A deployment installs the package, not the docs: the parsed page ships as `golden_columns.json`
beside this module (`python -m dtsen_pipeline.publish.column_docs` regenerates it; a test fails
when the page and the file disagree).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from dtsen_pipeline.config import PROJECT_ROOT

GOLDEN_DOC = PROJECT_ROOT / "docs" / "golden.md"
GOLDEN_COLUMNS = Path(__file__).with_name("golden_columns.json")
EVERY_TABLE = "*"
_SECTION = re.compile(r"^## (?:`golden\.(?P<table>\w+)`|(?P<every>Columns of every golden table))", re.M)
_ROW = re.compile(r"^\|\s*(?P<columns>`[^|]+)\|\s*(?P<meaning>.*?)\s*\|\s*$", re.M)


def column_descriptions(text: str) -> dict[str, dict[str, str]]:
    """{table (or "*" for every table): {column: meaning}} from the page's column tables."""
    out: dict[str, dict[str, str]] = {}
    sections = list(_SECTION.finditer(text))
    for i, section in enumerate(sections):
        end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
        body = text[section.end():end]
        table = re.search(r"^(?:\|.*\n?)+", body, re.M)  # the section's first table
        if table is None:
            continue
        described = out.setdefault(EVERY_TABLE if section["every"] else section["table"], {})
        for row in _ROW.finditer(table[0]):
            for column in re.findall(r"`(\w+)`", row["columns"]):
                described[column] = row["meaning"]
    return out


def golden_descriptions(path: Path = GOLDEN_COLUMNS) -> dict[str, dict[str, str]]:
    """The descriptions as shipped with the package (see the module docstring)."""
    return json.loads(path.read_text(encoding="utf-8"))


def write_golden_columns(doc: Path = GOLDEN_DOC, out: Path = GOLDEN_COLUMNS) -> None:
    out.write_text(json.dumps(column_descriptions(doc.read_text(encoding="utf-8")), indent=1, sort_keys=True,
                              ensure_ascii=False) + "\n", encoding="utf-8")


def describe(table: str, columns: list[str], descriptions: dict[str, dict[str, str]]) -> dict[str, str | None]:
    """Each column's meaning for golden.<table> (None where the dictionary does not describe it)."""
    own, every = descriptions.get(table, {}), descriptions.get(EVERY_TABLE, {})
    return {c: own.get(c, every.get(c)) for c in columns}


if __name__ == "__main__":
    write_golden_columns()
