"""Deliveries: the same content is ingested once; snapshot and append modes pick what is in force.

Unit tests of the pure rules first, then whole intake passes over a landing folder that changes
between runs, with a DuckDB warehouse that persists the registry.
"""

import datetime as dt
import os

import pandas as pd

from dtsen_pipeline import cli
from dtsen_pipeline.ingest.deliveries import (
    Delivery,
    record_file_name,
    scope_key,
    select_in_force,
)
from dtsen_pipeline.ingest.intake import ingest_feed
from dtsen_pipeline.ingest.raw_store import count_in_force, count_raw, load_registry
from dtsen_pipeline.schema import make_record_id
from dtsen_pipeline.warehouse import read_sql
from tests.ingest.helpers import (
    OTHER_VILLAGE,
    SPECS,
    VILLAGE,
    csv_bytes,
    feed_csv,
    man_nik,
    record,
    run_feed,
    write,
)

T0 = pd.Timestamp("2026-11-01 01:00")


def _delivery(name: str, seen: pd.Timestamp = T0, mtime: float = 0.0, scope: str = "", status: str = "loaded"):
    return Delivery(feed="f", delivery_id=f"id-{name}", source_file=f"f/{name}", record_file=f"f/{name}",
                    status=status, records=1, size=1, mtime=mtime, first_seen=seen, first_run="r", scope=scope)


def _in_force(registry):
    return sorted(d.source_file.removeprefix("f/") for d in registry if d.in_force)


def test_snapshot_newest_is_the_latest_first_seen_then_mtime_then_name():
    later = T0 + pd.Timedelta(days=1)
    registry = [_delivery("b", T0, mtime=200), _delivery("a", later, mtime=100), _delivery("c", T0, mtime=300)]
    assert _in_force(select_in_force(registry, "snapshot", scoped=False)) == ["a"]
    same_run = [_delivery("x", mtime=100), _delivery("y", mtime=300), _delivery("z", mtime=300)]
    assert _in_force(select_in_force(same_run, "snapshot", scoped=False)) == ["z"]


def test_snapshot_per_scope_and_append():
    registry = [_delivery("pkh_old", scope="PKH|2026-10"), _delivery("bpnt", scope="BPNT|2026-10"),
                _delivery("pkh_new", T0 + pd.Timedelta(hours=1), scope="PKH|2026-10"),
                _delivery("bad", T0 + pd.Timedelta(hours=2), scope="PKH|2026-10", status="rejected")]
    assert _in_force(select_in_force(registry, "snapshot", scoped=True)) == ["bpnt", "pkh_new"]
    assert _in_force(select_in_force(registry, "append", scoped=True)) == ["bpnt", "pkh_new", "pkh_old"]


def test_scope_key_is_the_scope_most_records_name():
    values = pd.DataFrame({"program": ["PKH", "PKH", "BPNT", None], "periode": ["2026-10"] * 3 + [None]})
    assert scope_key(values) == "PKH|2026-10"
    assert scope_key(pd.DataFrame({"kode_desa": [None, None]})) == ""
    assert scope_key(pd.DataFrame({"kode_desa": ["b", "a"]})) == "a"  # a tie: reproducible


def test_a_reused_file_name_gets_its_content_id_in_the_provenance():
    first = _delivery("x.csv")
    assert record_file_name("f/y.csv", "abcdef0123456789", [first]) == "f/y.csv"
    assert record_file_name("f/x.csv", "abcdef0123456789", [first]) == "f/x.csv@abcdef012345"


# --- intake over a landing folder --------------------------------------------------------------

def _run(engine, landing, feed, day: int):
    return run_feed(engine, landing, feed, run_id=f"run-{day}", now=dt.datetime(2026, 11, day, 1))


def _conserved(engine, feed, result):
    assert count_in_force(engine, feed) == len(result.staged) + len(result.quarantine)


