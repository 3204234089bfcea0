"""Name normalisation and comparison keys (NAME-01..08). Names are illustrative, not real records."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from dtsen_pipeline.domain.names import (
    LOW_INFORMATION_TOKENS,
    NameParts,
    name_columns,
    name_key,
    name_key_alt,
    split_name,
)


@pytest.mark.parametrize(
    ("raw", "nama_norm", "gelar", "nama_diri", "nama_ayah"),
    [
        ("H. MOH. DJOKO SOETRISNO, S.PD", "MOH DJOKO SOETRISNO", "H SPD", "MOH DJOKO SOETRISNO", ""),
        ("ST. NURHAYATI BINTI ABDULLAH", "ST NURHAYATI BINTI ABDULLAH", "", "ST NURHAYATI", "ABDULLAH"),
        ("AHMAD BIN H. ABDULLAH", "AHMAD BIN H ABDULLAH", "", "AHMAD", "ABDULLAH"),
        ("siti aminah bt yusuf", "SITI AMINAH BT YUSUF", "", "SITI AMINAH", "YUSUF"),
        ("Sutrisno", "SUTRISNO", "", "SUTRISNO", ""),  # mononym: valid (NAME-07)
        ("  hj.  siti   aminah,S.Pd.I ", "SITI AMINAH", "HJ SPDI", "SITI AMINAH", ""),
        ("DRS. H. ABDUL RAHMAN, S.H., M.M.", "ABDUL RAHMAN", "DRS H SH MM", "ABDUL RAHMAN", ""),
        ("Prof. Dr. Ir. Bambang Susilo, M.Si", "BAMBANG SUSILO", "PROF DR IR MSI", "BAMBANG SUSILO", ""),
        ("K.H. ABD. MUIS", "ABD MUIS", "KH", "ABD MUIS", ""),
        ("H.ABDULLAH", "ABDULLAH", "H", "ABDULLAH", ""),
        ("HAJJAH RUKMINI", "RUKMINI", "HAJJAH", "RUKMINI", ""),
        ("USTADZ ARIFIN", "ARIFIN", "USTADZ", "ARIFIN", ""),
        ("BPK. SUPARMAN", "SUPARMAN", "BPK", "SUPARMAN", ""),  # salutations on programme lists
        ("Ibu Ni Ketut Sukarmi", "NI KETUT SUKARMI", "IBU", "NI KETUT SUKARMI", ""),
        ("NY. SRI WAHYUNI", "SRI WAHYUNI", "NY", "SRI WAHYUNI", ""),
        ("drg. Lestari", "LESTARI", "DRG", "LESTARI", ""),
        ("I WAYAN SUDARMA, A.Md.Kep", "I WAYAN SUDARMA", "AMDKEP", "I WAYAN SUDARMA", ""),
        ("RINA WATI SE", "RINA WATI", "SE", "RINA WATI", ""),
        ("Budi Santoso, S.Kom", "BUDI SANTOSO", "SKOM", "BUDI SANTOSO", ""),
        ("DEWI S.KM", "DEWI", "SKM", "DEWI", ""),
        ("ANDI PRATAMA S.T", "ANDI PRATAMA", "ST", "ANDI PRATAMA", ""),
        ("YUNI AMD", "YUNI", "AMD", "YUNI", ""),
        ("Ir. Tjahjono Joesoef, M.T", "TJAHJONO JOESOEF", "IR MT", "TJAHJONO JOESOEF", ""),
        ("MA\u2019RUF AMIN", "MARUF AMIN", "", "MARUF AMIN", ""),  # curly apostrophe
        ("NUR-HAYATI", "NURHAYATI", "", "NURHAYATI", ""),
        ("SLAMET 2", "SLAMET", "", "SLAMET", ""),  # digits dropped
        (
            "\uff2d\uff35\uff28\uff21\uff2d\uff2d\uff21\uff24\u3000RIZKI",
            "MUHAMMAD RIZKI",
            "",
            "MUHAMMAD RIZKI",
            "",
        ),
        ("ANDI S. HADI", "ANDI S HADI", "", "ANDI S HADI", ""),  # an initial, not a degree
        ("AGUS STRIYONO", "AGUS STRIYONO", "", "AGUS STRIYONO", ""),  # not S.Tr.
        ("RINA, S.Tr.Keb", "RINA", "STRKEB", "RINA", ""),
    ],
)
def test_split_name(raw: str, nama_norm: str, gelar: str, nama_diri: str, nama_ayah: str) -> None:
    assert split_name(raw) == NameParts(nama_norm, gelar, nama_diri, nama_ayah)


@pytest.mark.parametrize(
    ("raw", "nama_norm"),
    [
        ("H.", "H"),  # only a title: keep the raw word
        ("DR", "DR"),
        ("SE", "SE"),
        ("H. SE", "H SE"),
        ("HJ. S.PD", "HJ S PD"),  # '.' separates words in nama_norm
    ],
)
def test_title_only_falls_back_to_raw_tokens(raw: str, nama_norm: str) -> None:
    parts = split_name(raw)
    assert parts.nama_norm == nama_norm
    assert parts.gelar == ""


@pytest.mark.parametrize("raw", [None, "", "   ", "-", "123", ".,'", float("nan")])
def test_empty_names(raw: object) -> None:
    assert split_name(raw) == NameParts("", "", "", "")  # type: ignore[arg-type]


def test_name_parts_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        split_name("SUTRISNO").nama_norm = "X"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("nama_diri", "key"),
    [
        ("MOH DJOKO SOETRISNO", "MUHAMMAD JOKO SUTRISNO"),
        ("M YUSUF", "MUHAMMAD YUSUF"),
        ("MOCH SJAHRIR", "MUHAMMAD SYAHRIR"),
        ("MOCHAMMAD CHAIRUL", "MUHAMMAD KHAIRUL"),
        ("MUKHAMMAD ARIF", "MUHAMMAD ARIF"),
        ("MOEHAMAD NOER", "MUHAMMAD NUR"),
        ("MUHAMMAD ALI", "MUHAMMAD ALI"),
        ("ALI MOH", "ALI MOH"),  # only the first token is a Muhammad variant
        ("ST NURHAYATI", "SITI NURHAYATI"),
        ("SITTI AMINAH", "SITI AMINAH"),
        ("AMINAH ST", "AMINAH ST"),
        ("ABD MUIS", "ABDUL MUIS"),
        ("MUHAMMAD ABD RAHMAN", "MUHAMMAD ABDUL RAHMAN"),
        ("TJAHJONO", "CAHJONO"),
        ("SOEHARTO", "SUHARTO"),
        ("JOESOEF", "JUSUF"),
        ("NJOMAN", "NYOMAN"),
        ("SOENDJOJO", "SUNYOJO"),  # DJ->J leaves NJ, folded on to NY: one normal form
        ("", ""),
    ],
)
def test_name_key(nama_diri: str, key: str) -> None:
    assert name_key(nama_diri) == key
    assert name_key(key) == key  # idempotent


def test_old_and_new_spelling_share_a_key() -> None:
    assert name_key("DJOKO SOESILO") == name_key("JOKO SUSILO")
    assert name_key("TJIPTO") == name_key("CIPTO")
    assert name_key("ST NURHAYATI") == name_key("SITI NURHAYATI")
    # Folding runs to a fixpoint, so modern NJ (n + j) and old NDJ land on the same key.
    assert name_key("ANDJAR") == name_key("ANJAR") == "ANYAR"
    assert name_key_alt(name_key("SOENDJOJO")) == name_key_alt(name_key("SUNJOYO"))


def test_name_key_alt_only_adds_j_to_y() -> None:
    assert name_key_alt(name_key("TJAHJONO JOESOEF")) == "CAHYONO YUSUF"
    assert name_key_alt("JOKO") == "YOKO"
    assert name_key("JOKO") == "JOKO"  # never in the primary key


def test_low_information_tokens() -> None:
    assert {"I", "NI", "WAYAN", "KETUT", "MUHAMMAD", "SITI", "NUR", "ABDUL"} <= LOW_INFORMATION_TOKENS
    assert "SUTRISNO" not in LOW_INFORMATION_TOKENS


def test_name_columns_maps_unique_values_back() -> None:
    values = pd.Series(
        [
            "H. MOH. DJOKO SOETRISNO, S.PD",
            None,
            "  ",
            "ST. NURHAYATI BINTI ABDULLAH",
            "H. MOH. DJOKO SOETRISNO, S.PD",
            "-",
        ],
        index=[5, 4, 3, 2, 1, 0],
    )
    result = name_columns(values)
    assert list(result.columns) == ["nama_norm", "gelar", "name_key", "nama_ayah"]
    assert list(result.index) == [5, 4, 3, 2, 1, 0]
    assert all(dtype == "str" for dtype in result.dtypes)
    assert result.loc[5].tolist() == [
        "MOH DJOKO SOETRISNO",
        "H SPD",
        "MUHAMMAD JOKO SUTRISNO",
        result.loc[5, "nama_ayah"],
    ]
    assert pd.isna(result.loc[5, "nama_ayah"])
    assert result.loc[1].equals(result.loc[5].rename(1))
    assert result.loc[2].tolist() == ["ST NURHAYATI BINTI ABDULLAH", "", "SITI NURHAYATI", "ABDULLAH"]
    assert result.loc[[4, 3, 0]].isna().all().all()  # caller quarantines MISSING_NAME


def test_name_columns_empty_and_all_missing() -> None:
    assert len(name_columns(pd.Series([], dtype="str"))) == 0
    assert name_columns(pd.Series([None, None], dtype="str")).isna().all().all()


NEAR_PLAIN = [
    "SUTRISNO", "Ani Sari", "RINA WATI", "DEWI LESTARI PUTRI",  # plain: folded by Arrow kernels
    "RINA WATI SE", "ANDI PRATAMA ST", "BUDI SH", "YUNI AMD",  # trailing degree tokens
    "H ABDULLAH", "HJ RUKMINI", "K H MUIS", "DR LESTARI",  # leading titles
    "AHMAD BIN ABDULLAH", "SITI AMINAH BT YUSUF", "ABD MUIS", "MUH RIZKI", "ST NURHAYATI", "M ALI",
    "DJOKO", "SOEKARNO", "TJAHJONO", "SJAHRIR", "NJOMAN", "RACHMAT",  # old spelling
    "ANI  SARI", " ANI", "ANI-SARI", "ANI 2", "ÁNI SARI", "ani sari", "BINTANG", "HARTONO", "ABDI",
]


def test_name_columns_plain_path_equals_split_name() -> None:
    result = name_columns(pd.Series(NEAR_PLAIN, dtype="str"))
    for raw, row in zip(NEAR_PLAIN, result.itertuples(index=False), strict=True):
        parts = split_name(raw)
        expected = (parts.nama_norm, parts.gelar, name_key(parts.nama_diri), parts.nama_ayah or None)
        got = (row.nama_norm, row.gelar, row.name_key, None if pd.isna(row.nama_ayah) else row.nama_ayah)
        assert got == expected, raw
