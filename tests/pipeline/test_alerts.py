"""Alerts reach a real SMTP server (aiosmtpd, started here) and a webhook: a blocked publication
names the failed blocking check, a run failure its step, a held-back feed its rules; no message
carries a record value."""

import http.server
import json
import socket
import threading
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    MaterializeResult,
    SkipReason,
    asset,
    build_run_status_sensor_context,
    define_asset_job,
    materialize,
)

from assets.ingest import HELD_BACK_TAG
from assets.sensors import alert_failed_runs, alert_held_back_feeds
from dtsen_pipeline.alerts import FEEDS_HELD_BACK, PUBLICATION_BLOCKED, RUN_FAILED, held_back_feeds
from dtsen_pipeline.resources import AlertSettings

NIK = "1806014107850007"  # a record value the failing step sees: it must never reach a message


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's hook name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _alerts(port: int, hook: str) -> AlertSettings:
    return AlertSettings(ui_url="http://dagster.dinsos.example:3000", smtp_host="127.0.0.1", smtp_port=port,
                         sender="dtsen@dinsos.example", recipients="data@dinsos.example, kabid@dinsos.example",
                         webhook_url=hook)


@asset(key=AssetKey(["build", "person"]),
       check_specs=[AssetCheckSpec("gx_suite", asset=AssetKey(["build", "person"]), blocking=True)])
def build_person():
    yield MaterializeResult(metadata={"dagster/row_count": 3})  # built; its suite fails on it
    yield AssetCheckResult(passed=False, metadata={"failed_rules": "PERSON-07"})


@asset(key=AssetKey(["golden", "person"]), deps=[AssetKey(["build", "person"])])
def golden_person() -> None:
    pass


@asset(key=AssetKey(["staging", "dtsen"]))
def broken_staging() -> None:
    raise ValueError(f"feed dtsen: NIK {NIK} broke the reader")


def refresh(assets, instance, **kwargs):
    """The assets run as a job named nightly_refresh: the alert sensors act on refresh jobs only."""
    job = Definitions(assets=assets, jobs=[define_asset_job("nightly_refresh")]).resolve_job_def("nightly_refresh")
    return job.execute_in_process(instance=instance, **kwargs)


def _failure_context(instance, run_id, alerts):
    failure = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_FAILURE).records[0]
    return build_run_status_sensor_context(
        sensor_name="alert_failed_runs", dagster_instance=instance, dagster_run=instance.get_run_by_id(run_id),
        dagster_event=failure.event_log_entry.dagster_event, resources={"alerts": alerts}).for_run_failure()


def _text(message) -> str:
    return message["Subject"] + "\n" + message.get_payload(decode=True).decode()


def test_a_blocked_publication_names_the_failed_check_by_email_and_webhook(smtp, webhook):
    (inbox, port), (posted, hook) = smtp, webhook
    instance = DagsterInstance.ephemeral()
    result = refresh([build_person, golden_person], instance=instance, raise_on_error=False,
                     tags={HELD_BACK_TAG: "pekon:PEKON-03,PEKON-05"})
    assert not result.success  # the blocking check stopped golden/person
    alert_failed_runs(_failure_context(instance, result.run_id, _alerts(port, hook)))

    (recipients, message), = inbox.messages
    assert recipients == ["data@dinsos.example", "kabid@dinsos.example"]
    text = _text(message)
    assert "Publikasi ditahan" in message["Subject"]
    assert "build/person:gx_suite" in text
    assert f"http://dagster.dinsos.example:3000/runs/{result.run_id}" in text
    assert "pekon: aturan PEKON-03, PEKON-05" in text
    assert posted[0]["kind"] == PUBLICATION_BLOCKED and posted[0]["failed_checks"] == ["build/person:gx_suite"]


def test_a_failed_step_is_a_run_failure_and_no_value_leaks(smtp, webhook):
    (inbox, port), (posted, hook) = smtp, webhook
    instance = DagsterInstance.ephemeral()
    result = refresh([broken_staging], instance=instance, raise_on_error=False)
    assert not result.success
    alert_failed_runs(_failure_context(instance, result.run_id, _alerts(port, hook)))
    (_, message), = inbox.messages
    text = _text(message)
    assert "Run gagal" in message["Subject"] and "staging__dtsen" in text
    assert NIK not in text and NIK not in json.dumps(posted)  # the error text stays in the UI
    assert posted[0]["kind"] == RUN_FAILED


def test_a_held_back_feed_is_told_after_a_successful_run(smtp, webhook):
    (inbox, port), (posted, hook) = smtp, webhook
    instance = DagsterInstance.ephemeral()
    result = refresh([golden_person], instance=instance, tags={HELD_BACK_TAG: "dtsen:DTSEN-02"})
    run = instance.get_run_by_id(result.run_id)
    assert run.status == DagsterRunStatus.SUCCESS
    success = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.RUN_SUCCESS).records[0]
    context = build_run_status_sensor_context(
        sensor_name="alert_held_back_feeds", dagster_instance=instance, dagster_run=run,
        dagster_event=success.event_log_entry.dagster_event, resources={"alerts": _alerts(port, hook)})
    alert_held_back_feeds(context)
    (_, message), = inbox.messages
    assert "ditahan" in message["Subject"] and "dtsen: aturan DTSEN-02" in _text(message)
    assert posted[0]["kind"] == FEEDS_HELD_BACK and posted[0]["held_back"] == {"dtsen": ["DTSEN-02"]}


def test_a_run_of_another_job_sends_nothing(smtp, webhook):
    (inbox, port), (posted, hook) = smtp, webhook
    instance = DagsterInstance.ephemeral()
    result = materialize([broken_staging], instance=instance, raise_on_error=False)  # an ad-hoc asset run
    assert not result.success
    assert isinstance(alert_failed_runs(_failure_context(instance, result.run_id, _alerts(port, hook))), SkipReason)
    assert inbox.messages == [] and posted == []


def test_without_channels_nothing_is_sent_and_the_tag_parses():
    assert held_back_feeds("dtsen:DTSEN-02,DTSEN-04;pekon:") == {"dtsen": ("DTSEN-02", "DTSEN-04"), "pekon": ()}
    assert held_back_feeds(None) == {} and held_back_feeds("") == {}
    assert AlertSettings().channels().smtp_host is None and AlertSettings().channels().webhook_url is None