def test_same_content_under_any_name_is_ingested_once(landing, engine):
    data = feed_csv("dtsen", [record("dtsen"), record("dtsen", nik=man_nik(2), nama="BUDI")], sep=";", bom=True)
    write(landing, "dtsen", "DTSEN_1806_202611.csv", data)
    write(landing, "dtsen", "DTSEN_1806_202611 (copy).csv", data)
    first = _run(engine, landing, "dtsen", 1)
    assert sorted(r.status for r in first.intake.reports) == ["duplicate", "loaded"]
    duplicate = next(r for r in first.intake.reports if r.status == "duplicate")
    assert duplicate.problem.endswith("same content as dtsen/DTSEN_1806_202611 (copy).csv, not read again")
    assert count_raw(engine, "dtsen") == 2 and len(first.staged) == 2
    write(landing, "dtsen", "renamed.csv", data)  # delivered again, another day, another name
    second = _run(engine, landing, "dtsen", 2)
    assert [r.status for r in second.intake.reports] == ["duplicate"]
    third = _run(engine, landing, "dtsen", 3)  # nothing new: nothing read, nothing added
    assert third.intake.reports == [] and third.intake.rows_added == 0
    assert count_raw(engine, "dtsen") == 2 and len(third.staged) == 2
    registry = load_registry(engine, "dtsen")
    assert sorted(d.status for d in registry) == ["duplicate", "duplicate", "loaded"]


def test_snapshot_replaces_the_whole_feed_and_keeps_history(landing, engine):
    october = [record("dtsen", nik=man_nik(i), nama=f"ORANG {i}") for i in range(1, 4)]
    write(landing, "dtsen", "DTSEN_1806_202610.csv", feed_csv("dtsen", october, sep=";"))
    first = _run(engine, landing, "dtsen", 1)
    assert len(first.staged) == 3
    november = [record("dtsen", nik=man_nik(i), nama=f"ORANG {i}") for i in range(1, 3)]
    write(landing, "dtsen", "DTSEN_1806_202611.csv", feed_csv("dtsen", november, sep=";"))
    second = _run(engine, landing, "dtsen", 2)
    assert set(second.staged["source_file"]) == {"dtsen/DTSEN_1806_202611.csv"}
    assert len(second.staged) == 2
    assert count_raw(engine, "dtsen") == 5  # October stays in raw, superseded
    _conserved(engine, "dtsen", second)
    (landing / "dtsen" / "DTSEN_1806_202611.csv").unlink()  # the inbox is cleaned up
    third = _run(engine, landing, "dtsen", 3)
    assert set(third.staged["source_file"]) == {"dtsen/DTSEN_1806_202611.csv"}


def test_snapshot_per_programme_and_period(landing, engine):
    def kpm(program, periode, n, nominal="750000"):
        rows = [record("bansos", program=program, periode=periode, nik=man_nik(i), nama=f"KPM {i}", nominal=nominal)
                for i in range(1, n + 1)]
        return feed_csv("bansos", rows, sep=";")

    write(landing, "bansos", "PKH_2026-10.csv", kpm("PKH", "2026-10", 3))
    write(landing, "bansos", "BPNT_2026-10.csv", kpm("Sembako", "2026-10", 2))  # BPNT under its other name
    first = _run(engine, landing, "bansos", 1)
    assert first.staged.groupby("program").size().to_dict() == {"BPNT": 2, "PKH": 3}
    assert {d.scope for d in first.intake.in_force} == {"PKH|2026-10", "BPNT|2026-10"}
    write(landing, "bansos", "PKH_2026-10_revisi.csv", kpm("pkh", "2026-10", 2, nominal="600000"))
    write(landing, "bansos", "PKH_2026-11.csv", kpm("PKH", "2026-11", 2))
    second = _run(engine, landing, "bansos", 2)
    in_force = sorted(d.source_file for d in second.intake.in_force)
    assert in_force == ["bansos/BPNT_2026-10.csv", "bansos/PKH_2026-10_revisi.csv", "bansos/PKH_2026-11.csv"]
    assert second.staged.groupby(["program", "periode"]).size().to_dict() == {
        ("BPNT", "2026-10"): 2, ("PKH", "2026-10"): 2, ("PKH", "2026-11"): 2}
    _conserved(engine, "bansos", second)


