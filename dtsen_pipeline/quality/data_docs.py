"""Great Expectations Data Docs made readable on a machine without internet access.

GX renders its pages with Bootstrap, jQuery, Font Awesome and Vega pulled from CDNs, so an
office laptop without internet shows raw, unstyled pages (and a browser may still try to
reach those hosts). `make_offline` removes every remote stylesheet, script and image and
inlines a small stylesheet instead; the content itself is server-rendered HTML and stays
complete. External anchors (GX's newsletter, its website) are neutralised too, so a page
never invites a click to the internet.

What GX builds in the browser with jQuery and bootstrap-table is rebuilt here instead: the index
page's validation and suite lists are rendered server-side from the data GX embeds in its scripts
(plain HTML tables with links); status icons (Font Awesome classes) get text glyphs from the local
stylesheet; the "Failed only" / "Show all" buttons get a small script without jQuery; and the
project's own expectations, which GX can only print as a raw call with `**{'batch_id': ...}`,
show their rule and meaning from the expectation's docstring.
"""

from __future__ import annotations

import ast
import html as html_lib
import re
from collections.abc import Mapping
from pathlib import Path

_REMOTE = r"""(?:https?:)?//[^"'\s>]+"""
_LINK_TAG = re.compile(rf"""<link\b[^>]*\bhref\s*=\s*["']{_REMOTE}["'][^>]*>""", re.I)
_SCRIPT_TAG = re.compile(rf"""<script\b[^>]*\bsrc\s*=\s*["']{_REMOTE}["'][^>]*>\s*</script>""", re.I)
_IMG_TAG = re.compile(rf"""<img\b[^>]*\bsrc\s*=\s*["']{_REMOTE}["'][^>]*>""", re.I)
_ANCHOR_HREF = re.compile(rf"""(<a\b[^>]*\bhref\s*=\s*)(["']){_REMOTE}\2""", re.I)
_CSS_URL = re.compile(rf"""url\(\s*["']?{_REMOTE}["']?\s*\)""", re.I)
_CSS_IMPORT = re.compile(rf"""@import\s+(?:url\()?["']?{_REMOTE}["']?\)?\s*;""", re.I)
# Any remaining reference to a remote asset, for the check below and the tests.
REMOTE_ASSET = re.compile(rf"""(?:\b(?:src|href)\s*=\s*["']{_REMOTE}|url\(\s*["']?{_REMOTE}|@import\s+["']?{_REMOTE})""",
                          re.I)

OFFLINE_CSS = """
<style id="dtsen-offline">
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0 1.5rem;color:#222;font-size:14px}
a{color:#0b5cad}h1,h2,h3,h4,h5{font-weight:600;margin:1rem 0 .5rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}.table-striped tr:nth-child(even){background:#fafafa}
.text-danger,.fa-times{color:#b00020}.text-success,.fa-check-circle{color:#1b7f3b}
.card{border:1px solid #ddd;border-radius:4px;margin:.75rem 0;padding:.5rem}.card-header{font-weight:600}
.navbar,.ge-navbar,nav{padding:.5rem 0;border-bottom:1px solid #ddd;margin-bottom:1rem}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;background:#eee}
.row{display:flex;flex-wrap:wrap;gap:1rem}.col-md-2,.col-md-3{flex:0 0 18%}.col-md-9,.col-md-10{flex:1 1 70%}
code,pre{background:#f6f6f6;padding:0 .2rem}.hide,.d-none{display:none}
.fa-check-circle::before{content:"\\2714"}.fa-times::before,.fa-times-circle::before{content:"\\2716"}
.fa-exclamation-triangle::before{content:"\\26A0"}.fas,.fa{font-style:normal}
.dtsen-rule{font-weight:600}
</style>
"""

# "Failed only" / "Show all" of validation pages without jQuery (GX's handlers use $(...).fadeOut()).
OFFLINE_JS = """
<script id="dtsen-offline-js">
function dtsenShow(show){
  var d = show ? "" : "none";
  document.querySelectorAll(".hide-succeeded-validation-target-child").forEach(function(e){ e.parentElement.style.display = d; });
  document.querySelectorAll(".hide-succeeded-validation-target").forEach(function(e){ e.style.display = d; });
  document.querySelectorAll(".hide-succeeded-validations-column-section-target-child").forEach(function(e){
    var section = e.parentElement.parentElement; section.style.display = d;
    if (section.id) document.querySelectorAll('a[href$="' + section.id + '"]').forEach(function(a){ a.style.display = d; });
  });
}
function showAllValidations(){ dtsenShow(true); }
function hideSucceededValidations(){ dtsenShow(false); }
</script>
"""

_TABLE_SCRIPT = re.compile(
    r"""\$\('#(?P<id>[\w-]+)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{\s*columns:\s*(?P<columns>\[.*?\]),\s*"""
    r"""data:\s*(?P<data>\[.*?\]),\s*toolbar:""", re.S)
