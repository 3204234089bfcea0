"""Feed declarations: one YAML file per feed says how to read it and map it to the canonical schema.

A new feed or a renamed column is a change to a YAML file in `dtsen_pipeline/feeds/`, not to code.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from dtsen_pipeline.config import FEED_CONFIG_DIR


@dataclass(frozen=True)
class RegionSpec:
    """Which code system the feed uses and where its village code sits."""

    code_system: Literal["kemendagri", "bps"]
    vintage: str
    village: str | None = None  # one column holding the whole village code
    parts: dict[str, str] | None = None  # or prov/kab/kec/kel integer parts


@dataclass(frozen=True)
class FeedSpec:
    name: str
    description: str
    entity: Literal["person", "decision"]
    delivery_mode: Literal["snapshot", "append"]
    files: tuple[str, ...]
    region: RegionSpec
    columns: dict[str, str]  # canonical name -> source header
    extras: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    snapshot_scope: tuple[str, ...] = ()
    xlsx_sheet: str | None = None
    date_format: str | None = None

    def matches(self, file_name: str) -> bool:
        return any(fnmatch.fnmatch(file_name.lower(), p.lower()) for p in self.files)

    @property
    def source_columns(self) -> dict[str, str]:
        """Every canonical name (core and extras) with its source header."""
        return {**self.columns, **self.extras}

    @property
    def region_headers(self) -> tuple[str, ...]:
        if self.region.village:
            return (self.region.village,)
        return tuple((self.region.parts or {}).values())


def _spec_from_dict(data: dict) -> FeedSpec:
    region = data["region"]
    if bool(region.get("village")) == bool(region.get("parts")):
        raise ValueError(f"feed {data['name']}: region needs exactly one of 'village' or 'parts'")
    if region["code_system"] not in ("kemendagri", "bps"):
        raise ValueError(f"feed {data['name']}: region.code_system must be kemendagri or bps")
    return FeedSpec(
        name=data["name"],
        description=data.get("description", ""),
        entity=data["entity"],
        delivery_mode=data["delivery_mode"],
        files=tuple(data["files"]),
        region=RegionSpec(
            code_system=region["code_system"],
            vintage=str(region["vintage"]),
            village=region.get("village"),
            parts=region.get("parts"),
        ),
        columns=dict(data["columns"]),
        extras=dict(data.get("extras") or {}),
        required=tuple(data.get("required") or ()),
        values={k: {str(a): str(b) for a, b in v.items()} for k, v in (data.get("values") or {}).items()},
        snapshot_scope=tuple(data.get("snapshot_scope") or ()),
        xlsx_sheet=(data.get("reader") or {}).get("xlsx_sheet"),
        date_format=data.get("date_format"),
    )


def load_feed_spec(path: Path) -> FeedSpec:
    with path.open(encoding="utf-8") as fh:
        return _spec_from_dict(yaml.safe_load(fh))


def load_feed_specs(config_dir: Path = FEED_CONFIG_DIR) -> dict[str, FeedSpec]:
    """All declared feeds, keyed by name, in a stable order."""
    specs = [load_feed_spec(p) for p in sorted(config_dir.glob("*.yaml"))]
    return {s.name: s for s in specs}
