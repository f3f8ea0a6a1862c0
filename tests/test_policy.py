"""The policy: where it comes from, how overrides nest, and what `violation` does."""

from __future__ import annotations

import asyncio
import logging

import pytest

import rea
from rea import _policy
from rea._policy import Policy, violation


@pytest.fixture(autouse=True)
def clean_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from the environment, with no CI and no policy variable."""
    monkeypatch.delenv("RESTATE_FRAMEWORK_POLICY", raising=False)
    monkeypatch.delenv("CI", raising=False)
    rea.set_policy(None)


def test_default_is_warn() -> None:
    """With nothing configured, the policy is WARN."""
    assert rea.get_policy() is Policy.WARN


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes"])
def test_truthy_ci_means_strict(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """A truthy CI variable selects STRICT."""
    monkeypatch.setenv("CI", value)
    assert rea.get_policy() is Policy.STRICT


@pytest.mark.parametrize("value", ["false", "0", "no", ""])
def test_falsy_ci_does_not(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """CI=false (or 0, no, empty) keeps the default."""
    monkeypatch.setenv("CI", value)
    assert rea.get_policy() is Policy.WARN


@pytest.mark.parametrize(
    ("value", "expected"),
    [("strict", Policy.STRICT), ("WARN", Policy.WARN), (" disabled ", Policy.DISABLED)],
)
def test_env_variable_names_the_policy(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: Policy
) -> None:
    """RESTATE_FRAMEWORK_POLICY is read case-insensitively and wins over CI."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("RESTATE_FRAMEWORK_POLICY", value)
    assert rea.get_policy() is expected


def test_unknown_env_value_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown policy name means STRICT, with a warning."""
    monkeypatch.setenv("RESTATE_FRAMEWORK_POLICY", "lenient")
    with pytest.warns(RuntimeWarning, match="lenient"):
        assert rea.get_policy() is Policy.STRICT


def test_set_policy_wins_over_env_and_none_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    """set_policy overrides the environment until set_policy(None)."""
    monkeypatch.setenv("RESTATE_FRAMEWORK_POLICY", "strict")
    rea.set_policy("disabled")
    assert rea.get_policy() is Policy.DISABLED
    rea.set_policy(None)
    assert rea.get_policy() is Policy.STRICT


def test_set_policy_rejects_unknown_names() -> None:
    """set_policy with a bad name raises instead of guessing."""
    with pytest.raises(ValueError, match="unknown policy"):
        rea.set_policy("sometimes")


def test_override_nests_and_restores() -> None:
    """policy_override applies inside its block only, and nests."""
    rea.set_policy(Policy.STRICT)
    with rea.policy_override("warn"):
        assert rea.get_policy() is Policy.WARN
        with rea.policy_override(Policy.DISABLED):
            assert rea.get_policy() is Policy.DISABLED
        assert rea.get_policy() is Policy.WARN
    assert rea.get_policy() is Policy.STRICT


async def test_override_is_task_local() -> None:
    """Concurrent tasks see only their own override."""
    rea.set_policy(Policy.STRICT)
    seen: dict[str, Policy] = {}
    gate = asyncio.Event()

    async def worker(name: str, policy: Policy) -> None:
        with rea.policy_override(policy):
            await gate.wait()
            seen[name] = rea.get_policy()

    tasks = [
        asyncio.create_task(worker("a", Policy.WARN)),
        asyncio.create_task(worker("b", Policy.DISABLED)),
    ]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert seen == {"a": Policy.WARN, "b": Policy.DISABLED}
    assert rea.get_policy() is Policy.STRICT


def test_strict_raises_a_terminal_policy_violation() -> None:
    """STRICT raises PolicyViolation naming the rule and the fix, with status 500."""
    with pytest.raises(rea.PolicyViolation) as info:
        violation("demo.rule", "something happened", fix="do the other thing", policy=Policy.STRICT)
    error = info.value
    assert error.rule == "demo.rule"
    assert error.status_code == 500
    assert "[demo.rule] something happened" in error.message
    assert "Fix: do the other thing" in error.message


def test_warn_logs_once_per_call_site(caplog: pytest.LogCaptureFixture) -> None:
    """WARN logs the first time a call site fires and counts every time."""
    before = rea.violation_counts().get("demo.warn", 0)
    with caplog.at_level(logging.WARNING, logger="rea.policy"):
        for _ in range(3):  # one call site, three times
            assert violation("demo.warn", "happened", fix="fix it", policy=Policy.WARN)
        violation("demo.warn", "happened", fix="fix it", policy=Policy.WARN)  # another site
    messages = [r.getMessage() for r in caplog.records if "demo.warn" in r.getMessage()]
    assert len(messages) == 2
    assert "Fix: fix it" in messages[0]
    assert rea.violation_counts()["demo.warn"] == before + 4


def test_disabled_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    """DISABLED neither logs nor counts."""
    before = rea.violation_counts().get("demo.off", 0)
    with caplog.at_level(logging.WARNING, logger="rea.policy"):
        assert violation("demo.off", "x", fix="y", policy=Policy.DISABLED) is Policy.DISABLED
    assert caplog.records == []
    assert rea.violation_counts().get("demo.off", 0) == before


def test_replays_are_neither_logged_nor_counted(caplog: pytest.LogCaptureFixture) -> None:
    """While Restate replays a journal, a violation is not logged and not counted again."""
    from restate.server_context import restate_context_is_replaying

    token = restate_context_is_replaying.set(True)
    try:
        with caplog.at_level(logging.WARNING, logger="rea.policy"):
            violation("demo.replay", "x", fix="y", policy=Policy.WARN)
    finally:
        restate_context_is_replaying.reset(token)
    assert rea.violation_counts().get("demo.replay", 0) == 0
    assert caplog.records == []
    assert _policy.logger.name == "rea.policy"
