"""The flags the kabupaten acts on: codes, reasons, and how a verification decision answers each.

One catalogue feeds three things, so they cannot drift apart: `reference.flag_rule` (which
`verval` result confirms or rejects which flag; read by `build.flag`), the worklists (which
flags to check), and the data dictionary test (every flag and reason is documented in
docs/golden.md). The conditions themselves live in the SQL models (`build/person.sql`,
`build/household.sql`, `build/flag.sql`); tests check each against hand-made records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

PERSON = "PERSON"
HOUSEHOLD = "HOUSEHOLD"

CONFIRMED = "CONFIRMED"  # the decision in force agrees with the flag
REJECTED = "REJECTED"  # the decision in force contradicts it
OTHER = "OTHER"  # a relevant decision that neither confirms nor rejects (e.g. TIDAK_DITEMUKAN)
UNVERIFIED = "UNVERIFIED"  # no relevant decision yet
VERVAL_STATUSES: tuple[str, ...] = (UNVERIFIED, CONFIRMED, REJECTED, OTHER)

# Tier precedence of verification decisions: a higher tier overrides a lower one whatever the
# dates; within a tier the later decision wins (then the later file, then the later row).
TIER_RANK: dict[str, int] = {"PEKON": 1, "KECAMATAN": 2, "KABUPATEN": 3}


@dataclass(frozen=True)
class Reason:
    code: str
    meaning: str


@dataclass(frozen=True)
class Flag:
    """One flag: its subject, the boolean column carrying it, its reasons and verval answers."""

    code: str
    subject: str
    column: str
    meaning: str
    reasons: tuple[Reason, ...]
    verval: dict[str, str] = field(default_factory=dict)  # HASIL -> CONFIRMED / REJECTED / OTHER


FLAGS: tuple[Flag, ...] = (
    Flag(
        "DUPLICATE_RECORDS", PERSON, "flag_duplicate_records",
        "the person has more than one record in one feed (data ganda)",
        (Reason("DUPLICATE_IN_DTSEN", "two or more DTSEN records (e.g. a family registered twice)"),
         Reason("DUPLICATE_IN_DUKCAPIL", "two or more civil-registry records"),
         Reason("DUPLICATE_IN_PEKON", "two or more village records")),
        {"GANDA": CONFIRMED, "BUKAN_GANDA": REJECTED},
    ),
    Flag(
        "PERSON_IN_MULTIPLE_KK", PERSON, "flag_multiple_kk",
        "the person's records carry more than one established No. KK (domain rule KK-04)",
        (Reason("KK_CONFLICT", "records with different No. KK, each on the civil registry or on two or more "
                               "records (a No. KK typed once is treated as a typo, not a second family)"),),
        {"GANDA": CONFIRMED, "BUKAN_GANDA": REJECTED},
    ),
    Flag(
        "DEAD_RECIPIENT", PERSON, "flag_dead_recipient",
        "a recipient on a programme's current list whom a source reports dead",
        (Reason("VERVAL_MENINGGAL", "a verification decision MENINGGAL"),
         Reason("DUKCAPIL_MATI", "civil registry STATUS_HIDUP = MATI"),
         Reason("PEKON_MATI", "village data status_dasar = MATI")),
        {"MENINGGAL": CONFIRMED, "LAYAK": REJECTED, "TIDAK_LAYAK": REJECTED, "PINDAH": OTHER,
         "TIDAK_DITEMUKAN": OTHER},
    ),
    Flag(
        "MOVED_RECIPIENT", PERSON, "flag_moved_recipient",
        "a recipient on a programme's current list who no longer lives where the list places them "
        "(intermediate.person_move): the whole family or one member moved; a renumbered village is not a move",
        (Reason("VERVAL_PINDAH", "a verification decision PINDAH"),
         Reason("DUKCAPIL_ELSEWHERE", "the civil registry places the person in another village than the list"),
         Reason("PEKON_ELSEWHERE", "no civil-registry record; the village data of another village lists the "
                                   "person as living there, the list's village does not"),
         Reason("PEKON_PINDAH", "the list village's own data says status_dasar = PINDAH")),
        {"PINDAH": CONFIRMED, "LAYAK": REJECTED, "TIDAK_LAYAK": REJECTED, "MENINGGAL": OTHER,
         "TIDAK_DITEMUKAN": OTHER},
    ),
    Flag(
        "PERSON_MISSING_FROM_DTSEN", PERSON, "flag_missing_from_dtsen",
        "exclusion-error candidate: a living person in the civil registry or village data but not in DTSEN, "
        "whose family DTSEN does know (or who has no No. KK); whole families missing are one household flag",
        (Reason("IN_DUKCAPIL_NOT_IN_DTSEN", "found in the civil registry"),
         Reason("IN_PEKON_NOT_IN_DTSEN", "found in village data")),
        {"USULAN_BARU": CONFIRMED, "LAYAK": CONFIRMED, "TIDAK_LAYAK": REJECTED},
    ),
    Flag(
        "INCLUSION_CANDIDATE", HOUSEHOLD, "flag_inclusion_candidate",
        "inclusion-error candidate: the family is on a programme's current list with a desil above that "
        "programme's ceiling (reference.programme_rule; default PKH 4, BPNT 5, PBI-JK 5)",
        (Reason("PKH_ABOVE_CEILING", "PKH recipient with desil above the PKH ceiling"),
         Reason("BPNT_ABOVE_CEILING", "BPNT recipient with desil above the BPNT ceiling"),
         Reason("PBI_JK_ABOVE_CEILING", "PBI-JK recipient with desil above the PBI-JK ceiling")),
        {"TIDAK_LAYAK": CONFIRMED, "LAYAK": REJECTED},
    ),
    Flag(
        "EXCLUSION_CANDIDATE", HOUSEHOLD, "flag_exclusion_candidate",
        "exclusion-error candidate: desil 1-2, a living member, and on no programme's current list",
        (Reason("DESIL_1_2_NO_PROGRAMME", "DTSEN desil 1 or 2 and no current PKH, BPNT or PBI-JK"),),
        {"LAYAK": CONFIRMED, "USULAN_BARU": CONFIRMED, "TIDAK_LAYAK": REJECTED},
    ),
    Flag(
        "FAMILY_MISSING_FROM_DTSEN", HOUSEHOLD, "flag_missing_from_dtsen",
        "exclusion-error candidate: a family with living members in the civil registry or village data and "
        "no DTSEN registration",
        (Reason("IN_DUKCAPIL_NOT_IN_DTSEN", "members found in the civil registry"),
         Reason("IN_PEKON_NOT_IN_DTSEN", "members found in village data")),
        {"USULAN_BARU": CONFIRMED, "LAYAK": CONFIRMED, "TIDAK_LAYAK": REJECTED},
    ),
)

FLAG_CODES: tuple[str, ...] = tuple(f.code for f in FLAGS)
REASON_CODES: tuple[str, ...] = tuple(dict.fromkeys(r.code for f in FLAGS for r in f.reasons))


def flag(code: str) -> Flag:
    for f in FLAGS:
        if f.code == code:
            return f
    raise KeyError(f"unknown flag {code!r}; known: {', '.join(FLAG_CODES)}")


def flag_rules() -> pd.DataFrame:
    """`reference.flag_rule`: one row per flag and verval result that answers it."""
    rows = [{"flag": f.code, "subject_type": f.subject, "hasil": hasil, "outcome": outcome}
            for f in FLAGS for hasil, outcome in f.verval.items()]
    return pd.DataFrame(rows, columns=["flag", "subject_type", "hasil", "outcome"])
