"""An invocation's journal read from the admin SQL API, as one JSON-ready document.

Read from ``sys_invocation`` (the invocation), ``sys_journal`` (its entries) and
``sys_journal_events`` (its transient errors and pauses). Restate 1.7 journals commands (a
run, a call, a sleep...) and, separately, the notifications that complete them (matched here by
completion id): an entry's duration is the time between the two rows' ``appended_at``
(milliseconds). Children (the invocations a call or a send made) are looked up in
``sys_invocation``. `rea trace` renders the document as a tree.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from rea._durations import parse_timestamp
from rea.admin import AdminClient, InvocationInfo
from rea.admin._core import sql_string
from rea.cli._invocations import as_json

__all__ = ["ANY_ID", "MALFORMED", "WHOLE_ID", "invocation_document", "trace_document"]

#: How rea names the runs of compensations: `rea.Saga`'s (``Saga._undo``), and those of dead
#: letters retried by `SagaDeadLetters` (``rea._dead_letters``).
_COMPENSATE = "compensate "
_RETRY = re.compile(r"retry \S+ #\d+")
_DEAD_LETTERS = "SagaDeadLetters"
#: What each command is called in the tree (Restate's command type -> rea's word).
_KINDS = {
    "Input": "input", "Output": "output", "Run": "run", "Call": "call", "OneWayCall": "send",
    "Sleep": "sleep", "GetLazyState": "get state", "GetEagerState": "get state",
    "GetLazyStateKeys": "state keys", "GetEagerStateKeys": "state keys",
    "SetState": "set state", "ClearState": "clear state", "ClearAllState": "clear all state",
    "GetPromise": "get promise", "PeekPromise": "peek promise",
    "CompletePromise": "complete promise", "CompleteAwakeable": "complete awakeable",
    "SendSignal": "send signal", "AttachInvocation": "attach", "GetInvocationOutput": "get output",
}  # fmt: skip
#: The keys of a command's completion ids whose notification completes it (a call's other id,
#: ``invocation_id_completion_id``, only brings the id that the command has already).
_COMPLETIONS = {"completion_id", "result_completion_id"}
_CANCEL_SIGNAL = 1  # Restate's built-in signal index for cancellation; awakeables use 17 and up
_JOURNAL = (
    "SELECT index, entry_type, name, completed, invoked_id, invoked_target, appended_at, "
    "entry_lite_json, "
    # Only failures need the full entry (for their message): the others may carry large payloads.
    "CASE WHEN entry_lite_json LIKE '%Failure%' THEN entry_json END AS failure_json "
    "FROM sys_journal WHERE id = {id} ORDER BY index"
)
_EVENTS = (
    "SELECT after_journal_entry_index, appended_at, event_type, event_json "
    "FROM sys_journal_events WHERE id = {id} ORDER BY appended_at"
)


#: The ids in a line of the tree, which are printed whole (never folded) at any width.
ANY_ID = re.compile(r"\b(?:inv|sign|prom)_[0-9A-Za-z]+")
WHOLE_ID = re.compile(r"inv_[0-9A-Za-z]+")
MALFORMED = "non valid invocation id"  # the SQL API's error (a 500) for an id it cannot decode


def _time(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def _iso(value: Any) -> str | None:
    """A SQL timestamp (or epoch milliseconds) in ISO 8601, UTC, as `rea invocations --json`."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value / 1000, tz=UTC) if value > 0 else None
    else:
        moment = _time(value)
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return round((end - start) / timedelta(milliseconds=1))


def _json(text: Any) -> dict[str, Any]:
    try:
        found = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _failure(document: Any) -> str | None:
    """``[code] message`` of the first ``Failure`` object anywhere in an entry's JSON."""
    if isinstance(document, dict):
        failure = document.get("Failure")
        if isinstance(failure, dict) and "message" in failure:
            return f"[{failure.get('code', 500)}] {failure['message']}"
        document = list(document.values())
    if isinstance(document, list):
        return next((found for item in document if (found := _failure(item))), None)
    return None


def _target(target: Any) -> str | None:
    """``Service/handler`` or ``Object/key/handler`` from Restate's invocation target JSON."""
    if not isinstance(target, dict) or not target:
        return None if target is None else str(target)
    if "InvocationId" in target:
        return str(target["InvocationId"])
    (parts,) = target.values() if len(target) == 1 else (target,)
    if not isinstance(parts, dict):
        return str(parts)
    return "/".join(str(parts[k]) for k in ("name", "key", "handler") if parts.get(k) is not None)


