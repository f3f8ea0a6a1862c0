"""Observability on a real server, always-replay on: counts survive replays, logs carry ids."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory

N = 5


@pytest.fixture
def h(rea_harness: HarnessFactory, tmp_path: Path) -> Harness:
    return rea_harness(
        "tests.integration.apps.observed_app:app", app_env={"REA_FLAKY_DIR": str(tmp_path)}
    )


def _scrape(h: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{h.app_url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_count_invocations_once_whatever_the_replays(h: Harness) -> None:
    """N invocations that suspend and replay read N; the flaky run shows its retry."""
    for i in range(N):
        assert h.client.post("/ObservedShop/buy", json=f"o{i}").json() == f"charged o{i}"
    samples = _scrape(h)
    shop = {"service": "ObservedShop", "handler": "buy"}
    assert _value(samples, "rea_invocations_total", **shop, outcome="success") == N
    # Each invocation suspended at least once (always-replay), so attempts outnumber them.
    assert _value(samples, "rea_attempts_total", **shop, outcome="suspended") >= N
    charge = {**shop, "run": "charge"}
    assert _value(samples, "rea_runs_total", **charge, outcome="retryable") == N
    assert _value(samples, "rea_runs_total", **charge, outcome="success") == N
    call = {**shop, "target_service": "ObservedInventory", "target_handler": "reserve"}
    assert _value(samples, "rea_calls_total", **call, kind="call") == N
    inventory = {"service": "ObservedInventory", "handler": "reserve"}
    assert _value(samples, "rea_invocations_total", **inventory, outcome="success") == N
    assert _value(samples, "rea_attempt_duration_seconds_count", **shop) >= N


def test_a_failed_saga_shows_its_steps_and_compensations(h: Harness) -> None:
    """One failed saga: one step, one compensation, one terminal invocation."""
    response = h.client.post("/ObservedShop/fail", json="f1")
    assert response.status_code == 402
    samples = _scrape(h)
    saga = {"saga": "checkout", "step": "reserve"}
    assert _value(samples, "rea_saga_steps_total", **saga) == 1
    assert _value(samples, "rea_saga_compensations_total", **saga, outcome="success") == 1
    fail = {"service": "ObservedShop", "handler": "fail"}
    assert _value(samples, "rea_invocations_total", **fail, outcome="terminal") == 1


def test_a_violation_shows_under_its_rule(h: Harness) -> None:
    """A WARN violation counts once under its rule, however often the handler replays."""
    assert h.client.post("/ObservedShop/misuse", json="m").json() == "m"
    samples = _scrape(h)
    rule = {"rule": "state.write_in_shared", "policy": "warn"}
    assert _value(samples, "rea_policy_violations_total", **rule) == 1


def test_every_log_line_of_a_handler_has_its_invocation_id(h: Harness) -> None:
    """The app's log lines made in handlers end with the invocation id and target, once."""
    response = h.client.post("/ObservedShop/buy", json="logged")
    invocation = response.headers["x-restate-id"]
    deadline = time.monotonic() + 5
    while "bought logged" not in h.app_log() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in h.app_log().splitlines() if line.startswith("INFO observed:")]
    mine = [line for line in lines if invocation in line or "logged" in line]
    assert mine, h.app_log()
    pattern = re.compile(r" \[inv_\w+ Observed\w+/\w+( key=\w+)?\]$")
    assert all(pattern.search(line) for line in lines), lines
    buying = [line for line in mine if "buying logged" in line]
    assert buying == [f"INFO observed: buying logged [{invocation} ObservedShop/buy]"]


def test_the_dashboards_restate_metrics_are_the_servers(h: Harness) -> None:
    """The restate_ names the Grafana dashboard queries are on a real server's /metrics."""
    from tests.observability.test_dashboard import names, sample_names

    h.client.post("/ObservedShop/buy", json="d")  # the invoker's metrics appear once used
    node_port = h.server.ports[2]  # type: ignore[attr-defined]
    page = httpx.get(f"http://127.0.0.1:{node_port}/metrics", timeout=10).text
    used = names("restate_")
    assert used
    assert used <= sample_names(page), used - sample_names(page)
