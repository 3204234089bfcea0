"""PostgreSQL roles, grants and pekon-scoped views, brought to the configured state at publication.

Three group roles (names from configuration):
- reader: downstream teams; USAGE and SELECT on `golden_masked` only (tokens, no names).
- restricted: raw identifiers; SELECT on `golden`, `golden_history`, `golden_masked`, `audit`.
- pekon: village operators; SELECT on `golden_pekon`, whose views show only the rows of the
  regions `access.region_scope` assigns to the session's role (`current_user`). A role with no
  scope rows, including the group role itself, sees no rows at all.

Everything runs inside the publication's transaction, so grants change together with the data.
Grants are reset and re-granted on every publication (REVOKE then GRANT in one transaction), so
the database ends in exactly the configured state and a removed privilege really goes.
Passwords are sent as SCRAM-SHA-256 verifiers computed here, never in clear text, so they cannot
end up in the server's statement log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import sqlalchemy as sa

from dtsen_pipeline.publish.config import ROLE_NAME, RoleConfig
from dtsen_pipeline.warehouse import qualified, quote

ACCESS_SCHEMA = "access"
SCOPE_TABLE = "region_scope"
SCRAM_ITERATIONS = 4096


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _role_exists(conn: sa.Connection, role: str) -> bool:
    return conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is not None


def ensure_role(conn: sa.Connection, role: str, password: str | None) -> str:
    """Create the role if missing (NOLOGIN unless a password is configured); returns what was done."""
    assert ROLE_NAME.match(role), role
    done = "kept"
    if not _role_exists(conn, role):
        conn.exec_driver_sql(f"CREATE ROLE {quote(role)} NOLOGIN")
        done = "created"
    if password:
        verifier = scram_verifier(password)
        conn.exec_driver_sql(f"ALTER ROLE {quote(role)} LOGIN PASSWORD '{verifier}'")
        done += ", password set"
    return done


def ensure_scope_table(conn: sa.Connection) -> None:
    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote(ACCESS_SCHEMA)}")
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {qualified(ACCESS_SCHEMA, SCOPE_TABLE)} ("
        "role_name text NOT NULL, kode_wilayah text NOT NULL, PRIMARY KEY (role_name, kode_wilayah))")


def replace_scopes(conn: sa.Connection, operators: dict[str, tuple[str, ...]]) -> int:
    table = qualified(ACCESS_SCHEMA, SCOPE_TABLE)
    conn.exec_driver_sql(f"DELETE FROM {table}")
    rows = [{"r": role, "k": code} for role, codes in operators.items() for code in dict.fromkeys(codes)]
    if rows:
        conn.execute(sa.text(f"INSERT INTO {table} (role_name, kode_wilayah) VALUES (:r, :k)"), rows)
    return len(rows)


def scope_condition(region: str) -> str:
    """True for rows whose region (`alias.column`) lies in a region assigned to current_user.

    A scope code is a desa, kecamatan or kabupaten code; a row matches its own code or any code
    below it (18.06.01 covers 18.06.01.2016).
    """
    return (f"EXISTS (SELECT 1 FROM {qualified(ACCESS_SCHEMA, SCOPE_TABLE)} s WHERE s.role_name = current_user "
            f"AND ({region} = s.kode_wilayah OR starts_with({region}, s.kode_wilayah || '.')))")


def pekon_select(source_schema: str, table: str, columns: list[str],
                 anchors: dict[str, tuple[str, str]]) -> str | None:
    """The SELECT of a pekon-scoped view, or None when the table cannot be placed in a village.

    A table with `kode_desa` is filtered on it (and on `kode_desa_lain`, the second village a flag
    concerns: a moved recipient's flag is for the officers of both); otherwise through the first
    anchor key it carries (`person_id` -> golden.person, `household_id` -> golden.household).
    """
    source = qualified(source_schema, table)
    if "kode_desa" in columns:
        other = f" OR {scope_condition('t.kode_desa_lain')}" if "kode_desa_lain" in columns else ""
        return f"SELECT t.* FROM {source} t WHERE {scope_condition('t.kode_desa')}{other}"
    for key, (anchor_table, region) in anchors.items():
        if key in columns and anchor_table != table:
            anchor = qualified(source_schema, anchor_table)
            return (f"SELECT t.* FROM {source} t WHERE t.{quote(key)} IN "
                    f"(SELECT a.{quote(key)} FROM {anchor} a WHERE {scope_condition('a.' + quote(region))})")
    return None


def apply_grants(conn: sa.Connection, roles: RoleConfig, schemas: dict[str, list[str]]) -> list[str]:
    """Reset and grant the managed roles' privileges. `schemas`: role kind -> schemas it reads."""
    notes = []
    granted = {"reader": roles.reader, "restricted": roles.restricted, "pekon": roles.pekon}
    me = conn.exec_driver_sql("SELECT current_user").scalar_one()
    if me in [*granted.values(), *(roles.operators or {})]:
        raise ValueError(f"the pipeline's own database user {me} cannot also be a reader, restricted, pekon "
                         "or operator role: its privileges would be revoked")
    all_schemas = sorted({s for names in schemas.values() for s in names} | {ACCESS_SCHEMA})
    for kind, role in granted.items():
        if not role:
            continue
        password = roles.reader_password if kind == "reader" else (
            roles.restricted_password if kind == "restricted" else None)
        notes.append(f"role {kind} ({role}): {ensure_role(conn, role, password)}")
        for schema in all_schemas:
            conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote(schema)} FROM {quote(role)}")
            conn.exec_driver_sql(f"REVOKE ALL ON SCHEMA {quote(schema)} FROM {quote(role)}")
        for schema in schemas.get(kind, []):
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quote(role)}")
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {quote(schema)} TO {quote(role)}")
    if roles.pekon and roles.operators:
        for operator in roles.operators:
            ensure_role(conn, operator, None)
            conn.exec_driver_sql(f"GRANT {quote(roles.pekon)} TO {quote(operator)}")
        notes.append(f"pekon operators: {len(roles.operators)} role(s) in {quote(roles.pekon)}")
    return notes
