"""A small runner for the SQL models in `dbt_like_sql/`: one SELECT per file, folder = schema.

Dependencies are read from the SQL itself (every `schema.table` it selects from), so adding a
model needs no wiring. `{{ person_records }}` in a model is replaced by the union of every person
feed's staging table, generated from the feed registry (`person_records_sql`), so a new person
feed reaches the golden models by its YAML alone. Models are written once, in DuckDB's dialect, and transpiled by sqlglot
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
from dtsen_pipeline.ingest.feeds import REPORTED_ANY, FeedSpec, load_feed_specs, person_feeds
from dtsen_pipeline.warehouse import literal

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


# Columns of intermediate.person_record a person feed has only when it declares the extra.
_OPTIONAL_PERSON_COLUMNS = {"id_keluarga": "varchar", "desil": "integer", "program": "varchar", "periode": "varchar",
                            "nama_desa": "varchar"}


def _person_select(spec: FeedSpec) -> str:
    def reported(event: str) -> str:
        if event not in spec.reported:
            return "false"
        tests = [f"{column} is not null" if code == REPORTED_ANY else f"{column} = {literal(code)}"
                 for column, code in spec.reported[event]]
        return tests[0] if len(tests) == 1 else "coalesce(" + " or ".join(tests) + ", false)"

    optional = [(f"cast({c} as {t})" if t != "varchar" else c) if c in spec.extras else f"cast(null as {t})"
                for c, t in _OPTIONAL_PERSON_COLUMNS.items()]
    return ("select record_id, feed, source_file, source_row, nik, no_kk, nama, tgl_lahir, dob_imprecise,\n"
            "           cast(birth_year as integer) as birth_year, dob_precision,\n"
            "           jenis_kelamin, hubungan, kode_desa, kode_kecamatan, in_scope, flags,\n"
            f"           {spec.source_priority} as source_priority, {reported('dead')} as reported_dead,\n"
            f"           {reported('moved')} as reported_moved, {reported('missing')} as reported_missing,\n"
            "           " + ", ".join(f"{expr} as {c}" for expr, c in zip(optional, _OPTIONAL_PERSON_COLUMNS,
                                                                         strict=True)) + "\n"
            f"    from staging.{spec.name}")


def person_records_sql(specs: dict[str, FeedSpec]) -> str:
    """Every person feed's staged records in one shape (`{{ person_records }}`), by survivorship
    priority: the inputs of intermediate.person_record."""
    feeds = sorted((specs[n] for n in person_feeds(specs)), key=lambda s: (s.source_priority, s.name))
    return "\n    union all\n    ".join(_person_select(spec) for spec in feeds)


def expand(sql: str, specs: dict[str, FeedSpec] | None = None) -> str:
    """The model's SQL with `{{ person_records }}` generated from the feed registry."""
    token = "{{ person_records }}"
    if token not in sql:
        return sql
    return sql.replace(token, person_records_sql(load_feed_specs() if specs is None else specs))


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
    sql = expand(path.read_text(encoding="utf-8").strip().rstrip(";"))
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
