"""The golden tables' published schema is a contract with downstream teams (issue #14, item 10).

`golden_schema.yaml` beside this module declares every published table's columns, their types
(portable names: text, integer, number, boolean, date, timestamp) and meanings, under one
`version`. Before publication changes anything, `check_contract` compares three column lists
per table: what this run would publish, what the contract declares, and what is published now.

- a column the run adds (not declared, not published) is allowed and announced;
- a declared column the run would not publish, or would publish with another type, blocks
  publication: the model and the contract disagree (a dropped, renamed or retyped column);
- a published column the run would drop or retype blocks publication unless the contract's
  version differs from the one the last publication recorded (audit.run.schema_version), i.e.
  the declaration and its version were changed together, on purpose.

The version and the changes (`+col`, `-col`, `~col old->new` per table) go into audit.run.
Only column names and types are handled here, never values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dtsen_pipeline.publish.columns import Columns

CONTRACT_FILE = Path(__file__).with_name("golden_schema.yaml")
TYPES = ("text", "integer", "number", "boolean", "date", "timestamp", "timestamptz")
_CANONICAL = {
    "varchar": "text", "text": "text", "character varying": "text", "string": "text", "char": "text",
    "character": "text", "bpchar": "text",
    "bigint": "integer", "integer": "integer", "int": "integer", "smallint": "integer", "tinyint": "integer",
    "hugeint": "integer", "ubigint": "integer", "uinteger": "integer", "int4": "integer", "int8": "integer",
    "double": "number", "double precision": "number", "real": "number", "float": "number", "numeric": "number",
    "decimal": "number",
    "boolean": "boolean", "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp", "timestamp_ns": "timestamp",
    "timestamp_us": "timestamp", "timestamp_ms": "timestamp",
    "timestamp with time zone": "timestamptz", "timestamptz": "timestamptz",
}


class ContractError(RuntimeError):
    """Publication would break the golden tables' declared schema; nothing was published."""


def canonical_type(warehouse_type: str) -> str:
    """A warehouse's spelling of a column type (DuckDB or PostgreSQL) as the contract's name."""
    base = re.sub(r"\(.*\)", "", warehouse_type.strip().lower()).strip()
    return _CANONICAL.get(base, base)


@dataclass(frozen=True)
class DeclaredColumn:
    name: str
    type: str
    meaning: str


@dataclass(frozen=True)
class Contract:
    version: str
    tables: Mapping[str, tuple[DeclaredColumn, ...]]
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def columns(self, table: str) -> dict[str, str] | None:
        """name -> type of a declared table, None when the contract does not declare it."""
        declared = self.tables.get(table)
        return None if declared is None else {c.name: c.type for c in declared}


def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    """Read and validate the contract file; a malformed one is an error, not an empty contract."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "version" not in data or not isinstance(data.get("tables"), dict):
        raise ValueError(f"{path.name}: needs `version` and `tables`")
    tables, descriptions = {}, {}
    for table, spec in data["tables"].items():
        columns = []
        for name, column in (spec.get("columns") or {}).items():
            kind = str(column.get("type", "")).lower()
            if kind not in TYPES:
                raise ValueError(f"{path.name}: {table}.{name} has type {kind!r}, not one of {', '.join(TYPES)}")
            if not column.get("meaning"):
                raise ValueError(f"{path.name}: {table}.{name} has no meaning")
            columns.append(DeclaredColumn(name, kind, str(column["meaning"]).strip()))
        if not columns:
            raise ValueError(f"{path.name}: {table} declares no columns")
        tables[table] = tuple(columns)
        descriptions[table] = str(spec.get("description", "")).strip()
    return Contract(version=str(data["version"]), tables=tables, descriptions=descriptions)


@dataclass(frozen=True)
class TableCheck:
    """One table's comparison: what is announced, what is a change, what blocks."""

    table: str
    added: tuple[str, ...] = ()       # published now for the first time
    undeclared: tuple[str, ...] = ()  # published but not (yet) in the contract
    dropped: tuple[str, ...] = ()     # published before, gone now
    retyped: tuple[str, ...] = ()     # `col old->new`
    problems: tuple[str, ...] = ()    # why publication must stop

    def changes(self) -> list[str]:
        return ([f"+{c}" for c in self.added] + [f"-{c}" for c in self.dropped] + [f"~{c}" for c in self.retyped])


def check_table(contract: Contract, table: str, wanted: Columns, published: Columns | None,
                last_version: str | None) -> TableCheck:
    """Compare the columns a run would publish with the contract and the published table."""
    want = {name: canonical_type(kind) for name, kind in wanted}
    have = None if published is None else {name: canonical_type(kind) for name, kind in published}
    declared = contract.columns(table)
    problems: list[str] = []
    if declared is None:
        undeclared = tuple(want)
    else:
        undeclared = tuple(c for c in want if c not in declared)
        gone = [c for c in declared if c not in want]
        if gone:
            problems.append(f"golden.{table}: declared column(s) {', '.join(gone)} would not be published "
                            "(dropped or renamed by the model)")
        wrong = [f"{c} {declared[c]}->{want[c]}" for c in declared if c in want and want[c] != declared[c]]
        if wrong:
            problems.append(f"golden.{table}: column(s) {', '.join(wrong)} retyped against the declared schema")
    added: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    retyped: tuple[str, ...] = ()
    if have is not None:
        added = tuple(c for c in want if c not in have)
        dropped = tuple(c for c in have if c not in want)
        retyped = tuple(f"{c} {have[c]}->{want[c]}" for c in have if c in want and want[c] != have[c])
        if (dropped or retyped) and contract.version == last_version:
            problems.append(f"golden.{table}: published column(s) {', '.join((*dropped, *retyped))} would be "
                            f"dropped or retyped while the declared schema is still version {contract.version}")
    return TableCheck(table, added, undeclared, dropped, retyped, tuple(problems))


def check_contract(contract: Contract, wanted: Mapping[str, Columns], published: Mapping[str, Columns | None],
                   last_version: str | None) -> list[TableCheck]:
    """Every table's check; raises ContractError naming every problem when any table breaks it."""
    checks = [check_table(contract, t, wanted[t], published.get(t), last_version) for t in wanted]
    problems = [p for check in checks for p in check.problems]
    if problems:
        raise ContractError(
            "publication stopped: the golden tables would break their declared schema "
            f"(dtsen_pipeline/publish/golden_schema.yaml, version {contract.version}); nothing was published. "
            + "; ".join(problems) + ". Fix the model, or change the declaration and its version together "
            "(docs/golden.md, 'The schema contract').")
    return checks


def describe_changes(checks: list[TableCheck]) -> str:
    """`table: +col, -col, ~col old->new; ...` of the tables that changed, for audit.run."""
    return "; ".join(f"{c.table}: {', '.join(c.changes())}" for c in checks if c.changes())


__all__ = ["CONTRACT_FILE", "Contract", "ContractError", "DeclaredColumn", "TableCheck", "canonical_type",
           "check_contract", "check_table", "describe_changes", "load_contract"]