def test_snapshot_per_pekon_whatever_the_code_spelling(landing, engine):
    rows_a = [record("pekon", nik=man_nik(i), nama=f"WARGA {i}") for i in range(1, 4)]
    rows_b = [record("pekon", nik=man_nik(i), nama=f"WARGA {i}", _village=OTHER_VILLAGE) for i in range(5, 7)]
    write(landing, "pekon", "pekon_a.csv", feed_csv("pekon", rows_a))
    write(landing, "pekon", "pekon_b.csv", feed_csv("pekon", rows_b))
    _run(engine, landing, "pekon", 1)
    update = [record("pekon", nik=man_nik(i), nama=f"WARGA {i}", _village=VILLAGE.replace(".", ""))
              for i in range(1, 3)]
    write(landing, "pekon", "pekon_a_desember.csv", feed_csv("pekon", update))
    second = _run(engine, landing, "pekon", 2)
    assert second.staged.groupby("source_file").size().to_dict() == {
        "pekon/pekon_a_desember.csv": 2, "pekon/pekon_b.csv": 2}


def test_many_files_of_one_run_are_judged_each_on_its_own(landing, engine):
    """A pekon delivery is many files, classified together (`intake._classified`): each file
    still gets its own scope, its own junk reasons by its own column order, and its own status;
    a copy of an unusable file is reported under its own name."""
    rows_a = [record("pekon", nik=man_nik(i), nama=f"WARGA {i}") for i in range(1, 4)]
    rows_b = [record("pekon", nik=man_nik(i), nama=f"WARGA {i}", _village=OTHER_VILLAGE) for i in range(5, 7)]
    header = list(rows_a[0])
    shuffled = [header[-1], *header[:-1]]  # the other pekon's export puts its last column first
    totals = ["JUMLAH", *[""] * (len(header) - 1)]
    only_junk = csv_bytes([header, totals, [""] * len(header)])
    write(landing, "pekon", "pekon_a.csv", feed_csv("pekon", rows_a))
    write(landing, "pekon", "pekon_a_copy.csv", feed_csv("pekon", rows_a))
    b_totals = {shuffled[0]: "JUMLAH", header[1]: "2"}  # first in pekon_b's order, last in pekon_a's
    write(landing, "pekon", "pekon_b.csv", csv_bytes([shuffled, *[[r[h] for h in shuffled] for r in rows_b],
                                                      [b_totals.get(h, "") for h in shuffled]]))
    write(landing, "pekon", "pekon_c_kosong.csv", only_junk)
    write(landing, "pekon", "pekon_d_kosong.csv", only_junk)
    result = _run(engine, landing, "pekon", 1)
    status = {r.source_file.removeprefix("pekon/"): r.status for r in result.intake.reports}
    assert status == {"pekon_a.csv": "loaded", "pekon_a_copy.csv": "duplicate", "pekon_b.csv": "loaded",
                      "pekon_c_kosong.csv": "empty", "pekon_d_kosong.csv": "empty"}
    problems = {r.source_file: r.problem for r in result.intake.reports if r.status == "empty"}
    assert all(name in problem and "2 junk record(s)" in problem for name, problem in problems.items())
    scopes = {d.source_file: d.scope for d in result.intake.registry if d.status == "loaded"}
    assert scopes == {"pekon/pekon_a.csv": VILLAGE, "pekon/pekon_b.csv": OTHER_VILLAGE}
    # pekon_b's totals row starts in its own first column, which is not pekon_a's first column
    assert result.quarantine.groupby(["source_file", "reason"]).size().to_dict() == {
        ("pekon/pekon_b.csv", "SUMMARY_ROW"): 1}
    assert result.staged.groupby("source_file").size().to_dict() == {"pekon/pekon_a.csv": 3, "pekon/pekon_b.csv": 2}
    _conserved(engine, "pekon", result)


