"""`make run` and `make ui` share one Dagster instance, prepared in one place (`dtsen instance`)."""

import re
from pathlib import Path

from dtsen_pipeline.cli import INSTANCE_YAML, main

ROOT = Path(__file__).resolve().parents[2]


def test_dtsen_instance_prepares_dagster_home_once(tmp_path, monkeypatch, capsys):
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["instance"]) == 0
    assert capsys.readouterr().out.strip() == str(home)
    assert (home / "dagster.yaml").read_text() == INSTANCE_YAML
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n# an operator's own setting\n")
    assert main(["instance"]) == 0  # never overwrites an existing instance configuration
    assert "operator's own setting" in (home / "dagster.yaml").read_text()


def test_the_makefile_leaves_the_instance_configuration_to_the_cli():
    makefile = (ROOT / "Makefile").read_text()
    ui = re.search(r"^ui:.*?(?=^\S)", makefile + "\nend:", re.S | re.M).group(0)
    assert "dtsen instance" in ui and "dagster dev" in ui
    assert "dagster.yaml" not in makefile
