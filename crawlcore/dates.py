"""Dates as objects carry them: ISO 8601 text that sorts and compares as plain strings.

A date-time with a zone becomes UTC with `Z`; one without a zone stays as given (its zone is
unknown); a date stays a date. Seconds are the finest unit.

    >>> iso_datetime("2024-03-05T23:10:00-05:00"), iso_datetime("2024-03-05"), iso_datetime("2024-09-03T09:15")
    ('2024-03-06T04:10:00Z', '2024-03-05', '2024-09-03T09:15:00')
    >>> iso_datetime("Tue, 05 Mar 2024 10:00:00 GMT"), iso_datetime("soon")
    ('2024-03-05T10:00:00Z', None)
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime

__all__ = ["epoch_to_iso", "is_date_only", "iso_datetime", "next_day"]

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRACTION = re.compile(r"(T\d{2}:\d{2}:\d{2})[.,]\d+")
_MIN_YEAR, _MAX_YEAR = 1900, 2200


def _format(value: dt.datetime) -> str | None:
    if not _MIN_YEAR <= value.year <= _MAX_YEAR:
        return None
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def iso_datetime(text: str | None) -> str | None:
    """ISO 8601 form of an ISO 8601 or RFC 2822 date (what markup carries), or None."""
    if not text:
        return None
    raw = text.strip()
    if re.fullmatch(r"\d{8}", raw):  # ISO 8601 basic format
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    if _DATE_ONLY.fullmatch(raw):
        try:
            return dt.date.fromisoformat(raw).isoformat() if _MIN_YEAR <= int(raw[:4]) <= _MAX_YEAR else None
        except ValueError:
            return None
    candidate = _FRACTION.sub(r"\1", raw.replace(" ", "T", 1) if re.match(r"\d{4}-\d{2}-\d{2} \d", raw) else raw)
    try:
        return _format(dt.datetime.fromisoformat(candidate))
    except ValueError:
        pass
    try:
        return _format(parsedate_to_datetime(raw))
    except (TypeError, ValueError, IndexError):
        return None


def is_date_only(text: str) -> bool:
    """Whether an ISO value is a bare date (no time)."""
    return bool(_DATE_ONLY.fullmatch(text))


def next_day(date: str) -> str:
    """The day after an ISO date: `max:date:2024-01-31` means before 2024-02-01.

    >>> next_day("2024-02-29")
    '2024-03-01'
    """
    return (dt.date.fromisoformat(date) + dt.timedelta(days=1)).isoformat()


def epoch_to_iso(value: float) -> str | None:
    """An epoch time in seconds, or milliseconds when it is that large, as ISO 8601 UTC.

    >>> epoch_to_iso(1709632800), epoch_to_iso(1709632800000)
    ('2024-03-05T10:00:00Z', '2024-03-05T10:00:00Z')
    """
    seconds = value / 1000 if abs(value) >= 1e11 else value
    try:
        return _format(dt.datetime.fromtimestamp(seconds, dt.UTC))
    except (OverflowError, OSError, ValueError):
        return None