def test_append_adds_every_delivery(landing, engine):
    def decisions(tier, n, offset):
        rows = [record("verval", tingkat=tier, nik=man_nik(offset + i), nama=f"W {i}") for i in range(n)]
        return feed_csv("verval", rows)

    write(landing, "verval", "VERVAL_2026-10_PEKON.csv", decisions("PEKON", 2, 1))
    _run(engine, landing, "verval", 1)
    write(landing, "verval", "VERVAL_2026-11_KECAMATAN.csv", decisions("KECAMATAN", 3, 10))
    second = _run(engine, landing, "verval", 2)
    assert second.staged.groupby("tingkat").size().to_dict() == {"KECAMATAN": 3, "PEKON": 2}
    _conserved(engine, "verval", second)


def test_a_file_replaced_in_place_keeps_record_ids_unique(landing, engine):
    path = write(landing, "verval", "VERVAL.csv", feed_csv("verval", [record("verval")]))
    _run(engine, landing, "verval", 1)
    path.write_bytes(feed_csv("verval", [record("verval", hasil="PINDAH", nik=man_nik(3))]))
    os.utime(path, (1_900_000_000, 1_900_000_000))
    second = _run(engine, landing, "verval", 2)
    files = sorted(second.staged["source_file"])
    assert files[0] == "verval/VERVAL.csv" and files[1].startswith("verval/VERVAL.csv@")
    ids = make_record_id("verval", second.staged["source_file"], second.staged["source_row"])
    assert ids.is_unique


def test_a_rejected_delivery_keeps_the_previous_one_in_force(landing, engine):
    write(landing, "dtsen", "DTSEN_1806_202610.csv", feed_csv("dtsen", [record("dtsen")], sep=";"))
    _run(engine, landing, "dtsen", 1)
    broken = [{k: v for k, v in record("dtsen").items() if k != "NIK"}]
    write(landing, "dtsen", "DTSEN_1806_202611.csv", feed_csv("dtsen", broken, sep=";"))
    second = _run(engine, landing, "dtsen", 2)
    assert [(r.status, r.problem) for r in second.intake.problems] == [
        ("rejected", "file dtsen/DTSEN_1806_202611.csv: missing required column(s) NIK")]
    assert [d.source_file for d in second.intake.in_force] == ["dtsen/DTSEN_1806_202610.csv"]
    assert list(second.staged["source_file"]) == ["dtsen/DTSEN_1806_202610.csv"]
    third = _run(engine, landing, "dtsen", 3)  # still there: reported again, still not used
    assert [r.status for r in third.intake.problems] == ["rejected"]
    registry = read_sql(engine, "SELECT status, first_run FROM raw.delivery WHERE status = 'rejected'")
    assert registry.to_dict(orient="records") == [{"status": "rejected", "first_run": "run-2"}]


def test_a_raw_table_from_before_the_registry_is_replaced(landing, engine):
    from dtsen_pipeline.warehouse import replace_table

    replace_table(engine, pd.DataFrame({"feed": ["pekon"], "source_file": ["old"], "source_row": [1]}), "raw",
                  "pekon")
    write(landing, "pekon", "p.csv", feed_csv("pekon", [record("pekon")]))
    result = _run(engine, landing, "pekon", 1)
    assert count_raw(engine, "pekon") == 1 and len(result.staged) == 1


def test_columns_new_in_a_later_delivery_are_added(landing, engine):
    write(landing, "verval", "a.csv", feed_csv("verval", [record("verval")]))
    _run(engine, landing, "verval", 1)
    header = [*record("verval"), "KOLOM_BARU"]
    write(landing, "verval", "b.csv", csv_bytes([header, [*record("verval", nik=man_nik(4)).values(), "x"]]))
    second = _run(engine, landing, "verval", 2)
    assert len(second.staged) == 2
    columns = read_sql(engine, "SELECT * FROM raw.verval LIMIT 0").columns
    assert "kolom_baru" in columns and "delivery_id" in columns  # an undeclared header, normalised


