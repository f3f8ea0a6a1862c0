"""`loop`, `generation` and `continue_as_new` without a server."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from restate import TerminalError

import rea
from rea import _sdk
from rea.errors import ReaError, UsageTypeError, UsageValueError
from rea.workflow import LoopLimitExceeded, _time, continue_as_new, generation, loop
from rea.workflow._loop import CHAIN_HEADER, GENERATION_HEADER
from tests.workflow.fakes import FakeContext, data_plane


async def _count(ctx: FakeContext, **options: Any) -> list[int]:
    return [i async for i in loop(ctx, **options)]  # type: ignore[arg-type]


# -- loop ----------------------------------------------------------------------------------------
async def test_the_loop_yields_iteration_numbers_up_to_the_bound() -> None:
    """200 iterations run; asking for a 201st raises LoopLimitExceeded (508), naming the bound."""
    ctx = FakeContext()
    seen: list[int] = []
    iterations = loop(ctx, max_iterations=200)  # type: ignore[arg-type]
    async for i in iterations:
        seen.append(i)
        if i == 199:
            break
    assert seen == list(range(200))
    with pytest.raises(LoopLimitExceeded) as raised:
        await anext(iterations)
    error = raised.value
    assert isinstance(error, TerminalError)
    assert isinstance(error, ReaError)
    assert (error.status_code, error.max_iterations) == (508, 200)
    assert "max_iterations=200" in error.message
    assert error.metadata == {"rea.max_iterations": "200"}
    assert ctx.sleeps == []  # without `every`, the loop journals nothing


async def test_breaking_out_within_the_bound_is_fine() -> None:
    """A loop that ends on its own (break) at the 200th iteration never raises."""
    ctx = FakeContext()
    async for i in loop(ctx, max_iterations=200):  # type: ignore[arg-type]
        if i == 199:
            break
    else:
        pytest.fail("the loop should have been left with break")


async def test_on_limit_stop_ends_quietly_and_runs_the_else_clause() -> None:
    """With on_limit='stop' the loop just ends: the else clause is where to continue as new."""
    ctx = FakeContext()
    ended = False
    async for _ in loop(ctx, max_iterations=3, on_limit="stop"):  # type: ignore[arg-type]
        pass
    else:
        ended = True
    assert ended


async def test_every_sleeps_between_iterations_only() -> None:
    """n iterations, n - 1 durable sleeps (none before the first), scaled like every timer."""
    ctx = FakeContext()
    assert await _count(ctx, max_iterations=4, every=2, on_limit="stop") == [0, 1, 2, 3]
    assert ctx.sleeps == [timedelta(seconds=2)] * 3
    release = _time.override_time_scale(0.001)
    try:
        scaled = FakeContext()
        await _count(scaled, max_iterations=2, every=timedelta(hours=1), on_limit="stop")
        assert scaled.sleeps == [timedelta(seconds=3.6)]
    finally:
        release()


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"max_iterations": 0}, UsageValueError, "at least 1"),
        ({"max_iterations": 2.5}, UsageTypeError, "must be an int"),
        ({"max_iterations": True}, UsageTypeError, "must be an int"),
        ({"max_iterations": 2, "every": -1}, UsageValueError, "must not be negative"),
        ({"max_iterations": 2, "on_limit": "wrap"}, UsageValueError, "'raise' or 'stop'"),
    ],
)
def test_loop_checks_its_options(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    """Bad bounds, pauses and limit behaviours are usage errors."""
    with pytest.raises(error, match=match):
        loop(FakeContext(), **options)  # type: ignore[arg-type]


# -- generation ----------------------------------------------------------------------------------
def test_generation_comes_from_the_header() -> None:
    """0 without the header; the header's number otherwise; rubbish is a usage error."""
    assert generation(FakeContext()) == 0  # type: ignore[arg-type]
    assert generation(FakeContext(headers={GENERATION_HEADER: "7"})) == 7  # type: ignore[arg-type]
    for bad in ("seven", "-1"):
        with pytest.raises(UsageValueError, match="not a generation"):
            generation(FakeContext(headers={GENERATION_HEADER: bad}))  # type: ignore[arg-type]


