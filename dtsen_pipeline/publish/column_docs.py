"""The golden tables' column descriptions, read from their data dictionary (docs/golden.md).

The page documents each published table in a section `` ## `golden.<table>` `` whose first table
lists `| column(s) | meaning |`, several columns sharing a row where they share a meaning, and
the columns every table carries under "Columns of every golden table". Dagster shows the result
as each golden asset's column schema, so the UI and the docs say the same thing.
"""

from __future__ import annotations

import re
from pathlib import Path

from dtsen_pipeline.config import PROJECT_ROOT

GOLDEN_DOC = PROJECT_ROOT / "docs" / "golden.md"
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


def golden_descriptions(path: Path = GOLDEN_DOC) -> dict[str, dict[str, str]]:
    """The page's descriptions; none where a deployment ships without the docs (the columns are
    still listed, with their types), so publication never depends on a documentation file."""
    if not path.is_file():
        return {}
    return column_descriptions(path.read_text(encoding="utf-8"))


def describe(table: str, columns: list[str], descriptions: dict[str, dict[str, str]]) -> dict[str, str | None]:
    """Each column's meaning for golden.<table> (None where the dictionary does not describe it)."""
    own, every = descriptions.get(table, {}), descriptions.get(EVERY_TABLE, {})
    return {c: own.get(c, every.get(c)) for c in columns}
