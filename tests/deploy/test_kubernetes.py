"""The Kubernetes deployment (deploy/kubernetes): the manifests as `kubectl kustomize` renders them
hold only fields the Kubernetes API knows, with every required one; the pods' settings are this
code's settings and valid; the instance's K8sRunLauncher (dagster-k8s, for real) turns a regency's
nightly run into a Kubernetes Job of the deployment's image; and the run queue lets every regency
run side by side, but one regency only once at a time.

No cluster is reached: the launcher's one call to the Kubernetes API (create the Job) is recorded.
`kubectl` renders the kustomization; without it the render test skips when CI is unset (and says
so) and fails under CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes.client.models as k8s_models
import pytest
import yaml
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.launcher import LaunchRunContext
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.test_utils import create_run_for_test, instance_for_test
from dagster._utils.tags import TagConcurrencyLimitsCounter
from dagster_k8s import K8sRunLauncher
from dagster_k8s.client import DagsterKubernetesClient

from dtsen_pipeline.resources import (
    LinkageSettings,
    PipelineSettings,
    declared_settings,
    from_environment,
    resolved,
)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
IMAGE = "registry.example.go.id/dtsen-pipeline:0.1.0"
IMAGE_PYTHON = "/usr/local/bin/python"  # python:3.11-slim-bookworm (the Dockerfile)
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


def _rendered() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        message = "rendering deploy/kubernetes needs kubectl (kustomize)"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: the check is required)")
        pytest.skip(message + " (skipped because CI is unset)")
    out = subprocess.run([kubectl, "kustomize", str(DEPLOY)], check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def _check(value: Any, type_name: str, path: str) -> list[str]:
    """Where `value` departs from the Kubernetes client's model `type_name` (unknown fields, types)."""
    if type_name.startswith("list["):
        if not isinstance(value, list):
            return [f"{path}: a list expected"]
        return [e for i, item in enumerate(value) for e in _check(item, type_name[5:-1], f"{path}[{i}]")]
    if type_name.startswith(("dict(", "dict[")):
        inner = type_name[type_name.index(",") + 1:-1].strip()
        if not isinstance(value, dict):
            return [f"{path}: a mapping expected"]
        return [e for key, item in value.items() for e in _check(item, inner, f"{path}.{key}")]
    simple = {"str": str, "bool": bool, "float": (int, float), "datetime": str, "date": str}
    if type_name == "int":
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: a whole number expected"]
    if type_name in simple:
        return [] if isinstance(value, simple[type_name]) else [f"{path}: {type_name} expected, got {value!r}"]
    if type_name == "object":  # int-or-string, free form
        return []
    model = getattr(k8s_models, type_name)
    if not isinstance(value, dict):
        return [f"{path}: a {type_name} mapping expected"]
    fields = {json_key: model.openapi_types[attribute] for attribute, json_key in model.attribute_map.items()}
    errors = [f"{path}.{key}: not a field of {type_name}" for key in value if key not in fields]
    return errors + [e for key, item in value.items() if key in fields
                     for e in _check(item, fields[key], f"{path}.{key}")]


def test_the_manifests_hold_only_fields_of_the_kubernetes_api():
    documents = _rendered()
    kinds = sorted(doc["kind"] for doc in documents)
    assert kinds.count("Deployment") == 3 and kinds.count("ConfigMap") == 4  # instance, workspace, settings, spark and "PersistentVolumeClaim" in kinds
    from kubernetes.client import ApiClient

    api = ApiClient()
    for doc in documents:
        model = f"V1{doc['kind']}"
        assert _check(doc, model, doc["kind"]) == []
        api._ApiClient__deserialize(doc, model)  # required fields: the client's models refuse their absence
        assert doc["metadata"].get("namespace", "dtsen") == "dtsen"
    deployments = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "Deployment"}
    for deployment in deployments.values():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == IMAGE
        assert {"configMapRef": {"name": "dtsen-settings"}} in container["envFrom"]
    code_env = {e["name"]: e.get("value") for e in deployments["dtsen-code"]["spec"]["template"]["spec"]
                ["containers"][0]["env"]}
    assert code_env["DAGSTER_CURRENT_IMAGE"] == IMAGE  # the image the run pods get
    config_maps = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "ConfigMap"}
    assert yaml.safe_load(config_maps["dtsen-instance"]["data"]["dagster.yaml"]) == _instance_yaml()


def _instance_yaml() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "dagster.yaml").read_text())


def _settings_env() -> dict[str, str]:
    """The `dtsen-settings` ConfigMap's data: every pod's environment."""
    return yaml.safe_load((DEPLOY / "settings.yaml").read_text())["data"]


