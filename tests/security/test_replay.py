"""ReplayGuard: one invocation request accepted once per token; retries and resumes pass."""

from __future__ import annotations

import logging
import time

import pytest

from rea.errors import UsageValueError
from rea.security import ReplayCache, ReplayGuard, rejection_counts, replay_evictions
from rea.security._identity import EXP_SCOPE_KEY
from tests.security.helpers import Echo, Signer, call, frame, invocation_body, start_message


def guard(**kwargs: object) -> tuple[ReplayGuard, Echo]:
    app = Echo()
    return ReplayGuard(app, **kwargs), app  # type: ignore[arg-type]


async def test_exact_replay_is_refused(signer: Signer) -> None:
    """The same token with the same start message a second time is a 401 replay.seen."""
    g, app = guard()
    headers = signer.headers()
    body = invocation_body("inv_a")
    assert (await call(g, headers=headers, body=body)).status == 200
    replayed = await call(g, headers=headers, body=body)
    assert replayed.status == 401
    assert "replay.seen" in replayed.text
    assert app.calls == 1
    assert rejection_counts() == {"replay.seen": 1}


async def test_retries_resumes_and_other_invocations_pass(signer: Signer) -> None:
    """What Restate sends under one token (measured): other invocations, retries, resumptions."""
    g, app = guard()
    headers = signer.headers()
    bodies = [
        invocation_body("inv_a"),
        invocation_body("inv_b"),
        invocation_body("inv_a", retry=1),
        invocation_body("inv_a", retry=2),
        invocation_body("inv_a", known_entries=3),
    ]
    for body in bodies:
        assert (await call(g, headers=headers, body=body)).status == 200
    assert app.calls == 5
    assert rejection_counts() == {}


async def test_same_start_with_another_token_passes(signer: Signer) -> None:
    """The key is token and start message: a new second's token is a new request."""
    g, _ = guard()
    body = invocation_body("inv_a")
    assert (await call(g, headers=signer.headers(now=time.time() - 1), body=body)).status == 200
    assert (await call(g, headers=signer.headers(), body=body)).status == 200


async def test_the_app_reads_the_same_bytes(signer: Signer) -> None:
    """The buffered start is handed on unchanged, also when it arrives in small chunks."""
    g, app = guard()
    body = invocation_body("inv_chunked") + frame(0x0400, b"x" * 1000)
    chunks = [body[i : i + 3] for i in range(0, len(body), 3)]
    assert (await call(g, headers=signer.headers(), body=chunks)).status == 200
    assert app.bodies == [body]
    # The same request again, in other chunks, is still the same request.
    again = await call(g, headers=signer.headers(), body=[body[:5], body[5:]])
    assert again.status == 401


async def test_only_invoke_paths_are_checked(signer: Signer) -> None:
    """Discovery (may come twice with one token), health and other paths are not checked."""
    g, app = guard()
    headers = signer.headers("/discover")
    for path in ("/discover", "/discover", "/health", "/health", "/other", "/other"):
        assert (await call(g, path=path, headers=headers, body=b"")).status == 200
    assert app.calls == 6


async def test_request_without_token_passes(signer: Signer) -> None:
    """Without a token there is nothing to key on: identity decides about such requests."""
    g, app = guard()
    body = invocation_body()
    assert (await call(g, body=body)).status == 200
    assert (await call(g, body=body)).status == 200
    assert app.calls == 2


@pytest.mark.parametrize(
    "body", [b"", b"\0\0\0", start_message()[:-1], [start_message()[:10], start_message()[10:-2]]]
)
async def test_incomplete_start_is_refused(signer: Signer, body: bytes | list[bytes]) -> None:
    """A body that ends before its first message is complete is a 400 replay.malformed."""
    g, app = guard()
    result = await call(g, headers=signer.headers(), body=body)
    assert result.status == 400
    assert app.calls == 0
    assert rejection_counts() == {"replay.malformed": 1}


