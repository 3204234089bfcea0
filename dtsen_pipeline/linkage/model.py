"""The Splink model for Indonesian person records: settings, training, prediction, clustering.

Settings are dialect-agnostic (custom SQL levels declare DuckDB as their base dialect and Splink
transpiles them), so the same model runs on Splink's DuckDB backend (default) and on its Spark
backend (`DTSEN_LINKAGE_BACKEND=spark`, linkage.backend). A saved model holds SQL of the dialect it
was trained in: `model_for_dialect` gives it another backend's SQL. Training is seeded; the
trained model is saved as JSON.
"""

from __future__ import annotations

import contextlib
import json
import logging
import weakref
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.blocking_rule_library import And, CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.splink_dataframe import SplinkDataFrame

from dtsen_pipeline.linkage.backend import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_SPARK_DRIVER_MEMORY,
    DEFAULT_SPARK_MASTER,
    DUCKDB,
    Session,
    SparkOptions,
    check_backend,
    open_session,
)
from dtsen_pipeline.linkage.record_ids import RecordIds
from dtsen_pipeline.linkage.rule_mirror import mirrors

logging.getLogger("splink").setLevel(logging.WARNING)

BASE_DIALECT = "duckdb"


# Bump when comparisons, blocking or training change: saved models say which version made them.
MODEL_VERSION = "8"


@dataclass(frozen=True)
class LinkageConfig:
    """Thresholds and sampling that a data engineer may tune per deployment (`resources.LinkageSettings`)."""

    predict_threshold: float = 0.3
    # Pairs at or above this probability are edges for clustering; the guards, not a high
    # threshold, keep clusters safe (measured: a 0.5 threshold with guards beats 0.9 without).
    cluster_threshold: float = 0.5
    # Pairs between predict_threshold and this go to clerical review, with edges the guards refused.
    review_upper: float = 0.8
    # Pairs per kecamatan in one month's review files (highest impact first); the rest wait.
    review_cap_per_kecamatan: int = 150
    u_max_pairs: float = 5e6
    seed: int = 42
    deterministic_recall: float = 0.8
    # Every run trains a candidate model (promoted only if no worse on the clerical labels).
    retrain: bool = False
    # Where Splink runs (linkage.backend): `duckdb` or `spark`.
    backend: str = DUCKDB
    # Splink's in-process DuckDB spills to disk beyond this (`new_linker`).
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    # The Spark driver's memory (its JVM heap), on the Spark backend.
    spark_driver_memory: str = DEFAULT_SPARK_DRIVER_MEMORY
    # Where the Spark backend runs: `local[2]` or a cluster's master URL (linkage.backend).
    spark_master: str = DEFAULT_SPARK_MASTER
    # Splink's parquet checkpoints on Spark; '' = a private temp folder (a cluster needs a shared one).
    spark_checkpoint_dir: str = ""
    # Score every candidate pair tonight, not only those of new and changed records (linkage.incremental).
    full_rebuild: bool = False
    # Above this share of new, changed or removed records a night rebuilds every pair.
    incremental_max_share: float = 0.2

    @property
    def spark(self) -> SparkOptions:
        """The Spark backend's placement (linkage.backend.SparkOptions)."""
        return SparkOptions(self.spark_master, self.spark_driver_memory, self.spark_checkpoint_dir)


def _custom(sql: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, label_for_charts=label, base_dialect_str=BASE_DIALECT)


def _one_edit_possible(left: str, right: str) -> str:
    """A cheap test every pair of 16-digit ids one substitution or adjacent swap apart passes (the
    first or the last eight digits intact, or for a swap across the middle the first and last
    seven), so the edit distances run on few pairs: on every random pair of the training they
    cost a third of its time. `left`, `right`: the ids as numbers (`prepare.linkage_input`);
    the first k digits of n are `n - n % 10^(16-k)`, the last k `n % 10^k`. Integer arithmetic
    costs a fraction of cutting strings."""

    def first(side: str, k: int) -> str:
        return f"({side} - {side} % {10 ** (16 - k)})"

    def last(side: str, k: int) -> str:
        return f"({side} % {10 ** k})"

    return (f"({first(left, 8)} = {first(right, 8)} OR {last(left, 8)} = {last(right, 8)} "
            f"OR ({first(left, 7)} = {first(right, 7)} AND {last(left, 7)} = {last(right, 7)}))")


