"""Loading `module:attr` app references."""

from __future__ import annotations

import pytest

from rea._loader import is_asgi_app, load_app
from rea.errors import AppStartError


async def _asgi(scope: object, receive: object, send: object) -> None:
    return None


def test_asgi_callables_are_recognised() -> None:
    """A three-argument callable is an ASGI app; classes and other callables are not."""
    assert is_asgi_app(_asgi)
    assert not is_asgi_app(lambda: None)
    assert not is_asgi_app(object)
    assert not is_asgi_app(42)


def test_loads_a_module_attribute() -> None:
    """`module:attr.sub` resolves through attributes."""
    app = load_app("tests.integration.apps.kinds:app")
    assert is_asgi_app(app)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("nocolon", "must look like"),
        (":app", "must look like"),
        ("tests.integration.apps.kinds:", "must look like"),
        ("tests.integration.apps.kinds:nope", "has no attribute 'nope'"),
        ("tests.integration.apps.kinds:greeter", "restate.app([...])"),
        ("tests.integration.apps.missing:app", "cannot import module"),
    ],
)
def test_bad_references_fail_with_one_line(reference: str, message: str) -> None:
    """Each malformed or wrong reference gets an AppStartError with a one-line message."""
    with pytest.raises(AppStartError) as info:
        load_app(reference)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
