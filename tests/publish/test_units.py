"""Pure parts of publication: pseudonyms, key handling, configuration, column policy, triggers."""

import base64
import datetime as dt
import hashlib
import hmac
import re
import stat

import pytest

from dtsen_pipeline.publish.audit import describe_trigger, run_info_of, trigger_kind
from dtsen_pipeline.publish.config import PublishConfig, PublishConfigError, RoleConfig, parse_operators
from dtsen_pipeline.publish.masking import Treatment, identifier_kind, masked_select, treatment
from dtsen_pipeline.publish.pseudonym import PseudonymKey, PseudonymKeyError, resolve_key, token

KEY = PseudonymKey(b"unit-test-key-unit-test-key-0123456789", "environment")
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")


def test_token_is_hmac_sha256_of_kind_and_normalised_value():
    expected = hmac.new(KEY.secret, b"nik:1806014107850001", hashlib.sha256).digest()
    assert token(KEY, "nik", "1806014107850001") == base64.urlsafe_b64encode(expected).decode().rstrip("=")
    assert len(token(KEY, "nik", "1806014107850001")) == 43
    assert token(KEY, "nik", "'1806.0141.0785-0001 ") == token(KEY, "nik", "1806014107850001")


def test_tokens_are_deterministic_and_separate_keys_and_kinds():
    other = PseudonymKey(b"another-key-another-key-0123456789ab", "environment")
    value = "1806011203900002"
    assert token(KEY, "nik", value) == token(KEY, "nik", value)
    assert token(KEY, "nik", value) != token(other, "nik", value)
    assert token(KEY, "nik", value) != token(KEY, "kk", value)
    with pytest.raises(ValueError):
        token(KEY, "name", value)


def test_tokens_never_contain_a_sixteen_digit_run():
    values = [f"18060{i:011d}" for i in range(0, 20_000_000_000, 200_003)]
    assert len(values) > 99_000
    assert not any(SIXTEEN_DIGITS.search(token(KEY, "nik", v)) for v in values)


def test_postgres_without_key_refuses_clearly(tmp_path):
    with pytest.raises(PseudonymKeyError, match="DTSEN_PSEUDONYM_KEY is not set.*nothing was published"):
        resolve_key("postgresql", None, tmp_path)
    assert not (tmp_path / "pseudonym.key").exists()


def test_short_key_is_rejected(tmp_path):
    with pytest.raises(PseudonymKeyError, match="at least 32 characters"):
        resolve_key("postgresql", "too-short", tmp_path)


def test_duckdb_without_key_generates_a_private_local_key_once(tmp_path):
    first = resolve_key("duckdb", None, tmp_path / "artifacts")
    second = resolve_key("duckdb", None, tmp_path / "artifacts")
    path = tmp_path / "artifacts" / "pseudonym.key"
    assert first.source == "local file" and first.secret == second.secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret) >= 32
    assert resolve_key("duckdb", None, tmp_path / "elsewhere").secret != first.secret
    assert first.secret.decode() not in repr(first)


def test_environment_key_wins_and_key_id_does_not_reveal_it(tmp_path):
    key = resolve_key("duckdb", "k" * 40, tmp_path)
    assert key.source == "environment" and key.secret == b"k" * 40
    assert len(key.key_id) == 12 and "kkkk" not in key.key_id
    assert not (tmp_path / "pseudonym.key").exists()


def test_config_defaults_and_overrides():
    default = PublishConfig.from_settings()
    assert default.history_runs == 7 and default.pseudonym_key is None
    assert default.roles == RoleConfig()
    config = PublishConfig.from_settings(
        history_runs=3, pseudonym_key="x" * 40, reader_role="bappeda_ro", reader_password="s3cret",
        restricted_role="", pekon_operators="op_gisting=18.06.01.2016, 18.06.01.2017; camat_talang=18.06.02")
    assert config.history_runs == 3
    assert config.roles.reader == "bappeda_ro" and config.roles.restricted is None
    assert config.roles.operators == {"op_gisting": ("18.06.01.2016", "18.06.01.2017"), "camat_talang": ("18.06.02",)}
    assert "s3cret" not in repr(config) and "xxxx" not in repr(config)


@pytest.mark.parametrize(("settings", "message"), [
    ({"history_runs": 0}, "DTSEN_HISTORY_RUNS"),
    ({"reader_role": "Reader; DROP TABLE x"}, "DTSEN_READER_ROLE"),
    ({"reader_role": "same", "restricted_role": "same"}, "must differ"),
    ({"pekon_operators": "op1"}, "no '='"),
    ({"pekon_operators": "op1=1806"}, "not Kemendagri region codes"),
    ({"pekon_operators": "dtsen_reader=18.06.01"}, "reuse a managed role"),
    ({"pekon_role": "", "pekon_operators": "op1=18.06.01"}, "needs DTSEN_PEKON_ROLE"),
])
def test_bad_configuration_names_the_variable(settings, message):
    with pytest.raises(PublishConfigError, match=message):
        PublishConfig.from_settings(**settings)


