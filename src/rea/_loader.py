"""Loading an ASGI app from a ``module:attribute`` reference."""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from rea.errors import AppStartError

#: An ASGI 3 application: ``await app(scope, receive, send)``.
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def _describe(obj: object) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def is_asgi_app(obj: object) -> bool:
    """Whether `obj` can be called as ``app(scope, receive, send)``."""
    if not callable(obj) or inspect.isclass(obj):
        return False
    try:
        inspect.signature(obj).bind(None, None, None)
    except TypeError:
        return False
    except ValueError:  # builtins without a signature: give them the benefit of the doubt
        return True
    return True


def load_app(reference: str) -> ASGIApp:
    """Import ``module:attr`` (or ``module:attr.sub``) and check that it is an ASGI app.

    Raises:
        AppStartError: the reference is malformed, the module fails to import, the attribute is
            missing, or it is not an ASGI app. The message is one line.
    """
    module_name, sep, attr_path = reference.partition(":")
    if not sep or not module_name or not attr_path:
        raise AppStartError(f"app reference {reference!r} must look like 'package.module:app'")
    if "" not in sys.path:
        # Like `python -m`, resolve modules from the current directory first.
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise AppStartError(f"cannot import module {module_name!r}: {detail}") from exc
    obj: object = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppStartError(f"module {module_name!r} has no attribute {attr_path!r}") from None
    if not is_asgi_app(obj):
        hint = ""
        if _describe(obj).startswith("restate."):
            hint = "; wrap services with restate.app([...]) or rea.app([...])"
        raise AppStartError(
            f"{reference} is a {_describe(obj)}, not an ASGI app (app(scope, receive, send)){hint}"
        )
    app: ASGIApp = obj  # type: ignore[assignment]
    return app
