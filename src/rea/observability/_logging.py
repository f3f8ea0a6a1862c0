"""Invocation context on log records, and no log record twice because of a replay.

`install()` makes every log record created inside a handler carry the invocation's context as
attributes (for formats and for JSON log handlers):

- ``rea_invocation_id``, ``rea_service``, ``rea_handler``, ``rea_key`` (None outside a handler
  or without a key);
- ``rea_context``: the same as one short text, `` [inv_... Service/handler key=...]``, or ""
  outside a handler: for a format such as ``"%(levelname)s %(name)s: %(message)s%(rea_context)s"``;
- ``rea_replaying``: True while the SDK replays the journal.

`InvocationLogFilter` on a handler drops the records made while replaying, as the SDK's own
``restate.logging.RestateLoggingFilter`` does: a replay re-runs the handler's code up to where it
stopped, and its log lines were written the first time.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from rea import _sdk

__all__ = ["InvocationLogFilter", "install"]

_installed = False
_lock = threading.Lock()


def _context(record: logging.LogRecord) -> None:
    from rea._invocation import current_state  # imported once the first record needs it

    state = current_state()
    invocation = key = None
    if state is not None and state.ctx is not None:
        try:
            invocation = state.ctx.request().id
            key = None if state.service_kind == "service" else state.ctx.key()
        except Exception:  # a log record must never fail the code that logs
            invocation = None
    if state is None or invocation is None:
        record.rea_invocation_id = record.rea_service = None
        record.rea_handler = record.rea_key = None
        record.rea_context = ""
        record.rea_replaying = False
        return
    record.rea_invocation_id = invocation
    record.rea_service = state.service_name
    record.rea_handler = state.handler_name
    record.rea_key = key
    where = f"{state.service_name}/{state.handler_name}"
    record.rea_context = f" [{invocation} {where}{'' if key is None else f' key={key}'}]"
    record.rea_replaying = _sdk.is_replaying()


def install() -> None:
    """Give every log record of this process the invocation context (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            _context(record)
            return record

        logging.setLogRecordFactory(factory)


class InvocationLogFilter(logging.Filter):
    """Drops records made while the journal replays; adds the context if it is missing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "rea_context"):
            _context(record)
        return not getattr(record, "rea_replaying", False)


def filter_root_handlers() -> None:
    """Put an `InvocationLogFilter` on each handler of the root logger that has none."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, InvocationLogFilter) for f in handler.filters):
            handler.addFilter(InvocationLogFilter())