def _if_one_edit_possible(guard: str, condition: str) -> str:
    """`condition` evaluated only on the pairs `guard` lets through: DuckDB evaluates both sides
    of an AND on every row, a CASE branch only on the rows that reach it (a third of the
    training time was edit distances of random pairs)."""
    return f"(CASE WHEN {guard} THEN {condition} ELSE FALSE END)"


def identifier_comparison(column: str, prefix15: str, description: str,
                          number: str, uninformative_else: tuple[str, str] | None = None) -> cl.CustomComparison:
    """A 16-digit id (NIK, No. KK; valid values only): exact; the first 15 digits agreeing where a
    side lost its 16th to Excel (`prefix15`, NIK-02); one digit mistyped; two adjacent digits
    swapped; else. Whether a typing error is one person is decided with the other fields: the model
    weighs it, and the guards refuse it unless the names agree (twins' NIKs are one digit apart
    too). Levenshtein and Damerau-Levenshtein exist on DuckDB and, through Splink's UDFs, Spark.

    `number`: the id as an integer column (see `_one_edit_possible`).
    `uninformative_else`: (SQL, label) of pairs whose disagreement says nothing: they score as null."""
    left, right = f"{column}_l", f"{column}_r"
    guard = _one_edit_possible(f"{number}_l", f"{number}_r")
    a_side_lost = f"({left} IS NULL OR {right} IS NULL)"
    same_prefix = f"{prefix15}_l = {prefix15}_r"
    # Where a side lost its id but kept its first 15 digits, those digits still disagree when
    # they differ: a programme-list row whose NIK is another person's is not "unknown".
    no_digits = f"({prefix15}_l IS NULL OR {prefix15}_r IS NULL)"
    explained = ([_custom(uninformative_else[0], uninformative_else[1]).configure(is_null_level=True)]
                 if uninformative_else else [])
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=description,
        comparison_levels=[
            _custom(f"{a_side_lost} AND {no_digits}", "null").configure(is_null_level=True),
            cll.ExactMatchLevel(column),
            _custom(f"{a_side_lost} AND {same_prefix}", "first 15 digits agree (Excel lost the 16th)"),
            _custom(_if_one_edit_possible(guard, f"levenshtein({left}, {right}) = 1"), "one digit apart"),
            _custom(_if_one_edit_possible(guard, f"damerau_levenshtein({left}, {right}) = 1"),
                    "two adjacent digits swapped"),
            *explained,
            cll.ElseLevel(),
        ],
    )


def nik_comparison() -> cl.CustomComparison:
    return identifier_comparison("nik", "nik_prefix15", "NIK (valid values only)", "nik_number")


# Someone who moved gets a new card in the new village: there, a different No. KK is what the
# village comparison already says (one move), not a second, independent disagreement. Counted
# twice (three times with the address), a mover's stale DTSEN record never reached the threshold.
OTHER_VILLAGE = "kode_desa_l <> kode_desa_r"


def kk_comparison() -> cl.CustomComparison:
    return identifier_comparison("no_kk", "kk_prefix15", "No. KK (valid values only)", "kk_number",
                                 (OTHER_VILLAGE, "another card in another village (a move)"))


def name_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="name_key",
        comparison_description="Folded name key",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("name_key", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("name_key", 0.94),
            _custom("(strpos(name_key_l, name_key_r) > 0 OR strpos(name_key_r, name_key_l) > 0)",
                    "one name contains the other"),
            _custom("informative_token_l = informative_token_r", "same informative token"),
            cll.JaroWinklerLevel("name_key", 0.82),
            cll.ElseLevel(),
        ],
    )


def dob_comparison() -> cl.CustomComparison:
    """Birth dates: registry default dates only count as the year agreeing. A record whose date is
    known to the year only (`dob` null, `dob_year` set: a partial date) still compares on the year."""
    # The cheap test first (see `_if_one_edit_possible`): a swap keeps the year; one mistyped
    # character (dates are all 10 characters long) keeps the year or the day and month.
    swapped = ("(CASE WHEN dob_year_l = dob_year_r THEN substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
               "AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2) ELSE FALSE END)")
    one_apart = ("(CASE WHEN dob_year_l = dob_year_r OR dob_day_month_l = dob_day_month_r "
                 "THEN levenshtein(dob_l, dob_r) <= 1 ELSE FALSE END)")
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="Birth date",
        comparison_levels=[
            _custom("dob_year_l IS NULL OR dob_year_r IS NULL", "null").configure(is_null_level=True),
            _custom("dob_l = dob_r AND NOT dob_imprecise_l AND NOT dob_imprecise_r", "exact date"),
            _custom("dob_l = dob_r", "exact default date"),
            _custom(swapped, "day and month swapped"),
            _custom(one_apart, "one character apart"),
            _custom("dob_year_l = dob_year_r", "same year"),
            _custom("abs(dob_year_l - dob_year_r) <= 1", "year +/- 1"),
            cll.ElseLevel(),
        ],
    )