def test_every_feed_declares_a_known_delivery_mode():
    assert {s.delivery_mode for s in SPECS.values()} <= {"snapshot", "append"}
    assert SPECS["verval"].delivery_mode == "append"
    assert SPECS["bansos"].snapshot_scope == ("program", "periode")
    assert SPECS["pekon"].snapshot_scope == ("kode_desa",)


# --- suspect snapshots and re-deliveries (issue #11) --------------------------------------------

def _dtsen_rows(n: int) -> list[dict[str, str]]:
    return [record("dtsen", nik=man_nik(i), nama=f"ORANG {i}") for i in range(1, n + 1)]


def _cut(data: bytes, keep_lines: int) -> bytes:
    """The first `keep_lines` lines and half of the next: a copy interrupted mid-row."""
    lines = data.split(b"\n")
    return b"\n".join(lines[:keep_lines]) + b"\n" + lines[keep_lines][: len(lines[keep_lines]) // 2]


def test_a_truncated_snapshot_is_held_as_suspect_and_replaces_nothing(landing, engine):
    good = feed_csv("dtsen", _dtsen_rows(10), sep=";")
    write(landing, "dtsen", "DTSEN_1806_202610.csv", good)
    first = _run(engine, landing, "dtsen", 1)
    write(landing, "dtsen", "DTSEN_1806_202611.csv", _cut(good, 8))  # header + 7 records + half a row
    second = _run(engine, landing, "dtsen", 2)
    (suspect,) = second.intake.problems
    assert suspect.status == "suspect" and "last line is cut" in suspect.problem
    assert "dtsen accept dtsen dtsen/DTSEN_1806_202611.csv" in suspect.problem
    assert [d.source_file for d in second.intake.in_force] == ["dtsen/DTSEN_1806_202610.csv"]
    pd.testing.assert_frame_equal(second.staged, first.staged)
    assert count_raw(engine, "dtsen") == 10  # nothing of the suspect file was loaded
    third = _run(engine, landing, "dtsen", 3)  # examined again while it is there
    assert [r.status for r in third.intake.problems] == ["suspect"]


def test_a_snapshot_much_smaller_than_the_one_in_force_is_suspect_until_accepted(landing, engine, tmp_path,
                                                                                 monkeypatch, capsys):
    write(landing, "dtsen", "DTSEN_1806_202610.csv", feed_csv("dtsen", _dtsen_rows(10), sep=";"))
    _run(engine, landing, "dtsen", 1)
    write(landing, "dtsen", "DTSEN_1806_202611.csv", feed_csv("dtsen", _dtsen_rows(4), sep=";"))
    second = _run(engine, landing, "dtsen", 2)
    (suspect,) = second.intake.problems
    assert suspect.status == "suspect" and "4 records, 40% of the 10" in suspect.problem
    assert len(second.staged) == 10
    monkeypatch.setenv("DTSEN_LANDING_DIR", str(landing))
    monkeypatch.setenv("DTSEN_WAREHOUSE_URL", str(engine.url))
    assert cli.main(["accept", "dtsen", "DTSEN_1806_202612.csv"]) == 2  # no such file: nothing accepted
    assert cli.main(["accept", "dtsen", "DTSEN_1806_202611.csv"]) == 0
    assert "accepted dtsen/DTSEN_1806_202611.csv" in capsys.readouterr().out
    third = _run(engine, landing, "dtsen", 3)
    assert third.intake.problems == [] and [d.source_file for d in third.intake.in_force] == [
        "dtsen/DTSEN_1806_202611.csv"]
    assert len(third.staged) == 4


def test_a_cut_last_line_in_a_full_size_export_is_not_suspect(landing, engine):
    write(landing, "dtsen", "DTSEN_1806_202610.csv", feed_csv("dtsen", _dtsen_rows(10), sep=";"))
    _run(engine, landing, "dtsen", 1)
    whole = feed_csv("dtsen", _dtsen_rows(12), sep=";")
    write(landing, "dtsen", "DTSEN_1806_202611.csv", _cut(whole, 12))  # 11 records and a cut 12th
    second = _run(engine, landing, "dtsen", 2)
    assert second.intake.problems == []
    assert [d.source_file for d in second.intake.in_force] == ["dtsen/DTSEN_1806_202611.csv"]
    assert len(second.staged) == 11 and list(second.quarantine["reason"]) == ["MALFORMED_ROW"]


def test_sending_a_good_file_again_restores_it(landing, engine):
    good = feed_csv("dtsen", _dtsen_rows(10), sep=";")
    path = write(landing, "dtsen", "DTSEN_1806_202611.csv", good)
    _run(engine, landing, "dtsen", 1)
    bad = [record("dtsen", nik=man_nik(i), nama=f"SALAH {i}") for i in range(1, 10)]
    write(landing, "dtsen", "DTSEN_1806_202611_salah.csv", feed_csv("dtsen", bad, sep=";"))
    second = _run(engine, landing, "dtsen", 2)
    assert [d.source_file for d in second.intake.in_force] == ["dtsen/DTSEN_1806_202611_salah.csv"]
    (landing / "dtsen" / "DTSEN_1806_202611_salah.csv").unlink()  # the documented recovery:
    path.write_bytes(good)  # remove the bad file, send the good one again
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 60))
    third = _run(engine, landing, "dtsen", 3)
    assert [d.source_file for d in third.intake.in_force] == ["dtsen/DTSEN_1806_202611.csv"]
    assert set(third.staged["nama"]) == {f"ORANG {i}" for i in range(1, 11)}
    assert count_raw(engine, "dtsen") == 19  # nothing read twice
    fourth = _run(engine, landing, "dtsen", 4)  # an unchanged folder changes nothing
    assert [d.source_file for d in fourth.intake.in_force] == ["dtsen/DTSEN_1806_202611.csv"]


