"""The clerical-review queue: pairs the model is unsure of, for facilitators to decide.

A pair is queued when its match probability lies in the uncertain band, or when the clustering
guards refused a strong edge (conflicting NIKs, sex, birth years, size). Each pair gets a stable
`ID_PASANGAN`; the facilitator fills HASIL (GANDA / BUKAN_GANDA) and returns the file through the
`verval` feed, and the decision becomes a must-link or cannot-link on every later run.
Identifiers are masked (with the positions where two ids differ); the comparison evidence is given
in Indonesian words for the model's levels (`reports.labels`), not values. Pairs are ranked per
kecamatan by what a decision changes, and each month's files hold a capped share.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from dtsen_pipeline.linkage.model import LinkageConfig
from dtsen_pipeline.reports.answer_workbook import AnswerSheet, Choice, GuideTable, write_answer_workbook
from dtsen_pipeline.reports.labels import EVIDENCE_COLUMN, HASIL_LABELS, REVIEW_REASON_LABELS, evidence
from dtsen_pipeline.reports.staff_files import write_staff_csv
from dtsen_pipeline.schema import VERVAL_TIERS

ANSWER_COLUMNS = ("HASIL", "TINGKAT", "TANGGAL", "PETUGAS", "CATATAN")
# Refusals that are not doubts: unlike names without the same NIK are relatives sharing a card,
# an address and a village (tens of thousands in a regency); nobody needs to look at them.
NOT_FOR_REVIEW = frozenset({"NAME_CONFLICT"})


def pair_id(record_id_l: str, record_id_r: str) -> str:
    """Stable id of an unordered record pair (record ids are provenance strings, not personal data)."""
    left, right = sorted((record_id_l, record_id_r))
    return "R" + hashlib.sha256(f"{left}|{right}".encode()).hexdigest()[:12].upper()


def mask_identifier(value: object) -> str | None:
    """`1806014107850001` -> `1806********0001`: enough to check a card in hand, not to copy it."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value)
    return text[:4] + "*" * max(len(text) - 8, 0) + text[-4:] if len(text) > 8 else "*" * len(text)


def level_labels(model_json: Path) -> dict[str, dict[int, str]]:
    """gamma column -> {level value: label}, read from the saved Splink model."""
    settings = json.loads(model_json.read_text())
    labels: dict[str, dict[int, str]] = {}
    for comparison in settings["comparisons"]:
        column = comparison.get("output_column_name")
        levels = comparison["comparison_levels"]
        non_null = [lvl for lvl in levels if not lvl.get("is_null_level")]
        values = {}
        for position, level in enumerate(non_null):
            values[len(non_null) - 1 - position] = level.get("label_for_charts", "")
        values[-1] = "missing on one side"
        labels[f"gamma_{column}"] = values
    return labels


def review_pairs(pairs: pd.DataFrame, refused_edges: pd.DataFrame, config: LinkageConfig) -> pd.DataFrame:
    """Pairs in the uncertain band and edges the guards refused (but relatives), one row per pair."""
    # the pairs of refused edges only, found before the join (joining 2 million pairs cost 1 s)
    touched = pairs["unique_id_l"].isin(refused_edges["unique_id_l"].unique())
    refused = pairs[touched].merge(refused_edges, on=["unique_id_l", "unique_id_r"], how="inner")
    relatives = refused[refused["reason"].isin(NOT_FOR_REVIEW)][["unique_id_l", "unique_id_r"]]
    band = pairs[(pairs["match_probability"] >= config.predict_threshold)
                 & (pairs["match_probability"] < config.review_upper)].assign(reason="UNCERTAIN")
    band = band.merge(relatives, how="left", indicator=True)
    band = band[band.pop("_merge") == "left_only"]
    refused = refused[~refused["reason"].isin(NOT_FOR_REVIEW)]
    queued = pd.concat([refused, band], ignore_index=True).drop_duplicates(["unique_id_l", "unique_id_r"])
    queued.insert(0, "pair_id", [pair_id(a, b) for a, b in zip(queued["unique_id_l"], queued["unique_id_r"],
                                                                 strict=True)])
    return queued.reset_index(drop=True)