_RAW_CALL = re.compile(r"""(<span class="badge badge-warning" >(?P<name>expect_\w+)</span>)\(\*\*(?P<kwargs>\{.*?\})\)""")


def _table_html(columns: list[dict], rows: list[dict]) -> str:
    """bootstrap-table's columns and rows as a plain table; the first cell links the row's page."""
    head = "".join(f"<th>{html_lib.escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(columns):
            value = str(row.get(c["field"], ""))
            link = row.get("_table_row_link_path")
            if link and (i == 1 or len(columns) == 1):
                value = f'<a href="{html_lib.escape(link, quote=True)}">{value}</a>'
            cells.append(f"<td>{value}</td>")
        body.append(f'<tr class="dtsen-row">{"".join(cells)}</tr>')
    return f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"


def render_index_tables(page: str) -> str:
    """Fill the empty `<table id=...>` elements GX leaves for bootstrap-table with their rows."""
    for m in _TABLE_SCRIPT.finditer(page):
        try:
            columns, rows = ast.literal_eval(m["columns"]), ast.literal_eval(m["data"])
        except (ValueError, SyntaxError):
            continue
        empty = re.compile(rf"""(<table\s+id="{re.escape(m['id'])}"[^>]*>)\s*(</table>)""", re.S)
        page = empty.sub(lambda t, c=columns, r=rows: t[1] + _table_html(c, r) + t[2], page, count=1)
    return page


def describe_custom(page: str, descriptions: Mapping[str, str]) -> str:
    """Replace GX's raw call of a project expectation with its rule and meaning and its arguments."""
    def readable(m: re.Match) -> str:
        text = descriptions.get(m["name"])
        if text is None:
            return m[0]
        try:
            kwargs = ast.literal_eval(html_lib.unescape(m["kwargs"]))
        except (ValueError, SyntaxError):
            kwargs = {}
        parts = []
        columns = kwargs.get("column_list") or ([kwargs["column"]] if "column" in kwargs else [])
        if columns:
            parts.append("columns " + ", ".join(f"<code>{html_lib.escape(str(c))}</code>" for c in columns))
        if "mostly" in kwargs:
            parts.append(f"at least {float(kwargs['mostly']):.0%} of rows")
        args = f" ({'; '.join(parts)})" if parts else ""
        return f'{m[1]} <span class="dtsen-rule">{html_lib.escape(text)}</span>{args}'
    return _RAW_CALL.sub(readable, page)


def custom_descriptions() -> dict[str, str]:
    """The project's expectations by GX name, each with its docstring (rule id and meaning)."""
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.util import camel_to_snake

    from dtsen_pipeline.quality import expectations

    out = {}
    for obj in vars(expectations).values():
        if isinstance(obj, type) and issubclass(obj, Expectation) and obj.__module__ == expectations.__name__ \
                and obj.__doc__ and not obj.__name__.startswith("_"):
            out[camel_to_snake(obj.__name__)] = " ".join(obj.__doc__.split())
    return out


def offline_html(html: str, descriptions: Mapping[str, str] | None = None) -> str:
    """The page without remote stylesheets, scripts, images or outbound links, plus a local stylesheet,
    its index tables rendered, an offline "Failed only" filter and readable project expectations."""
    html = _LINK_TAG.sub("", html)
    html = _SCRIPT_TAG.sub("", html)
    html = _IMG_TAG.sub("", html)
    html = _ANCHOR_HREF.sub(r"\1\2#\2", html)
    html = _CSS_URL.sub("none", html)
    if "dtsen-offline" not in html:
        html = re.sub(r"</head>", lambda _: OFFLINE_CSS + "</head>", html, count=1, flags=re.I) if "</head>" in html.lower() \
            else OFFLINE_CSS + html
    html = render_index_tables(html)
    html = describe_custom(html, descriptions or {})
    if "dtsen-offline-js" not in html and "hideSucceededValidations" in html:
        html = re.sub(r"</body>", lambda _: OFFLINE_JS + "</body>", html, count=1, flags=re.I) \
            if "</body>" in html.lower() else html + OFFLINE_JS
    return html


def offline_css(css: str) -> str:
    return _CSS_URL.sub("none", _CSS_IMPORT.sub("", css))


def make_offline(folder: Path) -> int:
    """Rewrite every HTML and CSS file under `folder` in place; returns the number of files changed."""
    changed = 0
    descriptions = custom_descriptions()
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".html", ".htm", ".css") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = offline_css(text) if path.suffix.lower() == ".css" else offline_html(text, descriptions)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def remote_asset_links(folder: Path) -> list[str]:
    """Files (relative) that still reference a remote asset: empty when the docs work offline."""
    return [str(p.relative_to(folder)) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix.lower() in (".html", ".htm", ".css")
            and REMOTE_ASSET.search(p.read_text(encoding="utf-8"))]
