"""Splink on a Spark cluster (DTSEN_LINKAGE_SPARK_MASTER=spark://...): the linkage step is the
driver, a worker's executor does the joins and the guarded clustering's Python workers, and the
result is DuckDB's.

The cluster is real: a standalone master and one worker, started from the Spark that pyspark
installs (`bin/spark-class`), on loopback, each in its own JVM, as on a cluster's machines. Without
pyspark or Java this skips, saying so, when CI is unset; under CI it fails."""

import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dtsen_pipeline.linkage.backend import SPARK, spark_running
from dtsen_pipeline.linkage.model import LinkageConfig, close_linker, linker_session, load_model
from dtsen_pipeline.linkage.run import link
from tests.linkage.agreement import duckdb_reference, same_clusters, same_pairs

LOG = logging.getLogger(__name__)
STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(log: Path, text: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.5)
    pytest.fail(f"the standalone Spark did not start ({text!r} not in {log.name}):\n"
                f"{log.read_text(errors='replace')[-2000:] if log.exists() else ''}")


@pytest.fixture(scope="module")
def standalone_cluster(spark_ready, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A standalone Spark master and one worker (2 cores, 3 GB for executors) on loopback: the
    master's URL and the worker's work folder (one folder per application it ran)."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    folder = tmp_path_factory.mktemp("spark_cluster")
    properties = folder / "spark-defaults.conf"
    properties.write_text("spark.master.rest.enabled false\nspark.ui.enabled false\n")
    port, work = _free_port(), folder / "work"
    master_url = f"spark://127.0.0.1:{port}"
    common = ["--host", "127.0.0.1", "--webui-port", str(_free_port()), "--properties-file", str(properties)]
    processes: list[subprocess.Popen] = []
    try:
        master_log = folder / "master.log"
        with master_log.open("w") as out:
            processes.append(subprocess.Popen(
                [str(spark_class), "org.apache.spark.deploy.master.Master", "--port", str(port), *common],
                stdout=out, stderr=subprocess.STDOUT))
        _wait_for(master_log, "I have been elected leader", processes[0])
        worker_log = folder / "worker.log"
        with worker_log.open("w") as out:
            processes.append(subprocess.Popen(
                [str(spark_class), "org.apache.spark.deploy.worker.Worker", master_url, *common,
                 "--cores", "2", "--memory", "3g", "--work-dir", str(work)],
                stdout=out, stderr=subprocess.STDOUT))
        _wait_for(worker_log, "Successfully registered with master", processes[1])
        yield master_url, work
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_the_linkage_on_a_spark_cluster_is_duckdbs(standalone_cluster, sample_records, tmp_path):
    master_url, work = standalone_cluster
    assert not spark_running(), "a local Spark of an earlier test is still up: this test would reuse it"
    # The checkpoints where the worker and this process both reach them (one machine: a local folder).
    cluster_config = LinkageConfig(backend=SPARK, spark_master=master_url, spark_driver_memory="2g",
                                   spark_checkpoint_dir=str(tmp_path / "checkpoints"))
    model_path = tmp_path / "model.json"
    on_duckdb = duckdb_reference(sample_records, model_path)
    cluster_linker = load_model(sample_records, model_path, cluster_config)
    try:
        context = linker_session(cluster_linker).spark.sparkContext
        assert context.master == master_url
        start = time.perf_counter()
        on_cluster = link(cluster_linker, sample_records, model_path, cluster_config)
        seconds = time.perf_counter() - start
        executors = context._jsc.sc().getExecutorMemoryStatus().size() - 1  # less the driver
    finally:
        close_linker(cluster_linker)
    assert not spark_running()

    # The worker ran this application's executor (its folder holds the executor's logs), and the
    # executor ran the clustering's Python (its worker processes used this interpreter).
    assert executors >= 1
    applications = [p for p in work.iterdir() if p.name.startswith("app-")]
    assert len(applications) == 1
    executor_logs = "".join(f.read_text(errors="replace") for f in applications[0].rglob("stderr"))
    assert "Executor" in executor_logs

    same_pairs(on_duckdb.pairs, on_cluster.pairs)
    agreement = same_clusters(on_duckdb.clusters, on_cluster.clusters, len(sample_records))
    LOG.info(f"standalone cluster ({executors} executor): {len(on_cluster.pairs):,} pairs, "
             f"{on_cluster.clusters['cluster_id'].nunique():,} clusters in {seconds:.1f} s; "
             f"pairwise agreement with DuckDB {agreement.precision:.5f} / {agreement.recall:.5f}")

