"""Compensation forms and declarations (`rea.compensation`)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import restate
from pydantic import BaseModel

import rea
from rea import _compensations as comp


class Hold(BaseModel):
    sku: str


def plain(payload: Hold, key: str) -> None:
    return None


async def plain_async(payload: int, key: str) -> None:
    return None


async def with_context(ctx: restate.Context, payload: Hold, key: str) -> None:
    return None


def test_plain_functions_take_payload_and_key() -> None:
    """(payload, key), sync or async, is the plain form; the payload type is its annotation."""
    assert comp.form_of(plain) == comp.Form(takes_context=False, payload_type=Hold)
    assert comp.form_of(plain_async) == comp.Form(takes_context=False, payload_type=int)
    assert comp.form_of(lambda p, k: None) == comp.Form(takes_context=False, payload_type=Any)


def test_context_form_takes_ctx_first() -> None:
    """(ctx, payload, key) is the context form, with the payload type of its second parameter."""
    assert comp.form_of(with_context) == comp.Form(takes_context=True, payload_type=Hold)
    bound = functools.partial(with_context)
    assert comp.form_of(bound).takes_context


def test_context_form_must_be_async() -> None:
    """A sync function taking the context is refused: its calls must be awaited."""

    def sync_with_context(ctx: Any, payload: Any, key: str) -> None:
        return None

    with pytest.raises(TypeError, match="async def"):
        comp.form_of(sync_with_context)


@pytest.mark.parametrize("fn", [lambda: None, lambda a: None, lambda a, b, c, d: None, 42])
def test_other_shapes_are_refused(fn: Any) -> None:
    """Anything but the two forms is a TypeError naming both."""
    with pytest.raises(TypeError, match=r"\(payload, key\)|callable"):
        comp.form_of(fn)


def test_declared_by_saga_and_step_or_by_name() -> None:
    """Both declarations return the function unchanged and make it findable by name."""
    decorated = rea.compensation("unit-saga", "reserve")(plain)
    assert decorated is plain
    assert comp.lookup("unit-saga/reserve") is not None
    assert comp.declared_for_step("unit-saga", "reserve") is not None
    assert comp.name_of(plain) == "unit-saga/reserve"
    rea.compensation(name="unit.with-context")(with_context)
    found = comp.lookup("unit.with-context")
    assert found is not None
    assert found.fn is with_context
    assert found.form.takes_context
    assert comp.name_of(with_context) == "unit.with-context"


def test_undeclared_functions_have_no_name() -> None:
    """A lambda or closure has no declared name: its dead letters cannot be retried."""
    assert comp.name_of(lambda p, k: None) == ""
    assert comp.lookup("") is None
    assert comp.lookup("os:remove") is None


def test_one_name_one_function() -> None:
    """Declaring another function under a taken name fails at import time."""
    rea.compensation(name="unit.taken")(plain_async)
    rea.compensation(name="unit.taken")(plain_async)  # the same function again is fine
    with pytest.raises(ValueError, match="already declared"):
        rea.compensation(name="unit.taken")(plain)


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((), {}, TypeError),
        (("saga",), {"name": "x"}, TypeError),
        (("saga",), {}, ValueError),
        ((), {"name": " "}, ValueError),
    ],
)
def test_declaration_needs_saga_and_step_or_a_name(
    args: tuple[str, ...], kwargs: dict[str, str], error: type[Exception]
) -> None:
    """Neither, both, half of (saga, step), or a blank name: refused."""
    with pytest.raises(error):
        rea.compensation(*args, **kwargs)
