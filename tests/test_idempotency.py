"""Idempotency keys: how `idempotency_key` builds them and what `check_key` reports."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import logging
import re
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from rea import _invocation, _policy
from rea._idempotency import MAX_KEY_LENGTH, check_key, idempotency_key
from rea._invocation import InvocationState
from rea._policy import Policy, policy_override
from rea.errors import PolicyViolation

INVOCATION = "inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"
OTHER_INVOCATION = "inv_17e8GGxnlK8S5qVpBDyDS8N3eoqTgcSLAV"
DRAWN = uuid.UUID("0b7c1f7e-3f0e-4c53-9a43-5d2f4f0e8a11")
NOT_DRAWN = uuid.UUID("9f1d2c3b-4a5e-4f60-8e71-0a2b3c4d5e6f")
TARGET = "Orders/create"


class Color(str, enum.Enum):  # noqa: UP042 - str() of this kind is "Color.RED", not the value
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Nothing(enum.Enum):
    NONE = None


class FakeContext:
    """A context double: only `request().id` matters to `check_key`."""

    def __init__(self, invocation_id: object = INVOCATION) -> None:
        self.invocation_id = invocation_id

    def request(self) -> SimpleNamespace:
        return SimpleNamespace(id=self.invocation_id)


@pytest.fixture(autouse=True)
def fresh_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No process-wide policy, and every call site may warn again."""
    monkeypatch.setattr(_policy, "_warned_sites", set())
    _policy.set_policy(None)
    yield
    _policy.set_policy(None)


@pytest.fixture
def state() -> Iterator[InvocationState]:
    """A running invocation that drew `DRAWN` with rea.uuid."""
    current = InvocationState(
        service_name="Checkout",
        service_kind="service",
        handler_name="pay",
        handler_kind=None,
        plane=None,
    )
    current.drawn_uuids.add(str(DRAWN))
    token = _invocation._current.set(current)
    try:
        yield current
    finally:
        _invocation._current.reset(token)


@pytest.fixture
def policy_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Warnings of rea's policy logger."""
    caplog.set_level(logging.WARNING, logger="rea.policy")
    return caplog


def _about(caplog: pytest.LogCaptureFixture, rule: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if f"[{rule}]" in r.getMessage()]


# -- idempotency_key -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("order", 42, "charge"), "order:42:charge"),
        (("a:b", "c"), "a%3Ab:c"),
        (("50%", "off"), "50%25:off"),
        (("line\nbreak", "tab\there"), "line%0Abreak:tab%09here"),
        (
            (uuid.UUID("12345678-1234-5678-1234-567812345678"), Color.RED, Level.HIGH),
            "12345678-1234-5678-1234-567812345678:red:3",
        ),
        ((decimal.Decimal("10.50"), 1.5, True), "10.50:1.5:True"),
        (
            (dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)),
            "2024-05-01:2024-05-01T12%3A30%3A00+00%3A00",
        ),
        (("héllo wörld", " padded "), "héllo wörld: padded "),
    ],
)
def test_format_is_fixed(parts: tuple[object, ...], expected: str) -> None:
    """Fixed parts give a fixed key, so any change of format (which breaks dedupe) is caught."""
    assert idempotency_key(*parts) == expected


def test_long_part_is_prefix_and_digest() -> None:
    """A part over 64 characters becomes its first 40 characters, %# and a sha256 digest."""
    assert idempotency_key("x" * 64) == "x" * 64
    assert idempotency_key("x" * 100) == "x" * 40 + "%#09ecb6ebc8bcefc733f6f2ec44f791ab"
    assert idempotency_key("x" * 100 + "y") != idempotency_key("x" * 100 + "z")
    assert idempotency_key(":" * 100) == "%3A" * 40 + "%#27dc9c8a7198fcffcaf21b97f12e3833"


def test_whole_key_is_bounded() -> None:
    """A key over MAX_KEY_LENGTH keeps its start and ends with %* and a digest of the whole."""
    parts = ["y" * 60] * 10
    key = idempotency_key(*parts)
    assert len(key) == MAX_KEY_LENGTH == 256
    assert key.startswith(":".join(["y" * 60] * 3) + ":")
    assert key.endswith("%*77f8f27338ca295fdfe8b5cb62dd74e1")
    assert idempotency_key(*parts[:-1], "y" * 59 + "z") != key


def test_bound_never_cuts_an_escape_in_half() -> None:
    """Shortening a key full of escapes cuts between escape sequences."""
    key = idempotency_key(*[":" * 30] * 5)
    assert len(key) <= MAX_KEY_LENGTH
    prefix, digest = key.split("%*")
    assert re.fullmatch(r"(%3A|:)*", prefix)
    assert re.fullmatch(r"[0-9a-f]{32}", digest)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("a:b", "c"), ("a", "b:c")),
        (("a%3Ab",), ("a:b",)),
        (("a", "b"), ("a:b",)),
        (("a%", "b"), ("a", "%b")),
        (("x" * 40 + "%#09ecb6ebc8bcefc733f6f2ec44f791ab",), ("x" * 100,)),
        (("order", "4", "2"), ("order", "42")),
    ],
)
def test_different_parts_never_collide(left: tuple[str, ...], right: tuple[str, ...]) -> None:
    """Separators, escapes and digest markers inside parts cannot forge another key."""
    assert idempotency_key(*left) != idempotency_key(*right)


