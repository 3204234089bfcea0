"""The feed registry (one YAML per feed) is the only list of feeds: every list of person feeds
the pipeline uses is derived from it (issue #13)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from dtsen_pipeline.config import FEED_CONFIG_DIR, PROJECT_ROOT
from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds

NEW_FEED = """name: blt
entity: person
survivorship: {priority: 5}
delivery_mode: snapshot
files: ['*.csv']
region: {code_system: kemendagri, vintage: '2025', village: KODE_DESA}
columns: {nik: NIK, nama: NAMA}
"""
# Code that may name feeds: the sample generator writes the shipped feeds' files itself.
EXEMPT = ("dtsen_pipeline/sample/",)


def test_person_feeds_are_the_registry_s_person_entities(tmp_path):
    assert person_feeds(load_feed_specs()) == ("bansos", "dtsen", "dukcapil", "pekon")
    for path in FEED_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "blt.yaml").write_text(NEW_FEED)
    assert person_feeds(load_feed_specs(tmp_path)) == ("bansos", "blt", "dtsen", "dukcapil", "pekon")
    assert "verval" in load_feed_specs(tmp_path)  # a decision feed is a feed, not a person feed


def _feed_name_lists(path: Path, feeds: set[str]) -> list[int]:
    """Lines of tuple, list or set literals naming two or more person feeds."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            names = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            if len(names & feeds) >= 2:
                lines.append(node.lineno)
    return lines


def test_no_code_keeps_its_own_list_of_person_feeds():
    feeds = set(person_feeds(load_feed_specs()))
    files = [p for folder in ("dtsen_pipeline", "assets", "benchmarks") for p in (PROJECT_ROOT / folder).rglob("*.py")]
    found = {p.relative_to(PROJECT_ROOT).as_posix(): _feed_name_lists(p, feeds) for p in files
             if not p.relative_to(PROJECT_ROOT).as_posix().startswith(EXEMPT)}
    assert {path: lines for path, lines in found.items() if lines} == {}
