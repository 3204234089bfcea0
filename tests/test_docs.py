"""The documentation stays true to the code: every rule id the code uses is in docs/rules.md, the
README is a front page, every relative link resolves, and comments cite the repo's own docs.

The rule ids are collected from the code's own registries (row codes, quarantine reasons, issue
codes, flags, gate and delivery states, the asset checks), from the suites and thresholds, from
the linkage guards' reason literals, and from every rule number (`NIK-01`, `PDP-02`, ...) the code
mentions, so a new rule added without a line in docs/rules.md fails here.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from pathlib import Path

import yaml

from dtsen_pipeline import schema
from dtsen_pipeline.config import PROJECT_ROOT
from dtsen_pipeline.domain import dates, identifiers, regions
from dtsen_pipeline.golden import flags
from dtsen_pipeline.ingest import deliveries, standardise
from dtsen_pipeline.quality import gate, row_rules

DOCS = PROJECT_ROOT / "docs"
RULES_DOC = DOCS / "rules.md"
README = PROJECT_ROOT / "README.md"
README_LIMIT = 12_000
CODE_DIRS = ("dtsen_pipeline", "assets", "expectations", "dbt_like_sql", "benchmarks", "deploy", "tests")
CODE_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".sql"}
# A rule number as the code writes it: NIK-01, KK-04, QUAR-01, PDP-02, ...
RULE_NUMBER = re.compile(r"\b[A-Z]{2,5}-[0-9]{2}\b")
NOT_RULE_NUMBERS = {"UTF-16"}  # an encoding, not a rule
CODE_LITERAL = re.compile(r"[A-Z][A-Z0-9_]*")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def code_files(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (PROJECT_ROOT / d).rglob("*")
                  if p.suffix in CODE_SUFFIXES and p.is_file() and "__pycache__" not in p.parts)


def _literals(path: Path, keep) -> set[str]:
    """Upper-case string literals of a module that `keep(node, parent)` accepts."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and CODE_LITERAL.fullmatch(node.value) and keep(node, parents.get(node))}


def linkage_guard_reasons() -> set[str]:
    """Every refusal reason of guarded clustering: the module's upper-case literals are its reasons."""
    return _literals(PROJECT_ROOT / "dtsen_pipeline" / "linkage" / "clustering.py", lambda node, parent: True)


def staging_row_codes() -> set[str]:
    """Flags and reasons staging writes itself: `.rename("FLAG")`, `(column, "FLAG")` pairs and
    `_first_reason(..., "REASON")`."""
    def keep(node, parent) -> bool:
        if isinstance(parent, ast.Call):
            func = parent.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            return name in {"rename", "_first_reason"}
        if isinstance(parent, ast.Tuple) and len(parent.elts) == 2 and parent.elts[1] is node:
            first = parent.elts[0]
            return isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.islower()
        return False
    return _literals(PROJECT_ROOT / "dtsen_pipeline" / "ingest" / "standardise.py", keep)


def suite_rules() -> set[str]:
    """Rule ids of every expectation's `meta.rule` and every rule of thresholds.yaml."""
    ids: set[str] = set()
    for path in sorted((PROJECT_ROOT / "expectations").glob("*.json")):
        for expectation in json.loads(path.read_text(encoding="utf-8")).get("expectations", []):
            rule = (expectation.get("meta") or {}).get("rule")
            if rule:
                ids |= set(RULE_NUMBER.findall(rule)) or {rule}
    thresholds = yaml.safe_load((PROJECT_ROOT / "expectations" / "thresholds.yaml").read_text(encoding="utf-8"))
    for rules in thresholds.values():
        ids |= set(rules)
    return ids


def rule_numbers_in_code() -> set[str]:
    found = set()
    for path in code_files("dtsen_pipeline", "assets", "expectations", "dbt_like_sql"):
        found |= set(RULE_NUMBER.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found - NOT_RULE_NUMBERS


def check_names() -> set[str]:
    from dtsen_pipeline.definitions import build_definitions

    return {key.name for key in build_definitions().resolve_asset_graph().asset_check_keys}


def code_rule_ids() -> dict[str, set[str]]:
    """Every rule id the code uses, by where it was found."""
    return {
        "quality.row_rules.ROW_FLAGS (codes and rules)": {*row_rules.ROW_FLAGS,
                                                          *(rule for rule, _ in row_rules.ROW_FLAGS.values())},
        "quality.row_rules.ROW_QUARANTINE_REASONS": {*row_rules.ROW_QUARANTINE_REASONS,
                                                     *row_rules.ROW_QUARANTINE_REASONS.values()},
        "ingest.standardise reasons": {*standardise.QUARANTINE_REASONS, *schema.JUNK_REASONS, *schema.REGION_REASONS},
        "ingest.standardise row codes": staging_row_codes(),
        "domain.identifiers": {*identifiers.NIK_ISSUES, *identifiers.KK_ISSUES, *identifiers.NIK_WARNINGS},
        "domain.dates": {*dates.DATE_ISSUES, *dates.DOB_ISSUES, *dates.DOB_FLAGS},
        "domain.regions": set(regions.REGION_ISSUES),
        "golden.flags": {*flags.FLAG_CODES, *flags.REASON_CODES, *flags.VERVAL_STATUSES},
        "quality.gate": {gate.QUARANTINE_RULE, *gate.DECISIONS},
        "ingest.deliveries.STATUSES": set(deliveries.STATUSES),
        "linkage.clustering reasons": linkage_guard_reasons(),
        "expectations (meta.rule, thresholds.yaml)": suite_rules(),
        "rule numbers in the code": rule_numbers_in_code(),
        "asset checks": check_names(),
    }


def documented(text: str, rule_id: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_-]){re.escape(rule_id)}(?![A-Za-z0-9_])", text) is not None


