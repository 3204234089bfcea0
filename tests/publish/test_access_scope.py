"""The pekon views' filter (access.pekon_select) on PostgreSQL: a flag is seen in its village and,
for a moved recipient, in the village named by kode_desa_lain."""

import pytest
import sqlalchemy as sa

from dtsen_pipeline.publish.access import ACCESS_SCHEMA, SCOPE_TABLE, pekon_select
from tests.support import temporary_database

pytestmark = pytest.mark.postgres
BAROS, KALIBENING = "18.06.01.1001", "18.06.02.2012"


def test_a_moved_recipients_flag_is_seen_in_both_villages():
    with temporary_database("dtsen_access") as url:
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {ACCESS_SCHEMA}")
                conn.exec_driver_sql(f"CREATE TABLE {ACCESS_SCHEMA}.{SCOPE_TABLE} (role_name text, kode_wilayah text)")
                conn.exec_driver_sql(f"INSERT INTO {ACCESS_SCHEMA}.{SCOPE_TABLE} VALUES (current_user, '{BAROS}')")
                conn.exec_driver_sql("CREATE SCHEMA golden")
                conn.exec_driver_sql("CREATE TABLE golden.flag (subject_id text, kode_desa text, kode_desa_lain text)")
                conn.exec_driver_sql(f"INSERT INTO golden.flag VALUES ('stays', '{BAROS}', NULL), "
                                     f"('moved_in', '{KALIBENING}', '{BAROS}'), ('elsewhere', '{KALIBENING}', NULL)")
                select = pekon_select("golden", "flag", ["subject_id", "kode_desa", "kode_desa_lain"], {})
                seen = {row[0] for row in conn.exec_driver_sql(select)}
                plain = pekon_select("golden", "flag", ["subject_id", "kode_desa"], {})
                seen_without = {row[0] for row in conn.exec_driver_sql(plain)}
        finally:
            engine.dispose()
    assert seen == {"stays", "moved_in"}
    assert seen_without == {"stays"}
