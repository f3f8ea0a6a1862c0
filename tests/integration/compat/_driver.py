"""Driving the same requests through two ingresses: one app per side, responses recorded by step.

A scenario is a function of a `Side` that makes requests and records each response it wants
compared under a step label; the suite runs it on the SDK side and on the rea side and compares
the two recordings step by step.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rea
from rea.testing import Harness

_IDS = re.compile(rb"\b(inv|sign|prom)_[0-9A-Za-z_-]+")


@dataclass(frozen=True)
class Response:
    """What the ingress (or admin API) answered: HTTP status and body bytes."""

    status: int
    body: bytes
    #: The ``x-restate-id`` header, when the ingress sent one (not compared).
    invocation: str | None = field(default=None, compare=False)

    def masked(self) -> Response:
        """The same response with invocation and awakeable ids replaced by ``inv_*`` etc."""
        return Response(self.status, _IDS.sub(rb"\1_*", self.body), self.invocation)

    def message(self) -> str:
        """The ``message`` of a Restate error body ("" if the body is not one)."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return ""
        return str(value.get("message", "")) if isinstance(value, dict) else ""

    def __str__(self) -> str:
        return f"{self.status} {self.body!r}"


JSON = "application/json"
_NO_BODY = object()


@dataclass
class Side:
    """One app on its own Restate server, and the responses a scenario recorded on it."""

    name: str
    harness: Harness
    steps: dict[str, Response] = field(default_factory=dict)

    def record(self, step: str, response: Response) -> Response:
        """Keep `response` under `step` for the comparison, and return it."""
        assert step not in self.steps, f"step {step!r} recorded twice"
        self.steps[step] = response
        return response

    def call(
        self,
        path: str,
        value: Any = _NO_BODY,
        *,
        raw: bytes | None = None,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
        step: str | None = None,
    ) -> Response:
        """POST to the ingress: a JSON `value` (``json.dumps``), `raw` bytes, or no body."""
        sent = dict(headers or {})
        body: bytes | None = raw
        if value is not _NO_BODY:
            body = json.dumps(value, ensure_ascii=False).encode()
        if body:
            sent.setdefault("content-type", content_type)
        answer = self.harness.client.post(path, content=body, headers=sent)
        response = Response(answer.status_code, answer.content, answer.headers.get("x-restate-id"))
        return self.record(step, response) if step else response

    def send(self, path: str, value: Any = _NO_BODY, *, raw: bytes | None = None) -> str:
        """A one-way send through the ingress (``.../send``); returns the invocation id."""
        response = self.call(f"{path}/send", value, raw=raw)
        assert response.status == 202, f"{self.name}: send to {path}: {response}"
        return str(json.loads(response.body)["invocationId"])

    def attach(self, invocation_id: str, *, step: str | None = None) -> Response:
        """Wait for an invocation to end and return its result (ingress ``attach``)."""
        answer = self.harness.client.get(f"/restate/invocation/{invocation_id}/attach")
        response = Response(answer.status_code, answer.content)
        return self.record(step, response) if step else response

    def get(self, path: str, *, step: str | None = None) -> Response:
        """GET on the ingress (workflow attach/output, for instance)."""
        answer = self.harness.client.get(path)
        response = Response(answer.status_code, answer.content)
        return self.record(step, response) if step else response

    def admin_patch(self, path: str, *, step: str | None = None) -> Response:
        """PATCH on the admin API (cancel, kill)."""
        answer = self.harness.admin.patch(path)
        response = Response(answer.status_code, answer.content)
        return self.record(step, response) if step else response

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of the admin SQL API."""
        return self.harness.query(sql)

    def until(
        self, what: str, probe: Callable[[], Response], done: Callable[[Response], bool]
    ) -> Response:
        """Call `probe` until `done` holds for its answer (10 s at most); return that answer."""
        deadline = time.monotonic() + 10.0
        while True:
            response = probe()
            if done(response):
                return response
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {what}: still {response} after 10 s")
            time.sleep(0.02)

    def invocation_of(self, service: str, key: str, handler: str) -> str:
        """The id of the one invocation of `service`/`key`/`handler` (waits until it exists)."""
        sql = (
            "SELECT id FROM sys_invocation WHERE target_service_name = "
            f"'{service}' AND target_service_key = '{key}' AND target_handler_name = '{handler}'"
        )
        deadline = time.monotonic() + 10.0
        while not (rows := self.query(sql)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no invocation of {service}/{key}/{handler}")
            time.sleep(0.02)
        assert len(rows) == 1, rows
        return str(rows[0]["id"])


Scenario = Callable[[Side], None]


@dataclass
class Apps:
    """The two harnesses: ``restate.app`` and ``rea.app`` of the same service objects."""

    sdk: Harness
    rea: Harness


@dataclass(frozen=True)
class Expect:
    """What one side must answer at a step where the two sides differ on purpose."""

    status: int
    body: bytes | None = None  # exact bytes
    message: str | None = None  # the error body's message starts with this
    value: Any = None  # the body is JSON equal to this (when not None)

    def check(self, response: Response) -> str | None:
        """None if `response` fits, else why not."""
        problems = []
        if response.status != self.status:
            problems.append(f"status {response.status}, expected {self.status}")
        if self.body is not None and response.body != self.body:
            problems.append(f"body {response.body!r}, expected {self.body!r}")
        if self.message is not None and not response.message().startswith(self.message):
            problems.append(f"message {response.message()!r}, expected {self.message!r}...")
        if self.value is not None:
            try:
                value = json.loads(response.body)
            except ValueError:
                value = f"<not JSON: {response.body!r}>"
            if value != self.value:
                problems.append(f"JSON {value!r}, expected {self.value!r}")
        return "; ".join(problems) or None


Relation = Callable[[Response, Response], "str | None"]


@dataclass(frozen=True)
class Difference:
    """A documented, deliberate difference between rea.app and restate.app at one step.

    `sdk` and `rea` say what each side must answer; `relation`, given (SDK, rea), says how the
    two must relate (None if they do, else why not).
    """

    step: str
    why: str
    sdk: Expect | None = None
    rea: Expect | None = None
    relation: Relation | None = None


_REA_DIR = str(Path(rea.__file__).parent)


def without_rea_frames(stacktrace: str) -> str:
    """`stacktrace` without the frames of rea's own code (a frame: its File line, then code)."""
    kept: list[str] = []
    in_rea = False
    for line in stacktrace.splitlines(keepends=True):
        if line.startswith('  File "'):
            in_rea = line.startswith(f'  File "{_REA_DIR}/')
        elif not line.startswith("    "):
            in_rea = False
        if not in_rea:
            kept.append(line)
    return "".join(kept)


