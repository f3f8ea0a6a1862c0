"""rea.app as a drop-in for restate.app: the same services, the same requests, the same answers.

The same service objects are served by ``restate.app`` and by ``rea.app`` (STRICT policy) on two
Restate servers (always-replay); every case drives the same requests through both ingresses and
asserts the same HTTP status and body bytes at every step, or the documented difference.
"""

from __future__ import annotations

import json
import time

import pytest

from rea.testing import Harness
from tests.integration.compat._driver import Apps, Difference, Side
from tests.integration.compat.cases import CASES, PENDING
from tests.integration.compat.differences import DIFFERENCES


def run(apps: Apps, case: str) -> tuple[Side, Side]:
    """Run `case` on the SDK side, then on the rea side; their recordings, step by step."""
    sdk, rea = Side("SDK", apps.sdk), Side("rea", apps.rea)
    CASES[case](sdk)
    CASES[case](rea)
    assert list(sdk.steps) == list(rea.steps), "the scenario recorded different steps"
    return sdk, rea


def report(case: str, sdk: Side, rea: Side, steps: list[str]) -> str:
    lines = [f"{case}: rea.app differs from restate.app"]
    for step in steps:
        lines.append(f"  step {step!r}:\n    SDK {sdk.steps[step]}\n    rea {rea.steps[step]}")
    return "\n".join(lines)


# PENDING cases run in check_pending.py until rea matches them (see README.md).
IDENTICAL = [case for case in CASES if case not in DIFFERENCES and case not in PENDING]


@pytest.mark.parametrize("case", IDENTICAL)
def test_same_status_and_body(apps: Apps, case: str) -> None:
    """rea.app answers every step of the case with the SDK's status and body bytes."""
    sdk, rea = run(apps, case)
    differing = [step for step in sdk.steps if sdk.steps[step] != rea.steps[step]]
    assert not differing, report(case, sdk, rea, differing)


@pytest.mark.parametrize("case", list(DIFFERENCES))
def test_documented_difference(apps: Apps, case: str) -> None:
    """Where rea differs on purpose, both sides answer as documented; other steps match."""
    difference: Difference = DIFFERENCES[case]
    sdk, rea = run(apps, case)
    others = [s for s in sdk.steps if s != difference.step and sdk.steps[s] != rea.steps[s]]
    problems = [report(case, sdk, rea, others)] if others else []
    step = difference.step
    for side, expect in ((sdk, difference.sdk), (rea, difference.rea)):
        problem = expect.check(side.steps[step]) if expect else None
        if problem:
            problems.append(f"{case}: {side.name} at step {step!r}: {problem}")
    if difference.relation is not None:
        problem = difference.relation(sdk.steps[step], rea.steps[step])
        if problem:
            problems.append(f"{case} at step {step!r}: {problem}")
    assert not problems, "\n".join(problems) + f"\n(documented: {difference.why})"


def test_rejected_one_way_message_is_logged(apps: Apps) -> None:
    """A one-way message that rea rejects is logged with its target, invocation id and error."""
    side = Side("rea", apps.rea)
    request = {
        "serviceName": "CompatModels",
        "handlerName": "quote",
        "message": list(b'{"name":"x","price":"cheap"}'),
    }
    sent = side.call("/CompatProxy/oneWayCall", request)
    assert sent.status == 200, sent
    invocation = json.loads(sent.body)
    assert side.attach(invocation).status == 400
    deadline = time.monotonic() + 5.0
    while not (lines := [line for line in _app_log(apps.rea) if invocation in line]):
        assert time.monotonic() < deadline, "no line of the rea app's log names " + invocation
        time.sleep(0.05)
    assert "CompatModels" in lines[0], lines
    assert "quote" in lines[0], lines
    assert "price" in lines[0], lines


def _app_log(harness: Harness) -> list[str]:
    # The child app's stdout and stderr; Harness keeps them in a private temporary file.
    return harness.app_log().splitlines()
