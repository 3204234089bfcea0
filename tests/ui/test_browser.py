"""The Dagster UI in a real browser after a run: Playwright (PyPI) driving Debian's chromium
(/usr/bin/chromium, installed by .ci/run; Playwright downloads no browser).

One nightly run on a generated 2,000-person sample, in which one pekon operator's second export
has a column inserted by hand: its delivery is held back by QUAR-01, so the non-blocking `gx_suite`
check of staging/pekon fails naming the rule, and the run still publishes. Then the
`dtsen-webserver` unit's command serves that instance, and the browser must show the asset graph,
the run's success, every failed check with its rules, golden/person's metadata, and the artifacts
the metadata points at (today file paths: the browser opens them from disk).

Screenshots go to tests/output/browser/ (git-ignored); the path is printed. Without chromium or
Playwright the test skips only when CI is unset; under CI it fails.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.services import (
    ROOT,
    Service,
    free_port,
    loaded_repository,
    local_command,
    start,
    stop,
    unit,
    wait_for,
)
from tests.support import check_evaluations, run_nightly, sample_deployment
from tests.ui.conftest import SHOTS

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "output" / "browser"
PERSONS = 2_000
SEED = 3
TIMEOUT_MS = 60_000


def _need(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set: .ci/run installs it)")
    pytest.skip(f"{what} (skipped because CI is unset)")


def _insert_a_column(landing: Path) -> str:
    """A second export of the pekon file with most records, in which the operator inserted a
    column at the front: every value sits one to the right (QUAR-01 holds it back)."""
    source = max(sorted((landing / "pekon").glob("pekon_*.csv")), key=lambda p: p.stat().st_size)
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="cp1252"))))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([rows[0], *(["", *row[:-1]] for row in rows[1:])])
    target = source.with_name(source.stem + "_revisi.csv")
    target.write_text(out.getvalue(), encoding="cp1252")
    return target.name


@pytest.fixture(scope="module")
def ui(tmp_path_factory, request):
    if not CHROMIUM.exists():
        _need(f"no browser at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("Playwright is not installed (the dev extras pin it)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

    tmp = tmp_path_factory.mktemp("ui")
    landing, settings, instance = sample_deployment(tmp, PERSONS, SEED)
    revised = _insert_a_column(landing)
    artifacts_port = free_port()  # the metadata links point at the artifact server started below
    artifacts_url = f"http://127.0.0.1:{artifacts_port}"
    previous_url = os.environ.get("DTSEN_ARTIFACTS_URL")
    os.environ["DTSEN_ARTIFACTS_URL"] = artifacts_url
    try:
        run_id, success = run_nightly(settings, instance)
    finally:
        if previous_url is None:
            os.environ.pop("DTSEN_ARTIFACTS_URL")
        else:
            os.environ["DTSEN_ARTIFACTS_URL"] = previous_url
    checks = check_evaluations(instance, run_id)
    instance.dispose()

    port = free_port()
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH") if k in os.environ}
    env.update({"DAGSTER_HOME": str(tmp / "dagster_home"), "DAGSTER_DISABLE_TELEMETRY": "1",
                "DAGSTER_WEBSERVER_HOST": "127.0.0.1", "DAGSTER_WEBSERVER_PORT": str(port),
                "DTSEN_WAREHOUSE_URL": settings.warehouse_url, "DTSEN_LANDING_DIR": str(landing),
                "DTSEN_ARTIFACTS_DIR": str(settings.artifacts_dir)})
    logs = tmp / "logs"
    logs.mkdir()
    server: Service = start("dtsen-webserver", local_command(unit("dtsen-webserver.service")), env, ROOT, logs)
    artifacts: Service = start("dtsen-artifacts", local_command(unit("dtsen-artifacts.service")),
                               {**env, "DTSEN_ARTIFACTS_PORT": str(artifacts_port),
                                "DTSEN_ARTIFACTS_URL": artifacts_url}, ROOT, logs)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    try:
        repository = wait_for("the webserver loads the code location", lambda: loaded_repository(port), 240,
                              [server])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            yield {"page": page, "base": f"http://127.0.0.1:{port}", "run_id": run_id, "success": success,
                   "artifacts_url": artifacts_url,
                   "checks": checks, "settings": settings, "revised": revised,
                   "location": repository["location"]["name"]}
            browser.close()
    finally:
        stop(server)
        stop(artifacts)
        request.config.stash[SHOTS] = sorted(SCREENSHOTS.glob("*.png"))  # listed at the end (conftest)


def _open(ui, path: str, shot: str, *must_show: str):
    """Open `path` (a UI path or a file URL), wait until every text in `must_show` is visible and
    write the screenshot `shot`."""
    from playwright.sync_api import expect

    page = ui["page"]
    page.goto(path if "://" in path else ui["base"] + path)
    for text in must_show:
        expect(page.get_by_text(text, exact=True).first).to_be_visible()
    skip = page.get_by_role("button", name="Skip")  # the UI's first-visit newsletter dialog
    if skip.count() and skip.first.is_visible():
        skip.first.click()
    page.screenshot(path=str(SCREENSHOTS / shot))
    return page


def _asset_graph():
    from dtsen_pipeline.definitions import build_definitions

    return build_definitions().resolve_asset_graph()


def test_the_run_succeeded_with_the_arranged_held_back_delivery(ui):
    assert ui["success"]
    gx = ui["checks"][("staging/pekon", "gx_suite")]
    assert not gx.passed and "QUAR-01" in gx.metadata["failed_rules"].value


def test_the_asset_graph_shows_every_group_and_the_golden_assets(ui):
    graph = _asset_graph()
    groups = sorted({graph.get(k).group_name for k in graph.materializable_asset_keys})
    assert len(groups) >= 12
    _open(ui, "/asset-groups", "01_asset_graph.png", *groups)
    golden = sorted(k.path[-1] for k in graph.materializable_asset_keys if k.path[0] == "golden")
    assert {"person", "household", "flag"} <= set(golden)
    _open(ui, f"/locations/{ui['location']}/asset-groups/golden", "02_golden_group.png", *golden)


def test_the_run_page_shows_success(ui):
    page = _open(ui, f"/runs/{ui['run_id']}", "03_run.png", "Success", ui["run_id"][:8])
    assert page.get_by_text("nightly_refresh").count() > 0


def test_each_failed_check_shows_failed_with_its_rules(ui):
    failed = {k: e for k, e in ui["checks"].items() if not e.passed}
    assert ("staging/pekon", "gx_suite") in failed
    for (asset, check), evaluation in sorted(failed.items()):
        rules = evaluation.metadata["failed_rules"].value
        assert rules
        shot = f"04_check_{asset.replace('/', '_')}_{check}.png"
        page = _open(ui, f"/assets/{asset}?view=checks&checkDetail={check}", shot, check, rules)
        assert page.get_by_text("Failed", exact=True).count() >= 1


def test_golden_person_shows_its_metadata(ui):
    engine = sa.create_engine(ui["settings"].warehouse_url)
    with engine.connect() as conn:
        persons = conn.exec_driver_sql("select count(*) from golden.person").scalar_one()
    engine.dispose()
    _open(ui, "/assets/golden/person", "05_golden_person.png", "Row count", f"{persons:,}", ui["run_id"])


def test_the_artifacts_the_metadata_points_at_open_in_the_browser(ui):
    """The metadata links are URLs on the artifact server: the UI shows each, the browser opens it."""
    gx = ui["checks"][("staging/pekon", "gx_suite")]
    docs = gx.metadata["data_docs_validation"].value
    assert docs.startswith(ui["artifacts_url"] + "/")
    _open(ui, "/assets/staging/pekon?view=checks&checkDetail=gx_suite", "06_check_links.png", docs)
    page = _open(ui, docs, "07_data_docs_validation.png", "staging__pekon")
    assert page.get_by_text("Unsuccessful Expectations").count() == 1
    report_dir = ui["settings"].artifacts_dir / "reports" / ui["run_id"]
    report = next(report_dir.glob("RINGKASAN_*.html"))
    report_url = f"{ui['artifacts_url']}/reports/{ui['run_id']}/{report.name}"
    _open(ui, "/assets/reports/summary", "08_report_asset.png", report_url)
    page = _open(ui, report_url, "09_report.png", "3. Kemajuan verifikasi per tingkat")
    assert page.title().startswith("Ringkasan Data DTSEN Kabupaten Tanggamus")
    assert f"nomor proses {ui['run_id'][:8]}" in page.inner_text("body")
    page.screenshot(path=str(SCREENSHOTS / "10_report_full.png"), full_page=True)
    # The print preview: A4 media, as the meeting's printout comes out.
    viewport = page.viewport_size
    try:
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        page.screenshot(path=str(SCREENSHOTS / "11_report_print_a4.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        (SCREENSHOTS / "11_report_print_a4.pdf").write_bytes(pdf)
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert 5 <= pages <= 12, pages  # each part on its own page(s), not one long strip
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size(viewport)
