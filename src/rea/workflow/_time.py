"""Scaled time for tests: durable timers shortened by a process-wide factor before journaling.

Restate has no time-skipping test server, so a workflow that sleeps a day takes a day. Under a
time scale ``s`` (default 1: nothing changes), every durable timer that rea creates waits
``duration * s`` instead: ``ctx.sleep`` on rea's guarded context, `rea.sleep_until`, the
timeouts of `rea.race` and `rea.PromiseRacer`, the delays of `rea.loop` and
`rea.continue_as_new`. The shortened duration is what reaches the journal (the Sleep command's
wake-up time), so a replay, in this process or another, waits for the very same timer, and the
journal has the same entries as an unscaled run.

Where the scale comes from, first match wins:

1. an in-process override, set by `rea.testing.Harness` while it serves an app on a thread;
2. the environment variable ``REA_TIME_SCALE`` (the harness sets it for an app it runs as a
   child process; ``REA_TIME_SCALE=0.001 rea dev app:app`` works too), read once;
3. 1.

`rea.now` is never scaled: it stays the journaled wall-clock time.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Final

from rea.errors import ReaError, UsageTypeError, UsageValueError

__all__ = ["ENV_VAR", "duration", "override_time_scale", "scaled", "time_scale"]

#: The environment variable holding the scale of an app process.
ENV_VAR: Final = "REA_TIME_SCALE"

_MILLISECOND: Final = timedelta(milliseconds=1)

logger = logging.getLogger("rea.time")

_lock = threading.Lock()
#: Scales set in this process by harnesses serving apps on threads (all equal; see below).
_overrides: list[float] = []
#: The scale read from the environment: None until first read.
_from_env: float | None = None


def check_scale(scale: object, *, source: str) -> float:
    """`scale` as a float, if it is a positive finite number.

    Args:
        scale: The value to check.
        source: Where it came from, for the message (e.g. ``"time_scale"``).

    Returns:
        The scale.

    Raises:
        UsageTypeError: `scale` is no number.
        UsageValueError: `scale` is not positive and finite.
    """
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise UsageTypeError(f"{source} must be a number such as 0.001, not {scale!r}")
    value = float(scale)
    if not (math.isfinite(value) and value > 0):
        raise UsageValueError(f"{source} must be a positive finite number, not {scale!r}")
    return value


def _env_scale() -> float:
    global _from_env
    if _from_env is None:
        raw = os.environ.get(ENV_VAR, "").strip()
        if not raw:
            _from_env = 1.0
        else:
            try:
                parsed = float(raw)
            except ValueError:
                parsed = math.nan
            _from_env = check_scale(parsed, source=f"{ENV_VAR}={raw!r}")
        if _from_env != 1.0:
            # Once per process: a scaled production app would fire every timer early.
            logger.info("durable timers are scaled by %g (%s): for tests only", _from_env, ENV_VAR)
    return _from_env


def time_scale() -> float:
    """The scale applied to durable timers in this process (1: real time)."""
    if _overrides:
        return _overrides[-1]
    return _env_scale()


def override_time_scale(scale: float) -> Callable[[], None]:
    """Use `scale` in this process until the returned function is called.

    Several overrides may be active at once (several harnesses serving apps on threads of one
    test process) as long as they agree: one process has one clock.

    Args:
        scale: The scale, a positive finite number.

    Returns:
        A function that ends this override (call it once).

    Raises:
        ReaError: A different scale is already in effect in this process.
        UsageTypeError, UsageValueError: `scale` is not a positive finite number.
    """
    value = check_scale(scale, source="time_scale")
    with _lock:
        if _overrides and _overrides[-1] != value:
            raise ReaError(
                f"time_scale={value:g} conflicts with time_scale={_overrides[-1]:g}, already "
                "used by an app served on a thread of this process; serve one of them as a "
                "child process (Harness('module:attr', ...)) to give each its own clock"
            )
        _overrides.append(value)
    released = False

    def release() -> None:
        nonlocal released
        with _lock:
            if not released:
                released = True
                _overrides.remove(value)

    return release


def scaled(delta: timedelta, *, round_up: bool = False) -> timedelta:
    """`delta` times the time scale, as the duration to journal.

    Args:
        delta: The duration the code asked for.
        round_up: Round the result up to a whole millisecond (the SDK truncates to
            milliseconds, which could wake a timer up to 1 ms before its target).

    Returns:
        The duration to hand to the SDK; `delta` itself under scale 1 without `round_up`.
    """
    scale = time_scale()
    if scale == 1.0 and not round_up:
        return delta
    millis = delta / _MILLISECOND * scale
    if round_up:
        return math.ceil(millis) * _MILLISECOND
    return timedelta(milliseconds=millis)


def duration(value: timedelta | float, *, what: str) -> timedelta:
    """A timeout or delay given as a `timedelta` or as seconds, checked.

    Args:
        value: The duration; an int or float counts seconds.
        what: The parameter, for messages (e.g. ``"rea.race(): timeout"``).

    Returns:
        The duration as a `timedelta`.

    Raises:
        UsageTypeError: `value` is neither a timedelta nor a number.
        UsageValueError: `value` is negative, or not finite.
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise UsageValueError(f"{what} must be finite, not {value!r}")
        try:
            result = timedelta(seconds=value)
        except OverflowError:
            raise UsageValueError(f"{what} is too large: {value!r} seconds") from None
    else:
        raise UsageTypeError(
            f"{what} must be a timedelta or a number of seconds, not {type(value).__name__}"
        )
    if result < timedelta(0):
        raise UsageValueError(f"{what} must not be negative, not {value!r}")
    return result