def exact_comparison(column: str, tf: bool = False) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[cll.NullLevel(column), cll.ExactMatchLevel(column, term_frequency_adjustments=tf),
                           cll.ElseLevel()],
    )


def address_comparison() -> cl.CustomComparison:
    """Street address as written (programme lists carry little else once Excel has damaged the ids).
    Compared inside one village only: a dusun name means nothing across villages, and a mover's
    address differs because the village does."""
    return cl.CustomComparison(
        output_column_name="alamat_key",
        comparison_description="Address (within one village)",
        comparison_levels=[
            _custom(f"alamat_key_l IS NULL OR alamat_key_r IS NULL OR {OTHER_VILLAGE}",
                    "null or another village").configure(is_null_level=True),
            cll.ExactMatchLevel("alamat_key", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("alamat_key", 0.9),
            cll.ElseLevel(),
        ],
    )


def village_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="kode_desa",
        comparison_description="Village, then kecamatan",
        comparison_levels=[
            cll.NullLevel("kode_desa"),
            cll.ExactMatchLevel("kode_desa", term_frequency_adjustments=True),
            _custom("kode_kecamatan_l = kode_kecamatan_r", "same kecamatan"),
            cll.ElseLevel(),
        ],
    )


@dataclass(frozen=True)
class BlockingKey:
    """Candidate pairs agree on every column of `columns`, within a `scope`:

    - `ANY`: any pair (exact NIK only);
    - `NIK_MAY_AGREE`: not both NIKs known and more than one typing error apart. Such a pair is
      two people whatever else agrees (the guards refuse it: NIK_CONFLICT): family members on one
      card, namesakes in one dusun. Nor the same NIK: the exact-NIK key has those pairs;
    - `NIK_MISSING`: a side has no usable NIK (a programme-list row whose NIK a spreadsheet
      destroyed, a stale record without one). Where both sides have one, the NIK keys above
      bring together every pair that can be one person, so the broad name, village and address
      keys need not: restricted to the records without a NIK they cost a tenth of the time.
    """

    columns: tuple[str, ...]
    scope: str = "NIK_MAY_AGREE"

    @property
    def name(self) -> str:
        return "+".join(self.columns)


ANY, NIK_MAY_AGREE, NIK_MISSING = "ANY", "NIK_MAY_AGREE", "NIK_MISSING"

