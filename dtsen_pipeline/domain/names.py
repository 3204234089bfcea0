"""Person names: normalisation, titles and comparison keys (rules NAME-01..08).

The delivered name is never rewritten (NAME-03). `split_name` derives a clean `nama_norm`
and moves titles and degrees (H., HJ., DRS., S.PD, ...) out to `gelar`, because KTP/KK
names may carry them while other feeds do not. `name_key` then folds spelling variants
(Muhammad/Moh./M., Siti/St., old spelling Soe-/Dj-/Tj-) so that linkage compares like with
like; those foldings live only in the key. Nothing assumes a shared family name (NAME-08):
mononyms and Batak marga make that wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._text import take_array

LEADING_TITLES: frozenset[str] = frozenset(
    {
        "H", "HJ", "HJH", "HAJI", "HAJJAH", "HAJAH", "KH",
        "UST", "USTADZ", "USTADZAH", "USTAZ", "USTAZAH",
        "DR", "DRS", "DRA", "DRG", "DRH", "IR", "PROF",
        # Salutations programme lists and village rolls put before a name (Bapak, Ibu, Nyonya,
        # Saudara/i): never part of the name itself.
        "BPK", "BAPAK", "IBU", "NY", "NYONYA", "SDR", "SDRI",
    }
)  # fmt: skip

# Academic degrees recognised at the end of a name, on the uppercase text with its dots.
_S_DEGREES = (
    r"PD\.?\s?I|PD|H\.?\s?I|H|E\.?\s?I|E|KOM|T|AG|SOS(?:\.?\s?I)?|IP|KEP|KM|FARM|GZ|I\.?\s?KOM"
    r"|SI|PSI|TP|PT|HUT|KED|HUM|KG|AK|AP|ST|TH\.?\s?I"
)
_M_DEGREES = r"PD\.?\s?I|PD|M|SI|SC|KES|H|KOM|AG|T|AP|AK|HUM|KEB|KEP"
_DEGREE = (
    rf"S\.?\s?(?:{_S_DEGREES})|S\.\s?TR\.\s?[A-Z]+|M\.?\s?(?:{_M_DEGREES})|A\.?\s?MD(?:\.\s?[A-Z]+)?"
    r"|SE|SH|SPD|SKM|AMD|SST|MBA|PH\.?\s?D"
)
_TAIL_DEGREE = re.compile(rf"[\s,]+({_DEGREE})[\s.,]*$")

FATHER_MARKERS: frozenset[str] = frozenset({"BIN", "BINTI", "BT"})

MUHAMMAD_VARIANTS: frozenset[str] = frozenset(
    {
        "M", "MUH", "MUHD", "MOH", "MOHD", "MOCH", "MOCHD", "MUCH", "MOEH", "MOEHAMAD",
        "MUHAMAD", "MOHAMAD", "MOHAMMAD", "MOHAMMED", "MOCHAMAD", "MOCHAMMAD",
        "MUKHAMAD", "MUKHAMMAD", "MUHAMMAD",
    }
)  # fmt: skip
SITI_VARIANTS: frozenset[str] = frozenset({"ST", "SITTI", "SITI"})
# Van Ophuijsen / Soewandi spellings -> EYD, applied to every token of the key (NAME-04).
OLD_SPELLING: tuple[tuple[str, str], ...] = (
    ("OE", "U"),
    ("DJ", "J"),
    ("TJ", "C"),
    ("SJ", "SY"),
    ("NJ", "NY"),
    ("CH", "KH"),
)

# Tokens that must never count as a match on their own (NAME-06).
LOW_INFORMATION_TOKENS: frozenset[str] = frozenset(
    {
        "I", "NI", "LUH", "WAYAN", "PUTU", "GEDE", "MADE", "KADEK", "NENGAH", "NYOMAN",
        "KOMANG", "KETUT", "MUHAMMAD", "SITI", "NUR", "ABDUL",
    }
)  # fmt: skip

_QUOTES = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032`\u00b4"} | {c: '"' for c in "\u201c\u201d\u201e\u2033"}
)
_SEPARATOR_CHARS = ".,;:/()[]{}&+"
_SEPARATORS = re.compile(r"[\s.,;:/()\[\]{}&+]+")
_NON_LETTERS = re.compile(r"[\W\d_]+")
# ASCII fast path of `_tokens`: separators -> space, any other non-letter dropped.
_ASCII_TOKENS = str.maketrans(
    {
        chr(c): (" " if chr(c).isspace() or chr(c) in _SEPARATOR_CHARS else None)
        for c in range(128)
        if not chr(c).isalpha()
    }
)
_OLD_SPELLING_RE = re.compile("|".join(old for old, _ in OLD_SPELLING))


@dataclass(frozen=True, slots=True)
class NameParts:
    """A name split for linkage; every field is '' when absent."""

    nama_norm: str  # uppercase letters and single spaces, titles removed
    gelar: str  # titles and degrees, space-joined, without punctuation
    nama_diri: str  # own name: nama_norm before BIN/BINTI/BT
    nama_ayah: str  # father's name after BIN/BINTI/BT, titles removed


_EMPTY = ("", "", "", "")


def _tokens(text: str) -> list[str]:
    """Words with punctuation and digits dropped; '.' and ',' separate words ("H.ABDUL")."""
    if text.isascii():
        return text.translate(_ASCII_TOKENS).split()
    words = (_NON_LETTERS.sub("", w) for w in _SEPARATORS.split(text))
    return [w for w in words if w]


def _strip_leading_titles(tokens: list[str]) -> tuple[list[str], list[str]]:
    titles: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "K" and i + 1 < len(tokens) and tokens[i + 1] == "H":  # K.H.
            titles.append("KH")
            i += 2
        elif tokens[i] in LEADING_TITLES:
            titles.append(tokens[i])
            i += 1
        else:
            break
    return titles, tokens[i:]


def _split_father(tokens: list[str]) -> tuple[list[str], list[str]]:
    if FATHER_MARKERS.isdisjoint(tokens):
        return tokens, []
    for i in range(1, len(tokens)):
        if tokens[i] in FATHER_MARKERS:
            father = tokens[i + 1 :]
            return tokens[:i], (_strip_leading_titles(father)[1] or father)
    return tokens, []


def _strip_degrees(text: str) -> tuple[list[str], list[str]]:
    """Peel trailing degrees off the dotted text ("..., S.H., M.M."), then tokenise the rest."""
    degrees: list[str] = []
    body = text
    while (m := _TAIL_DEGREE.search(body)) is not None:
        degrees.insert(0, _NON_LETTERS.sub("", m.group(1)))
        body = body[: m.start()]
    return _tokens(body), degrees


def _split(raw: object) -> tuple[str, str, str, str]:
    """`split_name` as a plain tuple (name_columns calls it for every distinct name)."""
    if not isinstance(raw, str):
        return _EMPTY
    if not raw.isascii():
        raw = unicodedata.normalize("NFKC", raw).translate(_QUOTES)
    text = raw.upper()
    if _TAIL_DEGREE.search(text):
        tokens, degrees = _strip_degrees(text)
    else:
        tokens, degrees = _tokens(text), []
    if tokens and (tokens[0] in LEADING_TITLES or tokens[0] == "K"):
        titles, name = _strip_leading_titles(tokens)
    else:
        titles, name = [], tokens
    if not name:  # nothing left but titles: keep the raw words rather than lose the person
        name, titles, degrees = _tokens(text), [], []
        if not name:
            return _EMPTY
    diri, ayah = _split_father(name)
    return " ".join(name), " ".join(titles + degrees), " ".join(diri), " ".join(ayah)


def split_name(raw: str | None) -> NameParts:
    """Normalise a raw name (NAME-02, NAME-05): NFKC, uppercase, titles out, BIN split.

    `nama_norm` keeps only letters and single spaces; '.' and ',' separate words, other
    punctuation and digits are dropped. If only titles remain, the raw words are kept.
    """
    return NameParts(*_split(raw))


def _fold_old_spelling(text: str) -> str:
    """Old spelling -> EYD until nothing changes, so the key is idempotent ("DDJ" -> "J")."""
    previous = None
    while previous != text:
        previous = text
        for old, new in OLD_SPELLING:
            text = text.replace(old, new)
    return text


def name_key(nama_diri: str) -> str:
    """Comparison key (NAME-04): Muhammad/Siti/Abdul variants and old spelling folded."""
    text = nama_diri.upper()
    tokens = [t for t in _SEPARATORS.split(text) if t]
    if not tokens:
        return ""
    first = tokens[0]
    if _OLD_SPELLING_RE.search(text):
        tokens = [_fold_old_spelling(t) for t in tokens]
    if first in MUHAMMAD_VARIANTS or tokens[0] in MUHAMMAD_VARIANTS:
        tokens[0] = "MUHAMMAD"
    elif first in SITI_VARIANTS or tokens[0] in SITI_VARIANTS:
        tokens[0] = "SITI"
    if "ABD" in tokens:
        tokens = ["ABDUL" if t == "ABD" else t for t in tokens]
    return " ".join(tokens)


def name_key_alt(key: str) -> str:
    """Alternative key with J -> Y (Joko ~ Yoko is ambiguous, so never the primary key)."""
    return key.replace("J", "Y")


# Folded parts of names already seen in this process: the feeds of one delivery name the same
# people (DTSEN, Dukcapil, pekon, bansos), so most names of the second feed on are folded once.
# Only names that need folding get here (plain ones take the Arrow path in `name_columns`).
# Bounded: about 320 bytes a name with its key, so at most ~320 MB (the 640,000-person sample has
# ~90,000 such names, ~30 MB); cleared whole when full, which only costs recomputation.
_FOLDED: dict[str, tuple[str | None, str | None, str | None, str | None]] = {}
_FOLDED_MAX = 1_000_000
_NO_NAME: tuple[None, None, None, None] = (None, None, None, None)


def _folded(raw: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(nama_norm, gelar, name_key, nama_ayah) of one raw name, computed once per process."""
    parts = _FOLDED.get(raw)
    if parts is None:
        nama_norm, titles, diri, father = _split(raw)
        parts = (nama_norm, titles, name_key(diri), father or None) if nama_norm else _NO_NAME
        if len(_FOLDED) >= _FOLDED_MAX:
            _FOLDED.clear()
        _FOLDED[raw] = parts
    return parts


