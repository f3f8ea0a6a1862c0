"""Validation at the edge under fuzzing: bad input to every handler of every example app.

Each app of ``examples/*.py`` runs in its own process (`Harness` with ``"examples.<name>:app"``)
on a real restate-server (always-replay, 3 attempts per invocation, so a retried failure would
show), and every public handler the server registered for it, rea's own included
(`SagaDeadLetters`, a workflow's ``status``), gets bad requests through the ingress: POST
``/<service>[/<fresh key>]/<handler>``, a new key per request for objects and workflows. Private
handlers (``SagaDeadLetters/add``, a workflow's ``_rea_output`` and ``_rea_attach``) are left
out: the ingress refuses every request to them (400 ``the invoked service is not public``).

Where the inputs go (families in tests/fuzz/_inputs.py, drawn by hypothesis from the input JSON
schema the server got from discovery):

- handlers with input, refused by rea's validation in the app (400 ``invalid input``, one
  attempt, the invocation completed as failed): ``wrong_type`` (a JSON type the schema refuses),
  ``wrong_inside`` (one field or list item wrong, recursively, or a string under ``minLength``),
  ``missing_fields`` (required fields left out, unknown ones added: no example model forbids
  extra fields, so extras alone are not bad input), ``truncated``, ``not_utf8`` (bytes that are
  not UTF-8 or an escaped unpaired surrogate inside a string), ``trailing_garbage``,
  ``non_json_number`` (NaN, Infinity, 1e999, a 401-digit integer where a number goes),
  ``deeply_nested`` (1,000 to 100,000 levels of ``[`` or ``{"a":``, closed or not), an empty body
  without a content type for a model parameter (``missing input``), and ``huge`` bodies (2 to 5
  MB: a string, or an array of numbers or strings, of a type the schema refuses);
- handlers with input, refused by the ingress itself (400, no invocation created): an empty body
  with a content type (``Empty body not allowed``), ``wrong_content_type`` (a valid body sent as
  ``text/plain``, ``application/xml``...), and a 40 MB body (413 ``length limit exceeded``: the
  ingress takes 32 MiB at most);
- handlers without input, refused by the ingress: any body (``body_without_input``), or a
  content type without a body (``content_type_without_body``).

Plain JSON parameters (``str``, ``int``, ``list[str]``...) get no empty body here: under
``validation="compatible"`` an empty body reaches them as None, as under the SDK (docs/serde.md),
which is a handler's 500; see `test_empty_body_for_a_plain_json_parameter_is_a_4xx`.

For each app the test then checks: every response a 4xx within the timeout; every invocation the
app refused is in ``sys_invocation`` as completed with a ``[400] invalid input`` failure, with
two journal entries (input, output) and no ``TransientError`` event (no retried attempt), and the
server holds no other new invocation and none that is not completed; the app logged each refusal
once, and no traceback; the app process is the one that started (same pid, alive); and its
resident memory grew less than `RSS_GROWTH_BOUND` from after a warm-up to the end.
"""

from __future__ import annotations

import math
import re
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from rea.testing import Harness, RestateServer
from tests.fuzz._inputs import (
    JSON_TYPE,
    NOT_JSON,
    Case,
    Expect,
    Target,
    bad_cases,
    families,
    huge,
)

pytestmark = pytest.mark.integration

