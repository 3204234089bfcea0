"""Settings are declared once (dtsen_pipeline/resources.py), read from the environment only there
and in the CLI, shown in the docs' configuration table, and changeable for one run."""

import datetime as dt
import re
from pathlib import Path

import pytest
from dagster import asset, materialize

from dtsen_pipeline import cli
from dtsen_pipeline.clock import local_date
from dtsen_pipeline.config import PROJECT_ROOT
from dtsen_pipeline.definitions import build_definitions
from dtsen_pipeline.linkage.model import LinkageConfig
from dtsen_pipeline.publish.config import PublishConfig
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS
from dtsen_pipeline.resources import (
    SETTINGS_RESOURCES,
    LinkageSettings,
    PipelineSettings,
    PublicationSettings,
    QualitySettings,
    SettingError,
    configuration_table,
    declared_settings,
    default_resources,
    from_environment,
    resolved,
)

ALLOWED_ENVIRONMENT_READERS = {Path("dtsen_pipeline/resources.py"), Path("dtsen_pipeline/cli.py")}
ENVIRONMENT_READ = re.compile(r"\bos\.(environ|getenv|putenv)\b|\bfrom\s+os\s+import\b[^\n]*\b(environ|getenv)\b")


def configuration_doc() -> Path:
    """The docs page that holds the configuration table (linked from the README)."""
    return PROJECT_ROOT / "docs" / "configuration.md"


def table_rows(text: str) -> dict[str, list[str]]:
    """`DTSEN_*` rows of the configuration table: variable -> its other cells."""
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^\| `(DTSEN_[A-Z0-9_]+)` \|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split(" | ")]
    return rows


def test_every_setting_is_declared_once_with_a_variable_and_a_description():
    settings = declared_settings()
    variables = [s.variable for s in settings]
    assert len(variables) == len(set(variables)) >= 25
    for s in settings:
        assert s.variable.startswith("DTSEN_") and s.description and s.default, s


def test_the_definitions_provide_every_settings_resource():
    resources = build_definitions().resources
    for key, cls in SETTINGS_RESOURCES.items():
        assert isinstance(resources[key], cls), key


def test_the_configuration_table_is_the_declarations():
    doc = configuration_doc()
    rows = table_rows(doc.read_text(encoding="utf-8"))
    expected = {s.variable: s for s in declared_settings()}
    missing = [s.row() for s in expected.values() if s.variable not in rows]
    assert not missing, f"{doc.name} lacks rows (`dtsen settings` prints the table):\n" + "\n".join(missing)
    for variable, cells in rows.items():
        assert variable in expected, f"{doc.name} documents {variable}, which no resource declares"
        s = expected[variable]
        assert cells == [s.default, f"`{s.resource}.{s.field}`", s.description], (
            f"{doc.name}: the row of {variable} differs from its declaration; it should read\n{s.row()}")


def test_the_cli_prints_the_table(capsys):
    assert cli.main(["settings"]) == 0
    assert capsys.readouterr().out.strip() == configuration_table()


