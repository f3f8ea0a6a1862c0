"""Log records made in handlers carry the invocation; records made while replaying are dropped."""

from __future__ import annotations

import logging

import pytest

from rea.observability import InvocationLogFilter
from rea.observability._logging import install


def _record() -> logging.LogRecord:
    return logging.getLogRecordFactory()("app", logging.INFO, __file__, 1, "hello", None, None)


def test_outside_a_handler_the_context_is_empty() -> None:
    """Code outside handlers logs as before: the attributes exist, the text is ""."""
    install()
    record = _record()
    assert record.rea_context == ""  # type: ignore[attr-defined]
    assert record.rea_invocation_id is None  # type: ignore[attr-defined]
    assert InvocationLogFilter().filter(record)


def test_the_filter_drops_replayed_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the SDK replays the journal, a record would repeat a line: it is dropped."""
    record = _record()
    record.rea_replaying = True  # type: ignore[attr-defined]
    assert not InvocationLogFilter().filter(record)


def test_install_is_idempotent() -> None:
    """A second install keeps the one factory."""
    install()
    factory = logging.getLogRecordFactory()
    install()
    assert logging.getLogRecordFactory() is factory


def test_a_context_without_a_request_leaves_the_record_plain() -> None:
    """Logging inside a scope whose context cannot say its invocation still logs, plainly."""
    from rea._invocation import InvocationState, _current

    install()
    token = _current.set(InvocationState("S", "service", "h", None, None, ctx=object()))
    try:
        record = _record()
    finally:
        _current.reset(token)
    assert record.rea_context == ""  # type: ignore[attr-defined]
