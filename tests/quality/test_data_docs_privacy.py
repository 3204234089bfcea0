"""Data Docs work offline and neither they nor the check metadata carry personal data.

Known NIKs, names and birth dates are seeded so that they fail expectations (the case in which
GX would normally print "unexpected values"); then every docs file and every metadata value
is scanned for them.
"""

import json

import pandas as pd
import pytest

from dtsen_pipeline.quality import gx_suites
from dtsen_pipeline.quality.data_docs import REMOTE_ASSET, make_offline, offline_html, remote_asset_links

SEEDED_NIKS = ["1806014107850001", "1806015203920002", "1806012309610003"]
SEEDED_NAMES = ["SRI WAHYUNINGSIH", "BAMBANG SUTRISNO"]


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """A staging-like frame whose seeded values break error and warning expectations, validated with docs."""
    tmp = tmp_path_factory.mktemp("docs")
    frame = pd.DataFrame({
        "record_id": ["r1", "r2", "r3", "r4"],
        "nik": [SEEDED_NIKS[0], SEEDED_NIKS[0], SEEDED_NIKS[1], SEEDED_NIKS[2] + "9"],
        "nama": [SEEDED_NAMES[0], SEEDED_NAMES[0], SEEDED_NAMES[1] + " " * 70 + "X", "ANI"],
        "jenis_kelamin": ["L", "L", "X", "P"],
        "tgl_lahir": pd.to_datetime(["1985-07-02", "2030-01-01", "1992-03-12", "1961-09-23"]),
    })
    suite = tmp / "staging__seeded.json"
    exps = [
        ("expect_column_values_to_match_regex", {"column": "nik", "regex": "^[0-9]{16}$"}, "error"),
        ("expect_column_values_to_be_unique", {"column": "nik"}, "error"),
        ("expect_column_values_to_be_valid_nik", {"column": "nik"}, "error"),
        ("expect_column_values_to_be_in_set", {"column": "jenis_kelamin", "value_set": ["L", "P"]}, "error"),
        ("expect_column_values_to_match_regex", {"column": "nama", "regex": "^[A-Z]{1,3}$"}, "warning"),
        ("expect_column_value_lengths_to_be_between", {"column": "nama", "max_value": 60}, "warning"),
        ("expect_nik_to_agree_with_sex", {"column_list": ["nik", "jenis_kelamin"]}, "warning"),
        ("expect_nik_to_agree_with_birth_date", {"column_list": ["nik", "tgl_lahir"]}, "warning"),
        ("expect_column_values_to_be_plausible_birth_date", {"column": "tgl_lahir"}, "error"),
        ("expect_compound_columns_to_be_unique", {"column_list": ["nik", "nama"]}, "warning"),
    ]
    suite.write_text(json.dumps({"name": "staging__seeded", "expectations": [
        {"type": t, "kwargs": k, "meta": {"severity": s, "rule": "NIK-01"}} for t, k, s in exps]}))
    docs = tmp / "data_docs" / "run-1"
    outcome = gx_suites.run_suite(frame, suite, docs_dir=docs)
    return outcome, docs


def test_seeded_values_fail_their_expectations(validated):
    outcome, _ = validated
    assert not outcome.success
    failed = {o.expectation for o in outcome.failed}
    assert {"expect_column_values_to_match_regex", "expect_column_values_to_be_unique",
            "expect_column_values_to_be_in_set",
            "expect_nik_to_agree_with_birth_date", "expect_column_values_to_be_plausible_birth_date"} <= failed
    regex = next(o for o in outcome.outcomes if o.expectation == "expect_column_values_to_match_regex")
    assert (regex.unexpected_count, regex.element_count, regex.unexpected_percent) == (1, 4, 25.0)


def _secrets() -> list[str]:
    return SEEDED_NIKS + [SEEDED_NIKS[2] + "9"] + SEEDED_NAMES + ["1985-07-02", "2030-01-01", "02-07-1985"]


