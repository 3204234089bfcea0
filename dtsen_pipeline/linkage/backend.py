"""Where Splink runs: an in-process DuckDB (default) or a local Spark (`DTSEN_LINKAGE_BACKEND`).

A `Session` owns the Splink database API of one Linker and the few things the model does
outside Splink's own SQL (`model.register_blocked_pairs`, `model.score_pairs`): run a
`CREATE TABLE ... AS` in the backend, register a small frame, hand a table's chosen columns to
pandas. Both backends run the same settings and the same trained model (`model.model_for_dialect`
translates a saved model's SQL to the backend's dialect).

Spark runs in local mode inside the step by default (`local[2]`), or on a Spark cluster when
DTSEN_LINKAGE_SPARK_MASTER names one (`spark://host:7077` for a standalone cluster, `k8s://...`,
`yarn`): the step is then the driver and the cluster's executors run the joins and the guarded
clustering's Python workers (`SparkOptions`). Either way the driver memory comes from
DTSEN_LINKAGE_SPARK_DRIVER_MEMORY, Splink's similarity UDF jar comes from the installed wheel (no
download; Spark ships it to the executors), there is no web UI, and the scratch files (shuffle
spill, Splink's parquet checkpoints of intermediate tables: record values) go to one private
folder under the temp folder, removed when the session stops. On a cluster of several machines
the checkpoints must go where every executor reaches them (DTSEN_LINKAGE_SPARK_CHECKPOINT_DIR:
`hdfs://...`, `s3a://...`), and the executors must run the same image (this package, the same
Python at the same path). One SparkSession serves every Linker of the process; it stops when the
last of them is closed (`close`) or when the process ends.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import stat
import sys
import tempfile
import threading
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from dtsen_pipeline.frames import arrow_to_pandas
from dtsen_pipeline.warehouse import evict_cached_pages

DUCKDB, SPARK = "duckdb", "spark"
BACKENDS = (DUCKDB, SPARK)
DEFAULT_MEMORY_LIMIT = "1500MB"  # measured at 640,000 persons: docs/operations.md, "Memory"
DEFAULT_SPARK_DRIVER_MEMORY = "4g"
SPARK_CORES = 2
DEFAULT_SPARK_MASTER = f"local[{SPARK_CORES}]"
# Shuffle partitions of a local run: Spark's default (200) makes hundreds of tiny tasks on 2 cores;
# measured on the test sample (8,440 records), predict took 25 s with 8 and 15 s with 4.
SPARK_SHUFFLE_PARTITIONS = 2 * SPARK_CORES
# Spark 4.3's new whole-stage code generation of UNION ALL (on by default) fused the touched
# records' candidate pairs (52 joins, one per rule and side, into one grouping) into a stage that
# failed with AGGREGATE_OUT_OF_MEMORY on 4 of 12 incremental scorings of the test sample (8,440
# records, 60 touched, 4g driver); with it off, 0 of 12. Each union child then runs as its own stage.
UNION_CODEGEN = "spark.sql.codegen.wholeStage.union.enabled"

logger = logging.getLogger(__name__)


class BackendError(RuntimeError):
    """The chosen backend cannot run here (unknown name, pyspark or Java missing); says which setting."""


def check_backend(name: str) -> str:
    """`name` if it is a backend, else a BackendError naming the setting."""
    if name not in BACKENDS:
        raise BackendError(f"DTSEN_LINKAGE_BACKEND must be one of {', '.join(BACKENDS)}, got {name!r}")
    return name


@dataclass(frozen=True)
class SparkOptions:
    """Where the Spark backend runs: `master` (`local[2]`, or a cluster's URL), the driver's JVM
    heap, and the folder of Splink's parquet checkpoints ('' = the session's private temp folder)."""

    master: str = DEFAULT_SPARK_MASTER
    driver_memory: str = DEFAULT_SPARK_DRIVER_MEMORY
    checkpoint_dir: str = ""

    def __post_init__(self) -> None:
        # A cluster's executors write Splink's checkpoints and read each other's: in a folder of
        # the driver's machine they would each see only their own part.
        if not self.local and not self.checkpoint_dir:
            raise BackendError(f"DTSEN_LINKAGE_SPARK_MASTER={self.master} needs DTSEN_LINKAGE_SPARK_CHECKPOINT_DIR: "
                               "storage every executor and the linkage step reach")

    @property
    def local(self) -> bool:
        """Spark inside this process's JVM only (`local`, `local[N]`, `local[*]`)."""
        return self.master == "local" or self.master.startswith("local[")


LOCAL_SPARK = SparkOptions()  # the default: local[2] in this process, 4g driver, private checkpoints