async def test_oversized_start_is_refused_without_buffering_it(signer: Signer) -> None:
    """A first message claiming more than the limit is a 413 before the rest is read."""
    g, app = guard(max_start_message_bytes=1024)
    header = frame(0, b"")[:4] + (10_000).to_bytes(4, "big")
    chunks = [header + b"x" * 100] + [b"x" * 100] * 200
    result = await call(g, headers=signer.headers(), body=chunks)
    assert result.status == 413
    assert app.calls == 0
    assert rejection_counts() == {"replay.too_large": 1}


async def test_disconnect_before_the_start_is_complete(signer: Signer) -> None:
    """A caller gone mid-start gets no answer and the app does not run."""
    g, app = guard()
    body = invocation_body()
    result = await call(g, headers=signer.headers(), body=[body[:4], body[4:]], disconnect_after=1)
    assert result.status is None
    assert app.calls == 0
    assert rejection_counts() == {}


async def test_disconnect_first_is_passed_on(signer: Signer) -> None:
    """A disconnect as the first message goes to the app, as it would without the guard."""
    g, app = guard()
    await call(g, headers=signer.headers(), body=[b"x"], disconnect_after=0)
    assert app.calls == 1


async def test_permissive_counts_and_lets_through(
    signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    """A replay in permissive mode is logged and counted, then served."""
    g, app = guard(permissive=True)
    headers = signer.headers()
    with caplog.at_level(logging.WARNING, logger="rea.security"):
        for _ in range(2):
            assert (await call(g, headers=headers, body=invocation_body())).status == 200
    assert app.calls == 2
    assert rejection_counts() == {"replay.seen": 1}
    assert "let through: permissive mode" in caplog.text


async def test_entries_live_until_the_token_expires(signer: Signer) -> None:
    """An entry expires with its token (the verified exp from the identity guard, else the
    token's own exp claim)."""
    g, _ = guard()
    now = time.time()
    cache = g.cache
    assert not cache.seen(b"k1", now + 10, now)
    assert cache.seen(b"k1", now + 10, now + 9)
    assert not cache.seen(b"k1", now + 100, now + 11)
    assert len(cache) == 1  # the expired entry was dropped on the way


async def test_expiry_from_scope_or_token(signer: Signer) -> None:
    """The identity guard's verified exp is preferred; the token's exp claim is the fallback."""
    g, _ = guard()
    now = time.time()
    headers = signer.headers(now=now)
    await call(g, headers=headers, body=invocation_body())
    assert list(g.cache._entries.values()) == [int(now) + 60]

    marked, _ = guard()

    async def with_exp(scope: dict[str, object], receive: object, send: object) -> None:
        scope[EXP_SCOPE_KEY] = now + 5
        await marked(scope, receive, send)

    await call(with_exp, headers=headers, body=invocation_body())
    assert list(marked.cache._entries.values()) == [now + 5]


async def test_cache_is_bounded_and_evictions_are_counted(signer: Signer) -> None:
    """Past cache_size the oldest entry goes (counted), and that request could be replayed."""
    g, _app = guard(cache_size=2)
    headers = signer.headers()
    for name in ("inv_1", "inv_2", "inv_3"):
        assert (await call(g, headers=headers, body=invocation_body(name))).status == 200
    assert len(g.cache) == 2
    assert g.cache.evictions == 1
    assert replay_evictions() == 1
    # The documented limit: the evicted first request is accepted again.
    assert (await call(g, headers=headers, body=invocation_body("inv_1"))).status == 200
    assert (await call(g, headers=headers, body=invocation_body("inv_3"))).status == 401


def test_sizes_are_checked() -> None:
    """A cache or message limit below 1 is a usage error."""
    with pytest.raises(UsageValueError):
        ReplayCache(0)
    with pytest.raises(UsageValueError):
        ReplayGuard(Echo(), max_start_message_bytes=0)
