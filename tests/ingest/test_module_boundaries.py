"""Dependencies run one way: ingest uses quality (row rules, suites, the gate), quality never
imports ingest, so neither package needs the other to be half-imported first (issue #13)."""

from __future__ import annotations

import ast
from pathlib import Path

import dtsen_pipeline

PACKAGE = Path(dtsen_pipeline.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_quality_never_imports_ingest():
    offenders = {path.name: sorted(m for m in _imported_modules(path) if m.startswith("dtsen_pipeline.ingest"))
                 for path in sorted((PACKAGE / "quality").glob("*.py"))}
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_ingest_modules_say_their_job():
    """Each ingest module opens with a docstring saying what it does."""
    missing = [path.name for path in sorted((PACKAGE / "ingest").glob("*.py"))
               if path.name != "__init__.py" and not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))]
    assert missing == []
