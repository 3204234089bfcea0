"""Issue #10: a record one field too long because of an unquoted separator in a free-text field
is repaired when only one placement fits, else quarantined as MALFORMED_ROW as before."""

from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.ingest.repair import REPAIR_CODE, column_checks, placements
from tests.ingest.helpers import man_nik, record, run_feed, write

SPECS = load_feed_specs()


def _text(feed: str, rows: list[dict[str, str]], sep: str) -> bytes:
    """CSV written the way a broken export writes it: no quoting at all."""
    lines = [sep.join(rows[0]), *(sep.join(r.values()) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def _fields(values: list[str]) -> list[list[str]]:
    return [[v] for v in values]


def test_placement_is_the_only_free_text_column_that_fits():
    spec = SPECS["dtsen"]
    header = list(record("dtsen"))
    checks = column_checks(header, spec)
    candidates = [header.index("NAMA"), header.index("ALAMAT")]
    good = list(record("dtsen").values())
    at = header.index("ALAMAT")
    split = [*good[:at], "DUSUN II", " RT 3", *good[at + 1:]]
    assert placements(_fields(split), checks, candidates).tolist() == [at]
    at_name = header.index("NAMA")
    split_name = [*good[:at_name], "AHMAD", " SUBAGIO", *good[at_name + 1:]]
    assert placements(_fields(split_name), checks, candidates).tolist() == [at_name]
    # a separator inside the NIK (not free text): no placement fits
    nik = header.index("NIK")
    split_nik = [*good[:nik], "180601", "2208900001", *good[nik + 1:]]
    assert placements(_fields(split_nik), checks, candidates).tolist() == [-1]


def test_unambiguous_rows_are_repaired_and_flagged(landing, engine):
    rows = [record("dtsen", alamat="DUSUN II; RT 3", nik=man_nik(2)),
            record("dtsen", nama="AHMAD; SUBAGIO", nik=man_nik(3)),
            record("dtsen", nik=man_nik(4))]
    write(landing, "dtsen", "DTSEN.csv", _text("dtsen", rows, ";"))
    result = run_feed(engine, landing, "dtsen")
    assert result.quarantine.empty
    staged = result.staged.set_index("source_row")
    assert staged.loc[1, "alamat"] == "DUSUN II; RT 3" and staged.loc[1, "rt"] == "3"
    assert staged.loc[1, "kode_desa"] == "18.06.01.2016" and staged.loc[1, "desil"] == 2
    assert staged.loc[2, "nama"] == "AHMAD; SUBAGIO"
    assert [REPAIR_CODE in f.split(";") for f in staged["flags"]] == [True, True, False]


def test_ambiguous_and_unplaceable_rows_stay_malformed(landing, engine):
    rows = [
        record("pekon", alamat="DUSUN II, 3", nik=man_nik(2)),  # alamat or dusun: both fit
        record("pekon", nik="180601,2208900005"),  # inside the NIK: nothing fits
        record("pekon", alamat="DUSUN II, RT 3, RW 1", nik=man_nik(6)),  # two surplus fields
        record("pekon", alamat="DUSUN II, RT 3", nik=man_nik(7)),  # repaired
        record("pekon", nik=man_nik(8)),
    ]
    write(landing, "pekon", "p.csv", _text("pekon", rows, ","))
    result = run_feed(engine, landing, "pekon")
    assert result.staged_counts.rows_in == len(result.staged) + len(result.quarantine) == 5
    reasons = result.quarantine.set_index("source_row")["reason"].to_dict()
    assert reasons == {1: "MALFORMED_ROW", 2: "MALFORMED_ROW", 3: "MALFORMED_ROW"}
    staged = result.staged.set_index("source_row")
    assert staged.loc[4, "alamat"] == "DUSUN II, RT 3" and staged.loc[4, "rt"] == "3"
    assert REPAIR_CODE in staged.loc[4, "flags"].split(";")
    assert REPAIR_CODE not in staged.loc[5, "flags"].split(";")
