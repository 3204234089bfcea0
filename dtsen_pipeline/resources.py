"""Every setting of a deployment, declared once: the fields of the Dagster resources below.

Each setting is a resource field with a default, a description and the environment variable a
deployment sets it with (`setting`). The Launchpad shows them under `resources:` and a run can
change any of them for itself. The docs' configuration table is generated from these
declarations (`configuration_table`, `dtsen settings`) and a test keeps the two equal.

`from_environment` builds a resource from the environment: a text or whole-number setting whose
variable is set becomes an `EnvVar`, which Dagster reads when a run starts (a password or the
pseudonym key is never written into run config or shown in the UI); Dagster has no environment
source for decimal numbers or yes/no values, so those are read from the environment when the
code location loads. This module and `cli.py` are the only ones that read the environment;
domain modules take plain values (`LinkageConfig`, `PublishConfig`, ceilings, thresholds).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import os
import re
import shutil
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar, InitResourceContext, MetadataValue
from pydantic import Field

from dtsen_pipeline.alerts import AlertChannels
from dtsen_pipeline.clock import local_date
from dtsen_pipeline.config import DATA_DIR, Settings, default_warehouse_url
from dtsen_pipeline.domain.regions import DEFAULT_SCOPE
from dtsen_pipeline.golden.churn import MAX_ID_CHURN
from dtsen_pipeline.ingest.retention import DEFAULT_RETENTION_DAYS, RawRetention
from dtsen_pipeline.ingest.runner import DEFAULT_WORKERS
from dtsen_pipeline.linkage.backend import BACKENDS, SPARK, BackendError
from dtsen_pipeline.linkage.model import LinkageConfig
from dtsen_pipeline.preflight import check_warehouse, check_writable
from dtsen_pipeline.publish.config import (
    DEFAULT_HISTORY_RUNS,
    DEFAULT_PEKON_ROLE,
    DEFAULT_READER_ROLE,
    DEFAULT_RESTRICTED_ROLE,
    PublishConfig,
)
from dtsen_pipeline.quality.gx_suites import THRESHOLDS_FILE, load_thresholds
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS
from dtsen_pipeline.regencies import (
    PARTITION_TAG,
    check_regency,
    regency_folder,
    regency_lock_target,
    regency_url,
    regency_warehouse_url,
)
from dtsen_pipeline.reports.artifact_server import DEFAULT_BASE_URL, DEFAULT_HOST, DEFAULT_PORT, artifact_url
from dtsen_pipeline.run_lock import held_for_run, warehouse_run_lock
from dtsen_pipeline.warehouse import DUCKDB_MEMORY_LIMIT, MEMORY_LIMIT_VARIABLE, engine_for

# Great Expectations reads this when its first data context is made; no usage statistics leave.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

DEFAULT_RUN_LOCK_WAIT = 900
DEFAULT_RUN_WORKERS = 2  # the production machine's cores (docs/operations.md, Cores and memory)
_LINKAGE = LinkageConfig()
_TRUE = ("1", "true", "yes")


class SettingError(ValueError):
    """A setting's environment variable holds a value of the wrong kind; the message names it."""


R = typing.TypeVar("R", bound=ConfigurableResource)


def resolved(resource: R) -> R:
    """`resource` with its settings read (`EnvVar`s resolved), outside any run: for the values the
    code location and the CLI need when they load."""
    with resource.process_config_and_initialize_cm() as value:
        return value


def run_regency(context: InitResourceContext) -> str | None:
    """The kabupaten a run works on: its partition, when the deployment covers several
    (`dtsen_pipeline.regencies`); None for a one-regency deployment or outside a run."""
    run = context.dagster_run
    return run.tags.get(PARTITION_TAG) if run is not None else None