APPS = tuple(
    sorted(
        p.stem
        for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.py")
        if "\napp = rea.app(" in p.read_text()
    )
)
MIN_PER_APP = 100  # 10 apps: at least 1,000 bad inputs in all
EXAMPLES_PER_FAMILY = 2  # per handler, at least
HUGE_PER_APP = 2  # 2 to 5 MB each
OVERSIZE_MB = 40  # beyond the ingress's 32 MiB
# An app starts at ~60 MiB; what parsing MB-sized bodies leaves in glibc's and pymalloc's pools
# stays well below this (measured: 2 to 45 MiB).
RSS_GROWTH_BOUND = 100 * 1024 * 1024
REQUEST_TIMEOUT = 30.0
_REJECTED = re.compile(r"rejected input of (\S+) \(invocation (inv_\w+)\)")
_SETTINGS = settings(
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


@dataclass
class Sent:
    """One response: what was sent where, and what came back."""

    target: Target
    case: Case
    status: int
    source: str
    invocation_id: str | None
    message: str
    seconds: float


@dataclass
class Fuzzer:
    """Sends cases to an app's handlers and keeps every response."""

    harness: Harness
    sent: list[Sent] = field(default_factory=list)

    def send(self, target: Target, case: Case) -> Sent:
        """POST `case` to `target` (a fresh key for objects and workflows)."""
        headers = {} if case.content_type is None else {"content-type": case.content_type}
        started = time.perf_counter()
        response = self.harness.client.post(
            target.path(uuid.uuid4().hex),
            content=case.body,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
        invocation_id = response.headers.get("x-restate-id")
        source = response.headers.get("x-restate-error-source") or (
            "ingress" if invocation_id is None else "?"
        )
        sent = Sent(
            target,
            case,
            response.status_code,
            source,
            invocation_id,
            _message(response),
            time.perf_counter() - started,
        )
        self.sent.append(sent)
        return sent

    def check(self, target: Target, case: Case) -> None:
        """Send `case` and assert a 4xx, from the app's validation or the ingress as expected."""
        sent = self.send(target, case)
        assert 400 <= sent.status < 500, (target.name, case, sent.status, sent.message)
        if case.expect == "app":
            assert sent.status == 400, (target.name, case, sent.message)
            assert sent.source == "invocation", (target.name, case, sent.source)
            assert sent.invocation_id is not None
            assert sent.message.startswith("invalid input"), (target.name, case, sent.message)
            if case.family in NOT_JSON:  # refused as not JSON, not for some other reason
                assert "json" in sent.message.lower(), (target.name, case, sent.message)
        else:
            assert sent.invocation_id is None, (target.name, case, sent.message)
            assert sent.source == "ingress", (target.name, case, sent.source)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("message", "")) if isinstance(body, dict) else response.text


def _targets(deployment: dict[str, Any]) -> list[Target]:
    return sorted(
        (
            Target(svc["name"], h["name"], svc["ty"], h.get("input_json_schema"))
            for svc in deployment["services"]
            for h in svc["handlers"]
            if svc["public"] and h["public"]
        ),
        key=lambda t: t.name,
    )


def _fuzz(fuzzer: Fuzzer, target: Target, family: str, examples: int) -> None:
    @seed(zlib.crc32(f"{target.name}/{family}".encode()))
    @settings(_SETTINGS, max_examples=examples)
    @given(bad_cases(target, family))
    def check(case: Case) -> None:
        fuzzer.check(target, case)

    check()


def _fuzz_huge(fuzzer: Fuzzer, targets: list[Target], app: str) -> None:
    @seed(zlib.crc32(f"{app}/huge".encode()))
    @settings(_SETTINGS, max_examples=HUGE_PER_APP)
    @given(st.sampled_from(targets), st.integers(2, 5))
    def check(target: Target, megabytes: int) -> None:
        expect: Expect = "ingress" if target.schema is None else "app"
        fuzzer.check(target, Case("huge", huge(target.schema, megabytes), JSON_TYPE, expect))

    check()


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {k: int(fields[k].split()[0]) * 1024 for k in ("VmRSS", "VmHWM")}


def _quoted(ids: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


@pytest.fixture(scope="module")
def server() -> Iterator[RestateServer]:
    """A server for this module alone, so that every invocation on it is one sent here."""
    with RestateServer() as restate_server:
        yield restate_server


def test_the_apps_get_at_least_1000_bad_inputs() -> None:
    """Every example app is fuzzed, with enough inputs each for 1,000 in all."""
    assert len(APPS) >= 10
    assert len(APPS) * MIN_PER_APP >= 1000


def _warm_up(h: Harness, targets: list[Target]) -> Fuzzer:
    """One malformed body per handler, so that lazily built state counts before the baseline."""
    fuzzer = Fuzzer(h)
    for target in targets:
        if target.schema is None:
            fuzzer.check(target, Case("warm_up", b"x", JSON_TYPE, "ingress"))
        else:
            fuzzer.check(target, Case("warm_up", b"[", JSON_TYPE, "app"))
    return fuzzer


def _assert_one_failed_attempt_each(h: Harness, ids: list[str], created_before: int) -> None:
    """Each invocation completed with its 400 after one attempt; the server ran nothing else."""
    rows = h.query(
        "SELECT id, status, completion_failure, journal_size FROM sys_invocation "
        f"WHERE id IN ({_quoted(ids)})"
    )
    assert sorted(r["id"] for r in rows) == sorted(ids)
    for row in rows:
        assert row["status"] == "completed", row
        assert row["completion_failure"].startswith("[400] invalid input"), row
        assert row["journal_size"] == 2, row  # the input, then the failure
    # A retried attempt leaves a TransientError event; retry_count is gone once completed.
    assert (
        h.query(f"SELECT id, event_type FROM sys_journal_events WHERE id IN ({_quoted(ids)})") == []
    )
    created = h.query("SELECT count(*) AS n FROM sys_invocation")[0]["n"] - created_before
    assert created == len(ids)
    assert h.query("SELECT id, status FROM sys_invocation WHERE status != 'completed'") == []
    # The app refused each one once (an attempt each), and raised nothing it did not mean to.
    log = h.app_log()
    assert Counter(m.group(2) for m in _REJECTED.finditer(log)) == Counter(ids)
    assert "Traceback" not in log


def _summary(
    app: str, targets: list[Target], sent: list[Sent], memory: list[dict[str, int]]
) -> str:
    kinds = Counter((s.status, s.source) for s in sent)
    before, after = memory
    return (
        f"{app}: {len(targets)} handlers, {len(sent)} bad inputs "
        f"(max {max(s.seconds for s in sent):.2f} s each): "
        + ", ".join(f"{n} x {code} from {src}" for (code, src), n in sorted(kinds.items()))
        + f"; RSS {before['VmRSS'] / 2**20:.1f} -> {after['VmRSS'] / 2**20:.1f} MiB"
        + f" (peak {after['VmHWM'] / 2**20:.1f} MiB)"
    )


@pytest.mark.parametrize("app", APPS)
def test_bad_input_is_a_4xx_after_one_attempt(server: RestateServer, app: str) -> None:
    """Bad input to every handler of an example app: a 4xx, one attempt, same process, bounded."""
    with Harness(f"examples.{app}:app", server=server) as h:
        targets = _targets(h.deployment)
        pid = h.app_pid
        assert pid is not None
        created_before = h.query("SELECT count(*) AS n FROM sys_invocation")[0]["n"]
        warm_up = _warm_up(h, targets)
        memory = [_status(pid)]

        fuzzer = Fuzzer(h)
        pairs = [(t, f) for t in targets for f in families(t)]
        per_family = max(EXAMPLES_PER_FAMILY, math.ceil(MIN_PER_APP / len(pairs)))
        for target, family in pairs:
            _fuzz(fuzzer, target, family, per_family)
        _fuzz_huge(fuzzer, targets, app)
        with_input = next(t for t in targets if t.schema is not None)
        oversize = b'"' + b"x" * (OVERSIZE_MB * 1024 * 1024) + b'"'
        fuzzer.check(with_input, Case("oversize", oversize, JSON_TYPE, "ingress"))
        memory.append(_status(pid))

        sent = fuzzer.sent
        assert len(sent) >= MIN_PER_APP
        assert all(400 <= s.status < 500 for s in sent)
        assert {(s.target.name, s.case.family) for s in sent} >= {(t.name, f) for t, f in pairs}
        ids = [s.invocation_id for s in warm_up.sent + sent if s.invocation_id is not None]
        _assert_one_failed_attempt_each(h, ids, created_before)
        assert h.app_pid == pid  # never restarted
        assert memory[1]["VmRSS"] - memory[0]["VmRSS"] < RSS_GROWTH_BOUND
    print(f"\n{_summary(app, targets, sent, memory)}")


def test_empty_body_for_a_plain_json_parameter_is_a_4xx(server: RestateServer) -> None:
    """No body and no content type for an ``int`` parameter: a 4xx, like any missing input."""
    with Harness("examples.quickstart:app", server=server) as h:
        response = h.client.post(f"/Counter/{uuid.uuid4().hex}/add", timeout=REQUEST_TIMEOUT)
        assert 400 <= response.status_code < 500, (response.status_code, _message(response))