def test_every_rule_id_of_the_code_is_in_docs_rules():
    text = RULES_DOC.read_text(encoding="utf-8")
    found = code_rule_ids()
    for source, ids in found.items():
        assert ids, f"no rule ids found in {source}: the collector no longer matches the code"
    missing = {source: sorted(i for i in ids if not documented(text, i)) for source, ids in found.items()}
    missing = {source: ids for source, ids in missing.items() if ids}
    assert not missing, f"rule ids the code uses that docs/rules.md does not document: {missing}"


def test_the_collectors_see_every_kind_of_rule():
    found = code_rule_ids()
    assert {"NAME_CONFLICT", "THIN_EVIDENCE", "NIK_CONFLICT", "NIK_NEAR_MISS", "OVERSIZE",
            "AMBIGUOUS_NAMESAKE"} <= found["linkage.clustering reasons"]
    assert {"OUT_OF_SCOPE", "SEX_UNKNOWN_CODE", "BAD_PROGRAM"} <= found["ingest.standardise row codes"]
    assert {"NIK-13", "QUAR-01", "PDP-02"} <= found["rule numbers in the code"]
    assert {"no_row_lost", "gx_suite", "id_churn"} <= found["asset checks"]


def test_the_readme_is_a_front_page():
    text = README.read_text(encoding="utf-8")
    assert len(text) < README_LIMIT, f"README.md has {len(text):,} characters; move detail into docs/"
    for page in ("architecture", "configuration", "feeds", "rules", "linkage", "publication",
                 "operations", "data-dictionary", "development", "golden"):
        assert f"(docs/{page}.md)" in text, f"README.md does not link docs/{page}.md"


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = unicodedata.normalize("NFC", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.MULTILINE)}


def doc_pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_every_relative_link_resolves():
    broken = []
    for page in doc_pages():
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not checked offline
            file_part, _, anchor = target.partition("#")
            path = (page.parent / file_part).resolve() if file_part else page
            if not path.exists():
                broken.append(f"{page.relative_to(PROJECT_ROOT)}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                broken.append(f"{page.relative_to(PROJECT_ROOT)}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


# A spec cited by a bare name the tree does not hold (feeds.md, domain.md), or by the name of a
# document outside the repo ("the domain brief", its section numbers).
STRAY_CITATION = re.compile(r"(?<![\w/])(?:feeds|domain)\.md\b|domain brief|§")
DOCS_CITATION = re.compile(r"\bdocs/([\w.-]+\.md)\b")


def test_comments_cite_the_docs_in_the_repo():
    stray, missing = [], []
    this_file = Path(__file__).resolve()
    for path in code_files(*CODE_DIRS):
        if path.resolve() == this_file:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            where = f"{path.relative_to(PROJECT_ROOT)}:{number}"
            if STRAY_CITATION.search(line):
                stray.append(f"{where}: {line.strip()}")
            missing += [f"{where}: docs/{name}" for name in DOCS_CITATION.findall(line) if not (DOCS / name).exists()]
    assert not stray, "cite docs/feeds.md or docs/rules.md instead:\n" + "\n".join(stray)
    assert not missing, "citations of docs that do not exist:\n" + "\n".join(missing)


MERMAID_EDGE = re.compile(r'^\s*(\w+)(?:\[[^\]]*\])?\s*(?:--\s*"[^"]*"\s*)?-->\s*(\w+)', flags=re.MULTILINE)


def test_the_readme_asset_graph_is_the_code_s():
    """The README's picture of the asset graph: one node per asset group, one arrow per pair of
    groups an asset dependency joins, no more and no fewer."""
    from dtsen_pipeline.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    groups, edges = set(), set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.add(node.group_name)
        edges |= {(graph.get(parent).group_name, node.group_name) for parent in node.parent_keys
                  if graph.get(parent).group_name != node.group_name}
    block = re.search(r"```mermaid\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert block, "README.md has no mermaid picture of the asset graph"
    drawn = set(MERMAID_EDGE.findall(block.group(1)))
    assert {g for edge in drawn for g in edge} == groups, "README's asset graph: groups differ from the code's"
    assert drawn == edges, (f"README's asset graph: arrows missing {sorted(edges - drawn)}, "
                            f"arrows the code does not have {sorted(drawn - edges)}")


def test_golden_md_column_tables_are_the_declared_schema():
    """docs/golden.md's column tables are generated from dtsen_pipeline/publish/golden_schema.yaml
    (`python -m dtsen_pipeline.publish.golden_doc`): the dictionary and the contract are one."""
    from dtsen_pipeline.publish.contract import load_contract
    from dtsen_pipeline.publish.golden_doc import DOC_FILE, doc_tables, render_doc

    contract = load_contract()
    text = DOC_FILE.read_text(encoding="utf-8")
    assert sorted(doc_tables(text)) == sorted(contract.tables), "a declared table has no generated block"
    assert text == render_doc(text, contract), \
        "docs/golden.md differs from golden_schema.yaml: run python -m dtsen_pipeline.publish.golden_doc"
    assert f"version {contract.version}" in text, "docs/golden.md does not name the declared schema's version"
