"""Durations and timestamps as the Restate admin API writes and reads them.

The admin API prints durations in jiff's "friendly" format (``1d 12h``, ``500ms``, ``6µs``) and
the SQL tables print them in ISO 8601 (``PT86400S``); it accepts both. rea sends the friendly
form, which the server echoes back unchanged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["format_duration", "parse_duration", "parse_timestamp"]

_UNITS: dict[str, timedelta] = {}
for _names, _unit in (
    (("w", "wk", "wks", "week", "weeks"), timedelta(weeks=1)),
    (("d", "day", "days"), timedelta(days=1)),
    (("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    (("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    (("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
    (("ms", "msec", "msecs", "millisecond", "milliseconds"), timedelta(milliseconds=1)),
    (("us", "µs", "μs", "usec", "usecs", "microsecond", "microseconds"), timedelta(microseconds=1)),
    (("ns", "nsec", "nsecs", "nanosecond", "nanoseconds"), timedelta(0)),
):
    for _name in _names:
        _UNITS[_name] = _unit

_FRIENDLY_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zµμ]+)\s*,?", re.IGNORECASE)
_ISO = re.compile(
    r"P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_ISO_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """Parse ``"1d 2h 30m"``, ``"500ms"``, ``"1.5h"`` or ISO 8601 ``"PT1H30M"`` into a timedelta.

    Raises:
        ValueError: the text is neither form (a bare number has no unit and is refused, as the
            server refuses it).
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty duration")
    iso = _ISO.fullmatch(raw)
    if iso is not None and raw.upper() not in ("P", "PT") and not raw.upper().endswith("T"):
        return timedelta(**{_ISO_UNITS[k]: float(v) for k, v in iso.groupdict().items() if v})
    total = timedelta(0)
    position = 0
    while position < len(raw):
        part = _FRIENDLY_PART.match(raw, position)
        unit = _UNITS.get(part.group(2).lower()) if part else None
        if part is not None and unit is None:
            raise ValueError(f"bad duration {text!r}: unknown unit {part.group(2)!r}")
        if part is None or unit is None:
            raise ValueError(
                f"bad duration {text!r}: use a number with a unit, like '10s', '1h 30m' or '500ms'"
            )
        total += unit * float(part.group(1))
        position = part.end()
    return total


def format_duration(value: timedelta) -> str:
    """Write a timedelta the way the admin API does: ``1d 2h 3m 4s 5ms 6us`` (zero: ``0s``).

    Raises:
        ValueError: the duration is negative.
    """
    if value < timedelta(0):
        raise ValueError(f"a duration cannot be negative: {value}")
    micros = value // timedelta(microseconds=1)
    parts = []
    for size, unit in ((86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "m")):
        count, micros = divmod(micros, size)
        if count:
            parts.append(f"{count}{unit}")
    for size, unit in ((1_000_000, "s"), (1_000, "ms"), (1, "us")):
        count, micros = divmod(micros, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"


def parse_timestamp(text: str) -> datetime:
    """Parse the admin API's RFC 3339 timestamps (``Z`` suffix, up to nanoseconds) as aware UTC.

    Raises:
        ValueError: not a timestamp.
    """
    match = re.fullmatch(r"(.*?T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?", text.strip())
    if match is None:
        raise ValueError(f"bad timestamp {text!r}")
    base, fraction, zone = match.groups()
    fraction = f".{(fraction or '0')[:6]:0<6}"
    zone = "+00:00" if zone in (None, "Z") else zone
    return datetime.fromisoformat(base + fraction + zone).astimezone(UTC)
