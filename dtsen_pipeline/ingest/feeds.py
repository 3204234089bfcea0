"""Feed declarations: one YAML file per feed says how to read it and map it to the canonical schema.

A new feed or a renamed column is a change to a YAML file in `dtsen_pipeline/feeds/`, not to code.
"""

from __future__ import annotations

import codecs
import fnmatch
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from dtsen_pipeline.config import FEED_CONFIG_DIR

CODE_SYSTEMS = ("kemendagri", "bps")
DELIVERY_MODES = ("snapshot", "append")
ENTITIES = ("person", "decision")  # a person record, or a decision about persons (verval)
REPORTED_ANY = "ANY"  # survivorship.reported: the extra holding any value reports the event
REPORTED_EVENTS = ("dead", "moved", "missing")  # what a person feed's record can report (survivorship)
# How staging types an extra column (`types:` in the feed YAML; `text` when not declared):
# text as delivered (trimmed); code: upper case, runs of spaces as one; yes_no: boolean (Y/YA/1 ...);
# number: decimal, other characters dropped; date: any date shape; nik: a NIK that passes every NIK
# rule, else null; desil: a whole number 1-10, else null; programme: a programme code (PKH, BPNT,
# PBI-JK; aliases such as SEMBAKO unified).
EXTRA_TYPES = ("text", "code", "yes_no", "number", "date", "nik", "desil", "programme")
RESERVED_NAMES = ("delivery",)  # raw.delivery is the delivery registry
_FEED_NAME = re.compile(r"[a-z][a-z0-9_]*")
_HEADER_NOISE = re.compile(r"[\s_.\-]+")


