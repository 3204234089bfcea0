"""Publication settings as plain values: history depth, pseudonym key, database roles.

The deployment sets them through the `publication` resource (`dtsen_pipeline.resources`, which
keeps passwords and the pseudonym key out of the Dagster UI); messages name their environment
variables. Names are validated here, once, because they end up inside SQL statements that
cannot take bind parameters (CREATE ROLE, GRANT).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_HISTORY_RUNS = 7
DEFAULT_READER_ROLE = "dtsen_reader"
DEFAULT_RESTRICTED_ROLE = "dtsen_restricted"
DEFAULT_PEKON_ROLE = "dtsen_pekon"

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# A Kemendagri region code at any tier: kabupaten 18.06, kecamatan 18.06.01, desa 18.06.01.2016.
REGION_CODE = re.compile(r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$")


class PublishConfigError(ValueError):
    """A publication setting is malformed; the message names the environment variable."""


def _role(value: str | None, variable: str) -> str | None:
    if value is None or value.strip() == "":
        return None
    name = value.strip()
    if not ROLE_NAME.match(name):
        raise PublishConfigError(f"{variable}: role name must match {ROLE_NAME.pattern} (lower case)")
    return name


def parse_operators(text: str, variable: str = "DTSEN_PEKON_OPERATORS") -> dict[str, tuple[str, ...]]:
    """`op_gisting=18.06.01.2016;camat_talang=18.06.02` -> {role: (region codes)}."""
    operators: dict[str, tuple[str, ...]] = {}
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        role, sep, codes = entry.partition("=")
        if not sep:
            raise PublishConfigError(f"{variable}: entry {len(operators) + 1} has no '=' (expected role=code[,code])")
        name = _role(role, variable)
        regions = tuple(c.strip() for c in codes.split(",") if c.strip())
        if name is None or not regions:
            raise PublishConfigError(f"{variable}: entry {len(operators) + 1} needs a role and at least one code")
        bad = [c for c in regions if not REGION_CODE.match(c)]
        if bad:
            raise PublishConfigError(f"{variable}: role {name}: {len(bad)} code(s) are not Kemendagri region codes "
                                     "like 18.06, 18.06.01 or 18.06.01.2016")
        operators[name] = operators.get(name, ()) + regions
    return operators


@dataclass(frozen=True)
class RoleConfig:
    """The database roles publication maintains (PostgreSQL only). None disables a role.

    `operators` maps pekon operators' roles to the region codes they may see; None leaves the
    scope table `access.region_scope` as a DBA maintains it.
    """

    reader: str | None = DEFAULT_READER_ROLE
    reader_password: str | None = field(default=None, repr=False)
    restricted: str | None = DEFAULT_RESTRICTED_ROLE
    restricted_password: str | None = field(default=None, repr=False)
    pekon: str | None = DEFAULT_PEKON_ROLE
    operators: Mapping[str, tuple[str, ...]] | None = None

    def managed(self) -> list[str]:
        return [r for r in (self.reader, self.restricted, self.pekon) if r]

    @classmethod
    def from_settings(cls, *, reader: str | None = DEFAULT_READER_ROLE, reader_password: str | None = None,
                      restricted: str | None = DEFAULT_RESTRICTED_ROLE, restricted_password: str | None = None,
                      pekon: str | None = DEFAULT_PEKON_ROLE, operators: str | None = None) -> RoleConfig:
        """Validated roles: an empty name disables a role; `operators` as DTSEN_PEKON_OPERATORS
        writes them (None leaves the scope table alone)."""
        config = cls(
            reader=_role(reader, "DTSEN_READER_ROLE"),
            reader_password=reader_password or None,
            restricted=_role(restricted, "DTSEN_RESTRICTED_ROLE"),
            restricted_password=restricted_password or None,
            pekon=_role(pekon, "DTSEN_PEKON_ROLE"),
            operators=parse_operators(operators) if operators is not None else None,
        )
        config.validate()
        return config

    def validate(self) -> None:
        managed = self.managed()
        if len(set(managed)) != len(managed):
            raise PublishConfigError("DTSEN_READER_ROLE, DTSEN_RESTRICTED_ROLE and DTSEN_PEKON_ROLE must differ")
        if self.operators:
            if not self.pekon:
                raise PublishConfigError("DTSEN_PEKON_OPERATORS needs DTSEN_PEKON_ROLE")
            clash = sorted(set(self.operators) & set(managed))
            if clash:
                raise PublishConfigError(f"DTSEN_PEKON_OPERATORS: {len(clash)} operator role(s) reuse a managed role")


@dataclass(frozen=True)
class PublishConfig:
    history_runs: int = DEFAULT_HISTORY_RUNS
    pseudonym_key: str | None = field(default=None, repr=False)
    roles: RoleConfig = field(default_factory=RoleConfig)

    @classmethod
    def from_settings(cls, *, history_runs: int = DEFAULT_HISTORY_RUNS, pseudonym_key: str | None = None,
                      reader_role: str | None = DEFAULT_READER_ROLE, reader_password: str | None = None,
                      restricted_role: str | None = DEFAULT_RESTRICTED_ROLE,
                      restricted_password: str | None = None, pekon_role: str | None = DEFAULT_PEKON_ROLE,
                      pekon_operators: str | None = None) -> PublishConfig:
        """The validated config of the `publication` resource's values."""
        if history_runs < 1:
            raise PublishConfigError("DTSEN_HISTORY_RUNS must be a whole number of runs, at least 1")
        roles = RoleConfig.from_settings(reader=reader_role, reader_password=reader_password,
                                         restricted=restricted_role, restricted_password=restricted_password,
                                         pekon=pekon_role, operators=pekon_operators)
        return cls(history_runs=history_runs, pseudonym_key=pseudonym_key or None, roles=roles)
