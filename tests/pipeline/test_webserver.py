"""`dagster dev -w workspace.yaml` starts and answers HTTP with the whole code location loaded."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dtsen_pipeline.cli import write_instance_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, data: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()


def test_dagster_dev_serves_the_workspace(tmp_path):
    port = _free_port()
    home = write_instance_config(tmp_path / "home")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
           "DTSEN_LANDING_DIR": str(tmp_path / "landing"),
           "DTSEN_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}"}
    dagster = Path(sys.executable).with_name("dagster")
    # start_new_session gives dagster dev default signal handling and lets us stop its children too.
    process = subprocess.Popen([str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.time() + 120
        info = None
        while time.time() < deadline and info is None:
            try:
                info = json.loads(_get(f"http://127.0.0.1:{port}/server_info"))
            except OSError:
                time.sleep(1)
        assert info is not None, "dagster dev did not answer within 120 s"
        assert info["dagster_version"] == "1.13.27"
        query = json.dumps({"query": "{ repositoriesOrError { ... on RepositoryConnection { nodes { "
                                     "jobs { name } assetNodes { id } } } } }"}).encode()
        nodes = []
        while time.time() < deadline and not nodes:
            nodes = json.loads(_get(f"http://127.0.0.1:{port}/graphql", query))["data"]["repositoriesOrError"].get(
                "nodes", [])
            if not nodes:
                time.sleep(1)
        jobs = {j["name"] for n in nodes for j in n["jobs"]}
        assert "nightly_refresh" in jobs
        assert sum(len(n["assetNodes"]) for n in nodes) >= 20
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