def header_key(header: str) -> str:
    """How headers are matched: case, spaces, dots, dashes and underscores do not count
    (`Nama KPM`, `NAMA_KPM` and `nama-kpm` are one header)."""
    return _HEADER_NOISE.sub("_", header.strip().upper()).strip("_")


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
    types: dict[str, str] = field(default_factory=dict)  # extra canonical name -> one of EXTRA_TYPES
    required: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    snapshot_scope: tuple[str, ...] = ()
    xlsx_sheet: str | None = None
    encoding: str | None = None  # reader override; detected when None
    separator: str | None = None  # reader override; detected when None
    date_format: str | None = None  # documentation only: every date value is parsed by its shape
    # Headers of free-text columns (address, names): where an unquoted separator can split a
    # field in two, so a record one field too long may be repaired (ingest.repair).
    free_text: tuple[str, ...] = ()
    # Golden tables without this feed are of no use: when its staging suite holds back its only
    # deliveries (nothing left in force), publication is blocked instead (quality.gate).
    required_for_publication: bool = False
    # A snapshot holding fewer than this share of the records of the delivery in force for its
    # scope is held as `suspect` (an interrupted copy, the wrong extract) until an operator accepts it.
    suspect_below: float = 0.5
    # Person feeds: survivorship inputs of intermediate.person_record (golden.sql_models):
    # `priority` (lower wins a conflicting value), and `reported`: {dead|moved|missing: {extra: code, ...}}:
    # the event is reported when any listed extra holds its code; the code ANY means any value at all.
    source_priority: int | None = None
    reported: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def declared_header(self, header: str) -> str | None:
        """The declared spelling of a delivered header, or None when the feed does not use it."""
        return self._declared_by_key.get(header_key(header))

    @functools.cached_property
    def _declared_by_key(self) -> dict[str, str]:
        """Declared headers by `header_key` (asked for every header of every delivered file)."""
        return {header_key(h): h for h in (*self.source_columns.values(), *self.region_headers)}

    def extra_type(self, name: str) -> str:
        """How staging types the extra column `name` (EXTRA_TYPES; `text` when not declared)."""
        return self.types.get(name, "text")

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
    name = str(data.get("name", ""))
    if not _FEED_NAME.fullmatch(name) or name in RESERVED_NAMES:
        raise ValueError(f"feed name {name!r} must be lower-case letters, digits and '_' and not "
                         f"one of {', '.join(RESERVED_NAMES)}")
    region = data["region"]
    if bool(region.get("village")) == bool(region.get("parts")):
        raise ValueError(f"feed {name}: region needs exactly one of 'village' or 'parts'")
    if region.get("code_system") not in CODE_SYSTEMS:
        raise ValueError(f"feed {name}: region.code_system must be kemendagri or bps")
    if data.get("entity") not in ENTITIES:
        raise ValueError(f"feed {name}: entity must be person or decision")
    if data.get("delivery_mode") not in DELIVERY_MODES:
        raise ValueError(f"feed {name}: delivery_mode must be snapshot or append")
    types = {str(k): str(v) for k, v in (data.get("types") or {}).items()}
    extras = data.get("extras") or {}
    for column, kind in types.items():
        if column not in extras:
            raise ValueError(f"feed {name}: types.{column} names no column of extras")
        if kind not in EXTRA_TYPES:
            raise ValueError(f"feed {name}: types.{column} must be one of {', '.join(EXTRA_TYPES)}")
    survivorship = data.get("survivorship") or {}
    if data.get("entity") == "person" and not isinstance(survivorship.get("priority"), int):
        raise ValueError(f"feed {name}: a person feed needs survivorship.priority (a whole number; lower wins)")
    reported: dict[str, tuple[tuple[str, str], ...]] = {}
    for event, condition in (survivorship.get("reported") or {}).items():
        if event not in REPORTED_EVENTS or not isinstance(condition, dict) or not condition:
            raise ValueError(f"feed {name}: survivorship.reported.{event} must be one of "
                             f"{', '.join(REPORTED_EVENTS)} with {{extra: code, ...}}")
        unknown = [str(column) for column in condition if column not in extras]
        if unknown:
            raise ValueError(f"feed {name}: survivorship.reported.{event} names no column of extras: "
                             f"{', '.join(unknown)}")
        reported[event] = tuple((str(column), str(code)) for column, code in condition.items())
    reader = data.get("reader") or {}
    if reader.get("separator") not in (None, ";", ",", "\t", "|"):
        raise ValueError(f"feed {name}: reader.separator must be one of ; , tab |")
    if reader.get("encoding"):
        try:
            codecs.lookup(reader["encoding"])
        except LookupError:
            raise ValueError(f"feed {name}: unknown reader.encoding {reader['encoding']!r}") from None
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
        extras=dict(extras),
        types=types,
        required=tuple(data.get("required") or ()),
        values={k: {str(a): str(b) for a, b in v.items()} for k, v in (data.get("values") or {}).items()},
        snapshot_scope=tuple(data.get("snapshot_scope") or ()),
        xlsx_sheet=reader.get("xlsx_sheet"),
        encoding=reader.get("encoding"),
        separator=reader.get("separator"),
        date_format=data.get("date_format"),
        free_text=tuple(data.get("free_text") or ()),
        required_for_publication=bool(data.get("required_for_publication", False)),
        suspect_below=float(data.get("suspect_below", 0.5)),
        source_priority=survivorship.get("priority"),
        reported=reported,
    )


def load_feed_spec(path: Path) -> FeedSpec:
    with path.open(encoding="utf-8") as fh:
        return _spec_from_dict(yaml.safe_load(fh))


def load_feed_specs(config_dir: Path = FEED_CONFIG_DIR) -> dict[str, FeedSpec]:
    """All declared feeds, keyed by name, in a stable order (the registry: the only list of feeds)."""
    specs = [load_feed_spec(p) for p in sorted(config_dir.glob("*.yaml"))]
    return {s.name: s for s in specs}


def person_feeds(specs: Mapping[str, FeedSpec]) -> tuple[str, ...]:
    """The feeds whose records are persons (`entity: person`), in registry order: what linkage,
    the person ids and the golden models read. The others (`entity: decision`) carry decisions
    about persons (verval)."""
    return tuple(name for name, spec in specs.items() if spec.entity == "person")
