"""The province step end to end, as plain values: read each regency's published golden persons,
link them across regencies, classify the movers, publish the province tables in one transaction.

Reads only what the regencies published (a regency whose night failed is read as it last
published; one that never published is named and left out). Writes only the province warehouse
(`regencies.province_warehouse_url`): province.person, province.link, province.mover, and, for a generated
sample, province.evaluation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.linkage.backend import DUCKDB, LOCAL_SPARK, SparkOptions
from dtsen_pipeline.province.evaluate import load_movers, mover_scores, truth_keys
from dtsen_pipeline.province.linking import PERSON_COLUMNS, guarded_persons, score_pairs
from dtsen_pipeline.province.movers import classify
from dtsen_pipeline.regencies import province_warehouse_url, regency_warehouse_url
from dtsen_pipeline.warehouse import (
    engine_for,
    ensure_schema,
    load_frame,
    qualified,
    read_columns,
    swap_in,
    table_exists,
    write_transaction,
)

SCHEMA = "province"


@dataclass(frozen=True)
class ProvinceResult:
    """Counts and scores only (Dagster metadata, the CLI)."""

    regencies_read: list[str]
    regencies_missing: list[str]
    persons: int
    pairs_scored: int
    decisions: dict[str, int]
    movers: dict[str, int]
    evaluation: dict[str, float] = field(default_factory=dict)


def read_regencies(base_url: str, regencies: tuple[str, ...], with_sources: bool
                   ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], list[str]]:
    """Each regency's published golden persons (and their source records, for evaluation), and the
    regencies with none to read (never published, or a warehouse that cannot be opened)."""
    persons, sources, missing = {}, {}, []
    for code in regencies:
        engine = engine_for(regency_warehouse_url(base_url, code))
        try:
            if not table_exists(engine, "golden", "person"):
                missing.append(code)
                continue
            persons[code] = read_columns(engine, "golden", "person", PERSON_COLUMNS)
            if with_sources:
                sources[code] = read_columns(engine, "golden", "person_source", ["person_id", "record_id"])
        except sa.exc.OperationalError:  # its warehouse cannot be opened: named, and the others go on
            missing.append(code)
        finally:
            engine.dispose()
    return persons, sources, missing


def run_province(base_url: str, regencies: tuple[str, ...], run_id: str, as_of: dt.date,
                 truth_dir: Path | None = None, regency_truth: dict[str, Path] | None = None,
                 memory_limit: str = "4GB", backend: str = DUCKDB,
                 spark: SparkOptions = LOCAL_SPARK) -> ProvinceResult:
    """Link, classify and publish (module docstring); `truth_dir`: the deployment's truth folder,
    whose `movers.csv` with each regency's truth folder (`regency_truth`) scores the movers."""
    truth_movers = load_movers(truth_dir) if truth_dir is not None else None
    persons, sources, missing = read_regencies(base_url, regencies, truth_movers is not None)
    pairs = score_pairs(persons, memory_limit=memory_limit, backend=backend, spark=spark)
    links = guarded_persons(pairs, persons)
    facts = pd.concat([frame.assign(regency=code) for code, frame in persons.items()], ignore_index=True) \
        if persons else pd.DataFrame(columns=["regency", *PERSON_COLUMNS])
    facts["person_id"] = facts["person_id"].astype(str)
    everyone = links.persons.merge(facts[["regency", "person_id", "kode_desa", "no_kk", "in_dukcapil", "is_dead",
                                          "is_recipient"]], on=["regency", "person_id"], how="left")
    movers = classify(everyone, as_of)
    evaluation: dict[str, float] = {}
    if truth_movers is not None and regency_truth:
        keys = {code: truth_keys(sources[code], regency_truth[code]) for code in sources if code in regency_truth}
        evaluation = mover_scores(movers, truth_movers, {c: k for c, k in keys.items() if k is not None})
    tables = {"person": links.persons.assign(run_id=run_id), "link": links.pairs.assign(run_id=run_id),
              "mover": movers.assign(run_id=run_id)}
    if evaluation:
        tables["evaluation"] = pd.DataFrame({"metric": list(evaluation), "value": list(evaluation.values()),
                                             "run_id": run_id})
    publish(province_warehouse_url(base_url, regencies), tables)
    return ProvinceResult(
        regencies_read=sorted(persons), regencies_missing=missing, persons=len(links.persons),
        pairs_scored=len(pairs), decisions=links.pairs["decision"].value_counts().to_dict() if len(pairs) else {},
        movers=movers["kind"].value_counts().to_dict(), evaluation=evaluation)


def publish(url: str, tables: dict[str, pd.DataFrame]) -> None:
    """Every province table replaced together, in one transaction: a failed step leaves the last
    published ones."""
    engine = engine_for(url)
    try:
        with write_transaction(engine) as conn:
            ensure_schema(conn, SCHEMA)
            for name, frame in tables.items():
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(SCHEMA, name + '__new')}")
                load_frame(conn, frame, SCHEMA, name + "__new")
            for name in tables:
                swap_in(conn, SCHEMA, name, name + "__new")
    finally:
        engine.dispose()
