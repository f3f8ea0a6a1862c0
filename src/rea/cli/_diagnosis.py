"""Waiting for a call, and saying why it does not finish: failing, stuck, or just slow.

A server that is down is the ingress refusing the connection (`rea invoke` says so from the
call's own error); anything else is told from what the server knows. `rea invoke` sends its
call on a worker thread and waits here. While it waits it looks the invocation up on the admin
API (``sys_invocation``: the ingress names it only in its answer) and stops early, with one
line saying what Restate knows, when the invocation is failing (a failed attempt leaves its
error in ``last_failure`` and Restate retries it), is paused, waits behind such an invocation
of the same object key, or is stuck on a deployment that does not answer (an app that did not
start: Restate's attempt then waits for its inactivity timeout and records no error for a
minute or more). Otherwise it waits for the result until ``--timeout`` and then says where the
invocation stands.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from rea.admin import AdminClient, InvocationInfo
from rea.admin._core import sql_string
from rea.cli._output import fail
from rea.errors import RestateError

#: Seconds between looks at the admin API while a call runs (the first after one interval).
POLL = 0.5
#: Seconds a first attempt may run before rea checks that its deployment answers at all.
PROBE_AFTER = 1.0
#: Seconds the deployment has to answer that check.
PROBE_TIMEOUT = 1.0
#: Seconds of slack when matching invocations by creation time (the call's own round trip).
_SLACK = 2.0
_MAX_ERROR = 300  # characters of an error quoted in the one-line report
_LOOPBACK = ("localhost", "::1")


@dataclass(frozen=True, slots=True)
class Call:
    """The call being waited for, as the admin API can find it.

    Attributes:
        service, key, handler: Its target (`key` None for a service).
        idempotency_key: The key it was sent with, if any (then it is found by it).
    """

    service: str
    key: str | None
    handler: str
    idempotency_key: str | None = None

    @property
    def target(self) -> str:
        parts = [self.service, self.key, self.handler]
        return "/".join(p for p in parts if p is not None)


def _call_of(info: InvocationInfo) -> Call:
    return Call(info.service, info.key, info.handler, info.idempotency_key)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= _MAX_ERROR else line[: _MAX_ERROR - 1] + "…"


def _error_line(text: str) -> str:
    """The error in an app's output: the last ``XxxError: ...``, with its file and line."""
    lines = [line.rstrip() for line in text.splitlines()]
    for index in range(len(lines) - 1, -1, -1):
        found = re.search(r"\b\w+(Error|Exception): .*", lines[index])
        if found is None:
            continue
        error = found.group()
        if "line " in error:  # SyntaxError: invalid syntax (app.py, line 3)
            return error
        where = [
            m.group(1, 2)
            for line in lines[:index]
            if (m := re.search(r'File "([^"]+)", line (\d+)', line))
        ]
        return error + (f" ({Path(where[-1][0]).name}, line {where[-1][1]})" if where else "")
    return _first_line(text)


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in _LOOPBACK or host.startswith("127.")


def _attempts(info: InvocationInfo) -> str:
    count = info.attempts or 0
    return f"{count} attempt{'s' if count != 1 else ''}"