def setting(variable: str, default: Any, description: str, *, shown_default: str | None = None,
            secret: bool = False, blank_is_value: bool = False) -> Any:
    """A resource field that is a deployment setting, set by environment variable `variable`.

    `shown_default`: the default as the docs show it, where the value depends on the machine.
    `blank_is_value`: an empty variable is a value (an empty role name disables the role);
    otherwise an empty variable leaves the default.
    """
    extra: dict[str, Any] = {"env_var": variable}
    if shown_default is not None:
        extra["shown_default"] = shown_default
    if secret:
        extra["dagster__is_secret"] = True
    if blank_is_value:
        extra["blank_is_value"] = True
    return Field(default=default, description=description, json_schema_extra=extra)


class WarehouseResource(ConfigurableResource):
    """The warehouse: `duckdb:///path` (default) or `postgresql+psycopg://...` in production."""

    url: str = setting("DTSEN_WAREHOUSE_URL", default_warehouse_url(),
                       "SQLAlchemy URL of the warehouse, e.g. `postgresql+psycopg://user:pw@host:5432/dtsen`",
                       shown_default="`duckdb:///<project>/data/warehouse.duckdb`")
    memory_limit: str = setting(MEMORY_LIMIT_VARIABLE, DUCKDB_MEMORY_LIMIT,
                                "memory the embedded DuckDB warehouse may use before it spills to `<file>.tmp` "
                                "(DuckDB only; PostgreSQL has its own settings)")

    def engine(self) -> sa.Engine:
        return engine_for(self.url, self.memory_limit)

    def for_regency(self, regency: str | None) -> WarehouseResource:
        """This warehouse, or one regency's own (`regencies.regency_warehouse_url`)."""
        return self if not regency else self.model_copy(update={"url": regency_warehouse_url(self.url, regency)})

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[WarehouseResource]:
        # A partition's run works in its regency's warehouse and nowhere else.
        yield self.for_regency(run_regency(context))

    @contextlib.contextmanager
    def closing_engine(self) -> Iterator[sa.Engine]:
        """An engine whose connections close on exit: a sensor lives in the long-running code
        server, and a pooled connection left open there would hold the embedded DuckDB file's
        lock against the runs (measured: the next `dtsen run` failed to open the warehouse)."""
        engine = engine_for(self.url, self.memory_limit)
        try:
            yield engine
        finally:
            engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine().dialect.name


class RunLockResource(ConfigurableResource):
    """Holds the warehouse for the whole run (`run_lock`): a run that finds another one working
    waits, then stops cleanly, so no delivery is ever loaded twice. With the in-process executor
    (DuckDB) the resource lives from the first step to the last. With the multiprocess executor
    (PostgreSQL) each step is a process of its own, so the run's orchestrating process holds the
    lock for the whole run (`dtsen_pipeline.executor`) and the steps find it held for their run."""

    url: str = Field(description="The warehouse's URL (the `warehouse` resource's).")
    artifacts_dir: str | None = Field(default=None, description="The artifacts folder (checked writable first).")
    wait_seconds: int = setting("DTSEN_RUN_LOCK_WAIT", DEFAULT_RUN_LOCK_WAIT,
                                "seconds a run waits for another run holding the warehouse before it stops")

    def for_regency(self, regency: str | None) -> RunLockResource:
        """The lock of one regency's warehouse (each regency's night locks only its own)."""
        if not regency:
            return self
        url, folder = regency_lock_target(self.url, self.artifacts_dir, regency)
        return self.model_copy(update={"url": url, "artifacts_dir": folder})

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[RunLockResource]:
        lock = self.for_regency(run_regency(context))
        # Before anything else: an unreachable warehouse or an unwritable artifacts folder stops
        # the run at once, naming the setting (preflight), not hours later inside a step.
        check_warehouse(lock.url)
        if lock.artifacts_dir is not None:
            check_writable(Path(lock.artifacts_dir), "DTSEN_ARTIFACTS_DIR")
        if held_for_run(lock.url, context.run_id):
            if context.log:
                context.log.info("warehouse run lock held by this run's orchestrating process")
            yield lock
            return
        with warehouse_run_lock(lock.url, lock.wait_seconds):
            if context.log:
                context.log.info("warehouse run lock held")
            yield lock