@pytest.mark.parametrize(("env", "message"), [
    ({"DTSEN_HISTORY_RUNS": "0"}, "DTSEN_HISTORY_RUNS"),
    ({"DTSEN_HISTORY_RUNS": "seven"}, "DTSEN_HISTORY_RUNS"),
    ({"DTSEN_READER_ROLE": "Reader; DROP TABLE x"}, "DTSEN_READER_ROLE"),
    ({"DTSEN_PEKON_ROLE": "", "DTSEN_PEKON_OPERATORS": "op1=18.06.01"}, "needs DTSEN_PEKON_ROLE"),
])
def test_bad_environment_names_the_variable(env, message, monkeypatch):
    from dagster import DagsterInvalidConfigError

    from dtsen_pipeline.resources import PublicationSettings, from_environment

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises((PublishConfigError, DagsterInvalidConfigError), match=message):
        from_environment(PublicationSettings).process_config_and_initialize().config()


def test_operator_entries_accumulate():
    assert parse_operators("a=18.06.01;a=18.06.02;;") == {"a": ("18.06.01", "18.06.02")}


@pytest.mark.parametrize(("column", "expected"), [
    ("nik", Treatment.TOKEN), ("no_kk", Treatment.TOKEN), ("nik_ganda", Treatment.TOKEN),
    ("head_nik", Treatment.TOKEN), ("anggota_no_kk", Treatment.TOKEN),
    ("nik_token", Treatment.KEEP), ("no_kk_token", Treatment.KEEP), ("nik_issue", Treatment.KEEP),
    ("tgl_lahir", Treatment.YEAR), ("head_tgl_lahir", Treatment.YEAR),
    ("nama", Treatment.DROP), ("head_nama", Treatment.DROP), ("nama_ibu_kandung", Treatment.DROP),
    ("ibu_kandung", Treatment.DROP), ("alamat", Treatment.DROP), ("rt", Treatment.DROP), ("rw", Treatment.DROP),
    ("catatan", Treatment.DROP), ("petugas", Treatment.DROP), ("no_hp", Treatment.DROP), ("dusun", Treatment.DROP),
    ("nama_desa", Treatment.KEEP), ("desa", Treatment.KEEP), ("person_id", Treatment.KEEP),
    ("kode_desa", Treatment.KEEP), ("desil", Treatment.KEEP), ("verval_tanggal", Treatment.KEEP),
    ("identity_source_record", Treatment.KEEP), ("flag_reasons", Treatment.KEEP), ("start", Treatment.KEEP),
])
def test_column_treatment(column, expected):
    assert treatment(column) is expected


def test_masked_select_shows_tokens_and_birth_year_only():
    sql = masked_select("golden", "person", ["person_id", "nik", "nama", "tgl_lahir", "nik_token", "run_id"])
    assert sql == ('SELECT "person_id", CAST(EXTRACT(YEAR FROM "tgl_lahir") AS INTEGER) AS "tahun_lahir", '
                   '"nik_token", "run_id" FROM "golden"."person"')
    with pytest.raises(ValueError, match="no token column"):
        masked_select("golden", "person", ["person_id", "nik"])
    assert identifier_kind("no_kk") == "kk" and identifier_kind("kode_desa") is None


@pytest.mark.parametrize(("tags", "expected"), [
    ({"dagster/schedule_name": "nightly_refresh_schedule"}, "schedule:nightly_refresh_schedule"),
    ({"dagster/sensor_name": "landing_sensor"}, "sensor:landing_sensor"),
    ({"dagster/backfill": "abc", "user": "ops@tanggamus.go.id"}, "backfill:abc; user:ops@tanggamus.go.id"),
    ({"user": "ops@tanggamus.go.id"}, "user:ops@tanggamus.go.id"),
    ({"dagster/parent_run_id": "r1"}, "retry-of:r1; manual:svc"),
    ({}, "manual:svc"),
])
def test_describe_trigger(tags, expected):
    assert describe_trigger(tags, "svc") == expected


def test_run_info_of_a_dagster_run_starts_at_its_start_time_in_utc_or_now():
    started = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC).timestamp()
    info = run_info_of("r1", "nightly_refresh", {"dagster/schedule_name": "nightly"}, started)
    assert (info.run_id, info.job_name, info.triggered_by) == ("r1", "nightly_refresh", "schedule:nightly")
    assert info.started_at == dt.datetime(2026, 3, 1, 1, 30) and info.started_at.tzinfo is None
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert before <= run_info_of("r2", "nightly_refresh", {}, None).started_at  # not started yet: now (UTC)


def test_trigger_kind_names_no_person():
    assert trigger_kind("backfill:abc; user:ops@tanggamus.go.id") == "backfill,user"
