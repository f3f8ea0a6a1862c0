"""The process-wide time scale: where it comes from, what it scales, how tests set it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rea._invocation import _scaled
from rea.errors import ReaError, UsageTypeError, UsageValueError
from rea.testing import Harness, RemoteServer
from rea.workflow import _time

pytest_plugins = ["pytester"]


@pytest.fixture
def env_scale(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set ``REA_TIME_SCALE`` (None: unset) and forget the scale read before."""

    def set_scale(value: str | None) -> None:
        monkeypatch.setattr(_time, "_from_env", None)
        if value is None:
            monkeypatch.delenv(_time.ENV_VAR, raising=False)
        else:
            monkeypatch.setenv(_time.ENV_VAR, value)

    yield set_scale
    monkeypatch.setattr(_time, "_from_env", None)


# -- where the scale comes from ------------------------------------------------------------------
def test_the_default_scale_is_one_and_changes_nothing(env_scale: Any) -> None:
    """Without the variable: scale 1, and durations come back as the very same object."""
    env_scale(None)
    assert _time.time_scale() == 1.0
    delta = timedelta(days=1, microseconds=7)
    assert _time.scaled(delta) is delta
    assert _scaled(delta) is delta


def test_the_environment_sets_the_scale(env_scale: Any) -> None:
    """REA_TIME_SCALE=0.001 turns a day into 86.4 s."""
    env_scale("0.001")
    assert _time.time_scale() == 0.001
    assert _time.scaled(timedelta(days=1)) == timedelta(seconds=86.4)


@pytest.mark.parametrize("value", ["fast", "0", "-1", "inf", "nan"])
def test_a_bad_environment_scale_is_refused_naming_the_variable(env_scale: Any, value: str) -> None:
    """A scale that is no positive finite number fails where it is used, naming it."""
    env_scale(value)
    with pytest.raises(UsageValueError, match="REA_TIME_SCALE"):
        _time.time_scale()


def test_an_override_wins_until_released(env_scale: Any) -> None:
    """In-process overrides (apps on threads) win over the variable; they must agree."""
    env_scale("0.5")
    release = _time.override_time_scale(0.01)
    try:
        assert _time.time_scale() == 0.01
        again = _time.override_time_scale(0.01)  # a second harness with the same clock
        with pytest.raises(ReaError, match=r"conflicts with time_scale=0\.01"):
            _time.override_time_scale(0.02)
        again()
        again()  # releasing twice is harmless
        assert _time.time_scale() == 0.01
    finally:
        release()
    assert _time.time_scale() == 0.5


@pytest.mark.parametrize(
    ("scale", "error"), [(0, UsageValueError), (-2.0, UsageValueError), ("1", UsageTypeError)]
)
def test_scales_are_positive_numbers(scale: Any, error: type[Exception]) -> None:
    """Zero, negative and non-numeric scales are refused."""
    with pytest.raises(error, match="time_scale"):
        _time.override_time_scale(scale)


# -- what is scaled ------------------------------------------------------------------------------
def test_rounding_up_never_wakes_early(env_scale: Any) -> None:
    """round_up gives whole milliseconds, never less than asked (the SDK truncates)."""
    env_scale(None)
    assert _time.scaled(timedelta(microseconds=1500), round_up=True) == timedelta(milliseconds=2)
    assert _time.scaled(timedelta(seconds=2), round_up=True) == timedelta(seconds=2)
    env_scale("0.001")
    assert _time.scaled(timedelta(seconds=1.5), round_up=True) == timedelta(milliseconds=2)


def test_the_guarded_context_scales_only_durations(env_scale: Any) -> None:
    """ctx.sleep's argument is scaled when it is a timedelta; anything else goes to the SDK."""
    env_scale("0.25")
    assert _scaled(timedelta(hours=1)) == timedelta(minutes=15)
    assert _scaled(5) == 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2, timedelta(seconds=2)), (0.5, timedelta(milliseconds=500)), (timedelta(0), timedelta(0))],
)
def test_durations_are_timedeltas_or_seconds(value: Any, expected: timedelta) -> None:
    """Numbers count seconds."""
    assert _time.duration(value, what="timeout") == expected


# -- the harness and the pytest option -----------------------------------------------------------
async def _asgi(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that answers nothing (the harness only serves it here)."""


def test_the_harness_scales_an_app_on_a_thread_while_it_runs(env_scale: Any) -> None:
    """An in-process app shares this process's clock: set while served, restored after."""
    env_scale(None)
    harness = Harness(_asgi, server=RemoteServer("http://127.0.0.1:9", "http://127.0.0.1:9"),
                      time_scale=0.25)  # fmt: skip
    try:
        harness._start_app()
        assert _time.time_scale() == 0.25
    finally:
        harness.close()
    assert _time.time_scale() == 1.0


def test_without_a_scale_the_harness_keeps_the_process_s_own(env_scale: Any) -> None:
    """No time_scale: the process's REA_TIME_SCALE stays in force (rea dev relies on it)."""
    env_scale("0.5")
    harness = Harness(_asgi, server=RemoteServer("http://127.0.0.1:9", "http://127.0.0.1:9"))
    try:
        harness._start_app()
        assert (harness.time_scale, _time.time_scale()) == (None, 0.5)
    finally:
        harness.close()


def test_the_harness_refuses_a_bad_scale() -> None:
    """time_scale=0 would fire every timer at once: refused when the harness is made."""
    with pytest.raises(UsageValueError, match="time_scale"):
        Harness("app:app", time_scale=0)


def test_the_pytest_option_sets_the_scale_of_rea_harness(pytester: pytest.Pytester) -> None:
    """--rea-time-scale is the default of every rea_harness(...) that does not give one."""
    pytester.makepyfile(
        test_scale="""
        from rea.testing import Harness

        def test_scale(rea_harness, monkeypatch):
            monkeypatch.setattr(Harness, "start", lambda self: self)
            assert rea_harness("app:app").time_scale == 0.001
            assert rea_harness("app:app", time_scale=0.5).time_scale == 0.5
        """
    )
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "--rea-server=http://127.0.0.1:9",
        "--rea-time-scale=0.001",
    )
    result.assert_outcomes(passed=1)