# Each key's recall on the sample truth is measured by linkage.quality.blocking_recall.
BLOCKING_KEYS: tuple[BlockingKey, ...] = (
    BlockingKey(("nik",), ANY),
    # Programme-list ids Excel stored as numbers: the first 15 digits survive (the NIK itself is
    # unusable). Two usable NIKs with the same first 15 digits are brought together below.
    BlockingKey(("nik_prefix15",), NIK_MISSING),
    BlockingKey(("kk_prefix15", "first_token")),
    # A NIK one typing error away, anywhere in the kabupaten (a mover's stale record): a NIK is
    # region (6 digits), birth date (6) and sequence (4); one error leaves two parts intact, or,
    # for a swap across the birth/sequence boundary, the region and the birth date typed in its
    # own column. Many people share a birth date (registry default dates: 1 January, 31 December)
    # and a sequence (0001): a name prefix keeps these blocks small.
    BlockingKey(("nik_region", "nik_birth", "name_prefix")),
    BlockingKey(("nik_birth", "nik_sequence", "name_prefix4")),
    BlockingKey(("nik_region", "dob", "name_prefix")),
    # Within one village, a NIK one typing error away: one error leaves the first or the last
    # eight digits intact, or, for a swap across the middle, the first and last seven. The first
    # eight are the region and the birth day, the last eight birth month, year and sequence
    # (0001 for most): common in one village, so a name prefix narrows them.
    BlockingKey(("kode_desa", "nik_head8", "name_prefix4")),
    BlockingKey(("kode_desa", "nik_tail8", "name_prefix")),
    BlockingKey(("kode_desa", "nik_head7", "nik_tail7", "name_prefix")),
    BlockingKey(("no_kk", "dob")),
    BlockingKey(("name_key", "dob")),
    # One card, the first name left out or misspelt (NI KETUT SUKARMI ~ KETUT SUKARMI).
    BlockingKey(("no_kk", "last_token")),
    # A mover's stale record in the old village, with a NIK missing and a date typed differently:
    # the same name and birth year, or the same name and day and month, anywhere in the kabupaten.
    BlockingKey(("name_key", "dob_year"), NIK_MISSING),
    BlockingKey(("name_key", "dob_day_month"), NIK_MISSING),
    BlockingKey(("kode_desa", "dob"), NIK_MISSING),
    BlockingKey(("name_key", "kode_desa"), NIK_MISSING),
    BlockingKey(("informative_token", "kode_desa", "dob_year"), NIK_MISSING),
    # Typos in the first name, and mononyms, within one village:
    BlockingKey(("last_token", "kode_desa", "name_prefix"), NIK_MISSING),
    # Programme-list rows whose NIK and KK Excel damaged: the address and a name prefix.
    BlockingKey(("alamat_key", "kode_desa", "name_prefix4"), NIK_MISSING),
)
# Pairs with the same NIK are the exact-NIK key's: left out of the other keys, they no longer
# make two thirds of the candidate pairs (the same pairs, found once instead of several times).
NIK_MAY_AGREE_SQL = ("(l.nik IS NULL OR r.nik IS NULL OR "
                     f"(l.nik <> r.nik AND {_one_edit_possible('l.nik_number', 'r.nik_number')}))")


def scope_sql(key: BlockingKey) -> str:
    """The pair condition of a key's scope, as SQL on `l` and `r` (for counting pairs)."""
    return {ANY: "TRUE", NIK_MAY_AGREE: NIK_MAY_AGREE_SQL, NIK_MISSING: "(l.nik IS NULL OR r.nik IS NULL)"}[key.scope]


def _without_nik(side: str, column: str) -> str:
    """`column` on the side that has no NIK, null on a side that has one: equality with it is a
    hash join over the records without a NIK only."""
    return f"(CASE WHEN {side}.nik IS NULL THEN {side}.\"{column}\" END)"


def blocking_rules(key: BlockingKey) -> list[BlockingRuleCreator]:
    """The Splink rules of one key: one rule, or for NIK_MISSING one per side without a NIK."""
    if key.scope == ANY:
        return [block_on(*key.columns)]
    if key.scope == NIK_MAY_AGREE:
        return [And(block_on(*key.columns), CustomRule(NIK_MAY_AGREE_SQL, sql_dialect=BASE_DIALECT))]
    first, rest = key.columns[0], key.columns[1:]
    others = "".join(f' AND l."{c}" = r."{c}"' for c in rest)
    return [CustomRule(f'{_without_nik("l", first)} = r."{first}"{others}', sql_dialect=BASE_DIALECT),
            CustomRule(f'l."{first}" = {_without_nik("r", first)}{others}', sql_dialect=BASE_DIALECT)]


BLOCKING_RULES = tuple(rule for key in BLOCKING_KEYS for rule in blocking_rules(key))


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
        comparisons=[
            nik_comparison(),
            name_comparison(),
            dob_comparison(),
            exact_comparison("jenis_kelamin"),
            kk_comparison(),
            village_comparison(),
            address_comparison(),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["feed"],
    )


@dataclass
class LinkageRun:
    """What one linkage run produced (all frames hold ids and scores, never record values)."""

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    model_json: Path
    stats: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    linker: Linker | None = None
    refused_edges: pd.DataFrame | None = None


class _Backing(NamedTuple):
    """Where a Linker made here keeps its records: the backend session, the input table's name and
    the record ids, whose positions the backend sees as `unique_id` (`RecordIds`)."""

    session: Session
    table: str
    ids: RecordIds | None  # None: a table the backend read itself, ids as they are (`linker_on_table`)


_SESSIONS: weakref.WeakKeyDictionary[Linker, _Backing] = weakref.WeakKeyDictionary()
_PAIR_TABLES = count()