def test_the_same_content_under_a_new_name_restores_it_too(landing, engine):
    good = feed_csv("dtsen", _dtsen_rows(10), sep=";")
    write(landing, "dtsen", "DTSEN_1806_202611.csv", good)
    _run(engine, landing, "dtsen", 1)
    write(landing, "dtsen", "DTSEN_1806_202611_salah.csv", feed_csv("dtsen", _dtsen_rows(9), sep=";"))
    _run(engine, landing, "dtsen", 2)
    write(landing, "dtsen", "DTSEN_1806_202611_kirim_ulang.csv", good)
    third = _run(engine, landing, "dtsen", 3)
    assert [r.status for r in third.intake.reports] == ["duplicate"]
    assert [d.source_file for d in third.intake.in_force] == ["dtsen/DTSEN_1806_202611.csv"]


def test_files_still_changing_are_left_for_the_next_run_when_asked(landing, engine):
    old = write(landing, "pekon", "pekon_a.csv", feed_csv("pekon", [record("pekon")]))
    os.utime(old, (old.stat().st_atime, old.stat().st_mtime - 600))
    write(landing, "pekon", "pekon_b.csv", feed_csv("pekon", [record("pekon", _village=OTHER_VILLAGE)]))
    cutoff = old.stat().st_mtime + 300  # pekon_b was modified after it: maybe still being copied
    intake = ingest_feed(engine, landing, SPECS["pekon"], run_id="r1", settled_before=cutoff)
    assert intake.settling == ("pekon/pekon_b.csv",) and [r.source_file for r in intake.reports] == ["pekon/pekon_a.csv"]
    assert intake.summary()["files_still_changing"] == ["pekon/pekon_b.csv"]
    later = ingest_feed(engine, landing, SPECS["pekon"], run_id="r2")  # settled (or a manual run): taken
    assert [r.source_file for r in later.reports] == ["pekon/pekon_b.csv"] and later.settling == ()