def _entry(row: dict[str, Any], kind: str, name: str | None = None) -> dict[str, Any]:
    """An entry of the document, with every key (null where there is no value)."""
    return {
        "index": row.get("index"), "entry_type": row.get("entry_type"), "kind": kind,
        "name": name or None, "compensation": False, "appended_at": _iso(row.get("appended_at")),
        "completed_at": None, "duration_ms": None, "result": None, "failure": None,
        "target": None, "invocation_id": None, "wake_up_at": None, "transient_errors": [],
        "child": None,
    }  # fmt: skip


def _command(row: dict[str, Any], ty: str, body: dict[str, Any]) -> dict[str, Any]:
    """The entry of one command row (``Command: X``), its notification not yet applied."""
    name = body.get("name") or body.get("key")
    if ty in ("Call", "OneWayCall"):
        name = None
    entry = _entry(row, _KINDS.get(ty, ty), name)
    if ty in ("Call", "OneWayCall"):
        entry["target"] = _target(body.get("invocation_target"))
        entry["invocation_id"] = body.get("invocation_id")
        entry["wake_up_at"] = _iso(body.get("invoke_time"))  # a delayed send's start
    elif ty == "Sleep":
        entry["wake_up_at"] = _iso(body.get("wake_up_time"))
    elif ty in ("SendSignal", "CompleteAwakeable"):
        entry["invocation_id"] = body.get("target_invocation_id")
        entry["name"] = body.get("id") or _signal(body.get("signal_id"))
    elif ty in ("AttachInvocation", "GetInvocationOutput"):
        entry["target"] = _target(body.get("target"))
    if "result" in body:  # the output, a completed awakeable: their result is in the command
        _complete(entry, row, body["result"], timed=False)
    elif not _COMPLETIONS & body.keys():
        entry["result"] = "success"  # no notification completes it: done once journaled
    return entry


def _signal(signal: Any) -> str | None:
    if isinstance(signal, dict) and signal:
        value = next(iter(signal.values()))
        return "cancel" if value == _CANCEL_SIGNAL else str(value)
    return None


def _complete(
    entry: dict[str, Any], row: dict[str, Any], result: Any, *, timed: bool = True
) -> None:
    """Apply a completion to `entry`: its notification `row`, or (not `timed`) its own row."""
    if timed:
        entry["completed_at"] = _iso(row.get("appended_at"))
        entry["duration_ms"] = _ms(_time(entry["appended_at"]), _time(row.get("appended_at")))
    if result == "Failure" or (isinstance(result, dict) and "Failure" in result):
        entry["result"] = "failure"
        entry["failure"] = _failure(_json(row.get("failure_json"))) or "failed"
    else:
        entry["result"] = "success"


def _entries(
    rows: list[dict[str, Any]], events: list[dict[str, Any]], *, service: str
) -> list[dict[str, Any]]:
    """The journal's commands in order, each with its completion and its transient errors."""
    entries: list[dict[str, Any]] = []
    by_completion: dict[int, dict[str, Any]] = {}
    by_command: dict[int, dict[str, Any]] = {}
    placed: dict[int, list[dict[str, Any]]] = {}  # events by the entry index they follow
    for row in rows:
        category, _, ty = str(row.get("entry_type", "")).partition(": ")
        document = _json(row.get("entry_lite_json")).get(category, {})
        if category == "Command":
            body = document.get(ty) if isinstance(document.get(ty), dict) else {}
            entry = _command(row, ty, body)
            by_command[len(by_command)] = entry
            for key in _COMPLETIONS:
                if isinstance(body.get(key), int):
                    by_completion[body[key]] = entry
            entries.append(entry)
        elif category == "Notification":
            _notification(row, document, entries, by_completion)
        else:  # the journal of an older protocol: only the table's columns say what it is
            entry = _entry(row, str(row.get("entry_type", "")).lower(), row.get("name"))
            entry.update(invocation_id=row.get("invoked_id"), target=row.get("invoked_target"),
                         result="success" if row.get("completed") else "pending")  # fmt: skip
            entries.append(entry)
    for event in events:
        _event(event, by_command, placed)
    for entry in entries:
        entry["result"] = entry["result"] or "pending"
        entry["compensation"] = entry["kind"] == "run" and _compensates(entry["name"], service)
    return _interleave(entries, placed)


