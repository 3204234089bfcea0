"""Workbooks staff fill in and send back (worklists, duplicate-review files), hard to fill in wrong.

One writer for both: identifiers stored and shown as text (`@`, so Excel never turns a NIK into
`1.80601E+15`), dates as date cells with a check, a drop-down for every coded answer, yellow
unlocked answer columns and locked context, header and identity columns frozen, filters, and a
`PETUNJUK` sheet in Bahasa Indonesia with the steps and the meaning of every code. Text is
written as text (`staff_files.text_workbook`: no formula, link or number conversion).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dtsen_pipeline.reports.staff_files import text_workbook

DATE_FORMAT = "dd/mm/yyyy"
EARLIEST_DATE = dt.date(2020, 1, 1)
GUIDE_SHEET = "PETUNJUK"


@dataclass(frozen=True)
class Choice:
    """A drop-down: the allowed codes, and the hint and error an officer sees."""

    codes: tuple[str, ...]
    hint: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class GuideTable:
    """A table of the PETUNJUK sheet: a heading row and rows of text."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class AnswerSheet:
    """What one kind of workbook holds: its columns and which of them the officer fills."""

    sheet_name: str
    columns: tuple[str, ...]
    answer_columns: tuple[str, ...]
    text_columns: tuple[str, ...] = ()  # identifiers: text in every cell, empty ones included
    date_columns: tuple[str, ...] = ()
    frozen_columns: int = 0  # identity columns kept in view while scrolling right
    wide_columns: tuple[str, ...] = ()
    choices: dict[str, Choice] = field(default_factory=dict)
    exact_lengths: dict[str, tuple[int, str]] = field(default_factory=dict)  # column -> (length, hint)
    guide_steps: tuple[str, ...] = ()
    guide_tables: tuple[GuideTable, ...] = ()


def _empty(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))


def write_answer_workbook(rows: pd.DataFrame, path: Path, spec: AnswerSheet) -> None:
    workbook = text_workbook(path)
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "locked": True})
    answer_head = workbook.add_format({"bold": True, "bg_color": "#FFE699", "border": 1, "locked": True})
    answer = {"locked": False, "bg_color": "#FFF2CC"}
    text, answer_text = workbook.add_format({"num_format": "@"}), workbook.add_format({"num_format": "@", **answer})
    answer_date, answer_other = workbook.add_format({"num_format": DATE_FORMAT, **answer}), workbook.add_format(answer)

    def column_format(name: str):
        """The format of a column and of each of its cells, empty ones included (they keep it when typed into)."""
        if name in spec.answer_columns:
            if name in spec.date_columns:
                return answer_date
            return answer_text if name in spec.text_columns else answer_other
        return text if name in spec.text_columns else None

    sheet = workbook.add_worksheet(spec.sheet_name)
    columns = list(spec.columns)
    formats = [column_format(name) for name in columns]
    for c, name in enumerate(columns):
        sheet.write_string(0, c, name, answer_head if name in spec.answer_columns else head)
        sheet.set_column(c, c, 40 if name in spec.wide_columns else 18, formats[c])
    last = max(len(rows), 1)
    for r, values in enumerate(rows[columns].itertuples(index=False, name=None), start=1):
        for c, value in enumerate(values):
            if _empty(value):
                if formats[c] is not None:
                    sheet.write_blank(r, c, None, formats[c])
            elif columns[c] in spec.text_columns or isinstance(value, str):
                sheet.write_string(r, c, str(value), formats[c])  # 16-digit ids stay text
            else:
                sheet.write(r, c, value.item() if hasattr(value, "item") else value, formats[c])
    _validations(sheet, spec, columns, last)
    sheet.freeze_panes(1, spec.frozen_columns)
    sheet.autofilter(0, 0, last, len(columns) - 1)
    sheet.protect("", {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True})
    _guide(workbook, spec, head)
    workbook.close()


def _validations(sheet, spec: AnswerSheet, columns: list[str], last: int) -> None:
    for name, choice in spec.choices.items():
        c = columns.index(name)
        options: dict[str, object] = {"validate": "list", "source": list(choice.codes)}
        if choice.hint:
            options |= {"input_title": name, "input_message": choice.hint}
        if choice.error:
            options |= {"error_title": f"{name} tidak dikenal", "error_message": choice.error}
        sheet.data_validation(1, c, last, c, options)
    for name in spec.date_columns:
        c = columns.index(name)
        sheet.data_validation(1, c, last, c, {
            "validate": "date", "criteria": "between", "minimum": EARLIEST_DATE,
            "maximum": dt.date(dt.date.today().year + 1, 12, 31),
            "input_title": name, "input_message": "Tanggal pemeriksaan, hari/bulan/tahun (contoh 15/11/2026).",
            "error_title": "Tanggal tidak sah", "error_message": "Isi tanggal pemeriksaan, hari/bulan/tahun."})
    for name, (length, hint) in spec.exact_lengths.items():
        c = columns.index(name)
        sheet.data_validation(1, c, last, c, {
            "validate": "length", "criteria": "==", "value": length, "input_title": name, "input_message": hint,
            "error_title": f"Harus {length} karakter", "error_message": hint})


def _guide(workbook, spec: AnswerSheet, head) -> None:
    guide = workbook.add_worksheet(GUIDE_SHEET)
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    bold = workbook.add_format({"bold": True, "font_size": 13})
    row = 0
    for line in spec.guide_steps:
        guide.write_string(row, 0, line, bold if row == 0 else wrap)
        row += 1
    for table in spec.guide_tables:
        guide.write_row(row, 0, list(table.head), head)
        for values in table.rows:
            row += 1
            guide.write_row(row, 0, list(values), wrap)
        row += 2
    widths: Sequence[int] = (28, 45, 60, 30, 30)
    for c, width in enumerate(widths):
        guide.set_column(c, c, width)
