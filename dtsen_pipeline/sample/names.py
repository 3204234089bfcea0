"""Registered names for the true population, and the variants feeds write instead.

A person has one registered name (as on the KK); every feed copies it, sometimes with one
of the variations docs/rules.md's NAME rules fold: titles on or off, Muhammad/Siti
abbreviations, old/new spelling, one-character typos, a dropped token, BIN/BINTI with the
father's name, case changes, merged or split tokens. Linkage has to see through these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from faker import Faker

from dtsen_pipeline.sample import namelists as nl

# One pass, longest first, so that NY->NJ is not then turned into NDJ by J->DJ.
_TO_OLD = {"KH": "CH", "SY": "SJ", "NY": "NJ", "C": "TJ", "J": "DJ", "Y": "J", "U": "OE"}
_TO_OLD_RE = re.compile("KH|SY|NY|C|J|Y|U")
# Single-pattern swaps used as record damage (docs/feeds.md: OE<->U DJ<->J TJ<->C SJ<->SY ...).
_SWAPS: tuple[tuple[str, str], ...] = (
    ("OE", "U"),
    ("DJ", "J"),
    ("TJ", "C"),
    ("SJ", "SY"),
    ("NJ", "NY"),
    ("CH", "KH"),
)
_MUHAMMAD_FORMS = ("M.", "MOH.", "MUH.", "MOCH.", "MUHAMAD", "MOHAMAD", "MOCHAMMAD", "MOHAMMAD")
_TITLE_TOKENS = frozenset({"H.", "HJ.", "H", "HJ", "DRS.", "DRA.", "IR.", "DRS", "DRA", "IR"})
_DEGREE_RE = re.compile(r",?\s+(S\.[A-Z.]+|A\.MD|A\.MA\.PD|SPD|SE|SH)$")
_LETTERS = "ABDEGHIJKLMNOPRSTUWY"


def to_old_spelling(name: str) -> str:
    """Van Ophuijsen/Soewandi form of a modern name: SUHARTO -> SOEHARTO, CAHYONO -> TJAHJONO."""
    return _TO_OLD_RE.sub(lambda m: _TO_OLD[m.group(0)], name)


@dataclass(frozen=True)
class PersonNameInput:
    """Arrays describing each person, aligned by person index, ordered family by family."""

    family: np.ndarray  # int family index
    group: np.ndarray  # int index into namelists.GROUPS (per family)
    sex: np.ndarray  # 1 male, 2 female
    birth_year: np.ndarray
    relation: np.ndarray  # DTSEN HUB_KELUARGA code 1..8
    child_order: np.ndarray  # 0 for non-children, 1.. birth order
    muslim: np.ndarray  # bool
    family_marga: np.ndarray  # per person: the Batak father's marga, '' otherwise


def faker_pools(seed: int, size: int = 250) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Seeded Faker id_ID first names (young generation top-up), upper-cased, one token."""
    fk = Faker("id_ID")
    fk.seed_instance(seed)

    def pool(fn) -> tuple[str, ...]:
        out = {fn().upper() for _ in range(size)}
        return tuple(sorted(n for n in out if n.isalpha() and n.isascii()))

    return pool(fk.first_name_male), pool(fk.first_name_female)


def _pick(seq: tuple[str, ...], u: float) -> str:
    return seq[int(u * len(seq))]