@pytest.mark.parametrize(
    "parts",
    [(), (None,), ("",), ("   ",), ("order", None), ("order", "\t\n"), (Nothing.NONE,)],
)
def test_missing_parts_are_rejected(parts: tuple[object, ...]) -> None:
    """No parts, None, and empty or blank parts raise ValueError."""
    with pytest.raises(ValueError):
        idempotency_key(*parts)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_floats_are_rejected(value: float) -> None:
    """nan and inf are not identifiers."""
    with pytest.raises(ValueError, match="finite"):
        idempotency_key("price", value)


@pytest.mark.parametrize("value", [object(), b"bytes", ["list"], SimpleNamespace(id=1)])
def test_parts_without_stable_text_are_rejected(value: object) -> None:
    """Types whose str() may differ between processes raise TypeError."""
    with pytest.raises(TypeError, match="cannot build an idempotency key"):
        idempotency_key("order", value)


@pytest.mark.parametrize(
    "parts",
    [
        ("order", 42, "charge"),
        ("\x00\x01\x7f\x85\u2028",),
        ("\ud800 lone surrogate",),
        ("é" * 300,),
        ("\x00" * 200,),
        tuple(f"part-{i}" for i in range(80)),
    ],
)
def test_built_keys_are_well_formed(parts: tuple[object, ...]) -> None:
    """Whatever the parts, check_key accepts the built key unchanged under STRICT."""
    key = idempotency_key(*parts)
    with policy_override(Policy.STRICT):
        assert check_key(key, ctx=FakeContext(), target=TARGET) == key


# -- check_key: malformed ------------------------------------------------------------------------
def test_no_key_passes_through(state: InvocationState) -> None:
    """None stays None, even under STRICT in a running invocation."""
    with policy_override(Policy.STRICT):
        assert check_key(None, ctx=FakeContext(), target=TARGET) is None


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is empty"),
        ("   ", "is blank"),
        ("k" * (MAX_KEY_LENGTH + 1), "257 characters long"),
        ("order-42\ncharge", "control characters"),
        ("order-42\x00", "control characters"),
    ],
)
def test_malformed_keys_fail_under_strict(key: str, problem: str) -> None:
    """Malformed keys raise PolicyViolation idempotency.malformed naming the target."""
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation) as caught:
        check_key(key, ctx=FakeContext(), target=TARGET)
    assert caught.value.rule == "idempotency.malformed"
    assert TARGET in str(caught.value)
    assert problem in str(caught.value)
    assert "rea.idempotency_key" in caught.value.fix


def test_longest_key_is_accepted() -> None:
    """A key of exactly MAX_KEY_LENGTH characters is well-formed."""
    with policy_override(Policy.STRICT):
        assert check_key("k" * MAX_KEY_LENGTH, ctx=None, target=TARGET) == "k" * MAX_KEY_LENGTH


def test_malformed_key_is_replaced_under_warn(policy_log: pytest.LogCaptureFixture) -> None:
    """Under WARN a well-formed key derived from the bad one is sent, and it is logged once."""
    with policy_override(Policy.WARN):
        sent = [check_key("order-42\ncharge", ctx=FakeContext(), target=TARGET) for _ in "ab"]
    assert sent == ["order-42%0Acharge"] * 2
    logged = _about(policy_log, "idempotency.malformed")
    assert len(logged) == 1
    assert TARGET in logged[0]


def test_long_key_is_replaced_under_warn() -> None:
    """Under WARN a too-long key becomes a bounded one that keeps apart different long keys."""
    with policy_override(Policy.WARN):
        first = check_key("a" * 300, ctx=None, target=TARGET)
        second = check_key("a" * 299 + "b", ctx=None, target=TARGET)
    assert first is not None
    assert second is not None
    assert len(first) <= MAX_KEY_LENGTH
    assert first.startswith("a" * 40)
    assert first != second


@pytest.mark.parametrize("key", ["", " \t "])
def test_blank_key_is_dropped_under_warn(key: str) -> None:
    """Under WARN an empty or blank key is dropped: there is nothing to derive a key from."""
    with policy_override(Policy.WARN):
        assert check_key(key, ctx=FakeContext(), target=TARGET) is None


def test_malformed_key_is_sent_as_given_under_disabled(
    policy_log: pytest.LogCaptureFixture,
) -> None:
    """Under DISABLED rea neither reports nor changes the key."""
    with policy_override(Policy.DISABLED):
        assert check_key("a\nb", ctx=None, target=TARGET) == "a\nb"
    assert _about(policy_log, "idempotency.malformed") == []