def test_no_personal_data_in_docs(validated):
    _, docs = validated
    files = [p for p in docs.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and (docs / "index.html").exists()
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        leaked = [s for s in _secrets() if s in text]
        assert not leaked, f"{path.relative_to(docs)} contains seeded personal data"


def test_no_personal_data_in_check_metadata(validated):
    outcome, _ = validated
    text = json.dumps([o.as_dict() for o in outcome.outcomes]) + gx_suites.results_markdown(outcome)
    assert not [s for s in _secrets() if s in text]
    assert "expect_column_values_to_match_regex" in text and "25.00" in gx_suites.results_markdown(outcome)


def test_docs_have_no_remote_assets_and_link_the_validation(validated):
    outcome, docs = validated
    assert remote_asset_links(docs) == []
    assert outcome.docs_index == docs / "index.html"
    assert outcome.docs_page is not None and outcome.docs_page.exists()
    page = outcome.docs_page.read_text(encoding="utf-8")
    assert "dtsen-offline" in page and "staging__seeded" in page
    assert "jenis_kelamin" in page and "unexpected" in page  # server-rendered: readable without JS


def test_offline_rewrite_removes_every_kind_of_remote_reference(tmp_path):
    html = ('<html><head><link rel="stylesheet" href="https://cdn.example/x.css">'
            '<script src="//cdn.example/x.js"></script></head><body>'
            '<img src="https://s3.example/logo.png"><a href="https://greatexpectations.io">GX</a>'
            '<a href="validations/a.html">local</a></body></html>')
    assert REMOTE_ASSET.search(html)
    out = offline_html(html)
    assert not REMOTE_ASSET.search(out) and "http" not in out
    assert 'href="validations/a.html"' in out and "dtsen-offline" in out
    (tmp_path / "s.css").write_text("a{background:url(https://x.example/a.png)}@import 'https://x.example/b.css';")
    (tmp_path / "p.html").write_text(html)
    assert remote_asset_links(tmp_path) == ["p.html", "s.css"]
    assert make_offline(tmp_path) == 2
    assert remote_asset_links(tmp_path) == []


# --- served over HTTP (#14 item 4): the index lists, statuses, "Failed only", custom expectations ---

@pytest.fixture(scope="module")
def served(validated):
    from dtsen_pipeline.reports.artifact_server import serve_in_thread

    _, docs = validated
    server, base = serve_in_thread(docs.parent.parent)  # the artifacts folder: data_docs/<run>/...
    yield base
    server.shutdown()
    server.server_close()


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read().decode("utf-8")


def test_served_index_lists_the_validation_and_the_suite_with_status(validated, served):
    import re

    index = _get(f"{served}/data_docs/run-1/index.html")
    rows = re.findall(r'<tr class="dtsen-row">(.*?)</tr>', index, re.S)
    validation_rows = [r for r in rows if "validations/" in r]
    suite_rows = [r for r in rows if "validations/" not in r and "expectations/staging__seeded.html" in r]
    assert len(validation_rows) == 1 and len(suite_rows) == 1
    assert "fa-times" in validation_rows[0] and "staging__seeded" in validation_rows[0]  # failed: the cross icon
    assert ".fa-times::before" in index and ".fa-check-circle::before" in index  # glyphs without Font Awesome
    link = re.search(r'href="(validations/[^"]+\.html)"', validation_rows[0])[1]
    page = _get(f"{served}/data_docs/run-1/{link}")
    assert not [s for s in _secrets() if s in index + page]


def test_served_validation_page_filters_and_describes_custom_expectations(validated, served):
    outcome, docs = validated
    page = _get(f"{served}/data_docs/run-1/{outcome.docs_page.relative_to(docs).as_posix()}")
    assert "Failed Only" in page and 'id="dtsen-offline-js"' in page
    assert page.rfind("function hideSucceededValidations") > page.find('id="dtsen-offline-js"') > 0  # ours wins
    assert "hide-succeeded-validation-target" in page  # what the filter hides exists on the page
    assert "fa-check-circle" in page and "fa-times" in page
    assert "**{" not in page and "batch_id" not in page
    assert "NIK-09" in page and "NIK-10" in page and "columns <code>nik</code>, <code>jenis_kelamin</code>" in page


def test_artifact_server_is_read_only_and_stays_in_its_folder(served):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(f"{served}/data_docs/run-1/index.html", data=b"x",
                                                      method="POST"), timeout=30)
    assert refused.value.code == 501
    with pytest.raises(urllib.error.HTTPError) as outside:
        urllib.request.urlopen(f"{served}/../../etc/passwd", timeout=30)
    assert outside.value.code == 404


def test_artifact_urls_are_relative_to_the_artifacts_folder(tmp_path):
    from dtsen_pipeline.reports.artifact_server import artifact_url

    page = tmp_path / "data_docs" / "run 1" / "index.html"
    assert artifact_url("http://127.0.0.1:3001/", tmp_path, page) == "http://127.0.0.1:3001/data_docs/run%201/index.html"
    assert artifact_url("https://dtsen.example/artifacts", tmp_path, tmp_path.parent / "x.html") is None
