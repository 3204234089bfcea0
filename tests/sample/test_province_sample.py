"""The province sample (issue #17): regencies drawn on their own, and people who left one regency
found in another's civil registry with the NIK, name and birth date they always had."""

import csv

import pandas as pd

from dtsen_pipeline.sample.generator import DEFAULT_AS_OF
from dtsen_pipeline.sample.population import PINDAH, build_population
from dtsen_pipeline.sample.profiles import rates_for
from dtsen_pipeline.sample.province import generate_province


def _dukcapil(landing, code) -> pd.DataFrame:
    """The extract's data lines by row number (1 = the first after the header), each parsed alone:
    some addresses are written unquoted with their commas, as the agency's export does."""
    (path,) = (landing / code / "dukcapil").glob("*.csv")
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    names = next(csv.reader([header]))
    rows = [dict(zip(names, next(csv.reader([line])), strict=False)) for line in lines]
    return pd.DataFrame(rows, index=range(1, len(lines) + 1))


def test_movers_arrive_in_another_regencys_civil_registry_and_the_truth_says_so(tmp_path):
    landing = tmp_path / "landing"
    summary = generate_province(["18.06", "18.10"], 1500, 29, landing)
    movers = pd.read_csv(landing / "_truth" / "movers.csv", dtype=str)
    assert summary.movers == len(movers) > 5 and summary.persons == 3000
    assert set(movers["origin_regency"]) == {"18.06", "18.10"}
    assert (movers["origin_regency"] != movers["destination_regency"]).all()
    assert set(movers["level"]) <= {"family", "person"}
    populations = {code: build_population(1500, 29 + offset, DEFAULT_AS_OF, rates_for("base"), code)
                   for offset, code in enumerate(("18.06", "18.10"))}

    for code in ("18.06", "18.10"):
        truth = landing / "_truth" / code
        assert not (landing / code / "_truth").exists()  # the deployment's layout
        records = pd.read_csv(truth / "records.csv", dtype=str)
        persons = pd.read_csv(truth / "persons.csv", dtype=str)
        arrived = movers[movers["destination_regency"] == code]
        mine = records[records["person_key"].isin(arrived["destination_person_key"])]
        assert len(mine) == len(arrived) and (mine["feed"] == "dukcapil").all()
        assert set(arrived["destination_person_key"]) <= set(persons["person_key"])
        extract = _dukcapil(landing, code)
        rows = extract.loc[mine["source_row"].astype(int)]
        for row, key in zip(rows.itertuples(index=False), arrived.itertuples(index=False), strict=True):
            assert row.NO_PROP == "18" and f"18.{int(row.NO_KAB):02d}" == code and row.STATUS_HIDUP == "HIDUP"
            assert row.NO_KK.startswith(f"18{int(row.NO_KAB):02d}")
            # The NIK, mother's name and sex the person had in the regency they left: a NIK is for life.
            origin = populations[key.origin_regency]
            index = int(key.origin_person_key[1:]) - 1
            assert origin.status[index] == PINDAH
            assert (row.NIK, row.NAMA_LGKP_IBU) == (origin.nik[index], origin.mother_name[index])
            assert row.JENIS_KLMIN == ("LAKI-LAKI" if origin.sex[index] == 1 else "PEREMPUAN")
        junk = pd.read_csv(truth / "junk.csv")
        last = junk[(junk["feed"] == "dukcapil") & (junk["kind"] == "MALFORMED_ROW")]["source_row"].iloc[0]
        assert last == len(extract)  # the truncated row (read as a short one) is still the export's last
        (path,) = (landing / code / "dukcapil").glob("*.csv")
        assert not path.read_bytes().endswith(b"\n")