def test_non_string_key_is_a_type_error() -> None:
    """A key that is not a str is a programming error, whatever the policy."""
    with policy_override(Policy.DISABLED), pytest.raises(TypeError):
        check_key(42, ctx=None, target=TARGET)  # type: ignore[arg-type]


# -- check_key: redundant ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        INVOCATION,
        f"{INVOCATION}-charge",
        idempotency_key(INVOCATION, "x"),
        idempotency_key("refund", INVOCATION, "x:y"),
        INVOCATION.removeprefix("inv_"),
        idempotency_key(f"{INVOCATION}/" + "z" * 80),
    ],
)
def test_key_from_invocation_id_fails_under_strict(key: str) -> None:
    """A key containing the invocation id (escaping and part digests keep it visible) fails."""
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation) as caught:
        check_key(key, ctx=FakeContext(), target=TARGET)
    assert caught.value.rule == "idempotency.redundant"
    assert TARGET in str(caught.value)
    assert INVOCATION in str(caught.value)
    assert caught.value.fix.startswith("drop the key: calls from a handler are deduplicated")


@pytest.mark.parametrize(
    "key",
    [
        str(DRAWN),
        DRAWN.hex,
        str(DRAWN).upper(),
        idempotency_key("refund", DRAWN),
        f"payment/{DRAWN}/capture",
    ],
)
def test_key_from_drawn_uuid_fails_under_strict(state: InvocationState, key: str) -> None:
    """A key containing a uuid drawn with rea.uuid in this invocation fails, even without ctx."""
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation) as caught:
        check_key(key, ctx=None, target=TARGET)
    assert caught.value.rule == "idempotency.redundant"
    assert str(DRAWN) in str(caught.value)


def test_redundant_key_is_sent_under_warn(
    state: InvocationState, policy_log: pytest.LogCaptureFixture
) -> None:
    """Under WARN the redundant key is sent unchanged (it is harmless) and logged once."""
    key = idempotency_key(INVOCATION, "charge")
    with policy_override(Policy.WARN):
        for _ in range(3):
            assert check_key(key, ctx=FakeContext(), target=TARGET) == key
    logged = _about(policy_log, "idempotency.redundant")
    assert len(logged) == 1
    assert TARGET in logged[0]
    assert "drop the key" in logged[0]


def test_redundant_key_is_silent_under_disabled(
    state: InvocationState, policy_log: pytest.LogCaptureFixture
) -> None:
    """Under DISABLED the redundant key is sent unchanged and nothing is logged."""
    with policy_override(Policy.DISABLED):
        assert check_key(str(DRAWN), ctx=FakeContext(), target=TARGET) == str(DRAWN)
    assert policy_log.records == []


def test_malformed_and_redundant_are_both_reported_under_warn(
    policy_log: pytest.LogCaptureFixture,
) -> None:
    """Under WARN the replacement of a malformed key is checked for redundancy too."""
    with policy_override(Policy.WARN):
        sent = check_key(f"{INVOCATION}\n", ctx=FakeContext(), target=TARGET)
    assert sent == f"{INVOCATION}%0A"
    assert len(_about(policy_log, "idempotency.malformed")) == 1
    assert len(_about(policy_log, "idempotency.redundant")) == 1


@pytest.mark.parametrize(
    "key",
    [
        "order-42:charge",
        idempotency_key("order", 42, "charge"),
        idempotency_key("customer", "alice@example.com", "welcome-email"),
        f"refund:{NOT_DRAWN}",
        idempotency_key("payment", NOT_DRAWN, "capture", 1999),
        idempotency_key("child-of", OTHER_INVOCATION),
        "invoice-2024-05-0001",
        "inv_2024_05",
        idempotency_key("batch", dt.date(2024, 5, 1), Color.RED),
    ],
)
def test_business_keys_are_never_reported(state: InvocationState, key: str) -> None:
    """Keys made of business data, other invocations' ids or undrawn uuids pass under STRICT."""
    before = _policy.violation_counts()
    with policy_override(Policy.STRICT):
        assert check_key(key, ctx=FakeContext(), target=TARGET) == key
    assert _policy.violation_counts() == before


class _NoRequest:
    pass


class _BrokenRequest:
    def request(self) -> object:
        raise RuntimeError("not in a handler")


@pytest.mark.parametrize(
    "ctx", [None, _NoRequest(), _BrokenRequest(), FakeContext(None), FakeContext(42)]
)
def test_contexts_without_an_invocation_id_are_tolerated(ctx: object) -> None:
    """A ctx without request(), whose request() fails, or without a str id is not compared."""
    with policy_override(Policy.STRICT):
        assert check_key(INVOCATION, ctx=ctx, target=TARGET) == INVOCATION
