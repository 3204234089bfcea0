"""A deployment's regencies (issue #17): which kabupaten a scope covers, and where each one's
warehouse and folders are."""

from pathlib import Path

import pytest

from dtsen_pipeline.regencies import (
    ScopeError,
    check_regency,
    is_partitioned,
    regency_folder,
    regency_url,
    regency_warehouse_url,
    scope_regencies,
)


def test_one_kabupaten_is_one_deployment_and_so_is_a_kecamatan():
    assert scope_regencies("18.06") == ("18.06",)
    assert scope_regencies("18.06.01") == ("18.06.01",)
    assert not is_partitioned("18.06") and not is_partitioned("18.06.01")


def test_a_province_is_its_fifteen_kabupaten_and_kota():
    regencies = scope_regencies("18")
    assert len(regencies) == 15 and regencies[0] == "18.01" and regencies[-1] == "18.72"
    assert "18.06" in regencies and all(code.startswith("18.") for code in regencies)
    assert is_partitioned("18")


def test_a_list_keeps_its_order_once_each():
    assert scope_regencies(" 18.10, 18.06 ,18.10") == ("18.10", "18.06")
    assert scope_regencies("18.06,17") == ("18.06", *scope_regencies("17"))


@pytest.mark.parametrize(("scope", "named"), [("18.99", "18.99"), ("99", "99"), ("18.06,18.06.01", "18.06.01"),
                                              ("", "empty")])
def test_an_unknown_or_mixed_scope_is_refused_by_name(scope, named):
    with pytest.raises(ScopeError, match=named.replace(".", r"\.")):
        scope_regencies(scope)


def test_each_regency_has_its_own_warehouse():
    assert regency_warehouse_url("duckdb:////srv/dtsen/warehouse.duckdb", "18.10") == (
        "duckdb:////srv/dtsen/warehouse_1810.duckdb")
    assert regency_warehouse_url("duckdb:////srv/dtsen/wh", "18.10") == "duckdb:////srv/dtsen/wh_1810.duckdb"
    assert regency_warehouse_url("postgresql+psycopg://etl@db:5432/dtsen_{kabupaten}", "18.06") == (
        "postgresql+psycopg://etl@db:5432/dtsen_1806")


def test_a_server_url_must_say_where_each_regency_is():
    with pytest.raises(ScopeError, match=r"\{kabupaten\}"):
        regency_warehouse_url("postgresql+psycopg://etl@db:5432/dtsen", "18.06")
    with pytest.raises(ScopeError):
        regency_warehouse_url("duckdb:///:memory:", "18.06")


def test_folders_and_links_of_a_regency():
    assert regency_folder("/srv/landing", "18.10") == Path("/srv/landing/18.10")
    assert regency_url("http://127.0.0.1:3001/", "18.10") == "http://127.0.0.1:3001/18.10"
    assert check_regency("18", "18.10") == "18.10"
    with pytest.raises(ScopeError, match="18.10 is not in DTSEN_SCOPE 18.06,18.01"):
        check_regency("18.06,18.01", "18.10")