_LEVEL_SQL = "sql_condition"


def model_for_dialect(model: dict, dialect: str) -> dict:
    """A saved model (Splink JSON of `settings()` trained in any backend) with the SQL of
    `dialect`: each comparison level's and blocking rule's SQL is this code's own in that dialect,
    every parameter the saved model's. A model whose SQL is not this code's in the dialect it was
    saved in (another MODEL_VERSION, an edited file) is refused rather than guessed at."""
    source = model.get("sql_dialect", BASE_DIALECT)
    if source == dialect:
        return model
    made, wanted = (settings().create_settings_dict(d) for d in (source, dialect))
    out = json.loads(json.dumps(model))
    out["sql_dialect"] = dialect
    saved_rules = [r["blocking_rule"] if isinstance(r, dict) else r
                   for r in model["blocking_rules_to_generate_predictions"]]
    if saved_rules != [r["blocking_rule"] for r in made["blocking_rules_to_generate_predictions"]]:
        raise ValueError(f"the model's blocking rules are not this code's (model version {MODEL_VERSION}): "
                         f"it cannot be translated from {source} to {dialect}")
    out["blocking_rules_to_generate_predictions"] = wanted["blocking_rules_to_generate_predictions"]
    if len(model["comparisons"]) != len(made["comparisons"]):
        raise ValueError(f"the model's comparisons are not this code's (model version {MODEL_VERSION})")
    for saved, mine, theirs in zip(out["comparisons"], made["comparisons"], wanted["comparisons"], strict=True):
        levels = saved["comparison_levels"]
        if (saved["output_column_name"] != mine["output_column_name"]
                or [lv[_LEVEL_SQL] for lv in levels] != [lv[_LEVEL_SQL] for lv in mine["comparison_levels"]]):
            raise ValueError(f"comparison {saved['output_column_name']!r} of the model is not this code's "
                             f"(model version {MODEL_VERSION}): it cannot be translated from {source} to {dialect}")
        for level, target in zip(levels, theirs["comparison_levels"], strict=True):
            level[_LEVEL_SQL] = target[_LEVEL_SQL]
    return out


def new_linker(records: pd.DataFrame, settings_or_model: SettingsCreator | dict | str,
               config: LinkageConfig | None = None) -> Linker:
    """A Linker on its own backend session (`config.backend`: an in-memory DuckDB, never the
    warehouse file, or the process's local Spark; linkage.backend). A saved model (dict) gets the
    backend's SQL (`model_for_dialect`).

    The memory limit (`LinkageConfig.memory_limit`, DTSEN_LINKAGE_MEMORY_LIMIT) makes DuckDB spill
    to disk rather than let a regency-sized prediction take the machine's memory.
    """
    config = config or LinkageConfig()
    ids = RecordIds(records["unique_id"])
    session = open_session(check_backend(config.backend), config.memory_limit, config.spark)
    try:
        if isinstance(settings_or_model, dict):
            settings_or_model = model_for_dialect(settings_or_model, session.dialect)
        table = session.register_records(records.assign(unique_id=ids.codes(records["unique_id"])))
        linker = Linker(table, settings_or_model, log_level=None)
    except BaseException:
        session.close()
        raise
    _SESSIONS[linker] = _Backing(session, table.physical_name, ids)
    return linker


def record_ids(linker: Linker) -> RecordIds:
    """How the linker's backend numbers its records (see `RecordIds`); a `linker_on_table` linker
    has none (its ids are the table's own)."""
    ids = _SESSIONS[linker].ids
    if ids is None:
        raise ValueError("this linker's records are a backend table with their own ids (linker_on_table)")
    return ids


def close_linker(linker: Linker) -> None:
    """Close the linker's backend session now: its records and predictions (gigabytes at regency
    scale) would otherwise stay until the garbage collector finds the linker, after the next steps
    have started. On Spark, the local Spark stops with the last linker closed. The linker cannot
    score again."""
    session = _SESSIONS.pop(linker, None)
    if session is not None:
        session.session.close()


def linker_session(linker: Linker) -> Session:
    """The backend session of a linker made by `new_linker`."""
    return _SESSIONS[linker].session


def linker_records_table(linker: Linker) -> str:
    """The name of the linker's input table in its backend (its records, ids as the backend numbers them)."""
    return _SESSIONS[linker].table