# -- continue_as_new -----------------------------------------------------------------------------
class _Sends:
    """Replaces `_sdk.running_handler` and `_sdk.raw_call`: the running handler, and the sends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.handler = SimpleNamespace(
            service="Poller",
            name="poll",
            service_kind="object",
            kind="exclusive",
            arity=2,
            input_serde="in",
            output_serde="out",
        )
        self.sent: list[dict[str, Any]] = []
        monkeypatch.setattr(_sdk, "running_handler", lambda ctx: self.handler)
        monkeypatch.setattr(_sdk, "raw_call", self._send)

    def _send(self, ctx: Any, service: str, handler: str, value: Any, *io: Any, **kw: Any) -> Any:
        self.sent.append({"target": f"{service}/{handler}", "value": value, "serdes": io, **kw})

        async def invocation_id() -> str:
            return "inv_1next"

        return SimpleNamespace(invocation_id=invocation_id)


async def test_continue_as_new_sends_the_state_to_the_next_generation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Same handler and key, the next generation's headers, a key from chain and generation."""
    sends = _Sends(monkeypatch)
    ctx = FakeContext()
    assert await continue_as_new(ctx, {"n": 1}, delay=2) == "inv_1next"  # type: ignore[arg-type]
    (sent,) = sends.sent
    assert sent == {
        "target": "Poller/poll",
        "value": {"n": 1},
        "serdes": ("in", "out"),
        "key": "the-key",
        "delay": timedelta(seconds=2),
        "send": True,
        "idempotency_key": rea.idempotency_key("rea.continue_as_new", "inv_1first", 1),
        "headers": {GENERATION_HEADER: "1", CHAIN_HEADER: "inv_1first"},
    }

    later = FakeContext(headers={GENERATION_HEADER: "4", CHAIN_HEADER: "inv_1first"})
    release = _time.override_time_scale(0.5)
    try:
        await continue_as_new(later, {"n": 5}, delay=timedelta(minutes=2), key="other")  # type: ignore[arg-type]
    finally:
        release()
    sent = sends.sent[1]
    assert (sent["key"], sent["delay"]) == ("other", timedelta(minutes=1))
    assert sent["idempotency_key"] == rea.idempotency_key("rea.continue_as_new", "inv_1first", 5)
    assert sent["headers"] == {GENERATION_HEADER: "5", CHAIN_HEADER: "inv_1first"}


async def test_continue_as_new_without_delay_sends_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """No delay: no send delay at all."""
    sends = _Sends(monkeypatch)
    await continue_as_new(FakeContext(), None)  # type: ignore[arg-type]
    assert sends.sent[0]["delay"] is None


async def test_continue_as_new_checks_keys_and_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Services have no key; a workflow run needs a new id; no state for a handler without input."""
    sends = _Sends(monkeypatch)
    ctx: Any = FakeContext()
    sends.handler.service_kind, sends.handler.kind = "service", None
    with pytest.raises(UsageTypeError, match="is a service"):
        await continue_as_new(ctx, 1, key="k")
    sends.handler.service_kind, sends.handler.kind = "workflow", "workflow"
    for key in (None, "the-key"):
        with pytest.raises(UsageValueError, match="once per workflow id"):
            await continue_as_new(ctx, 1, key=key)
    await continue_as_new(ctx, 1, key="the-key-2")
    assert sends.sent[0]["key"] == "the-key-2"
    sends.handler.service_kind, sends.handler.kind, sends.handler.arity = "object", "exclusive", 1
    with pytest.raises(UsageTypeError, match="takes no input"):
        await continue_as_new(ctx, {"n": 1})
    with pytest.raises(UsageValueError, match="must not be negative"):
        await continue_as_new(ctx, None, delay=-1)
    assert len(sends.sent) == 1


# -- the data-plane guard ------------------------------------------------------------------------
async def test_loops_are_orchestration_refused_in_the_data_plane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """loop and continue_as_new report plane.orchestration_in_data_plane before anything else."""
    sends = _Sends(monkeypatch)
    with data_plane():
        with pytest.raises(rea.PolicyViolation, match=r"rea\.loop\(\)") as raised:
            loop(FakeContext(), max_iterations=3)  # type: ignore[arg-type]
        assert raised.value.rule == "plane.orchestration_in_data_plane"
        with pytest.raises(rea.PolicyViolation, match=r"rea\.continue_as_new\(\)"):
            await continue_as_new(FakeContext(), 1)  # type: ignore[arg-type]
    assert sends.sent == []