def only_rea_frames(sdk: Response, rea_: Response) -> str | None:
    """The two differ only by rea's frames in the error's stack trace, and they do."""
    if sdk.status != rea_.status:
        return f"status: SDK {sdk.status}, rea {rea_.status}"
    try:
        sdk_body, rea_body = json.loads(sdk.body), json.loads(rea_.body)
    except ValueError:
        return "not JSON error bodies"
    trace = rea_body.get("stacktrace", "")
    if f'File "{_REA_DIR}/' not in trace:
        return "rea's stack trace shows no rea frame (the documented difference is gone)"
    rea_body["stacktrace"] = without_rea_frames(trace)
    if rea_body != sdk_body:
        return f"beyond rea's frames: SDK {sdk_body!r}, rea {rea_body!r}"
    return None


def only_rea_additions(sdk: Response, rea_: Response) -> str | None:
    """rea's listing is the SDK's plus rea's own services and ``_rea_`` handlers only."""
    sdk_listing, rea_listing = json.loads(sdk.body), json.loads(rea_.body)
    problems = []
    for service, handlers in sdk_listing.items():
        extra = sorted(set(rea_listing.get(service, [])) - set(handlers))
        missing = sorted(set(handlers) - set(rea_listing.get(service, [])))
        if missing or any(not name.startswith("_rea_") for name in extra):
            problems.append(f"{service}: rea misses {missing}, adds {extra}")
    for service in set(rea_listing) - set(sdk_listing):
        if service not in _REA_SERVICES:
            problems.append(f"rea serves {service}, which the app does not have")
    return "; ".join(problems) or None


_REA_SERVICES = {"SagaDeadLetters"}
