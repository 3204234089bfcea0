"""Alerts to the data engineers of the Dinas Sosial: a failed run, a blocked publication, a feed
whose new deliveries were held back.

Pure message building and sending, apart from Dagster (assets/sensors.py decides when). A
message carries the run id, the job, step and check names, rule ids, counts and a link to the
run in the Dagster UI: never a record value, so it may cross a mail server (UU 27/2022).
Texts are in Bahasa Indonesia, for the officers who read them.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage

RUN_FAILED = "RUN_GAGAL"
PUBLICATION_BLOCKED = "PUBLIKASI_DITAHAN"
FEEDS_HELD_BACK = "FEED_DITAHAN"

TITLES = {
    RUN_FAILED: "Run gagal",
    PUBLICATION_BLOCKED: "Publikasi ditahan: tabel golden tidak diperbarui",
    FEEDS_HELD_BACK: "Kiriman data baru ditahan",
}
EXPLANATIONS = {
    RUN_FAILED: "Run berhenti sebelum selesai. Tabel golden yang terakhir dipublikasikan tetap berlaku.",
    PUBLICATION_BLOCKED: "Pemeriksaan kualitas yang memblokir gagal, sehingga tabel golden tidak dipublikasikan. "
                         "Tabel golden yang terakhir dipublikasikan tetap berlaku.",
    FEEDS_HELD_BACK: "Kiriman baru dari feed berikut gagal pemeriksaan kualitas dan ditahan; feed tersebut "
                     "memakai kiriman sebelumnya. Tabel golden tetap dipublikasikan.",
}


@dataclass(frozen=True)
class RunAlert:
    """What went wrong in one run, in names and counts only."""

    kind: str
    run_id: str
    job: str
    failed_steps: tuple[str, ...] = ()
    failed_checks: tuple[str, ...] = ()  # `asset/key:check_name` of failed blocking checks
    held_back: dict[str, tuple[str, ...]] = field(default_factory=dict)  # feed -> rule ids


def held_back_feeds(tag: str | None) -> dict[str, tuple[str, ...]]:
    """The run tag `feed:RULE,RULE;feed:RULE` (quality.gate.held_back_tag) as feed -> rule ids."""
    out: dict[str, tuple[str, ...]] = {}
    for part in (tag or "").split(";"):
        feed, _, rules = part.partition(":")
        if feed.strip():
            out[feed.strip()] = tuple(r for r in rules.split(",") if r)
    return out


def failure_alert(run_id: str, job: str, failed_steps: list[str], failed_checks: list[str],
                  held_back_tag: str | None = None) -> RunAlert:
    """A failed run: a blocked publication when a blocking check failed, else a run failure."""
    kind = PUBLICATION_BLOCKED if failed_checks else RUN_FAILED
    return RunAlert(kind, run_id, job, tuple(sorted(set(failed_steps))), tuple(sorted(set(failed_checks))),
                    held_back_feeds(held_back_tag))


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


def _lines(alert: RunAlert, ui_url: str) -> list[str]:
    lines = [EXPLANATIONS[alert.kind], "", f"Job: {alert.job}", f"Run: {alert.run_id}",
             f"Lihat run: {run_url(ui_url, alert.run_id)}"]
    if alert.failed_checks:
        lines += ["", f"Pemeriksaan yang memblokir dan gagal ({len(alert.failed_checks)}):",
                  *(f"  - {c}" for c in alert.failed_checks)]
    if alert.failed_steps:
        lines += ["", f"Langkah yang gagal ({len(alert.failed_steps)}):", *(f"  - {s}" for s in alert.failed_steps)]
    if alert.held_back:
        lines += ["", f"Feed yang kiriman barunya ditahan ({len(alert.held_back)}):",
                  *(f"  - {feed}: aturan {', '.join(rules) or '-'}" for feed, rules in sorted(alert.held_back.items()))]
    lines += ["", "Pesan ini hanya memuat nama langkah, kode aturan dan jumlah; tidak memuat data pribadi.",
              "Rincian ada di Dagster UI dan di docs/operations.md (Recovery)."]
    return lines


def email_message(alert: RunAlert, ui_url: str, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[dtsen_pipeline] {TITLES[alert.kind]} ({alert.job}, run {alert.run_id[:8]})"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content("\n".join(_lines(alert, ui_url)) + "\n")
    return message


def webhook_payload(alert: RunAlert, ui_url: str) -> dict[str, object]:
    """JSON for a chat or incident webhook: the same facts as the email."""
    return {"kind": alert.kind, "title": TITLES[alert.kind], "job": alert.job, "run_id": alert.run_id,
            "run_url": run_url(ui_url, alert.run_id), "failed_steps": list(alert.failed_steps),
            "failed_checks": list(alert.failed_checks),
            "held_back": {feed: list(rules) for feed, rules in sorted(alert.held_back.items())},
            "text": "\n".join(_lines(alert, ui_url))}


@dataclass(frozen=True)
class AlertChannels:
    """Where alerts go (`resources.AlertSettings`); an empty host and URL send nothing."""

    ui_url: str
    smtp_host: str | None = None
    smtp_port: int = 25
    sender: str = "dtsen-pipeline@localhost"
    recipients: tuple[str, ...] = ()
    smtp_user: str | None = None
    smtp_password: str | None = None
    starttls: bool = False
    webhook_url: str | None = None
    timeout_seconds: float = 10.0


def send_alert(alert: RunAlert, channels: AlertChannels) -> list[str]:
    """Send by every configured channel; returns the channels used (`email`, `webhook`)."""
    sent = []
    if channels.smtp_host and channels.recipients:
        message = email_message(alert, channels.ui_url, channels.sender, list(channels.recipients))
        with smtplib.SMTP(channels.smtp_host, channels.smtp_port, timeout=channels.timeout_seconds) as smtp:
            if channels.starttls:
                smtp.starttls()
            if channels.smtp_user:
                smtp.login(channels.smtp_user, channels.smtp_password or "")
            smtp.send_message(message)
        sent.append("email")
    if channels.webhook_url:
        request = urllib.request.Request(channels.webhook_url, method="POST",
                                         data=json.dumps(webhook_payload(alert, channels.ui_url)).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=channels.timeout_seconds) as response:  # noqa: S310 (configured URL)
            response.read()
        sent.append("webhook")
    return sent
