"""Property tests: the vectorised domain functions never raise and agree with their scalar rules."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dtsen_pipeline.domain.dates import parse_dates
from dtsen_pipeline.domain.identifiers import (
    NIK_BLACKLIST,
    NIK_ISSUES,
    PROVINCE_CODES,
    check_kk,
    check_nik,
    is_valid_nik,
    nik_birth_parts,
    nik_issue,
    nik_sex,
)
from dtsen_pipeline.domain.names import name_columns, name_key, split_name
from dtsen_pipeline.domain.regions import canonical_village, village_codes

ID_CHARS = "0123456789" * 4 + " .-',eE+\t\u00a0\ufeffOx"
id_like = st.one_of(
    st.text(alphabet=ID_CHARS, max_size=24),
    st.from_regex(r"\A[0-9]{16}\Z"),
    st.from_regex(r"\A[1-9]\.[0-9]{1,6}[eE]\+?1[0-9]\Z"),
    st.text(max_size=20),
    st.none(),
)


@st.composite
def valid_niks(draw: st.DrawFn) -> tuple[str, str, dt.date]:
    """A NIK that passes every rule, with the sex and birth date it encodes."""
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    kab = draw(st.integers(1, 99))
    kec = draw(st.integers(1, 99))
    born = draw(st.dates(dt.date(1901, 1, 1), dt.date(2099, 12, 31)))
    sex = draw(st.sampled_from("LP"))
    serial = draw(st.integers(1, 9999))
    day = born.day + (40 if sex == "P" else 0)
    nik = f"{province}{kab:02d}{kec:02d}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    return nik, sex, born


@settings(max_examples=300, deadline=None)
@given(st.lists(id_like, max_size=30))
def test_check_nik_never_raises_and_matches_scalar_rules(values: list[str | None]) -> None:
    series = pd.Series(values, dtype=object)
    result = check_nik(series)
    assert len(result) == len(values)
    for value, nik, issue in zip(values, result["nik"], result["issue"], strict=True):
        expected = nik_issue(value)
        if expected is None:
            assert pd.isna(issue) and is_valid_nik(nik)
        else:
            assert issue == expected and pd.isna(nik)
        assert pd.isna(issue) or issue in NIK_ISSUES


@settings(max_examples=200, deadline=None)
@given(st.lists(id_like, max_size=30))
def test_check_kk_never_raises(values: list[str | None]) -> None:
    result = check_kk(pd.Series(values, dtype=object))
    assert len(result) == len(values)
    assert (result["no_kk"].isna() != result["issue"].isna()).all()
    assert result["no_kk"].dropna().str.fullmatch(r"[1-9][0-9]{15}").all()


def _is_dummy_number(nik: str) -> bool:
    steps = {(int(b) - int(a)) % 10 for a, b in zip(nik, nik[1:], strict=False)}
    return nik in NIK_BLACKLIST or steps in ({0}, {1}, {9})


@settings(max_examples=300, deadline=None)
@given(st.lists(valid_niks(), min_size=1, max_size=20))
def test_generated_valid_niks_pass_and_decode(cases: list[tuple[str, str, dt.date]]) -> None:
    niks = pd.Series([c[0] for c in cases])
    result = check_nik(niks)
    # Only the dummy-number rules (all digits equal, 1234.. runs, blacklist) may still hit by chance.
    dummy = niks.map(_is_dummy_number)
    assert (result["issue"].isna() | (dummy & result["issue"].eq("NIK_PLACEHOLDER"))).all()
    assert nik_sex(niks).tolist() == [c[1] for c in cases]
    parts = nik_birth_parts(niks)
    assert parts["day"].tolist() == [c[2].day for c in cases]
    assert parts["month"].tolist() == [c[2].month for c in cases]
    assert parts["yy"].tolist() == [c[2].year % 100 for c in cases]


name_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="ABCDEHIJKMNOPRSTUYabdehjkmost .,'-\u2019", max_size=40),
    st.lists(
        st.sampled_from(
            [
                "H.",
                "HJ",
                "DRS.",
                "K.H.",
                "MOH.",
                "ST.",
                "SITI",
                "DJOKO",
                "SOETRISNO",
                "BIN",
                "BINTI",
                "ABD.",
                "NUR",
                "TJAHJONO",
                ", S.PD",
                "S.H.",
                "M.M",
                "SE",
                "A.Md",
                "I",
                "WAYAN",
            ]
        ),
        max_size=6,
    ).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(name_text)
def test_split_name_and_name_key_properties(raw: str) -> None:
    parts = split_name(raw)
    for field in (parts.nama_norm, parts.nama_diri, parts.nama_ayah):
        assert field == " ".join(field.split())  # single spaces, trimmed
        assert not re.search(r"[\d_.,'\"-]", field)
    if not parts.nama_norm:
        assert parts == split_name("")
    key = name_key(parts.nama_diri)
    assert name_key(key) == key
    assert name_key(name_key(raw)) == name_key(raw)


@settings(max_examples=100, deadline=None)
@given(st.lists(name_text | st.none(), max_size=20))
def test_name_columns_equals_split_name(values: list[str | None]) -> None:
    result = name_columns(pd.Series(values, dtype=object))
    for raw, (norm, gelar, key, ayah) in zip(values, result.itertuples(index=False), strict=True):
        parts = split_name(raw)
        if not parts.nama_norm:
            assert pd.isna(norm) and pd.isna(key)
        else:
            assert (norm, gelar, key) == (parts.nama_norm, parts.gelar, name_key(parts.nama_diri))
            assert (ayah if isinstance(ayah, str) else "") == parts.nama_ayah


FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "serial", "%Y/%m/%d", "%Y%m%d")


# From 1906-01-08 (serial 2200): a bare number 1800-2199 is read as a year, not a serial (domain.dates).
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.dates(dt.date(1906, 1, 8), dt.date(2100, 12, 31)), st.sampled_from(FORMATS)), max_size=20
    )
)
def test_parse_dates_round_trips_every_format(cases: list[tuple[dt.date, str]]) -> None:
    epoch = dt.date(1899, 12, 30)
    texts = [str((d - epoch).days) if f == "serial" else d.strftime(f) for d, f in cases]
    result = parse_dates(pd.Series(texts, dtype="str"))
    assert result["issue"].isna().all()
    assert [ts.date() for ts in result["date"]] == [d for d, _ in cases]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet="0123456789-/.: T", max_size=22) | st.text(max_size=12) | st.none(), max_size=20
    )
)
def test_parse_dates_never_raises(values: list[str | None]) -> None:
    result = parse_dates(pd.Series(values, dtype=object))
    assert len(result) == len(values)
    assert (result["date"].isna() | result["issue"].isna()).all()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet="0123456789. ", max_size=16) | st.sampled_from(sorted(village_codes())[:500]),
        max_size=20,
    )
)
def test_canonical_village_outputs_known_codes(values: list[str]) -> None:
    result = canonical_village(pd.Series(values, dtype="str"))
    known = village_codes()
    assert all(code in known for code in result["kode_desa"].dropna())
    assert (result["kode_desa"].isna() != result["issue"].isna()).all()
