"""Tests of the sample-feed generator (dtsen_pipeline.sample).

The expected headers below are copied from the input contract (docs/feeds.md), not imported from
the generator, so a drift on either side fails here.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dtsen_pipeline.sample import SampleSummary, generate
from dtsen_pipeline.sample.__main__ import main

N = 3000
SEED = 7

DTSEN_HEADER = [
    "ID_KELUARGA",
    "ID_ART",
    "NIK",
    "NO_KK",
    "NAMA",
    "TGL_LAHIR",
    "JENIS_KELAMIN",
    "HUB_KELUARGA",
    "KODE_WILAYAH",
    "ALAMAT",
    "RT",
    "RW",
    "DESIL_NASIONAL",
    "STATUS_PADAN",
    "PKH",
    "BPNT",
    "PBI_JK",
]
DUKCAPIL_HEADER = [
    "NIK",
    "NO_KK",
    "NAMA_LGKP",
    "TMPT_LHR",
    "TGL_LHR",
    "JENIS_KLMIN",
    "STAT_HBKEL",
    "AGAMA",
    "STAT_KWN",
    "JENIS_PKRJN",
    "NAMA_LGKP_IBU",
    "ALAMAT",
    "NO_RT",
    "NO_RW",
    "NO_PROP",
    "NO_KAB",
    "NO_KEC",
    "NO_KEL",
    "STATUS_HIDUP",
    "TGL_MATI",
]
BANSOS_HEADER = [
    "PROGRAM",
    "PERIODE",
    "NIK_KPM",
    "NO_KK",
    "NAMA_KPM",
    "ALAMAT",
    "KODE_DESA",
    "NAMA_DESA",
    "NAMA_KEC",
    "NOMINAL",
]
PEKON_HEADER = [
    "nik",
    "no_kk",
    "nama",
    "tempat_lahir",
    "tanggal_lahir",
    "sex",
    "hubungan",
    "alamat",
    "rt",
    "rw",
    "dusun",
    "kode_desa",
    "status_dasar",
]
VERVAL_HEADER = [
    "ID_KELUARGA",
    "NO_KK",
    "NIK",
    "NAMA",
    "HASIL",
    "NIK_GANDA",
    "TINGKAT",
    "TANGGAL",
    "PETUGAS",
    "KODE_DESA",
    "CATATAN",
]
NAME_COLUMN = {
    "dtsen": "NAMA",
    "dukcapil": "NAMA_LGKP",
    "bansos": "NAMA_KPM",
    "pekon": "nama",
    "verval": "NAMA",
}
SEP = {"dtsen": ";", "dukcapil": ",", "bansos": ";", "pekon": ",", "verval": ","}
SIXTEEN = re.compile(r"(?<!\d)\d{16}(?!\d)")


# --------------------------------------------------------------------------- helpers
def read_records(root: Path, rel: str) -> tuple[list[object] | None, list[list[object]]]:
    """Header and every record a reader yields below it (junk included), as the ingest sees them."""
    path = root / rel
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
        return (rows[0], rows[1:]) if rows else (None, [])
    data = path.read_bytes()
    if not data:
        return None, []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=SEP[rel.split("/")[0]]))
    return rows[0], rows[1:]


def feed_files(root: Path, feed: str) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / feed).iterdir())


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate(N, SEED, out)


@pytest.fixture(scope="module")
def root(sample: tuple[Path, SampleSummary]) -> Path:
    return sample[0]


@pytest.fixture(scope="module")
def truth(root: Path) -> dict[str, pd.DataFrame]:
    names = ("records", "junk", "persons", "families", "verval")
    return {n: pd.read_csv(root / "_truth" / f"{n}.csv", dtype=str, keep_default_na=False) for n in names}


@pytest.fixture(scope="module")
def dukcapil(root: Path) -> pd.DataFrame:
    (rel,) = feed_files(root, "dukcapil")
    header, rows = read_records(root, rel)
    return pd.DataFrame([r for r in rows if len(r) == len(header)], columns=header)


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_byte_identical_files(root: Path, tmp_path: Path) -> None:
    generate(N, SEED, tmp_path)
    mine = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    again = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert mine == again
    for rel in mine:
        assert (root / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_different_seed_gives_different_files(root: Path, tmp_path: Path) -> None:
    generate(N, SEED + 1, tmp_path)
    for rel in ("dukcapil/DUKCAPIL_1806_20261115.csv", "_truth/records.csv"):
        assert (root / rel).read_bytes() != (tmp_path / rel).read_bytes()


def test_existing_output_is_not_overwritten_silently(root: Path) -> None:
    with pytest.raises(FileExistsError):
        generate(N, SEED, root)


# --------------------------------------------------------------------------- layout and formats
def test_all_feeds_present_with_expected_file_names(root: Path, sample: tuple[Path, SampleSummary]) -> None:
    assert feed_files(root, "dtsen") == ["dtsen/DTSEN_1806_202611.csv"]
    assert feed_files(root, "dukcapil") == ["dukcapil/DUKCAPIL_1806_20261115.csv"]
    assert feed_files(root, "bansos") == [
        "bansos/BPNT_2026-10.xlsx",
        "bansos/BPNT_2026-11.csv",
        "bansos/PBI-JK_2026-11.xlsx",
        "bansos/PKH_2026-T3.xlsx",
        "bansos/PKH_2026-T4.xlsx",
    ]
    assert feed_files(root, "verval") == [
        "verval/VERVAL_2026-10_PEKON.xlsx",
        "verval/VERVAL_2026-11_KABUPATEN.xlsx",
        "verval/VERVAL_2026-11_KECAMATAN.csv",
        "verval/VERVAL_2026-11_PEKON.csv",
    ]
    pekon = feed_files(root, "pekon")
    assert 170 <= len(pekon) <= 190  # ~60% of the 302 villages
    assert all(re.fullmatch(r"pekon/pekon_1806\d{6}\.csv", p) for p in pekon)
    assert sorted(p.name for p in (root / "_truth").iterdir()) == [
        "families.csv",
        "junk.csv",
        "persons.csv",
        "records.csv",
        "verval.csv",
    ]
    summary = sample[1]
    assert summary.persons == N and summary.pekon_files == len(pekon)
    assert 2.8 < N / summary.families < 4.2


def test_dtsen_is_semicolon_utf8_with_bom(root: Path) -> None:
    raw = (root / "dtsen/DTSEN_1806_202611.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, rows = read_records(root, "dtsen/DTSEN_1806_202611.csv")
    assert header == DTSEN_HEADER
    data = [r for r in rows if len(r) == len(header) and r[0] not in ("ID_KELUARGA", "JUMLAH")]
    # ISO; partial (1985-00-00, 1985, 1985-07-00, 1985-07) and other orders (1985/07/25, 19850725)
    forms = r"\d{4}-\d{2}-\d{2}|\d{4}|\d{4}-\d{2}|\d{4}/\d{2}/\d{2}|\d{8}"
    assert all(re.fullmatch(forms, r[5]) for r in data)
    iso = sum(bool(re.fullmatch(r"\d{4}-(?!00)\d{2}-(?!00)\d{2}", r[5])) for r in data)
    assert 0.95 * len(data) < iso < len(data)
    assert {r[6] for r in data} == {"1", "2"}
    assert {r[7] for r in data} <= set("12345678")
    assert all(re.fullmatch(r"\d{10}", r[8]) for r in data)
    assert {r[13] for r in data} == {"PADAN", "TIDAK PADAN"}
    assert {r[14] for r in data} | {r[15] for r in data} | {r[16] for r in data} == {"Y", "N"}
    assert {r[12] for r in data} <= {"", *map(str, range(1, 11))}
    by_family: dict[str, set[str]] = {}
    for r in data:
        by_family.setdefault(r[0], set()).add(r[12])
    assert all(len(v) == 1 for v in by_family.values())  # one desil per family


def test_dukcapil_is_comma_utf8_with_unpadded_region_parts(root: Path, dukcapil: pd.DataFrame) -> None:
    raw = (root / "dukcapil/DUKCAPIL_1806_20261115.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")
    header, _ = read_records(root, "dukcapil/DUKCAPIL_1806_20261115.csv")
    assert header == DUKCAPIL_HEADER
    assert dukcapil.TGL_LHR.str.fullmatch(r"\d{2}-\d{2}-\d{4}").all()
    assert set(dukcapil.JENIS_KLMIN) == {"LAKI-LAKI", "PEREMPUAN"}
    assert set(dukcapil.NO_PROP) == {"18"} and set(dukcapil.NO_KAB) == {"6"}
    assert not dukcapil.NO_KEC.str.startswith("0").any()
    assert dukcapil.NO_KEL.str.fullmatch(r"[12]\d{3}").all()
    dead = dukcapil.STATUS_HIDUP == "MATI"
    assert set(dukcapil.STATUS_HIDUP) == {"HIDUP", "MATI"}
    assert dukcapil.TGL_MATI[dead].str.fullmatch(r"\d{2}-\d{2}-\d{4}").all()
    assert (dukcapil.TGL_MATI[~dead] == "").all()
    assert set(dukcapil.STAT_HBKEL) <= {
        "KEPALA KELUARGA",
        "ISTRI",
        "SUAMI",
        "ANAK",
        "MENANTU",
        "CUCU",
        "ORANG TUA",
        "MERTUA",
        "FAMILI LAIN",
        "PEMBANTU",
        "LAINNYA",
    }


def test_bansos_files_sheets_headers_and_csv(root: Path) -> None:
    for rel in feed_files(root, "bansos"):
        header, rows = read_records(root, rel)
        if rel.endswith(".xlsx"):
            assert openpyxl.load_workbook(root / rel, read_only=True).sheetnames == ["KPM"]
            assert header == BANSOS_HEADER
        else:
            (root / rel).read_bytes().decode("utf-8")
            assert header == [*BANSOS_HEADER, "KETERANGAN"]  # extra column
        program = rel.split("/")[1].split("_")[0]
        data = [r for r in rows if r[0] == program]
        assert data and {r[1] for r in data} == {rel.split("_")[1].rsplit(".", 1)[0]}
        assert all(re.fullmatch(r"18\.?\d{2}\.?\d{2}\.?\d{4}", str(r[6])) for r in data)


def test_pekon_files_lowercase_cp1252_and_empty_files(root: Path) -> None:
    sizes = Counter()
    for rel in feed_files(root, "pekon"):
        raw = (root / rel).read_bytes()
        if not raw:
            sizes["zero"] += 1
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            sizes["cp1252"] += 1
        header, rows = read_records(root, rel)
        assert header[:13] == PEKON_HEADER and header[13:] in ([], ["keterangan"])
        if not rows:
            sizes["header_only"] += 1
        for r in rows:
            if len(r) == len(header) and r[0] not in ("nik", "JUMLAH") and any(r):
                assert re.fullmatch(r"\d{2}/\d{2}/\d{4}|--/--/\d{4}|\d{4}|\d{2}/\d{4}", r[4]) and r[5] in ("1", "2")
                assert r[12] in ("HIDUP", "MATI", "PINDAH", "HILANG")
                assert re.fullmatch(r"\d{2}\.\d{2}\.\d{2}\.\d{4}", r[11])
    assert sizes["zero"] == 1 and sizes["header_only"] >= 1 and sizes["cp1252"] >= 1
    text = "".join((root / r).read_bytes().decode("cp1252") for r in feed_files(root, "pekon"))
    assert "’" in text  # curly apostrophe (MA’RUF)


def test_verval_headers_and_values(root: Path) -> None:
    results = Counter()
    for rel in feed_files(root, "verval"):
        header, rows = read_records(root, rel)
        assert header == VERVAL_HEADER
        tier = rel.rsplit("_", 1)[1].split(".")[0]
        for r in rows:
            if not any(r):
                continue
            assert r[6] == tier and r[4] in {
                "LAYAK",
                "TIDAK_LAYAK",
                "MENINGGAL",
                "PINDAH",
                "TIDAK_DITEMUKAN",
                "GANDA",
                "BUKAN_GANDA",
                "USULAN_BARU",
            }
            results[r[4]] += 1
            if r[4] in ("GANDA", "BUKAN_GANDA"):
                assert r[2] and r[5]
            if r[4] == "USULAN_BARU":
                assert not r[0]  # no DTSEN family id yet
    assert set(results) >= {"MENINGGAL", "TIDAK_LAYAK", "GANDA", "BUKAN_GANDA", "USULAN_BARU"}


# --------------------------------------------------------------------------- identifiers and names
def test_nik_structure_in_civil_registry(dukcapil: pd.DataFrame) -> None:
    nik = dukcapil.NIK
    assert nik.str.fullmatch(r"\d{16}").all() and nik.is_unique
    assert nik.str.startswith("18").all()
    assert nik.str.startswith("1806").mean() > 0.9
    day = nik.str[6:8].astype(int)
    female = dukcapil.JENIS_KLMIN == "PEREMPUAN"
    assert ((day[female] >= 41) & (day[female] <= 71)).mean() > 0.99
    assert ((day[~female] >= 1) & (day[~female] <= 31)).mean() > 0.99
    assert (nik.str[12:] != "0000").all()
    assert nik.str[:12].duplicated().any()  # near-miss NIKs: same prefix and date, other serial
    # the NIK date matches the registered birth date (rare corrections aside)
    ddmmyy = (day - 40 * (day > 40)).map("{:02d}".format) + nik.str[8:12]
    dob = dukcapil.TGL_LHR.str[:2] + dukcapil.TGL_LHR.str[3:5] + dukcapil.TGL_LHR.str[8:10]
    assert (ddmmyy == dob).mean() > 0.98
    assert dukcapil.NO_KK.str.fullmatch(r"18\d{14}").all()


def test_names_look_like_lampung(dukcapil: pd.DataFrame) -> None:
    names = dukcapil.NAMA_LGKP
    assert names.str.fullmatch(r"[A-Z][A-Z .,']*[A-Z.]").all()
    tokens = Counter(t for n in names for t in n.split())
    assert tokens["MUHAMMAD"] + tokens["M."] > 0 and tokens["SITI"] + tokens["SRI"] + tokens["NUR"] > 10
    assert tokens["I"] + tokens["NI"] > 0 and tokens["KETUT"] + tokens["WAYAN"] + tokens["MADE"] > 0
    assert (
        names.str.match(r"(H|HJ|DRS|DRA|IR)\. ").any() and names.str.contains(r"S\.PD|S\.E|S\.H|A\.MD").any()
    )
    assert names.str.contains("OE|DJ|TJ").any()
    assert (names.str.count(" ") == 0).mean() > 0.05  # mononyms
    heads = dukcapil[dukcapil.STAT_HBKEL == "KEPALA KELUARGA"].set_index("NO_KK").NAMA_LGKP
    wives = dukcapil[dukcapil.STAT_HBKEL == "ISTRI"].drop_duplicates("NO_KK").set_index("NO_KK").NAMA_LGKP
    pairs = pd.concat([heads, wives], axis=1, join="inner").dropna()
    same_last = (pairs.iloc[:, 0].str.split().str[-1] == pairs.iloc[:, 1].str.split().str[-1]).mean()
    assert len(pairs) > 300 and same_last < 0.1  # spouses do not share a surname


# --------------------------------------------------------------------------- truth
def test_truth_counts_match_records_in_files(root: Path, truth: dict[str, pd.DataFrame]) -> None:
    records, junk = truth["records"], truth["junk"]
    for feed in ("dtsen", "dukcapil", "bansos", "pekon"):
        for rel in feed_files(root, feed):
            _, rows = read_records(root, rel)
            n_truth = (records.source_file == rel).sum()
            n_junk = (junk.source_file == rel).sum()
            assert len(rows) == n_truth + n_junk, rel
    assert set(records.feed) == {"dtsen", "dukcapil", "bansos", "pekon"}
    assert not records.duplicated(["source_file", "source_row"]).any()


def test_truth_points_at_named_data_records(root: Path, truth: dict[str, pd.DataFrame]) -> None:
    records, junk = truth["records"], truth["junk"]
    for rel, group in records.groupby("source_file"):
        header, rows = read_records(root, rel)
        name_at = header.index(NAME_COLUMN[rel.split("/")[0]])
        for r in group.source_row.astype(int):
            row = rows[r - 1]
            # one field more: an unquoted separator typed into the address (issue #10)
            assert len(row) in (len(header), len(header) + 1), (rel, r)
            assert row[name_at] and row[name_at] != header[name_at] and row[0] != "JUMLAH", (rel, r)
    # and junk rows are junk
    for kind, rel, r in zip(junk.kind, junk.source_file, junk.source_row.astype(int), strict=True):
        header, rows = read_records(root, rel)
        row = rows[r - 1]
        if kind == "REPEATED_HEADER":
            assert row == header
        elif kind == "SUMMARY_ROW":
            assert "JUMLAH" in row
        elif kind == "EMPTY_ROW":
            assert not any(row)
        elif kind == "MALFORMED_ROW":
            assert len(row) < len(header) and r == len(rows)
    assert set(junk.kind) == {"REPEATED_HEADER", "SUMMARY_ROW", "EMPTY_ROW", "MALFORMED_ROW"}


def test_truth_keys_are_consistent_and_free_of_personal_data(
    root: Path, truth: dict[str, pd.DataFrame]
) -> None:
    persons, families, records = truth["persons"], truth["families"], truth["records"]
    assert len(persons) == N and persons.person_key.is_unique and families.family_key.is_unique
    fam_of = persons.set_index("person_key").family_key
    assert (records.family_key.values == fam_of.loc[records.person_key].values).all()
    assert set(persons.status) == {"HIDUP", "MATI", "PINDAH", "HILANG"}
    assert set(persons.jenis_kelamin) == {"L", "P"}
    assert set(families.head_person_key) <= set(persons.person_key)
    assert set(families.desil) <= {"", *map(str, range(1, 11))}
    dukcapil_share = records[records.feed == "dukcapil"].person_key.nunique() / N
    assert 0.97 < dukcapil_share < 1.0
    for f in (root / "_truth").iterdir():
        assert not SIXTEEN.search(f.read_text(encoding="utf-8")), f.name


def test_population_rates_are_realistic(truth: dict[str, pd.DataFrame]) -> None:
    persons, families = truth["persons"], truth["families"]
    status = persons.status.value_counts(normalize=True)
    assert 0.005 < status["MATI"] < 0.02 and 0.008 < status["PINDAH"] < 0.03
    assert 0.88 < (families.in_dtsen == "True").mean() < 0.97
    ranked = families[families.desil != ""].desil.astype(int)
    assert ranked.lt(5).mean() > 0.45  # poorer deciles dominate a rural regency
    pkh = families[(families.pkh == "True") & (families.desil != "")]
    assert 0.01 < (pkh.desil.astype(int) > 4).mean() < 0.15  # inclusion errors exist, but few


def test_dtsen_has_data_ganda(root: Path, truth: dict[str, pd.DataFrame]) -> None:
    dtsen = truth["records"][truth["records"].feed == "dtsen"]
    repeated = dtsen.person_key.value_counts()
    share = (repeated > 1).sum() / len(repeated)
    assert 0.01 < share < 0.05
    header, rows = read_records(root, "dtsen/DTSEN_1806_202611.csv")
    ids = {r: rows[r - 1][0] for r in dtsen.source_row.astype(int)}
    fam_ids = (
        dtsen.assign(id_kel=dtsen.source_row.astype(int).map(ids)).groupby("family_key").id_kel.nunique()
    )
    assert (fam_ids > 1).any()  # a family registered twice under two ID_KELUARGA
    persons = truth["persons"].set_index("person_key")
    assert (persons.loc[dtsen.person_key, "status"] == "MATI").any()  # the dead still listed


def test_xlsx_and_csv_identifier_damage(root: Path) -> None:
    numeric, scientific, dot_zero, text = 0, 0, 0, 0
    for rel in feed_files(root, "bansos"):
        header, rows = read_records(root, rel)
        cols = (header.index("NIK_KPM"), header.index("NO_KK"))
        for r in rows:
            for c in cols:
                v = r[c] if c < len(r) else None
                if isinstance(v, float | int):
                    numeric += 1
                    assert len(str(int(v))) == 16 and str(int(v)).endswith("0")
                elif isinstance(v, str) and re.fullmatch(r"\d\.\d+E\+1\d", v):
                    scientific += 1
                elif isinstance(v, str) and v.endswith(".0"):
                    dot_zero += 1
                    assert rel.endswith(".csv")
                elif isinstance(v, str) and re.fullmatch(r"\d{16}", v):
                    text += 1
    assert numeric > 0.1 * text and scientific > 0 and dot_zero > 0


def test_feed_specific_traps(root: Path, truth: dict[str, pd.DataFrame]) -> None:
    records = truth["records"]
    persons = truth["persons"].set_index("person_key")
    pekon = records[records.feed == "pekon"]
    assert (persons.loc[pekon.person_key, "in_dtsen"] == "False").any()  # residents DTSEN does not know
    bansos = records[records.feed == "bansos"]
    assert (persons.loc[bansos.person_key, "status"] == "MATI").any()  # dead recipients still paid
    niks, outside = [], 0
    for rel in feed_files(root, "pekon"):
        header, rows = read_records(root, rel)
        niks += [r[0] for r in rows if len(r) >= len(PEKON_HEADER)]
        outside += sum(
            1 for r in rows if len(r) >= 12 and r[11][:1].isdigit() and not r[11].startswith("18.06")
        )
    temp = [n for n in niks if re.fullmatch(r"0\d{15}", n)]
    assert 0.01 < len(temp) / len(niks) < 0.06 and "0000000000000000" in niks
    dtsen_header, dtsen_rows = read_records(root, "dtsen/DTSEN_1806_202611.csv")
    outside += sum(1 for r in dtsen_rows if len(r) > 8 and r[8][:1].isdigit() and not r[8].startswith("1806"))
    assert 0 < outside < 0.02 * (len(niks) + len(dtsen_rows))


def test_verval_truth_pairs(truth: dict[str, pd.DataFrame]) -> None:
    verval = truth["verval"]
    ganda = verval[verval.hasil == "GANDA"]
    bukan = verval[verval.hasil == "BUKAN_GANDA"]
    assert len(ganda) and (ganda.person_key == ganda.other_person_key).all()
    assert (
        len(bukan)
        and (bukan.person_key != bukan.other_person_key).all()
        and (bukan.other_person_key != "").all()
    )


# --------------------------------------------------------------------------- CLI
def test_cli_prints_counts_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--persons", "1000", "--seed", "3", "--out", str(tmp_path), "--as-of", "2026-08-20"]) == 0
    out = capsys.readouterr().out
    assert "persons: 1000" in out and not SIXTEEN.search(out)
    assert (tmp_path / "dtsen/DTSEN_1806_202608.csv").exists()
    assert (tmp_path / "bansos/PKH_2026-T2.xlsx").exists() and (tmp_path / "bansos/PKH_2026-T3.xlsx").exists()
    assert main(["--persons", "1000", "--seed", "3", "--out", str(tmp_path)]) == 2
    assert main(["--persons", "1000", "--seed", "3", "--out", str(tmp_path), "--overwrite"]) == 0


# --------------------------------------------------------------------------- damage scale
def test_damage_scale_multiplies_record_damage_only() -> None:
    from dtsen_pipeline.sample.rates import RATES, RECORD_DAMAGE

    scaled = RATES.scaled(3)
    assert {"name_variant", "dob_year_only", "dob_other_order", "alamat_separator", "csv_id_dot_zero"} <= set(
        RECORD_DAMAGE)
    for name in RECORD_DAMAGE:
        assert getattr(scaled, name) == min(1.0, 3 * getattr(RATES, name)), name
    assert scaled.xlsx_id_as_number_max == 1.0  # 0.45 * 3, clamped
    assert scaled.dead == RATES.dead and scaled.pekon_villages == RATES.pekon_villages  # not record damage
    assert RATES.scaled(1.0) == RATES
    with pytest.raises(ValueError):
        RATES.scaled(-1)


def test_same_seed_and_scale_give_the_same_bytes(tmp_path: Path) -> None:
    def files(out: Path) -> dict[str, bytes]:
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    generate(1000, 5, tmp_path / "a", damage_scale=2.5)
    generate(1000, 5, tmp_path / "b", damage_scale=2.5)
    generate(1000, 5, tmp_path / "c")
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_cli_damage_scale(tmp_path: Path) -> None:
    assert main(["--persons", "1000", "--seed", "3", "--out", str(tmp_path / "x"), "--damage-scale", "3"]) == 0
    generate(1000, 3, tmp_path / "y", damage_scale=3)
    rel = "dtsen/DTSEN_1806_202611.csv"
    assert (tmp_path / "x" / rel).read_bytes() == (tmp_path / "y" / rel).read_bytes()
    with pytest.raises(SystemExit):
        main(["--persons", "1000", "--seed", "3", "--out", str(tmp_path / "z"), "--damage-scale", "-1"])