class NameMaker:
    """Builds registered names from pre-drawn uniforms (fast, deterministic per seed)."""

    def __init__(self, seed: int) -> None:
        self.young_male, self.young_female = faker_pools(seed)

    def given(self, group: str, male: bool, year: int, order: int, u: np.ndarray) -> str:
        """A name without titles for one person; `u` holds 8 uniforms in [0, 1)."""
        if group == "BALI":
            prefix = "I" if male else "NI"
            slot = (order - 1) % 4 if order > 0 else int(u[0] * 4)
            core = _pick(nl.BALI_MALE if male else nl.BALI_FEMALE, u[2])
            name = f"{_pick(nl.BALI_ORDER[slot], u[1])} {core}"
            return name if u[3] < 0.12 else f"{prefix} {name}"
        if group == "BATAK":
            first = _pick(nl.BATAK_MALE if male else nl.BATAK_FEMALE, u[0])
            return first  # the marga is added by the caller, who knows the family
        if year >= 1995:
            return self._young(male, u)
        if group == "JAWA":
            return self._jawa(male, year, u)
        if group == "SUNDA":
            if male:
                first = _pick(nl.SUNDA_MALE, u[0])
                return first if u[1] < 0.3 else f"{first} {_pick(nl.SUNDA_MALE_SECOND, u[2])}"
            first = _pick(nl.SUNDA_FEMALE, u[0])
            return first if u[1] < 0.35 else f"{first} {_pick(nl.SUNDA_FEMALE_SECOND, u[2])}"
        if group == "LAMPUNG":
            if male:
                first = _pick(nl.LAMPUNG_MALE, u[0])
                mono = 0.55 if year < 1970 else 0.3
                return first if u[1] < mono else f"{first} {_pick(nl.LAMPUNG_MALE_SECOND, u[2])}"
            first = _pick(nl.LAMPUNG_FEMALE, u[0])
            return first if u[1] < 0.55 else f"{first} {_pick(nl.LAMPUNG_FEMALE_SECOND, u[2])}"
        # MELAYU / other Muslim
        if male:
            first = _pick(nl.MELAYU_MALE, u[0])
            return first if u[1] < 0.25 else f"{first} {_pick(nl.ARABIC_SECOND_MALE, u[2])}"
        first = _pick(nl.MELAYU_FEMALE, u[0])
        return first if u[1] < 0.4 else f"{first} {_pick(nl.LAMPUNG_FEMALE_SECOND, u[2])}"

    def _young(self, male: bool, u: np.ndarray) -> str:
        if male:
            first = _pick(self.young_male, u[0]) if u[4] < 0.2 else _pick(nl.YOUNG_MALE, u[0])
            second = _pick(nl.YOUNG_MALE_SECOND, u[1])
        else:
            first = _pick(self.young_female, u[0]) if u[4] < 0.2 else _pick(nl.YOUNG_FEMALE, u[0])
            second = _pick(nl.YOUNG_FEMALE_SECOND, u[1])
        if second == first:
            return first
        if u[2] < 0.2:
            pool = nl.YOUNG_MALE if male else nl.YOUNG_FEMALE
            middle = _pick(pool, u[3])
            if middle not in (first, second):
                return f"{first} {middle} {second}"
        return f"{first} {second}"

    def _jawa(self, male: bool, year: int, u: np.ndarray) -> str:
        if male:
            if year < 1965:
                name = (
                    _pick(nl.JAWA_MALE_OLD, u[0])
                    if u[1] < 0.75
                    else (f"{_pick(nl.JAWA_MALE_MID, u[0])} {_pick(nl.JAWA_MALE_SECOND, u[2])}")
                )
            elif u[1] < 0.22:
                name = _pick(nl.JAWA_MALE_OLD, u[0])
            else:
                name = f"{_pick(nl.JAWA_MALE_MID, u[0])} {_pick(nl.JAWA_MALE_SECOND, u[2])}"
        else:
            if year < 1965:
                name = (
                    _pick(nl.JAWA_FEMALE_OLD, u[0])
                    if u[1] < 0.7
                    else (f"{_pick(nl.JAWA_FEMALE_FIRST, u[0])} {_pick(nl.JAWA_FEMALE_SECOND, u[2])}")
                )
            elif u[1] < 0.25:
                name = _pick(nl.JAWA_FEMALE_OLD, u[0])
            else:
                name = f"{_pick(nl.JAWA_FEMALE_FIRST, u[0])} {_pick(nl.JAWA_FEMALE_SECOND, u[2])}"
            if name in ("SITI", "SRI"):
                name = f"{name} {_pick(nl.JAWA_FEMALE_SECOND, u[2])}"
        # Names registered before the 1972 spelling reform often kept the old form.
        old_share = 0.5 if year < 1960 else 0.15 if year < 1975 else 0.0
        if u[3] < old_share:
            name = to_old_spelling(name)
        return name

    def build(self, inp: PersonNameInput, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Registered names and each person's own first given token (for BIN/BINTI).

        Persons must be ordered family by family with the head first, so a child can carry
        the father's name as its last token, as some Javanese and Lampung families do.
        """
        n = len(inp.sex)
        uu = rng.random((n, 12))
        names = np.empty(n, dtype=object)
        firsts = np.empty(n, dtype=object)
        current_family = -1
        father_token = ""
        for i in range(n):
            u = uu[i]
            fam = int(inp.family[i])
            if fam != current_family:
                current_family, father_token = fam, ""
            group = nl.GROUPS[int(inp.group[i])]
            male = bool(inp.sex[i] == 1)
            year = int(inp.birth_year[i])
            rel = int(inp.relation[i])
            name = self.given(group, male, year, int(inp.child_order[i]), u)
            if group == "BATAK":
                marga = inp.family_marga[i] if rel in (1, 3, 5) else _pick(nl.BATAK_MARGA, u[5])
                if not male and rel == 1 and inp.family_marga[i] == "":
                    marga = _pick(nl.BATAK_MARGA, u[5])
                if not marga:
                    marga = _pick(nl.BATAK_MARGA, u[5])
                name = f"{name} {'BR. ' if (not male and u[6] < 0.4) else ''}{marga}"
            elif inp.muslim[i] and group != "BALI":
                if male and year >= 1960 and u[6] < 0.09 and not name.startswith("MUHAMMAD"):
                    name = f"{'MUHAMMAD' if u[7] < 0.8 else 'M.'} {name}"
                elif not male and u[6] < 0.05 and not name.startswith(("SITI", "SRI", "NUR")):
                    name = f"SITI {name}"
            if rel == 3 and father_token and group in ("JAWA", "LAMPUNG", "MELAYU") and u[8] < 0.05:
                if len(name.split()) == 1 or u[9] < 0.5:
                    name = f"{name.split()[0]} {father_token}"
            firsts[i] = name.split()[-1] if group == "BALI" else name.split()[0]
            if name.startswith(("MUHAMMAD ", "M. ", "SITI ")) and len(name.split()) > 1:
                firsts[i] = name.split()[1]
            if rel in (1, 2) and male:
                father_token = firsts[i]
            names[i] = self._titles(name, male, year, bool(inp.muslim[i]), u)
        return names, firsts

    @staticmethod
    def _titles(name: str, male: bool, year: int, muslim: bool, u: np.ndarray) -> str:
        """Some registered names carry H./HJ., DRS./DRA./IR. or a degree (Permendagri 73/2022)."""
        if muslim and year < 1982 and u[10] < 0.04:
            name = f"{nl.HAJI_MALE if male else nl.HAJI_FEMALE} {name}"
        elif 1945 <= year <= 1975 and u[10] > 0.994:
            front = _pick(nl.FRONT_TITLES_OLD, u[11])
            if front == "DRS." and not male:
                front = "DRA."
            name = f"{front} {name}"
        elif 1960 <= year <= 2001 and u[11] < 0.03:
            sep = ", " if u[10] < 0.5 else " "
            name = f"{name}{sep}{_pick(nl.DEGREES, u[9])}"
        return name


# ---------------------------------------------------------------------------------------
# variants written by feeds instead of the registered name
# ---------------------------------------------------------------------------------------

VARIANT_KINDS: tuple[str, ...] = ("TYPO", "TITLE", "ABBREV", "SPELLING", "DROP", "BIN", "CASE", "SPACE")
VARIANT_WEIGHTS: tuple[float, ...] = (0.25, 0.12, 0.15, 0.12, 0.11, 0.08, 0.09, 0.08)


def _typo(name: str, u: np.ndarray) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 3:
        return name + name[-1]
    pos = letters[1 + int(u[1] * (len(letters) - 1))]
    op = int(u[2] * 4)
    if op == 0:  # substitution
        c = _LETTERS[int(u[3] * len(_LETTERS))]
        if c == name[pos]:
            c = "A" if c != "A" else "E"
        return name[:pos] + c + name[pos + 1 :]
    if op == 1:  # deletion
        return name[:pos] + name[pos + 1 :]
    if op == 2:  # doubled letter
        return name[:pos] + name[pos] + name[pos:]
    prev = pos - 1  # transposition with the previous letter
    if name[prev].isalpha() and name[prev] != name[pos]:
        return name[:prev] + name[pos] + name[prev] + name[pos + 1 :]
    return name[:pos] + name[pos + 1 :]


def _strip_titles(name: str) -> str | None:
    tokens = name.split()
    changed = False
    while tokens and tokens[0].upper() in _TITLE_TOKENS:
        tokens, changed = tokens[1:], True
    rest = " ".join(tokens)
    stripped = _DEGREE_RE.sub("", rest)
    if stripped != rest:
        rest, changed = stripped, True
    return rest if changed and rest else None


def _title(name: str, sex: int, year: int, u: np.ndarray) -> str:
    stripped = _strip_titles(name)
    if stripped is not None:
        return stripped
    if year < 1985 and u[1] < 0.6:  # haji titles for older people, degrees for the younger
        return f"{'H.' if sex == 1 else 'HJ.'} {name}"
    return f"{name}, {_pick(nl.DEGREES, u[2])}"


def _abbrev(name: str, u: np.ndarray) -> str | None:
    tokens = name.split()
    for i, t in enumerate(tokens):
        if t in ("MUHAMMAD", "MUHAMAD", "MOHAMAD", "MOHAMMAD"):
            tokens[i] = _pick(_MUHAMMAD_FORMS, u[1])
            if tokens[i] == t:
                tokens[i] = "M."
            return " ".join(tokens)
        if t == "M.":
            tokens[i] = "MUHAMMAD" if u[1] < 0.6 else "MOH."
            return " ".join(tokens)
        if t == "SITI":
            tokens[i] = "ST." if u[1] < 0.7 else "SITTI"
            return " ".join(tokens)
        if t == "ABDUL":
            tokens[i] = "ABD."
            return " ".join(tokens)
    return None


def _spelling(name: str, u: np.ndarray) -> str | None:
    present_old = [(o, n) for o, n in _SWAPS if o in name]
    if present_old:
        old, new = present_old[int(u[1] * len(present_old))]
        return name.replace(old, new)
    present_new = [(o, n) for o, n in _SWAPS if n in name]
    if not present_new:
        return None
    old, new = present_new[int(u[1] * len(present_new))]
    return name.replace(new, old)


def _drop(name: str, u: np.ndarray) -> str | None:
    tokens = name.split()
    if len(tokens) < 2:
        return None
    if len(tokens) >= 3 and u[1] < 0.5:
        return " ".join(tokens[:1] + tokens[2:])
    return " ".join(tokens[:-1])


def _space(name: str) -> str | None:
    tokens = name.split()
    if len(tokens) >= 2 and len(tokens[0]) <= 4 and tokens[0].isalpha():
        return tokens[0] + tokens[1] + ("" if len(tokens) == 2 else " " + " ".join(tokens[2:]))
    for prefix in ("NUR", "SRI", "SITI", "ABDUL"):
        if tokens and tokens[0].startswith(prefix) and len(tokens[0]) > len(prefix) + 2:
            return f"{prefix} {tokens[0][len(prefix) :]}" + (
                "" if len(tokens) == 1 else " " + " ".join(tokens[1:])
            )
    return None


def title_case(name: str) -> str:
    """'SITI AMINAH, S.PD' -> 'Siti Aminah, S.pd' (village operators type like this)."""
    return " ".join(t[:1].upper() + t[1:].lower() for t in name.split(" "))


def name_variant(name: str, kind: str, sex: int, father: str, u: np.ndarray, year: int = 1970) -> str:
    """One variation of `name` of the given kind; falls back to a typo when it does not apply."""
    out: str | None
    if kind == "TITLE":
        out = _title(name, sex, year, u)
    elif kind == "ABBREV":
        out = _abbrev(name, u)
    elif kind == "SPELLING":
        out = _spelling(name, u)
    elif kind == "DROP":
        out = _drop(name, u)
    elif kind == "BIN":
        out = None if " BIN" in name or not father else f"{name} {'BIN' if sex == 1 else 'BINTI'} {father}"
    elif kind == "CASE":
        out = title_case(name) if u[1] < 0.8 else name.lower()
    elif kind == "SPACE":
        out = _space(name)
    else:
        out = None
    if out is None or out == name or not out.strip():
        out = _typo(name, u)
    return out
