"""Rejection counters (thread-safe, resettable), answers and log lines."""

from __future__ import annotations

import asyncio
import logging
import threading

from rea.security import REASONS, rejection_counts, replay_evictions, reset_rejection_counts
from rea.security._rejections import Rejector, client_address, count_eviction


async def test_strict_answer_names_the_reason() -> None:
    """Strict answers the reason's status with a short plain-text body naming it."""
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    answered = await Rejector(permissive=False).reject(
        "allowlist.outside", {"path": "/x", "client": ("1.2.3.4", 5)}, send
    )
    assert answered
    assert sent[0]["status"] == 403
    assert (b"content-type", b"text/plain; charset=utf-8") in sent[0]["headers"]  # type: ignore[operator]
    body = sent[1]["body"]
    assert isinstance(body, bytes)
    assert body.startswith(b"rea.security refused this request (403): allowlist.outside: ")


async def test_permissive_sends_nothing() -> None:
    """Permissive counts and logs but answers nothing: the app will."""
    sent: list[object] = []

    async def send(message: object) -> None:
        sent.append(message)

    assert not await Rejector(permissive=True).reject("https.required", {"path": "/"}, send)
    assert sent == []
    assert rejection_counts() == {"https.required": 1}


def test_every_reason_is_a_client_error() -> None:
    """Every reason answers a 4xx: 401 for identity and replay, 403 for transport and network."""
    for reason, (status, meaning) in REASONS.items():
        assert 400 <= status < 500, reason
        assert meaning
        if reason.startswith("identity.") or reason == "replay.seen":
            assert status == 401
        if reason.startswith(("https.", "allowlist.")):
            assert status == 403


def test_counters_are_thread_safe_and_resettable() -> None:
    """Concurrent counting loses nothing; reset clears rejections and evictions."""

    async def noop(message: object) -> None:
        return None

    rejector = Rejector(permissive=True)

    def work() -> None:
        async def many() -> None:
            for _ in range(500):
                await rejector.reject("replay.seen", {"path": "/"}, noop)
                count_eviction()

        asyncio.run(many())

    logging.getLogger("rea.security").disabled = True
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        logging.getLogger("rea.security").disabled = False
    assert rejection_counts() == {"replay.seen": 2000}
    assert replay_evictions() == 2000
    counts = rejection_counts()
    counts["replay.seen"] = 0  # a copy: the live counters are untouched
    assert rejection_counts() == {"replay.seen": 2000}
    reset_rejection_counts()
    assert rejection_counts() == {}
    assert replay_evictions() == 0


def test_client_address() -> None:
    """The peer as host:port, or "unknown"."""
    assert client_address({"client": ("10.0.0.1", 80)}) == "10.0.0.1:80"
    assert client_address({"client": None}) == "unknown"
    assert client_address({}) == "unknown"
