"""`dtsen export-staged` (linkage.staged_export): every staged person record's linkage columns
leave the warehouse as parquet, one file per feed with one schema, on DuckDB and PostgreSQL alike,
without passing through pandas; the values are the staging tables' own."""

import pyarrow.parquet as pq

from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.linkage.staged_export import STAGED_EXPORT_TYPES, export_staged
from dtsen_pipeline.warehouse import read_columns, replace_table

FEEDS = person_feeds(load_feed_specs())


def _comparable(values: list) -> list:
    return [None if v is None or v != v else (v.isoformat() if hasattr(v, "isoformat") else v) for v in values]


def test_the_export_holds_every_staged_record_with_its_values(engine, warehouse, tmp_path):
    staged = {feed: read_columns(engine, "staging", feed, STAGED_EXPORT_TYPES) for feed in FEEDS}
    for feed, frame in staged.items():  # the session run's staging, in this test's warehouse
        replace_table(warehouse, frame, "staging", feed)

    written = export_staged(warehouse, FEEDS, tmp_path)

    assert written == {feed: len(frame) for feed, frame in staged.items()}
    assert all(rows > 0 for rows in written.values())
    schemas = {feed: pq.read_schema(tmp_path / f"{feed}.parquet") for feed in FEEDS}
    # One table for Spark: the same columns of the same types (Spark reads every column as nullable).
    assert len({tuple((f.name, str(f.type)) for f in schema) for schema in schemas.values()}) == 1
    assert schemas[FEEDS[0]].names == list(STAGED_EXPORT_TYPES)
    assert str(schemas[FEEDS[0]].field("tgl_lahir").type) == "date32[day]"
    for feed, frame in staged.items():
        exported = pq.read_table(tmp_path / f"{feed}.parquet").to_pandas().set_index("record_id")
        frame = frame.set_index("record_id").loc[exported.index]
        for column in frame.columns:  # columns a feed lacks are null in the export
            assert _comparable(exported[column].tolist()) == _comparable(frame[column].tolist()), (feed, column)
        missing = set(STAGED_EXPORT_TYPES) - set(frame.columns) - {"record_id"}
        assert all(exported[column].isna().all() for column in missing)


def test_a_regencys_export_carries_the_regency_in_its_record_ids(engine, tmp_path):
    """Two regencies' landing folders may hold files of the same name: exported with the regency
    before every id, their records are still distinct in one table."""
    feeds = FEEDS[:1]
    export_staged(engine, feeds, tmp_path / "a", "18.06/")
    export_staged(engine, feeds, tmp_path / "b", "18.10/")
    ids = [pq.read_table(tmp_path / name / f"{feeds[0]}.parquet").column("record_id").to_pylist() for name in "ab"]
    staged = read_columns(engine, "staging", feeds[0], ["record_id"])["record_id"].tolist()
    assert ids[0] == ["18.06/" + i for i in staged] and ids[1] == ["18.10/" + i for i in staged]
