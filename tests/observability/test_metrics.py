"""rea's Prometheus metrics: names, labels, the exposition format, and the /metrics route."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from rea import _observe
from rea.observability import (
    AttemptFinished,
    BreakerChanged,
    CallSent,
    MetricsEndpoint,
    PolicyViolated,
    RunFinished,
    SagaEvent,
    SecurityRejected,
    registry,
)
from rea.observability._metrics import MetricsSink


def _samples(reg: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(reg).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _attempt(outcome: Any) -> AttemptFinished:
    return AttemptFinished("Shop", "buy", "inv_1", None, outcome, 0.01, None)


def test_attempts_and_invocations() -> None:
    """Every attempt counts; an invocation counts once, when it ends (success or terminal)."""
    sink = MetricsSink(CollectorRegistry())
    for outcome in ("suspended", "suspended", "retryable", "success", "terminal"):
        sink.attempt_finished(_attempt(outcome))
    samples = _samples(sink.registry)
    labels = {("service", "Shop"), ("handler", "buy")}
    assert samples[("rea_attempts_total", frozenset({*labels, ("outcome", "suspended")}))] == 2
    assert samples[("rea_invocations_total", frozenset({*labels, ("outcome", "success")}))] == 1
    assert samples[("rea_invocations_total", frozenset({*labels, ("outcome", "terminal")}))] == 1
    assert ("rea_invocations_total", frozenset({*labels, ("outcome", "suspended")})) not in samples
    assert samples[("rea_attempt_duration_seconds_count", frozenset(labels))] == 5


def test_every_other_family_follows_the_conventions() -> None:
    """Runs, calls, sagas, violations and rejections: rea_ names, _total, bounded labels."""
    sink = MetricsSink(CollectorRegistry())
    sink.run_finished(RunFinished("Shop", "buy", "charge", "retryable", 0.2, RuntimeError()))
    sink.call_sent(CallSent("Shop", "buy", "Stock", "reserve", "send"))
    sink.saga_event(SagaEvent("checkout", "reserve", "step"))
    sink.saga_event(SagaEvent("checkout", "reserve", "compensation", "terminal"))
    sink.saga_event(SagaEvent("checkout", "reserve", "dead_letter"))
    sink.policy_violated(PolicyViolated("ctx.inside_run", "warn"))
    sink.security_rejected(SecurityRejected("identity.expired", "/invoke/Shop/buy", False))
    samples = _samples(sink.registry)
    names = {name for name, _ in samples}
    assert {
        "rea_runs_total",
        "rea_run_duration_seconds_sum",
        "rea_calls_total",
        "rea_saga_steps_total",
        "rea_saga_compensations_total",
        "rea_saga_dead_letters_total",
        "rea_policy_violations_total",
        "rea_security_rejections_total",
    } <= names
    assert all(name.startswith("rea_") for name in names)
    labels = {key for _, pairs in samples for key, _ in pairs}
    assert not labels & {"key", "invocation_id", "id", "path"}
    rejection = frozenset({("reason", "identity.expired"), ("mode", "strict")})
    assert samples[("rea_security_rejections_total", rejection)] == 1


def test_the_process_registry_is_one() -> None:
    """registry() makes the process's registry once and returns it from then on."""
    before = _observe._metrics
    try:
        assert registry() is registry()
    finally:
        # The sink it installs would feed every later test of this worker.
        _observe.set_metrics_sink(before)


def test_the_metrics_route_answers_get_and_passes_the_rest_on() -> None:
    """GET /metrics is the exposition; POST is a 405; any other path reaches the app."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sink = MetricsSink(CollectorRegistry())
    sink.attempt_finished(_attempt("success"))
    endpoint = MetricsEndpoint(app, sink.registry)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=endpoint)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return [
                await client.get("/metrics"),
                await client.post("/metrics"),
                await client.get("/invoke/Shop/buy"),
            ]

    scraped, posted, passed = asyncio.run(go())
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    families = {f.name for f in text_string_to_metric_families(scraped.text)}
    assert "rea_invocations" in families
    assert posted.status_code == 405
    assert passed.status_code == 204


def test_a_breaker_shows_its_state_and_its_transitions() -> None:
    """The state gauge holds 1 for the current state only; each change is counted."""
    sink = MetricsSink(CollectorRegistry())
    sink.breaker_changed(BreakerChanged("payments", "closed", "open"))
    sink.breaker_changed(BreakerChanged("payments", "open", "half_open"))
    samples = _samples(sink.registry)
    state = {
        label: samples[
            ("rea_circuit_breaker_state", frozenset({("name", "payments"), ("state", label)}))
        ]
        for label in ("closed", "open", "half_open")
    }
    assert state == {"closed": 0, "open": 0, "half_open": 1}
    opened = frozenset({("name", "payments"), ("from_state", "closed"), ("to_state", "open")})
    assert samples[("rea_circuit_breaker_transitions_total", opened)] == 1
