"""Issue #10: no person is lost for a repairable field.

A generated sample with its record damage raised (`damage_scale`, so partial and reordered
birth dates and separators typed into addresses occur often) is ingested and staged feed by feed.
From the truth tables, every quarantined record that is a true person's record is counted when
it still identifies a person (a name plus a NIK, No. KK, birth date or village as delivered):
there must be none. Junk (totals, repeated headers, a truncated row) is not a person record.
"""

import pandas as pd
import pytest

from dtsen_pipeline.ingest.raw_records import REPAIR_COLUMN
from dtsen_pipeline.sample.truth import PERSON_FEEDS
from dtsen_pipeline.warehouse import read_table
from tests.ingest.helpers import SPECS, engine_at, run_feed

PERSONS = 3_000
SCALE = 3.0


@pytest.fixture(scope="module")
def staged_sample(tmp_path_factory):
    from dtsen_pipeline.sample import generate

    tmp = tmp_path_factory.mktemp("no_person_lost")
    landing = tmp / "landing"
    generate(persons=PERSONS, seed=3, out_dir=landing, damage_scale=SCALE)
    engine = engine_at(tmp / "w.duckdb")
    passes = {feed: run_feed(engine, landing, feed) for feed in PERSON_FEEDS}
    raw = {feed: read_table(engine, "raw", feed) for feed in PERSON_FEEDS}
    truth = pd.read_csv(landing / "_truth" / "records.csv", dtype=str)
    yield passes, raw, truth
    engine.dispose()


def _identity(raw: pd.DataFrame, feed: str) -> pd.Series:
    """A delivered name plus a NIK, No. KK, birth date or village (as text, before any rule)."""
    spec = SPECS[feed]

    def filled(header: str | None) -> pd.Series:
        if header is None or header not in raw.columns:
            return pd.Series(False, index=raw.index)
        return raw[header].astype("str").str.strip().fillna("").ne("")

    village = filled(spec.region.village) if spec.region.village else filled((spec.region.parts or {}).get("kel"))
    other = filled(spec.columns.get("nik")) | filled(spec.columns.get("no_kk")) | filled(
        spec.columns.get("tgl_lahir")) | village
    return filled(spec.columns.get("nama")) & other


def test_no_identifiable_person_record_is_quarantined(staged_sample):
    passes, raw, truth = staged_sample
    lost = {}
    for feed, result in passes.items():
        assert result.staged_counts.rows_in == len(result.staged) + len(result.quarantine)
        keys = ["source_file", "source_row"]
        quarantined = result.quarantine.assign(source_row=result.quarantine["source_row"].astype(int))
        persons = truth[truth["feed"] == feed].assign(source_row=lambda t: t["source_row"].astype(int))
        records = raw[feed].assign(identifies=_identity(raw[feed], feed))[[*keys, "identifies"]]
        hit = quarantined.merge(persons, on=keys).merge(records, on=keys)
        lost[feed] = hit.loc[hit["identifies"], "reason"].value_counts().to_dict()
    assert lost == {feed: {} for feed in PERSON_FEEDS}


def test_the_raised_damage_did_occur_and_was_staged(staged_sample):
    passes, raw, _ = staged_sample
    flags = pd.concat([p.staged["flags"] for p in passes.values()]).str.split(";").explode().value_counts()
    for code in ("DOB_PARTIAL", "DOB_MONTH_FIRST", "ROW_REPAIRED_SEPARATOR"):
        assert flags.get(code, 0) > 0, code
    repaired = sum(int(r[REPAIR_COLUMN].notna().sum()) for r in raw.values())
    assert repaired == flags["ROW_REPAIRED_SEPARATOR"]
    staged = pd.concat([p.staged for p in passes.values() if "dob_precision" in p.staged])
    known = staged["dob_precision"].value_counts()
    assert known.get("year", 0) > 0 and known.get("month", 0) > 0
    partial = staged["dob_precision"].isin(["year", "month"])
    assert staged.loc[partial, "tgl_lahir"].isna().all() and staged.loc[partial, "birth_year"].notna().all()
