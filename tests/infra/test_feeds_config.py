"""Feed declarations load and say everything staging needs."""

import pytest

from dtsen_pipeline.ingest.feeds import load_feed_spec, load_feed_specs
from dtsen_pipeline.schema import RELATIONSHIPS, SEXES


def test_five_feeds_are_declared():
    specs = load_feed_specs()
    assert set(specs) == {"dtsen", "dukcapil", "bansos", "pekon", "verval"}
    assert specs["verval"].delivery_mode == "append"
    assert specs["dukcapil"].region.parts == {"prov": "NO_PROP", "kab": "NO_KAB", "kec": "NO_KEC", "kel": "NO_KEL"}


def test_value_maps_target_canonical_codes():
    for spec in load_feed_specs().values():
        assert set(spec.values.get("jenis_kelamin", {}).values()) <= set(SEXES)
        assert set(spec.values.get("hubungan", {}).values()) <= set(RELATIONSHIPS)


def test_required_columns_are_mapped():
    for spec in load_feed_specs().values():
        mapped = {h.upper() for h in (*spec.source_columns.values(), *spec.region_headers)}
        assert {r.upper() for r in spec.required} <= mapped, spec.name


def test_region_needs_exactly_one_form(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: x\nentity: person\ndelivery_mode: snapshot\nfiles: ['*.csv']\n"
                    "region: {code_system: kemendagri, vintage: '2025'}\ncolumns: {nama: N}\n")
    with pytest.raises(ValueError, match="exactly one"):
        load_feed_spec(path)
