"""Hooks: delivered to the app that owns the invocation, and never able to fail it."""

from __future__ import annotations

import logging

import pytest

import rea
from rea import _observe
from rea._invocation import InvocationState
from rea.observability import AttemptFinished, Hooks, Observability


class _Recorder(Hooks):
    def __init__(self) -> None:
        self.seen: list[object] = []

    def attempt_finished(self, event: AttemptFinished) -> None:
        self.seen.append(event)


class _Broken(Hooks):
    def attempt_finished(self, event: AttemptFinished) -> None:
        raise RuntimeError("hook bug")


def _state(*hooks: Hooks) -> InvocationState:
    return InvocationState("Shop", "service", "buy", None, None, hooks=hooks)


EVENT = AttemptFinished("Shop", "buy", "inv_1", None, "success", 0.001, None)


def test_events_reach_the_hooks_of_the_invocation_only() -> None:
    """An event goes to the hooks its invocation's app declared, not to another app's."""
    mine, other = _Recorder(), _Recorder()
    _observe.emit(_state(mine), "attempt_finished", EVENT)
    assert mine.seen == [EVENT]
    assert other.seen == []


def test_a_failing_hook_is_logged_once_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    """The exception stays in the log; the next hook still gets the event."""
    after = _Recorder()
    with caplog.at_level(logging.ERROR, logger="rea.observability"):
        for _ in range(3):
            _observe.emit(_state(_Broken(), after), "attempt_finished", EVENT)
    assert len(after.seen) == 3
    assert [r.getMessage() for r in caplog.records].count(
        "hook _Broken.attempt_finished failed; rea ignores it"
    ) == 1


def test_observability_checks_what_it_is_given() -> None:
    """Hooks must be rea.Hooks; the metrics path must be a path."""
    with pytest.raises(rea.UsageError, match=r"rea\.Hooks"):
        Observability(hooks=[object()])  # type: ignore[list-item]
    with pytest.raises(rea.UsageError, match="start with '/'"):
        Observability(metrics_path="metrics")
    assert Observability(hooks=[_Recorder()]).hooks.__class__ is tuple
