"""Durations and timestamps in the admin API's formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rea._durations import parse_timestamp
from rea.admin import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d 12h", timedelta(days=1, hours=12)),
        ("1h 30m", timedelta(minutes=90)),
        ("500ms", timedelta(milliseconds=500)),
        (
            "1d 2h 3m 4s 5ms 6µs",
            timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5006),
        ),
        ("6us", timedelta(microseconds=6)),
        ("0s", timedelta(0)),
        ("14d", timedelta(weeks=2)),
        ("2w", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        ("10 seconds", timedelta(seconds=10)),
        ("5 hours, 2 minutes", timedelta(hours=5, minutes=2)),
        ("PT86400S", timedelta(days=1)),
        ("PT1H30M", timedelta(minutes=90)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    """Both the friendly form the admin API prints and ISO 8601 from SQL rows are read."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "10", "ten seconds", "1y", "5 parsecs", "P", "PT", "1h x"])
def test_parse_duration_refuses_nonsense(text: str) -> None:
    """A number without a unit, an unknown unit or an empty ISO duration is a ValueError."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(hours=2), "2h"),
        (timedelta(minutes=90), "1h 30m"),
        (timedelta(days=1, hours=12), "1d 12h"),
        (timedelta(milliseconds=1500), "1s 500ms"),
        (
            timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5006),
            "1d 2h 3m 4s 5ms 6us",
        ),
    ],
)
def test_format_duration_round_trips(value: timedelta, expected: str) -> None:
    """timedeltas are written in the server's own friendly form and read back unchanged."""
    assert format_duration(value) == expected
    assert parse_duration(expected) == value


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T20:01:38.617Z", datetime(2026, 11, 24, 20, 1, 38, 617000, tzinfo=UTC)),
        ("2026-11-24T20:02:00.790000000Z", datetime(2026, 11, 24, 20, 2, 0, 790000, tzinfo=UTC)),
        ("2026-11-24T20:02:00Z", datetime(2026, 11, 24, 20, 2, 0, tzinfo=UTC)),
        ("2026-11-24T22:02:00+02:00", datetime(2026, 11, 24, 20, 2, 0, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(text: str, expected: datetime) -> None:
    """RFC 3339 with milli- to nanoseconds, as the admin API and SQL print them, in UTC."""
    assert parse_timestamp(text) == expected


def test_parse_timestamp_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_timestamp("yesterday")
