"""`make run` and `make ui` use one local Dagster instance, set up from the project's template."""

import yaml

from dtsen_pipeline import cli
from dtsen_pipeline.config import PROJECT_ROOT


def test_dtsen_instance_sets_up_the_home_dtsen_run_records_in(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert cli.main(["instance"]) == 0
    assert capsys.readouterr().out.strip() == str(home) == str(cli.ensure_dagster_home())
    config = home / "dagster.yaml"
    assert config.read_text() == cli.LOCAL_INSTANCE_YAML.read_text()
    assert yaml.safe_load(config.read_text())["telemetry"] == {"enabled": False}
    config.write_text("telemetry:\n  enabled: false\n# the deployment's own\n")
    cli.write_instance_config(home)
    assert config.read_text().endswith("# the deployment's own\n")  # an instance's own config is kept


def test_make_ui_sets_up_the_instance_through_the_cli_not_its_own_copy():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    ui = makefile.split("\nui:")[1].split("\n\n")[0]
    assert "dtsen instance" in ui and "dagster.yaml" not in ui and "printf" not in ui
