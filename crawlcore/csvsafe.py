"""CSV lines that a spreadsheet opens as data, never as formulas (OWASP "CSV Injection").

Every CSV crawlfleet writes goes through `csv_line`. A text cell that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets read as "this cell
is text" and do not show. Numbers stay numbers: their digits can never be a formula.

    >>> csv_line(["=HYPERLINK(\\"http://evil/\\")", "-5", -5, "ok"])
    '"\\'=HYPERLINK(""http://evil/"")",\\'-5,-5,ok\\r\\n'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

__all__ = ["FORMULA_STARTS", "csv_line", "safe_cell"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value`, with a leading `'` when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_line(cells: Iterable[Any]) -> str:
    """One CSV record (RFC 4180, CRLF-terminated) of neutralised cells."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(safe_cell(cell) for cell in cells)
    return out.getvalue()
