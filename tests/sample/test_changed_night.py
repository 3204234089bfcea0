"""A night after a night (`make bench`'s second night): about 1% of the person records change,
only in their names, on the rows they were on; everything else stays byte for byte."""

import csv
import io
from pathlib import Path

from dtsen_pipeline.sample import generate
from dtsen_pipeline.sample.changed_night import change_night


def _rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    return list(csv.reader(io.StringIO(text, newline=""), csv.Sniffer().sniff(text.splitlines()[0], ",;|\t")))


def test_about_one_percent_of_records_change_in_their_names_only(tmp_path):
    landing = tmp_path / "landing"
    generate(persons=2000, seed=5, out_dir=landing)
    before = {p.relative_to(landing): p.read_bytes() for p in landing.rglob("*") if p.is_file()}
    change = change_night(landing, share=0.01, seed=3)
    assert 0.008 * change.records <= change.changed <= 0.012 * change.records
    after = {p.relative_to(landing): p.read_bytes() for p in landing.rglob("*") if p.is_file()}
    assert after.keys() == before.keys()
    touched = [f for f in before if before[f] != after[f]]
    assert len(touched) == change.files and {f.parts[0] for f in touched} <= {"dukcapil", "pekon"}
    differing = 0
    for relative in touched:
        (tmp_path / "old.csv").write_bytes(before[relative])
        old, new = _rows(tmp_path / "old.csv"), _rows(landing / relative)
        assert len(old) == len(new)  # every record on its row
        for a, b in zip(old, new, strict=True):
            if a != b:
                diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
                assert len(diff) == 1 and old[0][diff[0]].upper().startswith("NAMA")  # the name only
                assert sorted(a[diff[0]]) == sorted(b[diff[0]])  # two letters swapped
                differing += 1
    assert differing == change.changed
