"""The Splink model for Indonesian person records: settings, training, prediction, clustering.

Settings are dialect-agnostic (custom SQL levels declare DuckDB as their base dialect and Splink
transpiles them), so the same model runs on Splink's DuckDB backend here and on its Spark
backend at national scale. Training is seeded; the trained model is saved as JSON.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

logging.getLogger("splink").setLevel(logging.WARNING)

BASE_DIALECT = "duckdb"
DEFAULT_MEMORY_LIMIT = "3GB"


# Bump when comparisons, blocking or training change: saved models say which version made them.
MODEL_VERSION = "5"


@dataclass(frozen=True)
class LinkageConfig:
    """Thresholds and sampling that a data engineer may tune per deployment (`resources.LinkageSettings`)."""

    predict_threshold: float = 0.3
    # Pairs at or above this probability are edges for clustering; the guards, not a high
    # threshold, keep clusters safe (measured: a 0.5 threshold with guards beats 0.9 without).
    cluster_threshold: float = 0.5
    # Pairs between predict_threshold and this go to clerical review, with edges the guards refused.
    review_upper: float = 0.8
    u_max_pairs: float = 5e6
    seed: int = 42
    deterministic_recall: float = 0.8
    # Every run trains a candidate model (promoted only if no worse on the clerical labels).
    retrain: bool = False
    # Splink's in-process DuckDB spills to disk beyond this (`new_linker`).
    memory_limit: str = DEFAULT_MEMORY_LIMIT


def _custom(sql: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, label_for_charts=label, base_dialect_str=BASE_DIALECT)


def _one_edit_possible(column: str) -> str:
    """A cheap test every pair one substitution or adjacent swap apart passes (one half intact,
    or a swap across the middle), so the edit distances run on few pairs: they cost most of the
    training time when every random pair paid for them."""
    left, right = f"{column}_l", f"{column}_r"
    return (f"(substr({left}, 1, 8) = substr({right}, 1, 8) OR substr({left}, 9, 8) = substr({right}, 9, 8) "
            f"OR (substr({left}, 1, 7) = substr({right}, 1, 7) AND substr({left}, 10, 7) = substr({right}, 10, 7)))")


def identifier_comparison(column: str, prefix15: str, description: str,
                          uninformative_else: tuple[str, str] | None = None) -> cl.CustomComparison:
    """A 16-digit id (NIK, No. KK; valid values only): exact; the first 15 digits agreeing where a
    side lost its 16th to Excel (`prefix15`, NIK-02); one digit mistyped; two adjacent digits
    swapped; else. Whether a typing error is one person is decided with the other fields: the model
    weighs it, and the guards refuse it unless the names agree (twins' NIKs are one digit apart
    too). Levenshtein and Damerau-Levenshtein exist on DuckDB and, through Splink's UDFs, Spark.

    `uninformative_else`: (SQL, label) of pairs whose disagreement says nothing: they score as null."""
    left, right = f"{column}_l", f"{column}_r"
    a_side_lost = f"({left} IS NULL OR {right} IS NULL)"
    same_prefix = f"{prefix15}_l = {prefix15}_r"
    explained = ([_custom(uninformative_else[0], uninformative_else[1]).configure(is_null_level=True)]
                 if uninformative_else else [])
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=description,
        comparison_levels=[
            _custom(f"{a_side_lost} AND NOT coalesce({same_prefix}, FALSE)", "null").configure(is_null_level=True),
            cll.ExactMatchLevel(column),
            _custom(f"{a_side_lost} AND {same_prefix}", "first 15 digits agree (Excel lost the 16th)"),
            _custom(f"{_one_edit_possible(column)} AND levenshtein({left}, {right}) = 1", "one digit apart"),
            _custom(f"{_one_edit_possible(column)} AND damerau_levenshtein({left}, {right}) = 1",
                    "two adjacent digits swapped"),
            *explained,
            cll.ElseLevel(),
        ],
    )


def nik_comparison() -> cl.CustomComparison:
    return identifier_comparison("nik", "nik_prefix15", "NIK (valid values only)")


# Someone who moved gets a new card in the new village: there, a different No. KK is what the
# village comparison already says (one move), not a second, independent disagreement. Counted
# twice (three times with the address), a mover's stale DTSEN record never reached the threshold.
OTHER_VILLAGE = "kode_desa_l <> kode_desa_r"


def kk_comparison() -> cl.CustomComparison:
    return identifier_comparison("no_kk", "kk_prefix15", "No. KK (valid values only)",
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
    swapped = ("substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
               "AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)")
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="Birth date",
        comparison_levels=[
            _custom("dob_year_l IS NULL OR dob_year_r IS NULL", "null").configure(is_null_level=True),
            _custom("dob_l = dob_r AND NOT dob_imprecise_l AND NOT dob_imprecise_r", "exact date"),
            _custom("dob_l = dob_r", "exact default date"),
            _custom(swapped, "day and month swapped"),
            _custom("levenshtein(dob_l, dob_r) <= 1", "one character apart"),
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


# Candidate pairs are those agreeing on every column of at least one of these keys. Each rule's
# recall on the sample truth is measured by linkage.quality.blocking_recall.
BLOCKING_KEYS: tuple[tuple[str, ...], ...] = (
    ("nik",),
    # Programme-list ids Excel stored as numbers: the first 15 digits survive.
    ("nik_prefix15",),
    ("kk_prefix15", "first_token"),
    # A NIK one typing error away, anywhere in the kabupaten (a mover's stale record): a NIK is
    # region (6 digits), birth date (6) and sequence (4); one error leaves two parts intact, or,
    # for a swap across the birth/sequence boundary, the region and the birth date typed in its
    # own column. An error in the region keeps birth date and sequence, which people born the same
    # day across the kabupaten share (sequence 0001): a name prefix keeps that block small. A swap
    # across the region/birth boundary is left to the name and birth-date keys below.
    ("nik_region", "nik_birth"),
    ("nik_birth", "nik_sequence", "name_prefix"),
    ("nik_region", "dob", "name_prefix"),
    ("no_kk", "first_token"),
    ("no_kk", "dob"),
    ("name_key", "dob"),
    # A mover's stale record in the old village, with a NIK missing and a date typed differently:
    # the same name and birth year, or the same name and day and month, anywhere in the kabupaten.
    ("name_key", "dob_year"),
    ("name_key", "dob_day_month"),
    ("kode_desa", "dob"),
    ("name_key", "kode_desa"),
    ("informative_token", "kode_desa", "dob_year"),
    # Typos in the first name, and mononyms, within one village:
    ("last_token", "kode_desa", "name_prefix"),
    # Programme-list rows whose NIK and KK Excel damaged: the address and a name prefix.
    ("alamat_key", "kode_desa", "name_prefix4"),
    # One card, the first name left out or misspelt (NI KETUT SUKARMI ~ KETUT SUKARMI).
    ("no_kk", "last_token"),
)
BLOCKING_RULES = tuple(block_on(*key) for key in BLOCKING_KEYS)


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


def new_linker(records: pd.DataFrame, settings_or_model: SettingsCreator | dict | str,
               memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Linker:
    """A Linker on its own in-memory DuckDB (never the warehouse file: DuckDB allows one writer).

    The memory limit (`LinkageConfig.memory_limit`, DTSEN_LINKAGE_MEMORY_LIMIT) makes DuckDB spill
    to disk rather than let a regency-sized prediction take the machine's memory.
    """
    spill = Path(tempfile.gettempdir()) / "dtsen_linkage_spill"
    db_api = DuckDBAPI(connection=duckdb.connect(":memory:", config={"memory_limit": memory_limit,
                                                                     "temp_directory": str(spill)}))
    table = db_api.register(records, dataset_display_name="persons")
    return Linker(table, settings_or_model, log_level=None)


def train(linker: Linker, config: LinkageConfig, n_records: int) -> None:
    """Seeded training: lambda from NIK agreement, u by random sampling, m by two EM passes."""
    training = linker.training
    training.estimate_probability_two_random_records_match([block_on("nik")], recall=config.deterministic_recall)
    max_pairs = min(config.u_max_pairs, max(1e5, n_records * 20.0))
    training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=config.seed)
    training.estimate_parameters_using_expectation_maximisation(block_on("nik"))
    training.estimate_parameters_using_expectation_maximisation(block_on("name_key", "dob"))


def score_pairs(linker: Linker, config: LinkageConfig) -> pd.DataFrame:
    """Scored pairs above the predict threshold: ids, weight, probability and comparison levels.

    Only these columns leave DuckDB: converting Splink's full prediction table (every compared
    value twice) to pandas would cost several GB at regency scale.
    """
    predictions = linker.inference.predict(threshold_match_probability=config.predict_threshold)
    relation = predictions.as_duckdbpyrelation()
    gammas = [c for c in relation.columns if c.startswith("gamma_")]
    columns = ["unique_id_l", "unique_id_r", "match_weight", "match_probability", *gammas]
    return relation.select(", ".join(f'"{c}"' for c in columns)).df()


def save_model(linker: Linker, path: Path, config: LinkageConfig) -> Path:
    """The trained model as Splink JSON (loadable with `load_model`), and a sidecar saying what made it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    linker.misc.save_model_to_json(str(path), overwrite=True)
    meta = {"model_version": MODEL_VERSION, "splink_settings": path.name, **config.__dict__}
    path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2))
    return path


def load_model(records: pd.DataFrame, path: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Linker:
    """A Linker over `records` with a previously trained model (no retraining)."""
    return new_linker(records, json.loads(path.read_text()), memory_limit)


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