# A name needing no folding, once uppercased: ASCII words of letters with single spaces, and none
# of what `split_name`/`name_key` act on (`_FOLDING`). For such a name nama_norm = name_key = the
# uppercased name, gelar = '' and no father's name; tests check this against `split_name`.
_PLAIN = r"^[A-Z]+(?: [A-Z]+)*$"
_FOLDING = "|".join([
    rf"^(?:{'|'.join(sorted(LEADING_TITLES | MUHAMMAD_VARIANTS | SITI_VARIANTS | {'K'}))})(?: |$)",  # first token
    rf"(?:^| )(?:{'|'.join(sorted(FATHER_MARKERS | {'ABD'}))})(?: |$)",  # BIN/BINTI anywhere, ABD -> ABDUL
    _OLD_SPELLING_RE.pattern,  # OE, DJ, TJ, SJ, NJ, CH
    _TAIL_DEGREE.pattern,  # a trailing degree (", S.PD", " SE")
])


def _plain_names(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The uppercased names and which of them need no folding, with Arrow's regex kernels."""
    upper = pc.utf8_upper(raw)
    plain = pc.and_kleene(pc.and_kleene(pc.string_is_ascii(raw), pc.match_substring_regex(upper, _PLAIN)),
                          pc.invert(pc.match_substring_regex(upper, _FOLDING)))
    return upper, pc.fill_null(plain, False).to_numpy(zero_copy_only=False)


def name_columns(values: pd.Series) -> pd.DataFrame:
    """`nama_norm`, `gelar`, `name_key`, `nama_ayah` for raw names, computed once per unique value.

    Blank or missing names give NA in every column (the caller quarantines MISSING_NAME);
    `gelar` is '' when there are no titles, `nama_ayah` NA when there is no BIN/BINTI.
    Plain names (most of them) are handled by Arrow kernels; the rest go through `split_name`.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    raw = pa.array(uniques, pa.string())
    raw = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
    upper, plain = _plain_names(raw)
    folded = [_folded(name) for name in raw.filter(pa.array(~plain)).to_pylist()]
    tables = [pa.array(part, pa.string()) for part in zip(*folded, strict=True)] if folded else [
        pa.array([], pa.string())] * 4
    mask = pa.array(~plain)
    norm = pc.replace_with_mask(upper, mask, tables[0])
    gelar = pc.replace_with_mask(pa.array([""] * len(raw), pa.string()), mask, tables[1])
    key = pc.replace_with_mask(upper, mask, tables[2])
    ayah = pc.replace_with_mask(pa.nulls(len(raw), pa.string()), mask, tables[3])
    columns = {"nama_norm": norm, "gelar": gelar, "name_key": key, "nama_ayah": ayah}
    return pd.DataFrame({name: take_array(array, codes, values.index) for name, array in columns.items()})
