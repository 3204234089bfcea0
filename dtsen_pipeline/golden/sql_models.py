"""A small runner for the SQL models in `dbt_like_sql/`: one SELECT per file, folder = schema.

Dependencies are read from the SQL itself (every `schema.table` it selects from), so adding a
model needs no wiring. Models are written once, in DuckDB's dialect, and transpiled by sqlglot
for PostgreSQL; a construct sqlglot cannot carry over raises instead of producing wrong SQL.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from pathlib import Path

import sqlglot
import sqlglot.expressions as exp
from sqlglot.errors import ErrorLevel

from dtsen_pipeline.config import SQL_MODELS_DIR

SOURCE_DIALECT = "duckdb"


@dataclass(frozen=True)
class SqlModel:
    schema: str
    table: str
    path: Path
    sql: str
    deps: tuple[tuple[str, str], ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.table)

    @property
    def description(self) -> str:
        """The leading `--` comment block of the file."""
        lines = []
        for line in self.sql.splitlines():
            if not line.startswith("--"):
                break
            lines.append(line.removeprefix("--").strip())
        return "\n".join(lines)


def table_references(sql: str) -> tuple[tuple[str, str], ...]:
    """Every schema-qualified table the SELECT reads (CTE names excluded)."""
    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    refs = set()
    for table in tree.find_all(exp.Table):
        if table.name in ctes and not table.db:
            continue
        if not table.db:
            raise ValueError(f"table {table.name!r} must be schema-qualified (schema.table)")
        refs.add((table.db, table.name))
    return tuple(sorted(refs))


def load_model(path: Path, root: Path = SQL_MODELS_DIR) -> SqlModel:
    sql = path.read_text(encoding="utf-8").strip().rstrip(";")
    schema = path.parent.relative_to(root).as_posix().replace("/", "_")
    return SqlModel(schema=schema, table=path.stem, path=path, sql=sql, deps=table_references(sql))


def discover_models(root: Path = SQL_MODELS_DIR) -> list[SqlModel]:
    """All models in dependency order."""
    models = {m.key: m for m in (load_model(p, root) for p in sorted(root.rglob("*.sql")))}
    sorter = graphlib.TopologicalSorter({k: [d for d in m.deps if d in models] for k, m in models.items()})
    return [models[k] for k in sorter.static_order()]


def render(sql: str, dialect: str) -> str:
    """The model's SQL for the warehouse's dialect (`duckdb` or `postgresql`)."""
    target = "postgres" if dialect.startswith("postgres") else dialect
    if target == SOURCE_DIALECT:
        return sql
    return sqlglot.transpile(sql, read=SOURCE_DIALECT, write=target, unsupported_level=ErrorLevel.RAISE)[0]
