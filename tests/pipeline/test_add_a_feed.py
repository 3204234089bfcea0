"""A new person feed is a YAML file and a suite file: nothing else changes, and its records go all
the way through ingest, quality, staging, linkage and publication.

The test copies the project's code into a temporary folder, adds there only
`dtsen_pipeline/feeds/blt_desa.yaml` and `expectations/staging__blt_desa.json` (the example of
docs/feeds.md), delivers a BLT Dana Desa list naming real persons of a generated sample, and runs
the nightly job once in a subprocess (the asset graph is built from the registry when the code
loads). Nothing outside the temporary folder is touched.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from dtsen_pipeline.config import PROJECT_ROOT

COPIED = ("dtsen_pipeline", "assets", "expectations", "dbt_like_sql", "deploy", "workspace.yaml", "pyproject.toml")
BLT_YAML = """name: blt_desa
description: BLT Dana Desa recipients, one file per pekon and month
entity: person
survivorship: {priority: 5}
delivery_mode: snapshot
snapshot_scope: [kode_desa]
files: ["BLT_*.csv"]
reader: {separator: ";"}
region: {code_system: kemendagri, vintage: "2025", village: KODE_DESA}
columns: {nik: NIK, no_kk: NO_KK, nama: NAMA_PENERIMA, alamat: ALAMAT}
required: [NIK, NAMA_PENERIMA, KODE_DESA]
"""
BLT_SUITE = {
    "name": "staging__blt_desa",
    "meta": {"notes": "Contract of staging.blt_desa: the person-feed suite plus the list's own rule."},
    "include": ["person_feed.json"],
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nik"},
         "meta": {"severity": "warning", "rule": "NIK-01"}},
    ],
}
RECIPIENTS = 12


def _copy_project(target: Path) -> Path:
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target / name)
    (target / "dtsen_pipeline" / "feeds" / "blt_desa.yaml").write_text(BLT_YAML)
    (target / "expectations" / "staging__blt_desa.json").write_text(json.dumps(BLT_SUITE, indent=2))
    return target


def _blt_list(landing: Path) -> list[dict[str, str]]:
    """The first recipients of the civil registry, as a village would list them, plus a totals row."""
    registry = next((landing / "dukcapil").glob("*.csv"))
    with registry.open(encoding="utf-8") as handle:
        people = [row for row in csv.DictReader(handle)  # living people of the regency (18.06)
                  if row["STATUS_HIDUP"] == "HIDUP" and int(row["NO_PROP"]) == 18 and int(row["NO_KAB"]) == 6]
    people = people[:RECIPIENTS]
    rows = [{"NIK": p["NIK"], "NO_KK": p["NO_KK"], "NAMA_PENERIMA": p["NAMA_LGKP"], "ALAMAT": p["ALAMAT"],
             "KODE_DESA": f"{int(p['NO_PROP']):02d}.{int(p['NO_KAB']):02d}.{int(p['NO_KEC']):02d}.{p['NO_KEL']}"}
            for p in people]
    folder = landing / "blt_desa"
    folder.mkdir()
    with (folder / "BLT_2026-11.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
        handle.write("JUMLAH;;;;\n")
    return rows


def test_a_person_feed_added_by_yaml_and_suite_is_materialized_end_to_end(tmp_path):
    project = _copy_project(tmp_path / "project")
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(project), "DAGSTER_HOME": str(data / "dagster_home"),
           "DTSEN_LANDING_DIR": str(data / "landing"), "DTSEN_ARTIFACTS_DIR": str(data / "artifacts"),
           "DTSEN_WAREHOUSE_URL": f"duckdb:///{data / 'warehouse.duckdb'}", "DAGSTER_DISABLE_TELEMETRY": "1",
           "GX_ANALYTICS_ENABLED": "false"}
    env.pop("DTSEN_TRUTH_DIR", None)
    subprocess.run([sys.executable, "-m", "dtsen_pipeline.sample", "--persons", "400", "--seed", "3",
                    "--out", str(data / "landing")], env=env, cwd=project, check=True, capture_output=True)
    recipients = _blt_list(data / "landing")

    run = subprocess.run([sys.executable, "-m", "dtsen_pipeline.cli", "run"], env=env, cwd=project,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert ": SUCCESS" in run.stdout

    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as db:
        def scalar(sql: str) -> object:
            return db.execute(sql).fetchone()[0]

        # Every delivered row is accounted for: staged, or quarantined with a reason.
        assert scalar("SELECT count(*) FROM raw.blt_desa") == RECIPIENTS + 1
        assert scalar("SELECT count(*) FROM staging.blt_desa") == RECIPIENTS
        assert db.execute("SELECT reason FROM quality.quarantine WHERE feed = 'blt_desa'").fetchall() == [
            ("SUMMARY_ROW",)]
        # Its own suite (composed with the person-feed suite) was run by the gate and passed.
        assert db.execute("SELECT decision FROM quality.gate WHERE suite = 'staging__blt_desa'").fetchall() == [
            ("passed",)]
        # Linkage placed each recipient with the civil registry's record of the same person.
        linked = db.execute("""
            SELECT count(DISTINCT b.record_id) FROM golden.person_source b
            JOIN golden.person_source d ON d.person_id = b.person_id AND d.feed = 'dukcapil'
            WHERE b.feed = 'blt_desa'""").fetchone()[0]
        assert linked == RECIPIENTS
        published = {row[0] for row in db.execute(
            "SELECT p.nik FROM golden.person p JOIN golden.person_source s USING (person_id) "
            "WHERE s.feed = 'blt_desa'").fetchall()}
        assert published == {r["NIK"] for r in recipients}