def test_the_pods_settings_are_declared_and_valid(monkeypatch):
    env = _settings_env()
    declared = {s.variable for s in declared_settings()}
    unknown = [key for key in env if key.startswith("DTSEN_") and key not in declared]
    assert not unknown, f"settings.env sets variables no resource declares: {unknown}"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    linkage = resolved(from_environment(LinkageSettings)).config()
    assert linkage.backend == "duckdb" and not linkage.spark.local
    assert linkage.spark.master.startswith("k8s://") and linkage.spark.checkpoint_dir.startswith("/var/lib/dtsen")
    pipeline = resolved(from_environment(PipelineSettings))
    assert pipeline.scope == "18"
    # The instance's environment is what its YAML reads, and the run launcher's paths are the pods'.
    instance = _instance_yaml()
    assert {v["env"] for v in instance["storage"]["postgres"]["postgres_db"].values() if isinstance(v, dict)} \
        <= set(env) | {"DAGSTER_PG_PASSWORD"}
    assert instance["run_launcher"]["config"]["dagster_home"] == env["DAGSTER_HOME"]
    spark_conf = (DEPLOY / "spark-defaults.conf").read_text()
    assert f"mount.path         {env['DTSEN_LANDING_DIR'].rsplit('/', 1)[0]}" in spark_conf


@pytest.fixture
def k8s_instance(tmp_path):
    """A Dagster instance with the deployment's run launcher and run queue (instance storage in a
    temp folder; the launcher reads a kubeconfig instead of the pod's service account)."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    config = _instance_yaml()
    launcher = config["run_launcher"]
    launcher["config"] |= {"load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    with instance_for_test(overrides={"run_launcher": launcher, "run_queue": config["run_queue"]}) as instance:
        yield instance


def _regency_run(instance, regency: str):
    origin = JobPythonOrigin("nightly_refresh", RepositoryPythonOrigin(
        IMAGE_PYTHON, ModuleCodePointer("dtsen_pipeline.definitions", "defs", working_directory="/opt/dtsen"),
        container_image=IMAGE))
    return create_run_for_test(instance, job_name="nightly_refresh", job_code_origin=origin,
                               tags={"dagster/partition": regency})


def test_a_regency_run_becomes_a_kubernetes_job_of_the_image(k8s_instance, monkeypatch):
    created: list[tuple[Any, str]] = []
    monkeypatch.setattr(DagsterKubernetesClient, "create_namespaced_job_with_retries",
                        lambda self, body, namespace: created.append((body, namespace)))
    launcher = k8s_instance.run_launcher
    assert isinstance(launcher, K8sRunLauncher)
    run = _regency_run(k8s_instance, "18.10")
    launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))

    (job, namespace), = created
    assert namespace == "dtsen"
    pod = job.spec.template.spec
    container = pod.containers[0]
    assert container.image == IMAGE and pod.service_account_name == "dtsen-run"
    assert container.args[:5] == [IMAGE_PYTHON, "-m", "dagster", "api", "execute_run"]
    assert container.resources.requests == {"cpu": "2", "memory": "6Gi"}
    assert {ref.config_map_ref.name for ref in container.env_from if ref.config_map_ref} >= {"dtsen-settings"}
    assert {ref.secret_ref.name for ref in container.env_from if ref.secret_ref} == {"dtsen-secrets"}
    assert {m.mount_path for m in container.volume_mounts} >= {"/var/lib/dtsen", "/opt/spark-conf"}
    # The run worker gets the instance with its arguments (no file), and DAGSTER_HOME for its own use.
    assert {"name": "DAGSTER_HOME", "value": "/opt/dagster/home"} in [
        {"name": e.name, "value": e.value} for e in container.env]
    assert job.metadata.labels["dagster/run-id"] == run.run_id
    assert k8s_instance.get_run_by_id(run.run_id).tags["dagster/image"] == IMAGE


def test_the_run_queue_runs_regencies_side_by_side_but_one_regency_once(k8s_instance):
    limits = _instance_yaml()["run_queue"]["tag_concurrency_limits"]
    running = [_regency_run(k8s_instance, "18.06"), _regency_run(k8s_instance, "18.10")]
    counter = TagConcurrencyLimitsCounter(limits, running)
    assert counter.is_blocked(_regency_run(k8s_instance, "18.06"))  # its night still runs
    assert not counter.is_blocked(_regency_run(k8s_instance, "18.01"))  # another regency starts
    assert _instance_yaml()["run_queue"]["max_concurrent_runs"] >= 15  # a province at once