def test_no_module_reads_the_environment_outside_the_settings_module_and_the_cli():
    readers = []
    for folder in ("dtsen_pipeline", "assets"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            relative = path.relative_to(PROJECT_ROOT)
            if relative not in ALLOWED_ENVIRONMENT_READERS and ENVIRONMENT_READ.search(path.read_text(encoding="utf-8")):
                readers.append(str(relative))
    assert readers == []


def test_the_declared_defaults_are_the_domain_defaults(monkeypatch):
    for s in declared_settings():
        monkeypatch.delenv(s.variable, raising=False)
    resources = default_resources()
    assert resources["linkage"].config() == LinkageConfig()
    assert resources["publication"].config() == PublishConfig()
    assert resources["quality"].ceilings() == DEFAULT_CEILINGS
    pipeline = resources["pipeline"]
    assert pipeline.truth == pipeline.landing / "_truth" and pipeline.workers == 2


def test_text_and_whole_numbers_come_as_env_vars_and_secrets_never_show(monkeypatch):
    monkeypatch.setenv("DTSEN_PSEUDONYM_KEY", "k" * 40)
    monkeypatch.setenv("DTSEN_READER_PASSWORD", "s3cret")
    monkeypatch.setenv("DTSEN_HISTORY_RUNS", "3")
    monkeypatch.setenv("DTSEN_READER_ROLE", "")  # an empty role name is a value: the role is disabled
    monkeypatch.setenv("DTSEN_MAX_ID_CHURN", "0.2")
    publication = from_environment(PublicationSettings)
    shown = publication._convert_to_config_dictionary()
    assert shown["pseudonym_key"] == {"env": "DTSEN_PSEUDONYM_KEY"} and "kkkk" not in repr(shown)
    assert shown["reader_password"] == {"env": "DTSEN_READER_PASSWORD"} and "s3cret" not in repr(shown)
    assert shown["history_runs"] == {"env": "DTSEN_HISTORY_RUNS"}
    assert shown["max_id_churn"] == 0.2  # Dagster has no decimal environment source: read at load
    config = publication.process_config_and_initialize().config()
    assert config.history_runs == 3 and config.pseudonym_key == "k" * 40 and config.roles.reader is None


def test_an_empty_variable_leaves_the_default_unless_empty_is_a_value(monkeypatch):
    monkeypatch.setenv("DTSEN_INGEST_WORKERS", " ")
    monkeypatch.setenv("DTSEN_LINKAGE_CLUSTER_THRESHOLD", "")
    monkeypatch.setenv("DTSEN_PEKON_OPERATORS", "")
    assert resolved(from_environment(PipelineSettings)).workers == 2
    assert from_environment(LinkageSettings).config().cluster_threshold == 0.5
    assert from_environment(PublicationSettings).process_config_and_initialize().config().roles.operators == {}


def test_a_malformed_decimal_names_its_variable(monkeypatch):
    monkeypatch.setenv("DTSEN_LINKAGE_PREDICT_THRESHOLD", "0,3")
    with pytest.raises(ValueError, match="DTSEN_LINKAGE_PREDICT_THRESHOLD"):
        from_environment(LinkageSettings)


def test_the_environment_sets_the_programme_ceilings(monkeypatch):
    monkeypatch.setenv("DTSEN_MAX_DESIL_PBI_JK", "6")
    quality = from_environment(QualitySettings).process_config_and_initialize()
    assert quality.ceilings() == {**DEFAULT_CEILINGS, "PBI-JK": 6}


def test_the_run_date_is_the_run_s_date_if_set_else_today():
    assert PipelineSettings(run_date="2026-03-01").as_of() == dt.date(2026, 3, 1)
    assert PipelineSettings().as_of() == local_date()
    with pytest.raises(SettingError, match="run_date"):
        PipelineSettings(run_date="01/03/2026").as_of()


def test_a_run_can_change_a_setting_for_itself(tmp_path, monkeypatch):
    """What the Launchpad does: run config under `resources:` replaces a setting for one run."""
    monkeypatch.setenv("DTSEN_LINKAGE_CLUSTER_THRESHOLD", "0.6")
    seen = {}

    @asset
    def probe(linkage: LinkageSettings, quality: QualitySettings) -> None:
        seen["cluster_threshold"] = linkage.config().cluster_threshold
        seen["ceilings"] = quality.ceilings()

    resources = {"linkage": from_environment(LinkageSettings), "quality": from_environment(QualitySettings)}
    assert materialize([probe], resources=resources).success
    assert seen["cluster_threshold"] == 0.6
    run_config = {"resources": {"linkage": {"config": {"cluster_threshold": 0.9}},
                                "quality": {"config": {"max_desil_pkh": 3}}}}
    assert materialize([probe], resources=resources, run_config=run_config).success
    assert seen["cluster_threshold"] == 0.9 and seen["ceilings"]["PKH"] == 3
