"""Great Expectations Data Docs made readable on a machine without internet access.

GX renders its pages with Bootstrap, jQuery, Font Awesome and Vega pulled from CDNs, so an
office laptop without internet shows raw, unstyled pages (and a browser may still try to
reach those hosts). `make_offline` removes every remote stylesheet, script and image and
inlines a small stylesheet instead; the content itself is server-rendered HTML and stays
complete. External anchors (GX's newsletter, its website) are neutralised too, so a page
never invites a click to the internet.
"""

from __future__ import annotations

import re
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
</style>
"""


def offline_html(html: str) -> str:
    """The page without remote stylesheets, scripts, images or outbound links, plus a local stylesheet."""
    html = _LINK_TAG.sub("", html)
    html = _SCRIPT_TAG.sub("", html)
    html = _IMG_TAG.sub("", html)
    html = _ANCHOR_HREF.sub(r"\1\2#\2", html)
    html = _CSS_URL.sub("none", html)
    if "dtsen-offline" not in html:
        html = re.sub(r"</head>", OFFLINE_CSS + "</head>", html, count=1, flags=re.I) if "</head>" in html.lower() \
            else OFFLINE_CSS + html
    return html


def offline_css(css: str) -> str:
    return _CSS_URL.sub("none", _CSS_IMPORT.sub("", css))


def make_offline(folder: Path) -> int:
    """Rewrite every HTML and CSS file under `folder` in place; returns the number of files changed."""
    changed = 0
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".html", ".htm", ".css") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = offline_css(text) if path.suffix.lower() == ".css" else offline_html(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def remote_asset_links(folder: Path) -> list[str]:
    """Files (relative) that still reference a remote asset: empty when the docs work offline."""
    return [str(p.relative_to(folder)) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix.lower() in (".html", ".htm", ".css")
            and REMOTE_ASSET.search(p.read_text(encoding="utf-8"))]