class PipelineSettings(ConfigurableResource):
    """Folders, scope and ingestion threads of one deployment."""

    landing_dir: str = setting("DTSEN_LANDING_DIR", str(DATA_DIR / "landing"),
                               "the landing folder, one subfolder per feed", shown_default="`<project>/data/landing`")
    artifacts_dir: str = setting("DTSEN_ARTIFACTS_DIR", str(DATA_DIR / "artifacts"),
                                 "trained models and other run artifacts", shown_default="`<project>/data/artifacts`")
    artifacts_url: str = setting("DTSEN_ARTIFACTS_URL", DEFAULT_BASE_URL,
                                 "base URL the artifacts folder is served at (`dtsen serve-artifacts`, or the reverse "
                                 "proxy in production); asset and check metadata link Data Docs, reports and charts there")
    artifacts_host: str = setting("DTSEN_ARTIFACTS_HOST", DEFAULT_HOST,
                                  "address `dtsen serve-artifacts` binds to (the loopback; never a public address)")
    artifacts_port: int = setting("DTSEN_ARTIFACTS_PORT", DEFAULT_PORT, "port `dtsen serve-artifacts` listens on")
    truth_dir: str | None = setting("DTSEN_TRUTH_DIR", None,
                                    "truth tables of generated sample data (absent for real data)",
                                    shown_default="`<landing>/_truth`")
    scope: str = setting("DTSEN_SCOPE", DEFAULT_SCOPE,
                         "Kemendagri code of the deployment's area; rows outside it are flagged `OUT_OF_SCOPE`, "
                         "not dropped. Several kabupaten (`18.06,18.10`) or a province (`18`): one partition per "
                         "kabupaten, each with its own landing and artifacts subfolder and warehouse "
                         "(docs/operations.md, Several regencies)")
    village_code_changes: str | None = setting(
        "DTSEN_VILLAGE_CODE_CHANGES", None,
        "CSV of village code changes in the area (old_code,new_code,kind,source; kind KODE_BERUBAH, PEMEKARAN "
        "or PENGGABUNGAN), from the Kemendagri decrees: a recipient listed under the old code is not a move",
        shown_default="none (the packaged file, no rows)")
    ingest_workers: int = setting("DTSEN_INGEST_WORKERS", DEFAULT_WORKERS,
                                  "feeds ingested and staged side by side (threads); 1 runs them in turn")
    report_workers: int = setting("DTSEN_REPORT_WORKERS", DEFAULT_WORKERS,
                                  "worklist files written side by side (processes); 1 writes them in turn")
    raw_retention_days: int = setting("DTSEN_RAW_RETENTION_DAYS", DEFAULT_RETENTION_DAYS,
                                      "days a superseded delivery keeps its records in `raw.<feed>`; then they are "
                                      "pruned and its `raw.delivery` row says `pruned`. Deliveries in force are never "
                                      "pruned. 0 keeps every record for ever")
    restage: bool = setting("DTSEN_RESTAGE", False,
                            "`1` (or `true`, `yes`): stage and validate every feed tonight; unset, a feed whose "
                            "deliveries in force, settings, code and reckoning date are those of its last published "
                            "staging is left as it is (docs/operations.md, Unchanged feeds)", shown_default="unset")
    raw_archive_dir: str | None = setting("DTSEN_RAW_ARCHIVE_DIR", None,
                                          "folder the pruned records are first written to, one Parquet file per "
                                          "delivery (`<feed>/<delivery_id>.parquet`, mode 600): personal data, keep "
                                          "it as restricted as the warehouse", shown_default="unset (not archived)")
    run_workers: int = setting("DTSEN_RUN_WORKERS", DEFAULT_RUN_WORKERS,
                               "on PostgreSQL, steps of a run executed side by side, each in a process of its own "
                               "(Dagster's multiprocess executor; read when the code location loads, a run can "
                               "change it under `execution: config: max_concurrent`); 1 runs them in turn in the "
                               "run's process. On DuckDB a run is one process and this is not used")

    regency: str = Field(default="", description="the kabupaten this run works on: set from the run's partition "
                         "when the scope covers several; empty for a one-regency deployment")

    def for_regency(self, regency: str | None) -> PipelineSettings:
        """One regency's settings: its subfolders, its artifact URL and itself as the scope."""
        if not regency:
            return self
        check_regency(self.scope, regency)
        return self.model_copy(update={
            "landing_dir": str(regency_folder(self.landing_dir, regency)),
            "artifacts_dir": str(regency_folder(self.artifacts_dir, regency)),
            "artifacts_url": regency_url(self.artifacts_url, regency),
            "truth_dir": str(regency_folder(self.truth, regency)),  # <landing>/_truth/<code> by default
            "scope": regency, "regency": regency})

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[PipelineSettings]:
        yield self.for_regency(run_regency(context))

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def deployment_artifacts(self) -> Path:
        """The deployment's artifacts folder, above a regency's subfolder: what all regencies
        share (the DuckDB pseudonym key, so tokens agree across the province)."""
        return self.artifacts.parent if self.regency else self.artifacts

    @property
    def artifacts(self) -> Path:
        return Path(self.artifacts_dir)

    def artifact_link(self, path: Path) -> MetadataValue:
        """Metadata linking `path` (a file or folder under the artifacts folder) on the artifact server;
        a path elsewhere stays a path."""
        url = artifact_url(self.artifacts_url, self.artifacts, path)
        return MetadataValue.url(url) if url else MetadataValue.path(str(path))

    @property
    def truth(self) -> Path:
        return Path(self.truth_dir) if self.truth_dir else self.landing / "_truth"

    @property
    def code_changes(self) -> Path | None:
        return Path(self.village_code_changes) if self.village_code_changes else None

    @property
    def workers(self) -> int:
        if self.ingest_workers < 1:
            raise SettingError("DTSEN_INGEST_WORKERS must be a whole number of at least 1")
        return self.ingest_workers

    @property
    def retention(self) -> RawRetention:
        if self.raw_retention_days < 0:
            raise SettingError("DTSEN_RAW_RETENTION_DAYS must be a whole number of days, 0 or more")
        return RawRetention(days=self.raw_retention_days,
                            archive_dir=Path(self.raw_archive_dir) if self.raw_archive_dir else None)

    @property
    def writers(self) -> int:
        if self.report_workers < 1:
            raise SettingError("DTSEN_REPORT_WORKERS must be a whole number of at least 1")
        return self.report_workers

    @property
    def step_processes(self) -> int:
        if self.run_workers < 1:
            raise SettingError("DTSEN_RUN_WORKERS must be a whole number of at least 1")
        return self.run_workers

    run_date: str = Field(default="", description="the run's date (YYYY-MM-DD): the golden tables' ages and the "
                          "period of reports and review files are reckoned at it, staging's at its feed's newest "
                          "delivery but never later; empty: the day the run starts (Asia/Jakarta)")

    def as_of(self) -> dt.date:
        """The run's date: `run_date` when a run sets it (a re-run of an earlier day, a test), else
        today in the deployment's time zone (`clock.local_date`)."""
        if not self.run_date:
            return local_date()
        try:
            return dt.date.fromisoformat(self.run_date)
        except ValueError:
            raise SettingError(f"pipeline.run_date must be a date YYYY-MM-DD, got {self.run_date!r}") from None


