"""`guard_action`: the ``ctx.inside_run`` mark around run actions, and its fix text."""

from __future__ import annotations

import asyncio

import pytest

from rea import Policy, PolicyViolation, policy_override
from rea._invocation import check_usable, guard_action, in_run

DEFAULT_FIX = "do the context call before or after the run"


def _use_ctx() -> str | None:
    """Stands in for an action that touches the context: the common guard, then the run's name."""
    check_usable("ctx.sleep()")
    return in_run()


def test_default_fix_names_the_run_and_says_to_move_the_call() -> None:
    """Without `fix`, the violation keeps its usual fix text and names the run."""
    action = guard_action("charge", _use_ctx, bounded=True)
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation) as caught:
        action()
    assert caught.value.rule == "ctx.inside_run"
    assert "inside the run action 'charge'" in caught.value.message
    assert caught.value.fix.startswith(DEFAULT_FIX)


def test_given_fix_is_the_fix_of_the_violation() -> None:
    """With `fix`, a context use inside the action is reported with that fix."""
    action = guard_action("refund", _use_ctx, bounded=True, fix="make it a handler compensation")
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation) as caught:
        action()
    assert caught.value.fix == "make it a handler compensation"
    assert "'refund'" in caught.value.message
    assert caught.value.message.endswith("Fix: make it a handler compensation")


async def test_given_fix_applies_to_async_actions() -> None:
    """Async actions carry the fix too, and the mark ends with the action."""

    async def action() -> str | None:
        await asyncio.sleep(0)
        return _use_ctx()

    guarded = guard_action("release", action, bounded=True, fix="call the object from ctx")
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation, match="call the object"):
        await guarded()
    assert in_run() is None


def test_the_mark_is_the_run_name_and_ends_with_the_action() -> None:
    """`in_run()` names the run while the action runs (with or without a fix), else None."""
    with policy_override(Policy.DISABLED):
        assert guard_action("a", _use_ctx, bounded=True)() == "a"
        assert guard_action("b", _use_ctx, bounded=True, fix="x")() == "b"
    assert in_run() is None


def test_outside_a_run_nothing_fires() -> None:
    """The common guard outside any action (and outside a handler) is silent."""
    with policy_override(Policy.STRICT):
        assert _use_ctx() is None
