"""crawlcore.csvsafe: cells a spreadsheet would run as a formula are written as text (OWASP)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from crawlcore.csvsafe import csv_line, safe_cell

CASES: list[tuple[Any, Any]] = [
    # a leading =, +, -, @, tab or carriage return: a leading ' makes the cell text
    ("=HYPERLINK(\"http://evil/\",\"x\")", "'=HYPERLINK(\"http://evil/\",\"x\")"),
    ("=1+2", "'=1+2"),
    ("+1", "'+1"),
    ("-2+3", "'-2+3"),
    ("-5", "'-5"),  # a string that looks like a negative number is still a string
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\r=1", "'\r=1"),
    ("'=1", "'=1"),  # already text: left alone
    # anything else is left alone
    ("", ""),
    ("plain", "plain"),
    ("a=b", "a=b"),
    (" =1", " =1"),
    ("http://x.com/?a=-1", "http://x.com/?a=-1"),
    ("\n=1", "\n=1"),
    # numbers are written as numbers: no spreadsheet reads a number's digits as a formula
    (-5, -5),
    (-1.5, -1.5),
    (0, 0),
    (True, True),
    (None, None),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_safe_cell(value: Any, expected: Any) -> None:
    assert safe_cell(value) == expected


def test_csv_line_neutralises_every_cell_and_stays_valid_csv() -> None:
    line = csv_line(["=cmd|' /C calc'!A0", "ok", -3, '+"quoted"', "@x,y"])
    assert line.endswith("\r\n")
    assert next(csv.reader(io.StringIO(line))) == ["'=cmd|' /C calc'!A0", "ok", "-3", "'+\"quoted\"", "'@x,y"]


def test_csv_line_of_headers_too() -> None:
    assert csv_line(["-a", "b"]) == "'-a,b\r\n"
