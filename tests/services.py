"""Helpers for tests that start the project's services as separate processes: the systemd units
of deploy/systemd read as systemd reads them, their commands made local (the checkout under test
and the running interpreter's environment instead of /opt/dtsen), and the webserver's GraphQL API.

The units name the production paths (`/opt/dtsen`, `/opt/dtsen/.venv`, `/etc/dtsen/dtsen.env`);
`localise` maps them onto this checkout, so a test starts exactly the command a unit starts.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
UNITS_DIR = ROOT / "deploy" / "systemd"
ENV_EXAMPLE = UNITS_DIR / "dtsen.env.example"
PRODUCTION_INSTANCE_YAML = ROOT / "deploy" / "production" / "dagster.yaml"
INSTALL_ROOT = "/opt/dtsen"
INSTALL_VENV = "/opt/dtsen/.venv"
ENV_FILE = "/etc/dtsen/dtsen.env"
VENV_BIN = Path(sys.executable).parent
# What systemd gives a service besides its EnvironmentFile (PYTHONPATH: a helper worktree's code wins).
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")


@dataclass
class Unit:
    """A systemd unit file: section -> key -> values in file order."""

    path: Path
    sections: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    def values(self, section: str, key: str) -> list[str]:
        return self.sections.get(section, {}).get(key, [])

    def value(self, section: str, key: str) -> str:
        found = self.values(section, key)
        assert len(found) == 1, f"{self.name}: expected one {section}.{key}, found {found}"
        return found[0]

    @property
    def exec_start(self) -> list[str]:
        return shlex.split(self.value("Service", "ExecStart"))


def read_unit(path: Path) -> Unit:
    unit = Unit(path)
    section = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.sections.setdefault(line[1:-1], {})
            continue
        assert section is not None and "=" in line, f"{path.name}: not a unit line: {raw!r}"
        key, value = line.split("=", 1)
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def units() -> list[Unit]:
    return [read_unit(p) for p in sorted(UNITS_DIR.glob("*.service"))]


def unit(name: str) -> Unit:
    return read_unit(UNITS_DIR / name)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an EnvironmentFile (comments and blank lines skipped)."""
    out = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, value = line.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def localise(text: str) -> str:
    """A unit's production paths as paths of this checkout and this interpreter's environment."""
    return text.replace(INSTALL_VENV + "/bin", str(VENV_BIN)).replace(INSTALL_ROOT, str(ROOT))


def local_command(u: Unit) -> list[str]:
    return [localise(arg) for arg in u.exec_start]


def service_environment(overrides: dict[str, str]) -> dict[str, str]:
    """The environment a service gets from systemd: the example EnvironmentFile with a test's values.
    Every override names a variable the example declares, so the example stays complete."""
    example = read_env_file(ENV_EXAMPLE)
    unknown = sorted(set(overrides) - set(example))
    assert not unknown, f"variables missing from {ENV_EXAMPLE.name}: {unknown}"
    base = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    return {**base, **example, **overrides}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])


def start(name: str, argv: list[str], env: dict[str, str], cwd: Path, log_dir: Path) -> Service:
    """Start a service in a session of its own (so it and its children can be stopped together)."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return Service(name, process, log)


def start_unit(u: Unit, env: dict[str, str], log_dir: Path) -> Service:
    return start(u.path.stem, local_command(u), env, Path(localise(u.value("Service", "WorkingDirectory"))),
                 log_dir)


def stop(service: Service) -> None:
    """SIGTERM to the service's process group (as `systemctl stop` does), SIGKILL after 30 s."""
    if service.process.poll() is not None:
        return
    os.killpg(service.process.pid, signal.SIGTERM)
    try:
        service.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait(timeout=10)


def wait_for(what: str, probe: Callable[[], Any], timeout: float, services: list[Service], every: float = 2.0):
    """`probe()`'s first truthy value; fails naming `what` (with the services' logs) after `timeout`
    seconds or as soon as a service has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        dead = [s for s in services if s.process.poll() is not None]
        if dead or time.monotonic() > deadline:
            reason = f"{', '.join(s.name for s in dead)} exited" if dead else f"not within {timeout:.0f} s"
            raise AssertionError(f"{what}: {reason}\n" + "\n".join(s.tail() for s in services))
        time.sleep(every)


def graphql(port: int, query: str, variables: dict | None = None) -> dict | None:
    """The `data` of a GraphQL answer of the webserver on `port`; None while it does not answer."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
    except OSError:
        return None
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]


REPOSITORIES = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } jobs { name } } } } }"


def loaded_repository(port: int) -> dict | None:
    """The code location's repository once the webserver has loaded it: {name, location, jobs}."""
    data = graphql(port, REPOSITORIES)
    nodes = (data or {}).get("repositoriesOrError", {}).get("nodes") or []
    return nodes[0] if nodes else None
