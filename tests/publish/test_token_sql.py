"""DuckDB's tokens (pseudonym.token_sql, publication's fast path) equal Python's HMAC tokens exactly."""

import random

import duckdb
import pytest

from dtsen_pipeline.publish.pseudonym import (
    PseudonymKey,
    hmac_pads,
    normalise,
    separator_class,
    token_sql,
    tokens,
)

# Digits, every separator kind, Latin, Cyrillic, CJK, an emoji, zero-width and line separators.
ALPHABET = "0123456789 .-'\t\n\u00a0\u3000\u2028\u200b\u1680\x1cÉéñßçøЖж中文🙂x"


def _values(seed: int, n: int) -> list[str]:
    """NIK-like digit strings and random strings over ALPHABET, distinct, with edge cases."""
    rng = random.Random(seed)
    mixed = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24))) for _ in range(n)]
    digits = [str(rng.randrange(10**15, 10**16)) for _ in range(n)]
    return list(dict.fromkeys(["", " ", "..", "'", "-", "18.06 0141-0785'0001", *mixed, *digits]))


def _duckdb_tokens(key: PseudonymKey, kind: str, values: list[str]) -> dict[str, str]:
    ipad, opad = hmac_pads(key)
    sql = f"SELECT value, {token_sql(repr(kind), 'value')} FROM (SELECT unnest($values::VARCHAR[]) AS value)"
    with duckdb.connect() as conn:
        rows = conn.execute(sql.replace(":ipad", "$ipad").replace(":opad", "$opad"),
                            {"values": values, "ipad": ipad, "opad": opad}).fetchall()
    return dict(rows)


def test_separator_class_removes_exactly_what_normalise_removes_for_every_code_point():
    values = [f"a{chr(c)}b" for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]  # no surrogates in UTF-8
    with duckdb.connect() as conn:
        rows = conn.execute(f"SELECT value, regexp_replace(value, '{separator_class()}', '', 'g') "
                            "FROM (SELECT unnest($1::VARCHAR[]) AS value)", [values]).fetchall()
    assert len(rows) == len(values)
    assert [v for v, n in rows if normalise(v) != n] == []


@pytest.mark.parametrize("secret", [b"k" * 32, b"x" * 63, b"y" * 64, b"z" * 65, "é🙂ключ-сек".encode() * 12])
@pytest.mark.parametrize("kind", ["nik", "kk"])
def test_duckdb_tokens_equal_python_tokens(secret, kind):
    key = PseudonymKey(secret, "environment")  # keys shorter, equal to and longer than SHA-256's block
    values = _values(len(secret), 20_000)
    assert _duckdb_tokens(key, kind, values) == tokens(key, kind, values)