def as_backend_table(linker: Linker, frame: pd.DataFrame):
    """`frame` as the linker's backend takes it in `register_table` (a Spark DataFrame on Spark)."""
    session = _SESSIONS.get(linker)
    return session.session.native(frame) if session is not None else frame


def blocked_pairs_sql(rules: list[str], table: str, touched: str | None = None,
                      mirror: list[int | None] | None = None) -> str:
    """Candidate pairs of every blocking rule, each pair once (with the first rule that made it).

    Splink keeps each pair once by excluding, in every rule's join, the pairs of all the rules
    before it: the cost grows with the square of the number of rules (45 of the 60 seconds of a
    regency's prediction with 26 rules). One join per rule and one grouping cost a fraction of
    that; Splink itself groups the same way for exploding rules. With `touched` (a table of the
    records an incremental night found new or changed, every column) only the pairs with a touched
    record on either side. `mirror` (`rule_mirror.mirrors`): for each rule, the rule that is it
    with its sides swapped. Such a rule is joined once, the touched records on the left, and a pair
    found the other way round is its mirror's; any other rule is joined twice, the touched records
    on each side. Both give the same pairs with the same first rule.
    """
    def select(left: str, right: str, i: int, rule: str) -> str:
        return (f"SELECT {i} AS rule, l.unique_id AS join_key_l, r.unique_id AS join_key_r "
                f"FROM {left} AS l JOIN {right} AS r ON ({rule}) AND l.unique_id < r.unique_id")

    def either_way(i: int, rule: str, swapped: int) -> str:
        return (f"SELECT CASE WHEN l.unique_id < r.unique_id THEN {i} ELSE {swapped} END AS rule, "
                "least(l.unique_id, r.unique_id) AS join_key_l, greatest(l.unique_id, r.unique_id) AS join_key_r "
                f"FROM {touched} AS l JOIN {table} AS r ON ({rule}) AND l.unique_id <> r.unique_id")

    if touched is None:
        joins = [select(table, table, i, rule) for i, rule in enumerate(rules)]
    else:
        mirror = mirror if mirror is not None else [None] * len(rules)
        joins = [part for i, (rule, swapped) in enumerate(zip(rules, mirror, strict=True))
                 for part in ((either_way(i, rule, swapped),) if swapped is not None
                              else (select(touched, table, i, rule), select(table, touched, i, rule)))]
    # STRING: DuckDB's alias of VARCHAR, Spark's string type; the rules are in the backend's dialect.
    return (f"SELECT CAST(min(rule) AS STRING) AS match_key, join_key_l, join_key_r "
            f"FROM ({' UNION ALL '.join(joins)}) AS candidates GROUP BY join_key_l, join_key_r")


def register_blocked_pairs(linker: Linker, touched: Collection[str] | None = None) -> SplinkDataFrame:
    """Compute the model's candidate pairs once and register them for `predict`; with `touched`
    (record ids), only the pairs that have one of them on a side."""
    session, table, ids = _SESSIONS[linker]
    model = linker.misc.save_model_to_json()
    rules = [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]
    number = next(_PAIR_TABLES)
    name = f"dtsen_blocked_pairs_{number}"  # Splink registers each table name once
    touched_records = None
    if touched is not None:
        # The touched records as a table of their own, not a filter inside every join: the backend
        # then knows they are a handful and joins each rule from them (DuckDB, 15 touched of 1.8
        # million records, 26 rules: 3.9 s instead of 6.5 s, the filter was planned as a big side).
        touched_ids, touched_records = f"dtsen_touched_{number}", f"dtsen_touched_records_{number}"
        session.create_id_table(touched_ids, ids.codes(pd.Series(list(touched), dtype="str")).tolist())
        session.create_table(touched_records,
                             f"SELECT * FROM {table} WHERE unique_id IN (SELECT unique_id FROM {touched_ids})")
        session.drop_table(touched_ids)
    mirror = mirrors(rules, session.dialect) if touched_records is not None else None
    session.create_table(name, blocked_pairs_sql(rules, table, touched_records, mirror))
    if touched_records is not None:
        session.drop_table(touched_records)
    pairs = session.db_api.register(name, table_name=name)
    linker.table_management.register_blocked_pairs_for_predict(pairs)
    return pairs


