"""The systemd units of deploy/systemd: valid for systemd, their commands present in the project's
environment and accepted by their programs, and the example EnvironmentFile complete and free of
secrets. The units themselves are started by test_production.py.

`systemd-analyze verify` checks the units with this checkout and environment in place of
/opt/dtsen; without the tool the test skips only when CI is unset (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dtsen_pipeline.resources import declared_settings
from tests.services import (
    ENV_EXAMPLE,
    ENV_FILE,
    INSTALL_ROOT,
    PRODUCTION_INSTANCE_YAML,
    ROOT,
    UNITS_DIR,
    local_command,
    localise,
    read_env_file,
    units,
)

SERVICES = {"dtsen-webserver.service": ["dagster-webserver", "-w", f"{INSTALL_ROOT}/workspace.yaml"],
            "dtsen-daemon.service": ["dagster-daemon", "run", "-w", f"{INSTALL_ROOT}/workspace.yaml"],
            "dtsen-artifacts.service": ["dtsen", "serve-artifacts"]}
SECRET = re.compile(r"PASSWORD|KEY|SECRET|TOKEN")


def test_the_three_services_are_defined():
    assert {u.name for u in units()} == set(SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_unit_runs_its_program_as_the_service_user_with_the_environment_file(name):
    unit = next(u for u in units() if u.name == name)
    argv = unit.exec_start
    assert [Path(argv[0]).name, *argv[1:]] == SERVICES[name]
    assert argv[0] == f"{INSTALL_ROOT}/.venv/bin/{SERVICES[name][0]}"
    assert unit.value("Service", "EnvironmentFile") == ENV_FILE
    assert unit.value("Service", "WorkingDirectory") == INSTALL_ROOT
    assert unit.value("Service", "User") == "dtsen" and unit.value("Service", "Restart") == "on-failure"
    assert unit.value("Service", "NoNewPrivileges") == "yes"
    assert unit.value("Install", "WantedBy") == "multi-user.target"
    for arg in argv[1:]:  # every file a command names is part of the checkout
        if arg.startswith(INSTALL_ROOT):
            assert Path(localise(arg)).is_file(), arg


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_command_exists_in_the_environment_and_accepts_its_arguments(name):
    unit = next(u for u in units() if u.name == name)
    argv = local_command(unit)
    assert os.access(argv[0], os.X_OK), f"{argv[0]} is not installed in this environment"
    # `--help` after the unit's own arguments: the program parses them and the subcommand must exist.
    done = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage" in done.stdout or "usage" in done.stdout


def _systemd_analyze() -> str:
    """The path of systemd-analyze; without it a failure under CI, else a skip that says so."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing (CI is set: .ci/run installs systemd)")
        pytest.skip("systemd-analyze is missing (skipped because CI is unset)")
    return tool


def test_systemd_accepts_the_units(tmp_path):
    tool = _systemd_analyze()
    env_file = tmp_path / "dtsen.env"
    shutil.copyfile(ENV_EXAMPLE, env_file)
    for unit in units():
        text = localise(unit.path.read_text(encoding="utf-8")).replace(ENV_FILE, str(env_file))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    files = sorted(str(p) for p in tmp_path.glob("*.service"))
    done = subprocess.run([tool, "verify", *files], capture_output=True, text=True, timeout=120)
    # verify warns (exit 0) about unknown keys and typos: any output is a finding
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


def test_systemd_analyze_finds_a_missing_program(tmp_path):
    """The check above can fail: a unit whose program is not installed is refused."""
    tool = _systemd_analyze()
    unit = next(u for u in units() if u.name == "dtsen-daemon.service")
    text = localise(unit.path.read_text(encoding="utf-8")).replace("dagster-daemon run", "dagster-daemon-gone run")
    (tmp_path / "dtsen.env").write_text("")
    (tmp_path / unit.name).write_text(text.replace(ENV_FILE, str(tmp_path / "dtsen.env")), encoding="utf-8")
    done = subprocess.run([tool, "verify", str(tmp_path / unit.name)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "dagster-daemon-gone" in done.stdout + done.stderr


def test_the_environment_example_sets_what_the_units_and_the_instance_read_and_no_secret():
    example = read_env_file(ENV_EXAMPLE)
    instance_vars = set(re.findall(r"\{env: (\w+)\}", PRODUCTION_INSTANCE_YAML.read_text()))
    assert instance_vars and instance_vars <= set(example)
    assert yaml.safe_load(PRODUCTION_INSTANCE_YAML.read_text())["storage"]["postgres"]
    assert {"DAGSTER_HOME", "DAGSTER_WEBSERVER_HOST", "DAGSTER_WEBSERVER_PORT", "DTSEN_WAREHOUSE_URL",
            "DTSEN_LANDING_DIR", "DTSEN_ARTIFACTS_DIR", "DTSEN_PSEUDONYM_KEY"} <= set(example)
    declared = {s.variable for s in declared_settings()}
    assert not {k for k in example if k.startswith("DTSEN_")} - declared
    secrets = {k: v for k, v in example.items() if SECRET.search(k)}
    assert secrets and all(v == "" for v in secrets.values()), "the example must leave secrets empty"
    assert ":" not in example["DTSEN_WAREHOUSE_URL"].split("//", 1)[1].split("@")[0]  # no password in the URL
    assert example["DAGSTER_WEBSERVER_HOST"] == "127.0.0.1"  # the UI behind a reverse proxy, not public
    assert set(example["DAGSTER_HOME"].split("/")[:4]) <= {"", "var", "lib", "dtsen"}


def test_the_units_name_only_the_documented_paths():
    values = [v for u in units() for key, found in u.sections.get("Service", {}).items() for v in found]
    paths = {p for v in values for p in re.findall(r"(?<![\w.])(/[\w./-]+)", v)}
    assert paths and all(p.startswith((INSTALL_ROOT, ENV_FILE, "/var/lib/dtsen")) for p in paths), paths
    assert (UNITS_DIR / "dtsen.env.example").is_file()