class QualitySettings(ConfigurableResource):
    """The quality rules' deployment values: gating thresholds and programme ceilings."""

    thresholds_file: str = setting("DTSEN_QUALITY_THRESHOLDS", str(THRESHOLDS_FILE),
                                   "`mostly` per feed (suite) and rule for the GX suites",
                                   shown_default="`<project>/expectations/thresholds.yaml`")
    max_desil_pkh: int = setting("DTSEN_MAX_DESIL_PKH", DEFAULT_CEILINGS["PKH"],
                                 "highest desil PKH may serve: a PKH family above it is an inclusion-error candidate")
    max_desil_bpnt: int = setting("DTSEN_MAX_DESIL_BPNT", DEFAULT_CEILINGS["BPNT"],
                                  "highest desil BPNT may serve (inclusion-error candidates above it)")
    max_desil_pbi_jk: int = setting("DTSEN_MAX_DESIL_PBI_JK", DEFAULT_CEILINGS["PBI-JK"],
                                    "highest desil PBI-JK may serve (inclusion-error candidates above it)")

    def ceilings(self) -> dict[str, int]:
        """Programme -> highest desil it may serve (reference.programme_rule, rule PRG-02)."""
        return {"PKH": self.max_desil_pkh, "BPNT": self.max_desil_bpnt, "PBI-JK": self.max_desil_pbi_jk}

    def thresholds(self) -> dict[str, dict[str, float]]:
        """`{suite: {rule: mostly}}` from the thresholds file."""
        return load_thresholds(Path(self.thresholds_file))


