"""Reading every staff-facing file back as text units, and finding English in them.

Shared by the language test: a unit is one spreadsheet cell (values, and the prompts and error
messages of data validations), one CSV cell, or one text node of the HTML report. Codes (upper
case with underscores, e.g. DUPLICATE_RECORDS) are not words: they are checked for an Indonesian
label beside them instead.
"""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl

# Common English words that are not Indonesian words (nor Indonesian loanwords our files use:
# data, flag, status, digit, program, total, file, desa, per, no).
ENGLISH = frozenset("""
the and of to is are was were with for from by this that these those which who not only all each or on at
as it its than into be been has have had will would can should must may if then when where there here
missing match matches matched exact distance level record records person persons household households
unverified confirmed rejected other others ceiling recipient recipients eligible village villages
district report generated summary date dates name names first last swapped same year years month months
day days between above below within without new old changed since more less number count share quality
valid invalid feed feeds run runs please fill send return row rows column columns sheet yes none unknown
dead moved duplicate duplicates family families member members head address birth sex male female
evidence reason reasons result results decision check checked verified approved pending agree agrees
differ differs different comparison comparisons one two contains informative token similar default
in listed twice found lost kept see also how what why
""".split())
CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
# Words: letters between non-alphanumerics (an underscore separates: `desil_record` is two words),
# never the letters inside an id like R2BE83C760152.
WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]+(?![A-Za-z0-9])")


def english_words(text: str) -> list[str]:
    """The English words of a text unit, codes left out."""
    return [w for w in WORD.findall(CODE.sub(" ", text)) if w.lower() in ENGLISH]


def codes(text: str) -> list[str]:
    return CODE.findall(text)


def xlsx_units(path: Path) -> list[tuple[str, str]]:
    """(where, text) for every text cell and every validation message of a workbook."""
    book = openpyxl.load_workbook(path)
    out = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    out.append((f"{path.name}!{sheet.title}!{cell.coordinate}", cell.value))
        for dv in sheet.data_validations.dataValidation:
            for text in (dv.prompt, dv.promptTitle, dv.error, dv.errorTitle):
                if text:
                    out.append((f"{path.name}!{sheet.title}!validation {dv.sqref}", text))
    return out


def csv_units(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;")
    return [(f"{path.name}:{i + 1}:{j + 1}", cell) for i, row in enumerate(csv.reader(text.splitlines(), dialect))
            for j, cell in enumerate(row) if cell]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.units: list[str] = []
        self.rows: list[str] = []
        self._row: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self._skip += 1
        if tag == "tr":
            self._row = []
        for name, value in attrs:
            if name in ("aria-label", "title", "alt") and value:
                self.units.append(value)

    def handle_endtag(self, tag):
        if tag == "style":
            self._skip -= 1
        if tag == "tr" and self._row is not None:
            self.rows.append(" ".join(self._row))
            self._row = None

    def handle_data(self, data):
        if self._skip or not data.strip():
            return
        self.units.append(data.strip())
        if self._row is not None:
            self._row.append(data.strip())


def html_units(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(where, text) of every text node and labelling attribute, and the text of every table row."""
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return [(f"{path.name}#{i}", u) for i, u in enumerate(parser.units)], parser.rows
