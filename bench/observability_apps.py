"""The apps `bench/observability.py` compares: one workflow-like service, observed or not.

The traced variant has metrics and traces: an opentelemetry-sdk TracerProvider whose batch
processor hands every span to an exporter that drops it (the cost measured is rea's spans and
the SDK's, not a network's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import restate
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import rea

FAST = rea.RetryPolicy(max_attempts=3, initial_interval=timedelta(milliseconds=10))


def price(item: str) -> int:
    return len(item)


def _services(prefix: str) -> list[restate.Service]:
    # One set of names per variant: the variants share one server, which routes a service to
    # the deployment registered last.
    stock = restate.Service(f"{prefix}Stock")
    shop = restate.Service(f"{prefix}Shop")

    @stock.handler()
    async def reserve(ctx: restate.Context, item: str) -> str:
        return item

    @shop.handler()
    async def buy(ctx: restate.Context, item: str) -> int:
        reserved = await rea.ServiceClient(reserve).call(ctx, item)
        return await rea.run(ctx, "price", price, reserved, retry=FAST)

    return [shop, stock]


class _Dropped(SpanExporter):
    """Counts the spans it is handed and keeps none."""

    exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        _Dropped.exported += len(spans)
        return SpanExportResult.SUCCESS


def _dropping_provider() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_Dropped()))
    return provider


observed_app = rea.app(_services("Observed"), observability=rea.Observability())
plain_app = rea.app(_services("Plain"))
traced_app = rea.app(
    _services("Traced"),
    observability=rea.Observability(tracer_provider=_dropping_provider()),
)
