"""Traces on a real server, always-replay on: attempt, run and call spans in the server's trace."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent import futures
from datetime import timedelta
from typing import Any

import grpc
import pytest
import restate
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from restate import TerminalError

import rea
from rea.testing import Harness, RestateServer
from rea.testing.pytest_plugin import HarnessFactory

FAST = rea.RetryPolicy(max_attempts=5, initial_interval=timedelta(milliseconds=10))
APP_NAME = "rea-tracing-test"

#: How often each run action really executed, by run name (the app runs in this process).
executions: Counter[str] = Counter()
_lock = threading.Lock()


def _executed(name: str) -> int:
    with _lock:
        executions[name] += 1
        return executions[name]


shop = restate.Service("TracedShop")
stock = restate.VirtualObject("TracedStock")


@stock.handler()
async def reserve(ctx: restate.ObjectContext, amount: int) -> int:
    await ctx.sleep(timedelta(milliseconds=1))
    return amount


def price(order: str) -> int:
    _executed("price")
    return 42


def flaky_charge(order: str) -> str:
    if _executed("charge") == 1:
        raise RuntimeError("payment service unavailable")
    raise TerminalError("card declined", status_code=402)


def release(payload: str, key: str) -> None:
    _executed("release")


@shop.handler()
async def buy(ctx: restate.Context, order: str) -> int:
    amount = await rea.run(ctx, "price", price, order)
    await ctx.sleep(timedelta(milliseconds=1))
    reserved = await rea.ObjectClient(reserve).call(ctx, "s1", 1)
    await rea.ObjectClient(reserve).call(ctx, "s2", 2)
    rea.ObjectClient(reserve).send(ctx, "s3", 3)
    return amount + reserved


@shop.handler()
async def checkout(ctx: restate.Context, order: str) -> str:
    saga = rea.Saga(ctx, "checkout", retry=FAST)
    saga.register("reserve", release)
    async with saga:
        await rea.run(ctx, "price", price, order)
        saga.add("reserve", order)
        await rea.ObjectClient(reserve).call(ctx, "stock", 1)
        return await rea.run(ctx, "charge", flaky_charge, order, retry=FAST)


def _traced_app(*processors: Any) -> tuple[Any, TracerProvider]:
    provider = TracerProvider(resource=Resource.create({"service.name": APP_NAME}))
    for processor in processors:
        provider.add_span_processor(processor)
    app = rea.app([shop, stock], observability=rea.Observability(tracer_provider=provider))
    return app, provider


def _names(spans: list[ReadableSpan]) -> Counter[str]:
    return Counter(span.name for span in spans)


def test_spans_per_attempt_run_and_call_and_none_for_replays(
    rea_harness: HarnessFactory,
) -> None:
    """Attempts, one span per run execution and one per new call; replays add none."""
    executions.clear()
    exporter = InMemorySpanExporter()
    app, _ = _traced_app(SimpleSpanProcessor(exporter))
    h = rea_harness(app)
    response = h.client.post("/TracedShop/buy", json="o1")
    assert response.status_code == 200, response.text
    assert response.json() == 43
    spans = exporter.get_finished_spans()
    names = _names(spans)
    # Always-replay: the handler suspended at every await, so it ran in several attempts...
    assert names["TracedShop/buy"] >= 3
    # ...but the run action ran once, and each call and send has exactly one span.
    assert names["run price"] == executions["price"] == 1
    assert names["call TracedStock/reserve"] == 2
    assert names["send TracedStock/reserve"] == 1
    attempts = [s for s in spans if s.name == "TracedShop/buy"]
    assert all(s.kind is SpanKind.SERVER for s in attempts)
    assert {s.attributes["rea.outcome"] for s in attempts} == {"suspended", "success"}
    ids = {s.attributes["restate.invocation.id"] for s in attempts}
    assert len(ids) == 1
    by_id = {s.context.span_id: s for s in spans}
    for span in spans:
        if span.name.startswith(("run ", "call ", "send ")):
            parent = by_id[span.parent.span_id]  # type: ignore[union-attr]
            assert parent.name == "TracedShop/buy"
    # Without server tracing, a callee's attempts join the trace through the traceparent the
    # call journaled: the call span's stable id (the send's callee may still be running).
    calls = {s.attributes["rea.call.span_id"] for s in spans if s.name.startswith("call ")}
    callee = [s for s in spans if s.name == "TracedStock/reserve"]
    assert len({s.attributes["restate.invocation.id"] for s in callee}) >= 2
    assert {f"{s.parent.span_id:016x}" for s in callee if s.parent} >= calls
    assert {s.context.trace_id for s in spans} == {attempts[0].context.trace_id}


def test_a_failed_saga_traces_each_execution_and_its_compensation(
    rea_harness: HarnessFactory,
) -> None:
    """A retried run shows two run spans; the compensation has its own span under its run."""
    executions.clear()
    exporter = InMemorySpanExporter()
    app, _ = _traced_app(SimpleSpanProcessor(exporter))
    h = rea_harness(app)
    response = h.client.post("/TracedShop/checkout", json="o2")
    assert response.status_code == 402, response.text
    spans = exporter.get_finished_spans()
    names = _names(spans)
    assert names["run charge"] == executions["charge"] == 2
    assert names["run price"] == executions["price"] == 1
    assert names["run compensate reserve"] == executions["release"] == 1
    assert names["compensate checkout/reserve"] == 1
    by_id = {s.context.span_id: s for s in spans}
    compensation = next(s for s in spans if s.name == "compensate checkout/reserve")
    assert by_id[compensation.parent.span_id].name == "run compensate reserve"  # type: ignore[union-attr]
    charges = sorted((s for s in spans if s.name == "run charge"), key=lambda s: s.start_time or 0)
    assert [s.attributes["rea.outcome"] for s in charges] == ["retryable", "terminal"]


# -- OTLP: the server's spans and the app's in one trace ----------------------------------------


class _Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace receiver keeping every span it gets, with its resource's name."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        with self._lock:
            for resource_spans in request.resource_spans:
                attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                service = attrs.get("service.name", "")
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend((service, span) for span in scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def snapshot(self) -> list[tuple[str, Any]]:
        with self._lock:
            return list(self.spans)


@pytest.fixture
def receiver() -> Iterator[tuple[_Receiver, int]]:
    servicer = _Receiver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, port
    server.stop(grace=None)


def _wait_for_trace(servicer: _Receiver, trace_id: int) -> list[tuple[str, Any]]:
    """The spans of `trace_id` once the app's and the server's parents of them have come."""
    ours = {"caller", "TracedShop/checkout", "run price", "run charge", "call TracedStock/reserve"}
    wanted = trace_id.to_bytes(16, "big")
    deadline = time.monotonic() + 30
    while True:
        spans = [(svc, s) for svc, s in servicer.snapshot() if s.trace_id == wanted]
        ids = {s.span_id for _, s in spans}
        app_names = {s.name for svc, s in spans if svc == APP_NAME}
        attempts = [s for svc, s in spans if svc == APP_NAME and s.name == "TracedShop/checkout"]
        if ours <= app_names and all(a.parent_span_id in ids for a in attempts):
            return spans
        server_count = sum(svc != APP_NAME for svc, _ in spans)
        assert time.monotonic() < deadline, (sorted(app_names), server_count)
        time.sleep(0.2)


def test_one_trace_from_the_caller_through_the_server_into_the_app(
    receiver: tuple[_Receiver, int],
) -> None:
    """A saga started by rea.IngressClient in a caller span: one trace, no replayed duplicates."""
    executions.clear()
    servicer, port = receiver
    endpoint = f"http://127.0.0.1:{port}"
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True)
    app, provider = _traced_app(SimpleSpanProcessor(exporter))
    caller_tracer = provider.get_tracer("caller")
    with RestateServer(tracing_endpoint=endpoint) as server, Harness(app, server=server) as h:
        with caller_tracer.start_as_current_span("caller") as caller:
            trace_id = caller.get_span_context().trace_id

            async def start() -> None:
                async with rea.IngressClient(h.ingress_url) as client:
                    with pytest.raises(rea.ingress.InvocationFailed):
                        await client.service(checkout).call("o3")

            asyncio.run(start())
        provider.force_flush()
        # The server exports in batches: wait (while it runs) for the parents of our attempts.
        spans = _wait_for_trace(servicer, trace_id)
    provider.shutdown()
    app_names = Counter(s.name for svc, s in spans if svc == APP_NAME)
    # One trace: the caller's span, the server's and the app's all carry its id.
    server_names = {s.name for svc, s in spans if svc != APP_NAME}
    assert {"ingress", "invocation-attempt"} <= {name.split(" ")[0] for name in server_names}
    by_id = {s.span_id: (svc, s) for svc, s in spans}
    attempts = [s for svc, s in spans if svc == APP_NAME and s.name == "TracedShop/checkout"]
    assert attempts
    for attempt in attempts:
        # Each attempt is the child of a span the server exported for it.
        parent_service, _ = by_id[attempt.parent_span_id]
        assert parent_service != APP_NAME
    # No duplicate for a replayed entry: one span per execution of each run.
    assert app_names["run price"] == executions["price"] == 1
    assert app_names["run charge"] == executions["charge"] == 2
    assert app_names["call TracedStock/reserve"] == 1
    assert app_names["compensate checkout/reserve"] == 1
