"""rea.observability._tracing and the ingress clients' trace context, without a server."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import rea
from rea._http import Request
from rea.ingress._core import with_trace_context
from rea.observability._tracing import Tracing

SERVER_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
CALLER_PARENT = "00-11111111111111111111111111111111-2222222222222222-01"


def _tracing() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider), exporter


def test_the_attempt_span_joins_the_servers_traceparent_first() -> None:
    """The attempt headers' traceparent wins over the invocation's."""
    tracing, exporter = _tracing()
    attempt = tracing.start_attempt(
        target="S/h",
        invocation_id="inv_1",
        headers={"traceparent": CALLER_PARENT},
        attempt_headers={"traceparent": SERVER_PARENT},
    )
    attempt.end("success", None)
    (span,) = exporter.get_finished_spans()
    assert span.name == "S/h"
    assert span.kind is SpanKind.SERVER
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == "b7ad6b7169203331"
    assert span.attributes == {
        "restate.invocation.id": "inv_1",
        "restate.invocation.target": "S/h",
        "rea.outcome": "success",
    }


def test_without_a_traceparent_attempts_share_a_trace_derived_from_the_invocation() -> None:
    """Two attempts of one invocation get the same trace id, another invocation another."""
    tracing, exporter = _tracing()
    for invocation in ("inv_1", "inv_1", "inv_2"):
        tracing.start_attempt(
            target="S/h", invocation_id=invocation, headers={}, attempt_headers={}
        ).end("suspended", None)
    first, second, other = exporter.get_finished_spans()
    assert first.context.trace_id == second.context.trace_id != other.context.trace_id


def test_call_headers_are_the_same_in_every_attempt_and_replays_make_no_span() -> None:
    """The journaled traceparent repeats exactly; only a new call gets a span."""
    tracing, exporter = _tracing()
    headers = []
    for replaying in (False, True):
        attempt = tracing.start_attempt(
            target="S/h",
            invocation_id="inv_1",
            headers={"traceparent": CALLER_PARENT},
            attempt_headers={},
        )
        headers.append(
            attempt.call_headers(target="T/x", send=False, replaying=replaying, headers={"a": "b"})
        )
        attempt.end("suspended", None)
    assert headers[0] == headers[1]
    assert headers[0] is not None
    assert headers[0]["a"] == "b"
    assert headers[0]["traceparent"].startswith("00-11111111111111111111111111111111-")
    calls = [s for s in exporter.get_finished_spans() if s.name == "call T/x"]
    assert len(calls) == 1
    assert calls[0].kind is SpanKind.CLIENT
    assert headers[0]["traceparent"].split("-")[2] == calls[0].attributes["rea.call.span_id"]


def test_a_callers_own_traceparent_is_kept() -> None:
    """Headers that carry a traceparent already go out unchanged."""
    tracing, _ = _tracing()
    attempt = tracing.start_attempt(
        target="S/h", invocation_id="inv_1", headers={}, attempt_headers={}
    )
    given = {"traceparent": CALLER_PARENT}
    assert attempt.call_headers(target="T/x", send=True, replaying=False, headers=given) == given
    attempt.end("success", None)


def test_observability_takes_no_tracer_provider_by_default() -> None:
    """No provider, no spans: the default."""
    assert rea.Observability().tracer_provider is None


def test_ingress_requests_carry_the_current_span_with_the_sampled_flag_only() -> None:
    """Inside a span a request gets its traceparent (flags 01); outside, nothing."""
    request: Request[None] = Request("POST", "/S/h", "call to S/h", parse=lambda r: None)
    assert with_trace_context(request) is request
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("caller") as span:
        traced = with_trace_context(request)
        mine = with_trace_context(
            Request("POST", "/S/h", "call", parse=lambda r: None, headers={"TraceParent": "x"})
        )
    assert traced.headers is not None
    _version, trace_id, span_id, flags = traced.headers["traceparent"].split("-")
    assert trace_id == f"{span.get_span_context().trace_id:032x}"
    assert span_id == f"{span.get_span_context().span_id:016x}"
    assert flags == "01"
    assert mine.headers == {"TraceParent": "x"}