def train(linker: Linker, config: LinkageConfig, n_records: int) -> None:
    """Seeded training: lambda from NIK agreement, u by random sampling, m by two EM passes."""
    training = linker.training
    training.estimate_probability_two_random_records_match([block_on("nik")], recall=config.deterministic_recall)
    max_pairs = min(config.u_max_pairs, max(1e5, n_records * 20.0))
    training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=config.seed)
    training.estimate_parameters_using_expectation_maximisation(block_on("nik"))
    training.estimate_parameters_using_expectation_maximisation(block_on("name_key", "dob"))


def score_pairs(linker: Linker, config: LinkageConfig, touched: Collection[str] | None = None) -> pd.DataFrame:
    """Scored pairs above the predict threshold: ids, weight, probability and comparison levels;
    with `touched`, only the pairs that have one of those records on a side (linkage.incremental).

    Only these columns leave the backend (DuckDB or Spark) for pandas, where the guarded
    clustering runs: converting Splink's full prediction table (every compared value twice) would
    cost several GB at regency scale.
    """
    session, _, ids = _SESSIONS[linker]
    with _predicted(linker, config, touched) as (predictions, columns):
        scored = session.to_pandas(predictions, columns)
    return ids.decoded(scored, ["unique_id_l", "unique_id_r"])


@contextlib.contextmanager
def _predicted(linker: Linker, config: LinkageConfig,
               touched: Collection[str] | None = None) -> Iterator[tuple[SplinkDataFrame, list[str]]]:
    """Splink's prediction above the predict threshold, and the columns worth taking out of it
    (ids, weight, probability, comparison levels). On exit the candidate pairs and the full
    prediction table are dropped: at regency scale they hold gigabytes that the clustering would
    otherwise sit on top of."""
    session = _SESSIONS[linker].session
    blocked = register_blocked_pairs(linker, touched)
    predictions = linker.inference.predict(threshold_match_probability=config.predict_threshold)
    gammas = [c.unquote().name for c in predictions.columns if c.unquote().name.startswith("gamma_")]
    try:
        yield predictions, ["unique_id_l", "unique_id_r", "match_weight", "match_probability", *gammas]
    finally:
        predictions.drop_table_from_database_and_remove_from_cache()
        session.drop_table(blocked.physical_name)
        session.release_memory()


def linker_on_table(session: Session, records: Any, model: dict) -> Linker:
    """A Linker over a table already in `session`'s backend (on Spark: a DataFrame Spark read, the
    path of linkage.spark_tables) with a saved model. Its record ids stay as they are (strings);
    `close_linker` closes `session`."""
    table = session.db_api.register(records, dataset_display_name="persons")
    linker = Linker(table, model_for_dialect(model, session.dialect), log_level=None)
    _SESSIONS[linker] = _Backing(session, table.physical_name, None)
    return linker


def write_scored_pairs(linker: Linker, config: LinkageConfig, path: str) -> Any:
    """Score every candidate pair of a linker on Spark and write the pairs above the predict
    threshold (the columns `score_pairs` gives, ids as the linker's table holds them) as parquet at
    `path`, without leaving Spark; the pairs as a Spark DataFrame read back from there."""
    session = _SESSIONS[linker].session
    with _predicted(linker, config) as (predictions, columns):
        predictions.as_spark_dataframe().select(*[f"`{c}`" for c in columns]).write.mode("overwrite").parquet(path)
    return session.spark.read.parquet(path)


def save_model(linker: Linker, path: Path, config: LinkageConfig) -> Path:
    """The trained model as Splink JSON (loadable with `load_model`), and a sidecar saying what made it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    linker.misc.save_model_to_json(str(path), overwrite=True)
    meta = {"model_version": MODEL_VERSION, "splink_settings": path.name, **config.__dict__}
    path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2))
    return path


def load_model(records: pd.DataFrame, path: Path, config: LinkageConfig | None = None) -> Linker:
    """A Linker over `records` with a previously trained model (no retraining), on `config.backend`
    whichever backend trained it."""
    return new_linker(records, json.loads(path.read_text()), config)


def save_charts(linker: Linker, folder: Path) -> dict[str, Path]:
    """Splink's parameter charts as offline HTML (JavaScript inlined; model parameters only, no records)."""
    folder.mkdir(parents=True, exist_ok=True)
    charts = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
    }
    paths = {}
    for name, chart in charts.items():
        path = folder / f"{name}.html"
        chart.save_offline_chart(str(path), overwrite=True, print_msg=False)
        paths[name] = path
    return paths