class Watcher:
    """Finds the invocation of a `Call` on the admin API and judges whether it can finish.

    Args:
        admin: A client of the server's admin API (with a short timeout: it is asked while
            the call waits).
        call: What was called.
    """

    def __init__(
        self,
        admin: AdminClient,
        call: Call,
        app_error: Callable[[], str | None] | None = None,
    ) -> None:
        self.admin = admin
        self.call = call
        self.lookup_error: str | None = None
        self._app_error = app_error

    def _query(self, sql: str) -> list[dict[str, Any]]:
        try:
            rows = self.admin.query(sql)
        except RestateError as exc:  # the ingress may work while the admin API does not
            self.lookup_error = str(exc)
            return []
        self.lookup_error = None
        return rows

    def find(self, elapsed: float) -> InvocationInfo | None:
        """The newest unfinished invocation the call made (`elapsed` seconds ago), if any.

        Without an idempotency key it is the newest unfinished ingress call of the target made
        since the call was sent (by the server's clock): another client's call of the same
        target at the same moment could be taken for it.
        """
        c = self.call
        where = [
            f"target_service_name = {sql_string(c.service)}",
            f"target_handler_name = {sql_string(c.handler)}",
            "invoked_by = 'ingress'",
            "status <> 'completed'",
        ]
        if c.key is not None:
            where.append(f"target_service_key = {sql_string(c.key)}")
        if c.idempotency_key is not None:
            # The key names it, however old it is (a call with a key attaches to the first).
            where.append(f"idempotency_key = {sql_string(c.idempotency_key)}")
        else:
            # The server's clock: the CLI's may be off.
            since = int((elapsed + _SLACK) * 1000)
            where.append(f"created_at >= now() - INTERVAL '{since} milliseconds'")
        sql = f"SELECT * FROM sys_invocation WHERE {' AND '.join(where)}"
        rows = self._query(sql + " ORDER BY created_at DESC LIMIT 1")
        return InvocationInfo.from_row(rows[0]) if rows else None

    def _holder(self, info: InvocationInfo) -> InvocationInfo | None:
        """The invocation that holds the object's key while `info` waits in its queue."""
        if info.key is None:
            return None
        rows = self._query(
            "SELECT * FROM sys_invocation WHERE "
            f"target_service_name = {sql_string(info.service)} AND "
            f"target_service_key = {sql_string(info.key)} AND "
            "status NOT IN ('completed', 'pending', 'scheduled') ORDER BY created_at LIMIT 1"
        )
        return InvocationInfo.from_row(rows[0]) if rows else None

    def _deployment_url(self, info: InvocationInfo) -> str | None:
        deployment = info.raw.get("last_attempt_deployment_id") or info.deployment_id
        if not deployment:
            return None
        rows = self._query(
            f"SELECT endpoint FROM sys_deployment WHERE id = {sql_string(str(deployment))}"
        )
        endpoint = rows[0].get("endpoint") if rows else None
        return str(endpoint) if endpoint else None

    @staticmethod
    def _probe(url: str) -> str | None:
        """Why the app at `url` does not answer from here, or None when it answers."""
        try:
            # Any answer will do; trust_env=False: no proxy between this machine and itself.
            httpx.get(url.rstrip("/") + "/health", timeout=PROBE_TIMEOUT, trust_env=False)
        except httpx.ConnectError:
            return "refuses connections (nothing listens there)"
        except httpx.TimeoutException:
            return (
                f"accepts connections but does not answer within {PROBE_TIMEOUT:g} s (no "
                "process behind its socket, or its event loop is blocked)"
            )
        except httpx.HTTPError as exc:
            return f"does not answer ({type(exc).__name__}: {exc})"
        return None

    def _stuck(self, info: InvocationInfo, waited: float) -> str | None:
        """Why a running attempt cannot progress: its app on this machine does not answer."""
        if info.status != "running" or waited < PROBE_AFTER or not _loopback(self.admin.url):
            return None
        url = self._deployment_url(info)
        if url is None or not _loopback(url):
            return None  # an app elsewhere may be reachable from the server and not from here
        problem = self._probe(url)
        if problem is None:
            return None
        recorded = self._app_error() if self._app_error is not None else None
        if recorded:
            why = f"`rea dev` could not start it: {_error_line(recorded)}"
        else:
            why = "is the app running? (its own output, e.g. `rea dev`'s terminal, says why not)"
        return (
            f"{self.call.target} cannot run: {info.id} is {info.status} ({_attempts(info)}) but "
            f"its app at {url} {problem}; {why}; Restate retries it once the app is back"
        )

    def verdict(self, info: InvocationInfo, waited: float) -> str | None:
        """A one-line reason to stop waiting for `info` now, or None to keep waiting."""
        last = f"; last error: {_first_line(info.last_failure)}" if info.last_failure else ""
        if info.status == "paused":
            return (
                f"{self.call.target} is paused, Restate retries it no more: {info.id} is paused "
                f"after {_attempts(info)}{last} (the admin API's resume continues it)"
            )
        if info.last_failure:
            return (
                f"{self.call.target} is failing and Restate keeps retrying it: {info.id} is "
                f"{info.status} after {_attempts(info)}{last}"
            )
        if info.status == "pending":
            holder = self._holder(info)
            if holder is not None and holder.id != info.id:
                why = Watcher(self.admin, _call_of(holder)).verdict(holder, waited)
                if why is not None:
                    return (
                        f"{self.call.target} waits behind another invocation of the same key: "
                        f"{info.id} is {info.status}, and {why}"
                    )
        return self._stuck(info, waited)

    def report(self, waited: float, ingress_url: str) -> str:
        """Where the call stands after `waited` seconds without a result (for the timeout)."""
        info = self.find(waited)
        if info is not None:
            failure = f"; last error: {_first_line(info.last_failure)}" if info.last_failure else ""
            return (
                f"no result from {self.call.target} after {waited:.0f} s: {info.id} is "
                f"{info.status} ({_attempts(info)}){failure}; it keeps running in Restate "
                "(--timeout 0 waits without limit)"
            )
        where = (
            f"the admin API could not be asked ({self.lookup_error})"
            if self.lookup_error
            else f"the admin API at {self.admin.url} shows no unfinished call of it"
        )
        return (
            f"no answer from the ingress at {ingress_url} after {waited:.0f} s for "
            f"{self.call.target}, and {where} (--timeout 0 waits without limit)"
        )


def wait_for(send: Callable[[], Any], watcher: Watcher, timeout: float | None, ingress: str) -> Any:
    """Run `send` on a worker thread and return its result (or raise its error).

    Args:
        send: Makes the call through the ingress at `ingress` (blocking).
        watcher: Looks the invocation up while it runs.
        timeout: Seconds to wait for the result; None: no limit.
        ingress: The ingress URL, for the message.

    Exits with status 1 and one line when `watcher` finds the invocation failing or stuck, or
    when `timeout` seconds pass. The invocation is not cancelled: it goes on in Restate, and
    the worker thread (a daemon) ends with the process.
    """
    outcome: list[tuple[bool, Any]] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append((True, send()))
        except BaseException as exc:  # re-raised on the caller's thread
            outcome.append((False, exc))
        done.set()

    threading.Thread(target=work, name="rea-invoke", daemon=True).start()
    start = time.monotonic()
    while not done.wait(POLL):
        waited = time.monotonic() - start
        info = watcher.find(waited)
        reason = None if info is None else watcher.verdict(info, waited)
        if reason is None and timeout is not None and waited >= timeout:
            reason = watcher.report(waited, ingress)
        if reason is not None and not done.is_set():  # a result that just came wins
            fail(reason)
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value