def _compensates(name: str | None, service: str) -> bool:
    """Whether a run is a compensation, by the names rea gives those runs."""
    if not name:
        return False
    return name.startswith(_COMPENSATE) or (
        service == _DEAD_LETTERS and bool(_RETRY.fullmatch(name))
    )


def _notification(
    row: dict[str, Any],
    document: dict[str, Any],
    entries: list[dict[str, Any]],
    by_completion: dict[int, dict[str, Any]],
) -> None:
    found = document.get("id")
    ident: dict[str, Any] = found if isinstance(found, dict) else {}
    if "CompletionId" in ident:
        entry = by_completion.get(ident["CompletionId"])
        if entry is not None:
            _complete(entry, row, document.get("result"))
        return
    # A signal: a cancellation, an awakeable completed (indexes from 17), or a named signal.
    signal = _signal(ident)
    kind = "cancelled" if signal == "cancel" else "awakeable" if str(signal).isdigit() else "signal"
    entry = _entry(row, kind, signal if kind == "signal" else None)
    _complete(entry, row, document.get("result"), timed=False)
    if kind == "awakeable":
        entry["name"] = "rejected" if entry["result"] == "failure" else "resolved"
    entries.append(entry)


def _event(
    event: dict[str, Any],
    by_command: dict[int, dict[str, Any]],
    placed: dict[int, list[dict[str, Any]]],
) -> None:
    """File a ``sys_journal_events`` row under its command, or as an entry of its own."""
    body = _json(event.get("event_json"))
    failure = body.get("last_failure", body) if body.get("ty") == "Paused" else body
    error = {
        "appended_at": _iso(event.get("appended_at")),
        "code": failure.get("error_code"),
        "doc_code": failure.get("restate_doc_error_code"),
        "message": failure.get("error_message"),
    } if isinstance(failure, dict) and failure.get("error_message") else None  # fmt: skip
    related = body.get("related_command_index")
    if body.get("ty") == "TransientError" and error and related in by_command:
        by_command[related]["transient_errors"].append(error)
        return
    kind = "paused" if body.get("ty") == "Paused" else "transient error"
    entry = _entry({"appended_at": event.get("appended_at")}, kind)
    entry["result"] = "failure" if error else None
    entry["failure"] = None if error is None else f"[{error['code']}] {error['message']}"
    entry["transient_errors"] = [error] if error else []
    placed.setdefault(int(event.get("after_journal_entry_index") or 0), []).append(entry)


def _interleave(
    entries: list[dict[str, Any]], placed: dict[int, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """`entries` with each free-standing event after the last entry at or before its index."""
    merged: list[dict[str, Any]] = []
    for entry in entries:
        for index in [i for i in sorted(placed) if i < entry["index"]]:
            merged.extend(placed.pop(index))
        merged.append(entry)
    for index in sorted(placed):
        merged.extend(placed[index])
    return merged


def invocation_document(info: InvocationInfo | None, invocation_id: str) -> dict[str, Any]:
    """The invocation's own fields (`rea invocations --json`'s), its duration, no entries yet."""
    if info is None:  # purged, or its retention ran out
        return {"id": invocation_id, "status": "unknown", "duration_ms": None, "entries": None}
    end = info.completed_at if info.status == "completed" else None
    return {**as_json(info), "duration_ms": _ms(info.created_at, end), "entries": None}


def trace_document(client: AdminClient, info: InvocationInfo, levels: int) -> dict[str, Any]:
    """The document of `info` with its entries, and `levels` levels of its children."""
    document = invocation_document(info, info.id)
    rows = client.query(_JOURNAL.format(id=sql_string(info.id)))
    events = client.query(_EVENTS.format(id=sql_string(info.id)))
    document["entries"] = _entries(rows, events, service=info.service)
    calls = [e for e in document["entries"] if e["kind"] in ("call", "send") and e["invocation_id"]]
    if levels < 1 or not calls:
        return document
    ids = ", ".join(sql_string(str(e["invocation_id"])) for e in calls)
    found = client.query(f"SELECT * FROM sys_invocation WHERE id IN ({ids})")
    children = {str(row["id"]): InvocationInfo.from_row(row) for row in found}
    for entry in calls:
        child = children.get(str(entry["invocation_id"]))
        if child is not None and levels > 1:
            entry["child"] = trace_document(client, child, levels - 1)
        else:
            entry["child"] = invocation_document(child, str(entry["invocation_id"]))
    return document