class Session:
    """One Linker's place in a backend (see the module docstring)."""

    dialect: str
    db_api: Any

    def register_records(self, records: pd.DataFrame):
        """The records as Splink's input table (a SplinkDataFrame)."""
        raise NotImplementedError

    def create_table(self, name: str, select_sql: str) -> None:
        raise NotImplementedError

    def create_id_table(self, name: str, ids: Collection[int]) -> None:
        """A one-column table `unique_id` of `ids` (the records' positions, `record_ids.RecordIds`)."""
        raise NotImplementedError

    def native(self, frame: pd.DataFrame) -> Any:
        """`frame` as Splink's `register_table` takes it on this backend."""
        return frame

    def to_pandas(self, table, columns: list[str]) -> pd.DataFrame:
        """`columns` of a SplinkDataFrame, in pandas (the rest stays in the backend)."""
        raise NotImplementedError

    def drop_table(self, name: str) -> None:
        """Drop a table made by `create_table` or `create_id_table`."""
        raise NotImplementedError

    def release_memory(self) -> None:
        """Hand what dropped tables held back to the operating system, where the backend can."""

    def close(self) -> None:
        raise NotImplementedError


class DuckDBSession(Session):
    """A private in-memory DuckDB (never the warehouse file: DuckDB allows one writer) that spills
    to the temp folder beyond `memory_limit` (DTSEN_LINKAGE_MEMORY_LIMIT)."""

    dialect = DUCKDB

    def __init__(self, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> None:
        import duckdb
        from splink import DuckDBAPI

        spill = Path(tempfile.gettempdir()) / "dtsen_linkage_spill"
        self.memory_limit = memory_limit
        self.connection = duckdb.connect(":memory:", config={"memory_limit": memory_limit,
                                                            "temp_directory": str(spill)})
        self.db_api = DuckDBAPI(connection=self.connection)

    def register_records(self, records: pd.DataFrame):
        return self.db_api.register(records, dataset_display_name="persons")

    def create_table(self, name: str, select_sql: str) -> None:
        self.connection.execute(f"CREATE TABLE {name} AS {select_sql}").fetchall()

    def create_id_table(self, name: str, ids: Collection[int]) -> None:
        self.connection.register(f"{name}_frame", _id_frame(ids))
        self.connection.execute(f"CREATE TABLE {name} AS SELECT unique_id FROM {name}_frame").fetchall()
        self.connection.unregister(f"{name}_frame")

    def to_pandas(self, table, columns: list[str]) -> pd.DataFrame:
        relation = table.as_duckdbpyrelation()
        return arrow_to_pandas(relation.select(", ".join(f'"{c}"' for c in columns)).to_arrow_table())

    def drop_table(self, name: str) -> None:
        self.connection.execute(f"DROP TABLE IF EXISTS {name}")

    def release_memory(self) -> None:
        # The blocks of dropped tables stay with DuckDB up to its limit (measured at 640,000
        # persons: docs/operations.md, "Memory").
        evict_cached_pages(self.connection, self.memory_limit)

    def close(self) -> None:
        self.connection.close()


def _id_frame(ids: Collection[int]) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": pd.Series(sorted(ids), dtype="int64")})


class SparkSplinkSession(Session):
    """A Linker's tables in the process's local Spark (`_LocalSpark`)."""

    dialect = SPARK

    def __init__(self, options: SparkOptions = LOCAL_SPARK) -> None:
        self.views: list[str] = []
        self.cached: list[Any] = []
        self.spark = _LOCAL.acquire(self, options)  # first: says so when pyspark or Java is missing
        from splink.backends.spark import SparkAPI

        # Splink's default lineage break for Spark: each intermediate table written as parquet to
        # the checkpoint folder and read back (a plan that grows through EM iterations stays short).
        self.db_api = SparkAPI(spark_session=self.spark, break_lineage_method="parquet",
                               num_partitions_on_repartition=SPARK_SHUFFLE_PARTITIONS // 2)

    def _frame(self, table: pa.Table):
        return self.spark.createDataFrame(table)

    def native(self, frame: pd.DataFrame) -> Any:
        return self._frame(pa.Table.from_pandas(frame, preserve_index=False))

    def register_records(self, records: pd.DataFrame):
        # Through Arrow with each column's type (a column null on every row keeps it): Splink's
        # pandas path would let Spark infer types from the values. Cached once: every blocking
        # join and Splink's term-frequency tables read it.
        frame = self.native(records).persist()
        self.cached.append(frame)
        return self.db_api.register(frame, dataset_display_name="persons")

    def create_table(self, name: str, select_sql: str) -> None:
        self.spark.sql(select_sql).persist().createOrReplaceTempView(name)
        self.views.append(name)

    def create_id_table(self, name: str, ids: Collection[int]) -> None:
        self.native(_id_frame(ids)).createOrReplaceTempView(name)
        self.views.append(name)

    def to_pandas(self, table, columns: list[str]) -> pd.DataFrame:
        frame = table.as_spark_dataframe().select(*[f"`{c}`" for c in columns])
        return arrow_to_pandas(frame.toArrow())

    def drop_table(self, name: str) -> None:
        if self.spark.catalog.isCached(name):
            self.spark.catalog.uncacheTable(name)
        self.spark.catalog.dropTempView(name)
        if name in self.views:
            self.views.remove(name)

    def close(self) -> None:
        _LOCAL.release(self)


class _LocalSpark:
    """The process's SparkSession (local, or a cluster's driver), shared by the open Spark sessions
    and stopped with the last; the options of the first session that starts it hold until then."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spark = None
        self.folder: Path | None = None
        self.users: weakref.WeakSet[SparkSplinkSession] = weakref.WeakSet()
        self.made: list[Path] = []

    def acquire(self, user: SparkSplinkSession, options: SparkOptions):
        with self.lock:
            if self.spark is None:
                self.spark, self.folder = _start_spark(options)
                self.made.append(self.folder)
            self.users.add(user)
            return self.spark

    def release(self, user: SparkSplinkSession) -> None:
        with self.lock:
            if self.spark is None or user not in self.users:
                return
            for frame in user.cached:
                frame.unpersist()
            for view in user.views:
                if self.spark.catalog.isCached(view):
                    self.spark.catalog.uncacheTable(view)
                self.spark.catalog.dropTempView(view)
            self.users.discard(user)
            if not len(self.users):
                self._stop()

    def stop(self) -> None:
        """At exit: Spark stopped, and every scratch folder of the process removed again (the JVM,
        which outlives `spark.stop()`, has been seen to recreate an empty one as it shut down)."""
        with self.lock:
            self.users = weakref.WeakSet()
            self._stop()
            for folder in self.made:
                shutil.rmtree(folder, ignore_errors=True)

    def _stop(self) -> None:
        if self.spark is not None:
            # Splink's checkpoints (record values) in a configured folder: this session's part goes
            # with it (the private folder below holds them otherwise).
            checkpoints = self.spark.sparkContext.getCheckpointDir() or ""
            self.spark.stop()
            self.spark = None
            if checkpoints.startswith("file:"):
                shutil.rmtree(checkpoints.removeprefix("file:"), ignore_errors=True)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


_LOCAL = _LocalSpark()
atexit.register(_LOCAL.stop)


def spark_running() -> bool:
    """Whether this process's local Spark is up (tests: closing the last linker stops it)."""
    return _LOCAL.spark is not None


def _start_spark(options: SparkOptions):
    """A SparkSession for linkage (`options`), and the driver's private scratch folder."""
    try:
        import pyspark
        from pyspark.sql import SparkSession as PySparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        raise BackendError("DTSEN_LINKAGE_BACKEND=spark needs pyspark: install the `spark` extra "
                           "(pip install -c constraints.txt -e '.[spark]')") from None
    folder = Path(tempfile.mkdtemp(prefix="dtsen_spark_"))  # mode 700: intermediate tables hold records
    os.chmod(folder, stat.S_IRWXU)
    builder = (PySparkSession.builder.master(options.master).appName("dtsen-linkage")
               .config("spark.driver.memory", options.driver_memory)
               .config("spark.jars", similarity_jar_location())
               .config("spark.sql.shuffle.partitions", str(SPARK_SHUFFLE_PARTITIONS))
               .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
               .config("spark.ui.enabled", "false")  # it would show plans and data on a port
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config(UNION_CODEGEN, "false")
               .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={folder}"))
    if options.local:
        # The executors are this JVM: their spill goes to the private folder, and nothing listens
        # beyond loopback. A cluster's executors use their own local folders, and its driver must
        # be reachable from them (the cluster's spark-defaults.conf says on which address).
        builder = (builder.config("spark.default.parallelism", str(SPARK_CORES))
                   .config("spark.local.dir", str(folder / "local"))
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if shutil.which("java") is None:  # pyspark also looks in JAVA_HOME; without either it cannot start
            raise BackendError("DTSEN_LINKAGE_BACKEND=spark needs a Java 17+ runtime (`java` on PATH or "
                               "JAVA_HOME); on Debian: apt-get install openjdk-17-jre-headless") from exc
        raise
    spark.sparkContext.setLogLevel("ERROR")
    # Python workers (the guarded clustering's grouped pandas) run this interpreter, whose
    # environment holds pandas and this package; pyspark's default is `python3` on PATH. Set on
    # the context, not through PYSPARK_PYTHON: settings are read in one module only. A cluster's
    # executors run the same image, so the same path holds there.
    spark.sparkContext.pythonExec = sys.executable
    spark.sparkContext.setCheckpointDir(options.checkpoint_dir or str(folder / "checkpoints"))
    logger.info("linkage backend: Spark %s on %s (driver memory %s)", pyspark.__version__,
                "local" if options.local else "a cluster", options.driver_memory)
    return spark, folder


def open_session(backend: str = DUCKDB, memory_limit: str = DEFAULT_MEMORY_LIMIT,
                 spark: SparkOptions = LOCAL_SPARK) -> Session:
    """A Session on `backend` (`DuckDBSession` or `SparkSplinkSession`)."""
    if check_backend(backend) == SPARK:
        return SparkSplinkSession(spark)
    return DuckDBSession(memory_limit)
