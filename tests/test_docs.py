"""The docs are part of the product: the README is a front page, every rule id the code uses is
explained in docs/rules.md, links resolve, and the code cites specs that are in the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from dtsen_pipeline.domain.identifiers import KK_ISSUES, NIK_ISSUES, NIK_WARNINGS
from dtsen_pipeline.ingest.standardise import QUARANTINE_REASONS
from dtsen_pipeline.quality.row_rules import ROW_FLAGS, ROW_QUARANTINE_REASONS

ROOT = Path(__file__).resolve().parents[1]
RULE_ID = re.compile(r"\b(?:NIK|KK|REG|NAME|DOB|PRG|PDP|QUAR)-\d{2}\b")
REFUSAL = re.compile(r'(?:return |reason=|refused\[|\] = )"([A-Z][A-Z_]+)"')
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE_DIRS = ("dtsen_pipeline", "assets", "benchmarks", "tests", "expectations", "dbt_like_sql")


def _documented_codes() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_.\-]+)`", (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")))


def rule_ids_in_code() -> set[str]:
    """Every rule id the code declares or cites: suites, thresholds, row rules, source text."""
    ids: set[str] = set()
    for suite in (ROOT / "expectations").glob("*.json"):
        for expectation in json.loads(suite.read_text(encoding="utf-8")).get("expectations", []):
            ids |= set(RULE_ID.findall(expectation.get("meta", {}).get("rule", "")))
    for rules in yaml.safe_load((ROOT / "expectations" / "thresholds.yaml").read_text(encoding="utf-8")).values():
        ids |= set(rules)
    ids |= {rule for rule, _ in ROW_FLAGS.values()} | set(ROW_QUARANTINE_REASONS.values())
    for source in (ROOT / "dtsen_pipeline").rglob("*.py"):
        ids |= set(RULE_ID.findall(source.read_text(encoding="utf-8")))
    return ids


def codes_in_code() -> set[str]:
    """Identifier issues, quarantine reasons, row flags and the linkage guards' refusal reasons."""
    clustering = (ROOT / "dtsen_pipeline" / "linkage" / "clustering.py").read_text(encoding="utf-8")
    return {*NIK_ISSUES, *KK_ISSUES, *NIK_WARNINGS, *QUARANTINE_REASONS, *ROW_FLAGS, *REFUSAL.findall(clustering)}


def test_every_rule_id_and_code_of_the_code_is_explained_in_docs_rules():
    documented = _documented_codes()
    ids, codes = rule_ids_in_code(), codes_in_code()
    assert len(ids) >= 40 and len(codes) >= 50  # the collection itself works
    assert {"NIK-01", "KK-05", "REG-06", "QUAR-01"} <= ids
    assert {"NIK_EXCEL_DAMAGED", "MALFORMED_ROW", "DOB_IMPRECISE", "NAME_CONFLICT", "AMBIGUOUS_NAMESAKE"} <= codes
    assert sorted(ids - documented) == []
    assert sorted(codes - documented) == []


def test_the_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme) < 12_000
    for needed in ("make run", "make test", "make ui", "dtsen summary", "Data Docs", "worklists", "mermaid"):
        assert needed in readme, needed


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def test_every_relative_link_of_the_readme_and_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text(encoding="utf-8")):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_the_code_cites_specs_that_are_in_the_repository():
    """Comments cite docs/feeds.md and docs/rules.md, not briefs outside the tree."""
    stale = re.compile(r"domain brief|domain §|§8|(?<!docs/)\bfeeds\.md|(?<!docs/)\bdomain\.md")
    offenders = []
    for folder in CODE_DIRS:
        for source in (ROOT / folder).rglob("*"):
            if source.suffix in {".py", ".sql", ".yaml", ".json"} and source != Path(__file__):
                for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
                    if stale.search(line):
                        offenders.append(f"{source.relative_to(ROOT)}:{number}")
    assert offenders == []
    assert (ROOT / "docs" / "feeds.md").is_file() and (ROOT / "docs" / "rules.md").is_file()