class LinkageSettings(ConfigurableResource):
    """Thresholds, seed and memory of record linkage (`LinkageConfig`)."""

    seed: int = setting("DTSEN_LINKAGE_SEED", _LINKAGE.seed, "seed of linkage training (u sampling)")
    predict_threshold: float = setting("DTSEN_LINKAGE_PREDICT_THRESHOLD", _LINKAGE.predict_threshold,
                                       "pairs scored at or above this match probability are kept")
    cluster_threshold: float = setting("DTSEN_LINKAGE_CLUSTER_THRESHOLD", _LINKAGE.cluster_threshold,
                                       "pairs at or above this match probability are clustering edges "
                                       "(behind the guards)")
    review_upper: float = setting("DTSEN_LINKAGE_REVIEW_UPPER", _LINKAGE.review_upper,
                                  "upper end of the clerical-review band: pairs from the predict threshold up to "
                                  "this go to review")
    review_cap_per_kecamatan: int = setting("DTSEN_REVIEW_CAP_PER_KECAMATAN", _LINKAGE.review_cap_per_kecamatan,
                                            "pairs per kecamatan in one month's duplicate-review files, highest "
                                            "impact first; the rest wait for later months")
    backend: str = setting("DTSEN_LINKAGE_BACKEND", _LINKAGE.backend,
                           "where Splink runs: `duckdb` (in-process) or `spark` (local Spark in the linkage step; "
                           "needs the `spark` extra and a Java 17+ runtime). Both score with the same model "
                           "(docs/linkage.md, Spark backend)")
    memory_limit: str = setting("DTSEN_LINKAGE_MEMORY_LIMIT", _LINKAGE.memory_limit,
                                "memory cap of Splink's in-process DuckDB (it spills to the temp folder beyond it)")
    spark_driver_memory: str = setting("DTSEN_LINKAGE_SPARK_DRIVER_MEMORY", _LINKAGE.spark_driver_memory,
                                       "heap of the Spark driver (the linkage step) on the `spark` backend (JVM size: `4g`, "
                                       "`6144m`); Spark spills to the temp folder beyond it")
    spark_master: str = setting("DTSEN_LINKAGE_SPARK_MASTER", _LINKAGE.spark_master,
                                "where the `spark` backend runs: `local[2]` (inside the step) or a Spark cluster's "
                                "master URL (`spark://host:7077`, `k8s://https://host:443`, `yarn`); the step is "
                                "then the driver (docs/scale.md, National deployment)")
    spark_checkpoint_dir: str = setting("DTSEN_LINKAGE_SPARK_CHECKPOINT_DIR", _LINKAGE.spark_checkpoint_dir,
                                        "folder of Splink's intermediate tables on the `spark` backend (they hold "
                                        "record values; the step removes its own); unset: a private temp folder. "
                                        "Required with a cluster master: storage every executor and the step reach "
                                        "(a mounted shared volume; with `hdfs://...` or `s3a://...` the results come "
                                        "back through the driver)", shown_default="unset")
    retrain: bool = setting("DTSEN_LINKAGE_RETRAIN", _LINKAGE.retrain,
                            "`1` (or `true`, `yes`): every run trains a candidate linkage model (promoted only if "
                            "no worse on clerical labels); the `retrain_and_refresh` job does it for one run",
                            shown_default="unset")
    full_rebuild: bool = setting("DTSEN_LINKAGE_FULL", _LINKAGE.full_rebuild,
                                 "`1` (or `true`, `yes`): score every candidate pair tonight; unset, a night whose "
                                 "model and predict threshold scored the pairs in force scores only the pairs of new "
                                 "and changed records (docs/linkage.md, Incremental nights)", shown_default="unset")
    incremental_max_share: float = setting("DTSEN_LINKAGE_INCREMENTAL_MAX_SHARE", _LINKAGE.incremental_max_share,
                                           "above this share of new, changed or removed person records a night "
                                           "rebuilds every pair")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """At the run's start, not in the linkage step an hour later: the settings hold, and the
        Spark backend has pyspark and a Java runtime (pyspark finds `java` on PATH or in JAVA_HOME)."""
        config = self.config()
        if config.backend == SPARK:
            missing = [what for what, there in (
                ("pyspark (install the `spark` extra)", importlib.util.find_spec("pyspark") is not None),
                ("a Java 17+ runtime (`java` on PATH or JAVA_HOME)",
                 bool(shutil.which("java") or os.environ.get("JAVA_HOME")))) if not there]
            if missing:
                raise SettingError(f"DTSEN_LINKAGE_BACKEND=spark needs {' and '.join(missing)}")

    def config(self) -> LinkageConfig:
        if self.backend not in BACKENDS:
            raise SettingError(f"DTSEN_LINKAGE_BACKEND must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if not re.fullmatch(r"[0-9]+[kmgt]", self.spark_driver_memory.strip().lower()):
            raise SettingError("DTSEN_LINKAGE_SPARK_DRIVER_MEMORY must be a JVM size such as 4g or 6144m, "
                               f"got {self.spark_driver_memory!r}")
        master = self.spark_master.strip()
        if not re.fullmatch(r"local(\[([0-9]+|\*)\])?|(spark|k8s|mesos)://\S+|yarn", master):
            raise SettingError("DTSEN_LINKAGE_SPARK_MASTER must be local[N] or a cluster's master URL "
                               f"(spark://host:7077, k8s://https://host:443, yarn), got {master!r}")
        config = LinkageConfig(predict_threshold=self.predict_threshold, cluster_threshold=self.cluster_threshold,
                               review_upper=self.review_upper, seed=self.seed, retrain=self.retrain,
                               backend=self.backend, memory_limit=self.memory_limit,
                               spark_driver_memory=self.spark_driver_memory.strip().lower(),
                               spark_master=self.spark_master.strip(),
                               spark_checkpoint_dir=self.spark_checkpoint_dir.strip(),
                               review_cap_per_kecamatan=self.review_cap_per_kecamatan,
                               full_rebuild=self.full_rebuild, incremental_max_share=self.incremental_max_share)
        if config.backend == SPARK:
            try:
                config.spark  # noqa: B018 (a cluster's placement is checked when it is made)
            except BackendError as exc:
                raise SettingError(str(exc)) from None
        return config


class PublicationSettings(ConfigurableResource):
    """Publication: pseudonym key, history depth, PostgreSQL roles, and the id-churn limit."""

    pseudonym_key: str | None = setting(
        "DTSEN_PSEUDONYM_KEY", None,
        "secret key (at least 32 characters) of the HMAC-SHA256 tokens of NIK and No. KK. **Required on "
        "PostgreSQL**: publication stops, publishing nothing, without it. On DuckDB it falls back to a random key "
        "generated once into `<artifacts>/pseudonym.key` (mode 600), valid on that installation only. Never commit "
        "a key; changing it changes every token", secret=True, blank_is_value=True)
    history_runs: int = setting("DTSEN_HISTORY_RUNS", DEFAULT_HISTORY_RUNS,
                                "how many published runs `golden_history.<table>` keeps")
    reader_role: str = setting("DTSEN_READER_ROLE", DEFAULT_READER_ROLE,
                               "PostgreSQL role of downstream teams (masked views only). An empty name disables "
                               "the role", blank_is_value=True)
    reader_password: str | None = setting("DTSEN_READER_PASSWORD", None,
                                          "password of the reader role: with one it can log in",
                                          secret=True, blank_is_value=True)
    restricted_role: str = setting("DTSEN_RESTRICTED_ROLE", DEFAULT_RESTRICTED_ROLE,
                                   "PostgreSQL role that reads raw identifiers (golden, history, audit). An empty "
                                   "name disables the role", blank_is_value=True)
    restricted_password: str | None = setting("DTSEN_RESTRICTED_PASSWORD", None,
                                              "password of the restricted role: with one it can log in",
                                              secret=True, blank_is_value=True)
    pekon_role: str = setting("DTSEN_PEKON_ROLE", DEFAULT_PEKON_ROLE,
                              "PostgreSQL group role of pekon operators (`golden_pekon` views). An empty name "
                              "disables the role", blank_is_value=True)
    pekon_operators: str | None = setting(
        "DTSEN_PEKON_OPERATORS", None,
        "`role=code[,code];...`: each operator's region (desa `18.06.01.2016`, kecamatan `18.06.01` or kabupaten "
        "code). Written to `access.region_scope` at each publication; unset leaves that table as a DBA keeps it",
        shown_default="unset", blank_is_value=True)
    max_id_churn: float = setting("DTSEN_MAX_ID_CHURN", MAX_ID_CHURN,
                                  "share of previously active person ids a run may merge, split or drop before the "
                                  "`id_churn` check stops publication")

    def config(self) -> PublishConfig:
        """The validated publication config (role names checked: they end up inside SQL)."""
        return PublishConfig.from_settings(
            history_runs=self.history_runs, pseudonym_key=self.pseudonym_key, reader_role=self.reader_role,
            reader_password=self.reader_password, restricted_role=self.restricted_role,
            restricted_password=self.restricted_password, pekon_role=self.pekon_role,
            pekon_operators=self.pekon_operators)


class AlertSettings(ConfigurableResource):
    """Where alerts of failed runs, blocked publications and held-back feeds go (`alerts.py`)."""

    ui_url: str = setting("DTSEN_UI_URL", "http://127.0.0.1:3000",
                          "base URL of the Dagster UI as the alert's readers reach it (links to the run)")
    smtp_host: str | None = setting("DTSEN_ALERT_SMTP_HOST", None, "SMTP server for alert emails; unset: no email",
                                    shown_default="unset")
    smtp_port: int = setting("DTSEN_ALERT_SMTP_PORT", 25, "SMTP port")
    smtp_starttls: bool = setting("DTSEN_ALERT_SMTP_STARTTLS", False, "`1`: STARTTLS before sending",
                                  shown_default="unset")
    smtp_user: str | None = setting("DTSEN_ALERT_SMTP_USER", None, "SMTP login, if the server needs one",
                                    shown_default="unset")
    smtp_password: str | None = setting("DTSEN_ALERT_SMTP_PASSWORD", None, "SMTP password", shown_default="unset",
                                        secret=True)
    sender: str = setting("DTSEN_ALERT_FROM", "dtsen-pipeline@localhost", "From address of alert emails")
    recipients: str = setting("DTSEN_ALERT_TO", "", "comma-separated recipients of alert emails; empty: no email",
                              shown_default="unset")
    webhook_url: str | None = setting("DTSEN_ALERT_WEBHOOK_URL", None,
                                      "URL that receives each alert as a JSON POST (chat or incident tool); unset: none",
                                      shown_default="unset")

    def channels(self) -> AlertChannels:
        recipients = tuple(r.strip() for r in self.recipients.split(",") if r.strip())
        return AlertChannels(ui_url=self.ui_url, smtp_host=self.smtp_host or None, smtp_port=self.smtp_port,
                             sender=self.sender, recipients=recipients, smtp_user=self.smtp_user or None,
                             smtp_password=self.smtp_password, starttls=self.smtp_starttls,
                             webhook_url=self.webhook_url or None)


# Resource key -> class: every class with a setting, under the key the assets ask for.
SETTINGS_RESOURCES: dict[str, type[ConfigurableResource]] = {
    "warehouse": WarehouseResource,
    "run_lock": RunLockResource,
    "pipeline": PipelineSettings,
    "quality": QualitySettings,
    "linkage": LinkageSettings,
    "publication": PublicationSettings,
    "alerts": AlertSettings,
}


@dataclass(frozen=True)
class DeclaredSetting:
    """One setting as the configuration table shows it."""

    variable: str
    resource: str
    field: str
    default: str
    description: str

    def row(self) -> str:
        return f"| `{self.variable}` | {self.default} | `{self.resource}.{self.field}` | {self.description} |"


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return f"`{value}`"
    return str(value)


def declared_settings() -> list[DeclaredSetting]:
    """Every setting in declaration order."""
    out = []
    for key, cls in SETTINGS_RESOURCES.items():
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra or {}
            if "env_var" in extra:
                out.append(DeclaredSetting(extra["env_var"], key, name,
                                           extra.get("shown_default") or _shown(info.default), info.description))
    return out


TABLE_HEADER = "| variable | default | Launchpad (`resources:`) | meaning |\n|---|---|---|---|"


def configuration_table() -> str:
    """The docs' configuration table (Markdown) of every declared setting."""
    return "\n".join([TABLE_HEADER, *(s.row() for s in declared_settings())])


def _kind(annotation: Any) -> type:
    """`int` of `int | None`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _from_variable(variable: str, kind: type, raw: str) -> Any:
    if kind is str:
        return EnvVar(variable)
    if kind is int:
        return EnvVar.int(variable)
    if kind is bool:
        return raw.strip().lower() in _TRUE
    try:
        return kind(raw)
    except ValueError:
        raise SettingError(f"{variable} must be a {kind.__name__} value") from None


def from_environment(cls: type[ConfigurableResource], **given: Any) -> ConfigurableResource:
    """`cls` with each setting whose environment variable is set taken from it (`given` values win)."""
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra or {}
        variable = extra.get("env_var")
        if name in given or variable is None or variable not in os.environ:
            continue
        raw = os.environ[variable]
        if raw.strip() or extra.get("blank_is_value"):
            values[name] = _from_variable(variable, _kind(info.annotation), raw)
    return cls(**values, **given)


def default_resources(settings: Settings | None = None) -> dict[str, ConfigurableResource]:
    """Every resource from the environment; explicit `settings` (tests, scripts) replace the
    warehouse URL, the folders and the scope."""
    given = {} if settings is None else {
        "landing_dir": str(settings.landing_dir), "artifacts_dir": str(settings.artifacts_dir),
        "truth_dir": str(settings.truth_dir), "scope": settings.scope}
    warehouse = from_environment(WarehouseResource, **({} if settings is None else {"url": settings.warehouse_url}))
    pipeline = from_environment(PipelineSettings, **given)
    return {
        "warehouse": warehouse,
        "run_lock": from_environment(RunLockResource, url=warehouse.url, artifacts_dir=pipeline.artifacts_dir),
        "pipeline": pipeline,
        "quality": from_environment(QualitySettings),
        "linkage": from_environment(LinkageSettings),
        "publication": from_environment(PublicationSettings),
        "alerts": from_environment(AlertSettings),
    }


def settings_from_environment(regency: str | None = None) -> Settings:
    """The warehouse URL, folders and scope this environment sets, as plain values (the CLI); with
    `regency`, that kabupaten's own (a deployment covering several, `dtsen_pipeline.regencies`)."""
    warehouse = resolved(from_environment(WarehouseResource)).for_regency(regency)
    pipeline = resolved(from_environment(PipelineSettings)).for_regency(regency)
    return Settings(warehouse_url=warehouse.url, landing_dir=pipeline.landing, artifacts_dir=pipeline.artifacts,
                    truth_dir=pipeline.truth, scope=pipeline.scope)
