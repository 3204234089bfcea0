"""docs/golden.md's column tables, generated from the declared schema (golden_schema.yaml).

`python -m dtsen_pipeline.publish.golden_doc` rewrites every block between
`<!-- golden_schema.yaml: <table> -->` and `<!-- end golden_schema.yaml -->`; tests/test_docs.py
fails when the page and the declaration differ, so the dictionary is the contract.
"""

from __future__ import annotations

import re

from dtsen_pipeline.config import PROJECT_ROOT
from dtsen_pipeline.publish.contract import Contract, DeclaredColumn, load_contract

DOC_FILE = PROJECT_ROOT / "docs" / "golden.md"
_BLOCK = re.compile(r"(<!-- golden_schema\.yaml: (\w+) -->\n)(.*?)(<!-- end golden_schema\.yaml -->)", re.DOTALL)


def column_table(contract: Contract, table: str) -> str:
    """The Markdown table of a declared table: consecutive columns sharing a meaning share a row."""
    rows: list[tuple[list[DeclaredColumn], str]] = []
    for column in contract.tables[table]:
        if rows and rows[-1][1] == column.meaning:
            rows[-1][0].append(column)
        else:
            rows.append(([column], column.meaning))
    lines = ["| column (type) | meaning |", "|---|---|"]
    for columns, meaning in rows:
        parts, run = [], []
        for i, column in enumerate(columns):
            run.append(f"`{column.name}`")
            if i + 1 == len(columns) or columns[i + 1].type != column.type:
                parts.append(f"{', '.join(run)} ({column.type})")
                run = []
        lines.append(f"| {', '.join(parts)} | {meaning} |")
    return "\n".join(lines) + "\n"


def render_doc(text: str, contract: Contract) -> str:
    """docs/golden.md with every generated column table rewritten from the contract."""
    return _BLOCK.sub(lambda m: m.group(1) + column_table(contract, m.group(2)) + m.group(4), text)


def doc_tables(text: str) -> list[str]:
    """The tables docs/golden.md has a generated column table for."""
    return [m.group(2) for m in _BLOCK.finditer(text)]


if __name__ == "__main__":
    DOC_FILE.write_text(render_doc(DOC_FILE.read_text(encoding="utf-8"), load_contract()), encoding="utf-8")
