"""Keyed pseudonyms for NIK and No. KK (UU 27/2022, PDP-01): HMAC-SHA256 under a secret key.

Tokens are deterministic, so the same person or family gets the same token in every run and
every table, and joins between masked tables survive; without the key they cannot be reversed
(a plain hash of a NIK could: the NIK space is small and structured). The message is
`<kind>:<normalised value>` with kind `nik` or `kk`, so a NIK and a family card that happen to
share digits do not share a token. The digest is written in unpadded base64url (43 characters):
not hex, whose digit-heavy alphabet would put a 16-digit run (what a PDP-02 scanner takes for a
NIK) in about one token in three hundred; in base64url the chance is about 3 in 10^12 per token.
base64url is also C-fast, where base32 took most of a Tanggamus-size publication's token time.

The key comes from DTSEN_PSEUDONYM_KEY. A PostgreSQL (production) warehouse refuses to publish
without it. The embedded DuckDB warehouse (development, `make run`, tests) falls back to a random
key generated once into `<artifacts>/pseudonym.key`: tokens stay stable on that installation
only and mean nothing anywhere else.

`token_sql` computes the same tokens inside DuckDB (publication's fast path): the HMAC as RFC
2104 composes it from two SHA-256 digests, so no value has to travel to Python and back.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

KEY_VARIABLE = "DTSEN_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"
MIN_KEY_LENGTH = 32
KINDS = ("nik", "kk")
_SEPARATORS = re.compile(r"[\s.\-']")


class PseudonymKeyError(RuntimeError):
    """The pseudonym key is missing or too weak; publication stops before touching any table."""


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes = field(repr=False)
    source: str  # "environment" or "local file" (never the key itself)

    @property
    def key_id(self) -> str:
        """A fingerprint to tell keys apart in the audit table (changes when the key rotates)."""
        return hmac.new(self.secret, b"dtsen-key-id", hashlib.sha256).hexdigest()[:12]


def _checked(secret: str, where: str) -> bytes:
    if len(secret) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(f"{where}: the pseudonym key must be at least {MIN_KEY_LENGTH} characters")
    return secret.encode("utf-8")


def resolve_key(dialect: str, configured: str | None, artifacts_dir: Path) -> PseudonymKey:
    """The key from the environment; on DuckDB only, a generated per-installation key file."""
    if configured:
        return PseudonymKey(_checked(configured, KEY_VARIABLE), "environment")
    if dialect != "duckdb":
        raise PseudonymKeyError(
            f"{KEY_VARIABLE} is not set: a {dialect} (production) warehouse needs the pseudonym key from the "
            f"environment (at least {MIN_KEY_LENGTH} characters, e.g. from `python -c \"import secrets; "
            "print(secrets.token_urlsafe(48))\"`); nothing was published")
    path = Path(artifacts_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return PseudonymKey(_checked(path.read_text().strip(), str(path)), "local file")


def normalise(value: str) -> str:
    """The identifier as the domain rules store it: spaces, dots, dashes and apostrophes removed."""
    return _SEPARATORS.sub("", value)


def token(key: PseudonymKey, kind: str, value: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}")
    digest = hmac.digest(key.secret, f"{kind}:{normalise(value)}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def tokens(key: PseudonymKey, kind: str, values: Iterable[str]) -> dict[str, str]:
    """`token` for many values (the loop inlined: a Tanggamus run tokenises ~800,000 values)."""
    if kind not in KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}")
    prefix, secret, strip, encode = f"{kind}:", key.secret, _SEPARATORS.sub, base64.urlsafe_b64encode
    return {v: encode(hmac.digest(secret, (prefix + strip("", v)).encode(), "sha256"))[:43].decode("ascii")
            for v in values}


_BLOCK = 64  # SHA-256's block size in bytes: RFC 2104's B
_IPAD, _OPAD = 0x36, 0x5C


def hmac_pads(key: PseudonymKey) -> tuple[bytes, bytes]:
    """The key XOR ipad and XOR opad (RFC 2104: a key longer than a block is hashed first, then
    zero-padded), so that SQL can build the HMAC from two SHA-256 digests."""
    secret = key.secret if len(key.secret) <= _BLOCK else hashlib.sha256(key.secret).digest()
    padded = secret.ljust(_BLOCK, b"\0")
    return bytes(b ^ _IPAD for b in padded), bytes(b ^ _OPAD for b in padded)


@functools.cache
def separator_class() -> str:
    """`_SEPARATORS` as an RE2 character class naming every code point it matches: Python's `\\s`
    is Unicode whitespace, RE2's (DuckDB's regexes) only ASCII, so the class is listed, not `\\s`."""
    points = [ord(c) for c in _SEPARATORS.findall("".join(map(chr, range(0x110000))))]
    ranges: list[list[int]] = []
    for c in points:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "[" + "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"


def token_sql(kind_sql: str, value_sql: str) -> str:
    """DuckDB expression equal to `token(key, <kind_sql>, <value_sql>)`, given `hmac_pads(key)` as the
    bind parameters :ipad and :opad (BLOB): HMAC = H(opad || H(ipad || message)), base64url unpadded."""
    message = f"encode({kind_sql} || ':' || regexp_replace({value_sql}, '{separator_class()}', '', 'g'))"
    digest = f"unhex(sha256(:opad || unhex(sha256(:ipad || {message}))))"
    return f"left(replace(replace(to_base64({digest}), '+', '-'), '/', '_'), 43)"