def differing_digits(a: object, b: object) -> str | None:
    """Where two ids of the same length differ, as 1-based digit positions (`16`, `13, 14`), or
    `sama`: what a reviewer must see on a NIK_CONFLICT pair whose masked ids read alike, without
    the digits themselves. None when a side has no id."""
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return None
    if len(a) != len(b):
        return "panjang berbeda"
    positions = [str(i + 1) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return ", ".join(positions) if positions else "sama"


# Expected impact of a decision on a pair, for the order of work: a programme list record (a
# payment decision) first, then a DTSEN record (targeting), then two No. KK (a household changes).
IMPACT = {"bansos": 4, "dtsen": 2}
HOUSEHOLD_IMPACT = 1


def impact_scores(left: pd.DataFrame, right: pd.DataFrame, probability: pd.Series) -> pd.Series:
    """Per pair: what deciding it changes, plus how unsure the model is (0-1, highest at 0.5)."""
    feeds = pd.concat([left["feed"].map(IMPACT).fillna(0), right["feed"].map(IMPACT).fillna(0)], axis=1).max(axis=1)
    households = (left["no_kk"].notna() & right["no_kk"].notna()
                  & (left["no_kk"].to_numpy() != right["no_kk"].to_numpy())) * HOUSEHOLD_IMPACT
    doubt = 1 - np.abs(probability.to_numpy() - 0.5) * 2
    return pd.Series(feeds.to_numpy() + households.to_numpy() + doubt, index=left.index)


# The staged columns the review files show (masked where they are identifiers), record id first.
REVIEW_COLUMNS = ("record_id", "feed", "nama", "nik", "no_kk", "kode_desa", "kode_kecamatan")


def review_queue(queued: pd.DataFrame, staged: pd.DataFrame, clusters: pd.DataFrame,
                 labels: dict[str, dict[int, str]]) -> pd.DataFrame:
    """The facilitator-facing queue: both records (masked ids, where their ids differ), the
    evidence in Indonesian, the pipeline's choice, and the order of work per kecamatan
    (`PRIORITAS`, 1 first: see `impact_scores`)."""
    # only the queued records: indexing all 1.8 million first cost 2 s at 640,000 persons
    wanted = pd.concat([queued["unique_id_l"], queued["unique_id_r"]]).unique()
    people = staged[staged["record_id"].isin(wanted)].set_index("record_id")[list(REVIEW_COLUMNS[1:])]
    cluster_of = clusters[clusters["unique_id"].isin(wanted)].set_index("unique_id")["cluster_id"]
    left = people.reindex(queued["unique_id_l"]).reset_index(drop=True)
    right = people.reindex(queued["unique_id_r"]).reset_index(drop=True)
    out = pd.DataFrame({
        "ID_PASANGAN": queued["pair_id"],
        "KODE_KECAMATAN": left["kode_kecamatan"],
        "KODE_DESA": left["kode_desa"],
        "ALASAN": queued["reason"],
        "KETERANGAN_ALASAN": queued["reason"].map(lambda code: REVIEW_REASON_LABELS.get(code, code)),
        "PROBABILITAS": queued["match_probability"].round(3),
        "STATUS_SAAT_INI": (cluster_of.reindex(queued["unique_id_l"]).to_numpy()
                            == cluster_of.reindex(queued["unique_id_r"]).to_numpy()),
        "SUMBER_A": left["feed"], "NAMA_A": left["nama"],
        "NIK_A_SAMAR": left["nik"].map(mask_identifier), "NO_KK_A_SAMAR": left["no_kk"].map(mask_identifier),
        "SUMBER_B": right["feed"], "NAMA_B": right["nama"],
        "NIK_B_SAMAR": right["nik"].map(mask_identifier), "NO_KK_B_SAMAR": right["no_kk"].map(mask_identifier),
        "NIK_BEDA_DI_DIGIT": [differing_digits(a, b) for a, b in zip(left["nik"], right["nik"], strict=True)],
        "NO_KK_BEDA_DI_DIGIT": [differing_digits(a, b) for a, b in zip(left["no_kk"], right["no_kk"], strict=True)],
    })
    out["STATUS_SAAT_INI"] = out["STATUS_SAAT_INI"].map({True: "DIGABUNG", False: "TERPISAH"})
    for gamma, values in labels.items():
        column = gamma.removeprefix("gamma_")
        if gamma in queued:
            wording = {value: evidence(column, label) for value, label in values.items()}
            out[EVIDENCE_COLUMN.get(column, "BUKTI_" + column.upper())] = queued[gamma].map(wording).to_numpy()
    for column in ANSWER_COLUMNS:
        out[column] = ""
    out["_impact"] = impact_scores(left, right, queued["match_probability"].reset_index(drop=True)).to_numpy()
    out = out.sort_values(["KODE_KECAMATAN", "_impact", "ID_PASANGAN"], ascending=[True, False, True],
                          na_position="last")
    out.insert(1, "PRIORITAS", out.groupby(out["KODE_KECAMATAN"].fillna(""), sort=False).cumcount() + 1)
    return out.drop(columns="_impact").reset_index(drop=True)


def monthly_share(queue: pd.DataFrame, cap_per_kecamatan: int) -> tuple[pd.DataFrame, int]:
    """The pairs of this month's files: the first `cap_per_kecamatan` of each kecamatan by
    PRIORITAS. The rest stay queued (linkage.review_pair) and come up in later months as these
    are decided. Returns (this month's pairs, pairs kept for later)."""
    month = queue[queue["PRIORITAS"] <= cap_per_kecamatan].reset_index(drop=True)
    return month, len(queue) - len(month)


PAIR_RESULTS = ("GANDA", "BUKAN_GANDA")
STATUS_LABELS = {"DIGABUNG": "saat ini sistem menganggap keduanya orang yang sama",
                 "TERPISAH": "saat ini sistem menganggap keduanya dua orang yang berbeda"}
REVIEW_STEPS = (
    "PETUNJUK PEMERIKSAAN DATA GANDA",
    "",
    "1. Setiap baris adalah sepasang data (A dan B) yang mungkin milik orang yang sama. Kerjakan menurut "
    "PRIORITAS, mulai dari 1: pasangan yang dapat mengubah keputusan bantuan atau susunan keluarga ada di atas.",
    "2. Bandingkan NAMA_A dan NAMA_B, NIK dan No. KK yang disamarkan, dan kolom BUKTI_*. NIK_BEDA_DI_DIGIT "
    "menunjukkan posisi digit yang berbeda di antara kedua NIK (\"sama\": NIK sama).",
    "3. Isi hanya kolom berwarna kuning: HASIL (GANDA atau BUKAN_GANDA), TINGKAT, TANGGAL, PETUGAS, CATATAN. "
    "Kolom lain terkunci.",
    "4. TANGGAL: tanggal pemeriksaan, format hari/bulan/tahun (contoh 15/11/2026).",
    "5. Simpan berkas dengan nama yang sama (format .xlsx) dan kirim kembali ke operator data Dinas Sosial, "
    "yang menaruhnya di folder verval. Pasangan tanpa HASIL tetap menunggu dan muncul lagi bulan berikutnya.",
    "",
)


def review_sheet(columns: list[str]) -> AnswerSheet:
    """The duplicate-review workbook: the pair's context locked, the decision to fill, a PETUNJUK sheet."""
    return AnswerSheet(
        sheet_name="PERIKSA_GANDA", columns=tuple(columns), answer_columns=ANSWER_COLUMNS,
        text_columns=tuple(c for c in columns if c.startswith(("ID_", "KODE_", "NIK_", "NO_KK_"))),
        date_columns=("TANGGAL",), frozen_columns=2,
        wide_columns=tuple(c for c in columns if c.startswith(("NAMA_", "BUKTI_", "KETERANGAN_")) or c == "CATATAN"),
        choices={"HASIL": Choice(PAIR_RESULTS, "GANDA: orang yang sama; BUKAN_GANDA: dua orang yang berbeda.",
                                 "Pilih GANDA atau BUKAN_GANDA."),
                 "TINGKAT": Choice(tuple(VERVAL_TIERS))},
        guide_steps=REVIEW_STEPS,
        guide_tables=(
            GuideTable(("HASIL", "ARTI"), tuple((code, HASIL_LABELS[code]) for code in PAIR_RESULTS)),
            GuideTable(("ALASAN", "ARTI"), tuple(REVIEW_REASON_LABELS.items())),
            GuideTable(("STATUS_SAAT_INI", "ARTI"), tuple(STATUS_LABELS.items())),
        ),
    )


def write_review_files(queue: pd.DataFrame, folder: Path, period: str) -> list[Path]:
    """One .csv and one .xlsx per kecamatan, named by codes and period only (no personal data)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kecamatan, part in queue.groupby(queue["KODE_KECAMATAN"].fillna("LUAR_WILAYAH")):
        stem = f"review_ganda_{kecamatan.replace('.', '')}_{period}"
        csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
        write_staff_csv(part, csv_path)
        write_answer_workbook(part, xlsx_path, review_sheet(list(part.columns)))
        written += [csv_path, xlsx_path]
    return written
