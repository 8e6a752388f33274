"""CSV files for French Excel, written one way by every export: UTF-8 with a BOM (so that Excel
reads the accents), ";" between cells, CRLF, a header row. A text starting with = + - @ (or a
tab, a carriage return) is quoted with ' so that Excel does not run it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

# Excel runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    """A value as a cell: empty for None, yes/no, a decimal comma, any other as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # French Excel reads "43,296" as a number and "43.296" as text.
        return f"{value:g}".replace(".", ",")
    return text_cell(str(value))


class Sheet:
    """A CSV written row by row: `add` takes cells already made (`cell`, `text_cell`)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=";", lineterminator="\r\n")
        self._writer.writerow(columns)

    def add(self, cells: Iterable[str]) -> None:
        self._writer.writerow(cells)

    def content(self) -> bytes:
        return self._buffer.getvalue().encode("utf-8-sig")


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    sheet = Sheet(columns)
    for row in rows:
        sheet.add(cell(value) for value in row)
    return sheet.content()
