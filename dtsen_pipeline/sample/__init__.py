"""Deterministic, realistic sample feeds for a Lampung kabupaten/kota (default Kabupaten Tanggamus),
with an answer key.

`generate(persons, seed, out_dir, kabupaten="18.06")` writes `<out_dir>/<feed>/<file>` for the five agency
feeds of docs/feeds.md (dtsen, dukcapil, bansos, pekon, verval) and `<out_dir>/_truth/`, which
says which true person and family every source record belongs to. Same seed, same bytes.
"""

from dtsen_pipeline.sample.generator import DEFAULT_AS_OF, FEEDS, SampleSummary, generate

__all__ = ["DEFAULT_AS_OF", "FEEDS", "SampleSummary", "generate"]
