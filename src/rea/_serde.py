"""Pydantic-backed serdes for handler input and output, state and run results.

The SDK gives only pydantic models and msgspec Structs a typed serde: a dataclass arrives as a
dict, a dataclass or ``list[Model]`` result fails with a retried 500, and input that fails
validation becomes a TerminalError with status 500. Here a pydantic `TypeAdapter` handles every
type pydantic can adapt, and bad input answers 400 after one attempt.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
import threading
import types
import typing
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar, cast

import restate
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError
from pydantic_core import PydanticSerializationError
from typing_extensions import is_typeddict

from rea import _sdk
from rea._sdk import AnyService, DefaultSerde, HandlerRef, Serde
from rea.errors import InvalidInput, OutputSerializationError

__all__ = ["TypeAdapterSerde", "install_serdes", "serde_for"]

T = TypeVar("T")

logger = logging.getLogger("rea.serde")
_JSON_SCALARS = (int, float, str, bool, type(None))
_JSON_CONTAINERS = (list, dict, tuple, typing.Union, types.UnionType, Sequence, Mapping)
_lock = threading.Lock()
_rejections: Counter[str] = Counter()
# A message listing a thousand bad list items helps nobody; `errors` still has all of them.
_MAX_LISTED_ERRORS = 5
_TYPED_DICT_FIX = (
    "pydantic cannot validate typing.TypedDict on Python < 3.12; "
    "define it with `from typing_extensions import TypedDict` instead"
)


def _build_adapter(type_: Any) -> TypeAdapter[Any]:
    try:
        return TypeAdapter(type_)
    except PydanticUserError as exc:
        if exc.code == "typed-dict-version":
            raise TypeError(_TYPED_DICT_FIX) from exc
        raise


_cached_adapter = functools.cache(_build_adapter)


def _adapter(type_: Any) -> TypeAdapter[Any]:
    """The TypeAdapter for `type_`, built once per hashable type."""
    try:
        hash(type_)
    except TypeError:
        # e.g. Annotated[...] with unhashable metadata: build it each time rather than fail.
        return _build_adapter(type_)
    return _cached_adapter(type_)


def _label(type_: Any) -> str:
    if isinstance(type_, type) and typing.get_origin(type_) is None:
        return type_.__qualname__
    return repr(type_).replace("typing.", "")


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    # 'ctx' can hold exception objects, and 'input' may echo secrets back to the caller.
    return [
        {"loc": e["loc"], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]


def _describe(errors: Sequence[Mapping[str, Any]]) -> str:
    parts = [
        ".".join(str(p) for p in e["loc"]) + f": {e['msg']}" if e["loc"] else str(e["msg"])
        for e in errors[:_MAX_LISTED_ERRORS]
    ]
    if len(errors) > _MAX_LISTED_ERRORS:
        parts.append(f"and {len(errors) - _MAX_LISTED_ERRORS} more")
    return "; ".join(parts)


class TypeAdapterSerde(Serde[T]):
    """A Restate serde that validates and dumps JSON with a pydantic `TypeAdapter`.

    Covers everything pydantic can adapt: primitives, models, dataclasses, ``list[Model]``,
    TypedDicts, ``Optional[...]`` and unions. Empty bytes and None map to each other.
    """

    def __init__(self, type_: Any) -> None:
        self.type = type_
        self._adapter: TypeAdapter[T] = _adapter(type_)
        self._label = _label(type_)

    @property
    def adapter(self) -> TypeAdapter[T]:
        """The (shared, cached) TypeAdapter behind this serde."""
        return self._adapter

    def serialize(self, obj: T | None) -> bytes:
        """Dump `obj` as JSON; raise `OutputSerializationError` if it does not fit the type.

        The bytes are the SDK's for the same value: a pydantic model as ``model_dump_json()``
        writes it (compact), anything else as ``json.dumps`` writes it (``{"a": 1}``).
        """
        if obj is None:
            return b""
        try:
            return self._dump(obj)
        except PydanticSerializationError:
            pass
        # Validate, then dump: a dict shaped like the declared model is the user's obvious intent.
        try:
            return self._dump(self._adapter.validate_python(obj))
        except ValidationError as exc:
            detail = _describe(_errors(exc))
        except ValueError as exc:  # PydanticSerializationError, circular references
            detail = str(exc)
        raise OutputSerializationError(
            f"cannot serialize {type(obj).__qualname__} as {self._label}: {detail}"
        )

    def _dump(self, obj: Any) -> bytes:
        if isinstance(obj, BaseModel):
            return self._adapter.dump_json(cast(T, obj), warnings="error")
        plain = self._adapter.dump_python(obj, mode="json", warnings="error")
        return json.dumps(plain).encode()

    def deserialize(self, buf: bytes) -> T | None:
        """Validate JSON `buf` into the type; raise `InvalidInput` naming the bad fields."""
        if not buf:
            return None
        try:
            return self._adapter.validate_json(buf)
        except ValidationError as exc:
            errors = _errors(exc)
            raise InvalidInput(f"invalid input: {_describe(errors)}", errors=errors) from exc

    def json_schema(
        self, *, mode: Literal["validation", "serialization"] = "validation"
    ) -> dict[str, Any]:
        """The JSON schema of the type, as discovery shows it."""
        return self._adapter.json_schema(mode=mode)

    def check(self, buf: bytes) -> None:
        """Check JSON `buf` against the type in pydantic's strict mode (no coercion).

        Raises:
            InvalidInput: naming the bad fields.
        """
        try:
            self._adapter.validate_json(buf, strict=True)
        except ValidationError as exc:
            errors = _errors(exc)
            raise InvalidInput(f"invalid input: {_describe(errors)}", errors=errors) from exc

    def accepts_none(self) -> bool:
        """Whether None is a valid value (Optional, Any, unions with None)."""
        try:
            self._adapter.validate_python(None)
        except ValidationError:
            return False
        return True


@functools.cache
def _cached_serde(type_: Any) -> Serde[Any]:
    try:
        return TypeAdapterSerde[Any](type_)
    except PydanticSchemaGenerationError:
        # msgspec Structs and arbitrary classes: the SDK's own strategy is the best we have.
        return DefaultSerde(type_)


def serde_for(type_: Any) -> Serde[Any]:
    """The serde for values of `type_`: a `TypeAdapterSerde` whenever pydantic can adapt it.

    Types pydantic cannot adapt (msgspec Structs, arbitrary classes) get the SDK's
    `DefaultSerde`. Raises TypeError for a ``typing.TypedDict`` on Python < 3.12.
    """
    try:
        hash(type_)
    except TypeError:
        return _cached_serde.__wrapped__(type_)
    return _cached_serde(type_)


class _RawInput(Serde[Any]):
    """Input serde that hands the raw body to the validating wrapper around the handler.

    The SDK turns any exception from ``input_serde.deserialize`` into a 500, so validation must
    happen inside the handler function. Callers (``ctx.service_call``, the SDK's client) still
    serialize typed arguments through this serde, which is why it is not a plain `BytesSerde`.
    """

    def __init__(self, typed: Serde[Any]) -> None:
        self.typed = typed

    def deserialize(self, buf: bytes) -> bytes:
        """Return the body untouched."""
        return buf

    def serialize(self, obj: Any) -> bytes:
        """Serialize a caller's argument with the typed serde."""
        return self.typed.serialize(obj)


def _handler_serde(annotation: Any, handler: HandlerRef) -> TypeAdapterSerde[Any] | None:
    """A typed serde for `annotation`, or None to keep the SDK's (with a warning if needed)."""
    try:
        return TypeAdapterSerde[Any](annotation)
    except TypeError as exc:  # typing.TypedDict on Python < 3.12
        logger.warning(
            "rea.app: handler %s/%s keeps the SDK's serde (no validation): %s",
            handler.service,
            handler.name,
            exc,
        )
        return None
    except PydanticSchemaGenerationError:
        # msgspec Structs and arbitrary classes: the SDK's own strategy is the best we have.
        return None


def _has_typed_dict(annotation: Any) -> bool:
    """Whether `annotation` is, or contains (``list[TD]``, ``TD | None``), a TypedDict."""
    if is_typeddict(annotation):
        return True
    return any(_has_typed_dict(arg) for arg in typing.get_args(annotation))


def _missing_input() -> InvalidInput:
    errors = [{"loc": (), "msg": "missing input", "type": "missing"}]
    return InvalidInput("invalid input: missing input", errors=errors)


# JSON (RFC 8259) has no NaN or Infinity, yet json and pydantic read them, and read 1e999 as
# inf: in a handler's arithmetic each is a retried 500 instead of the caller's 400. A body that
# may hold one (digits read as 0: NaN, Infinity, a 3-digit exponent, or the 200 digits in a row
# that 1.8e308 needs with a 2-digit exponent) is parsed once more, with checks, to find out.
_NUMBER_SHAPES = bytes.maketrans(b"123456789E", b"000000000e")


def _maybe_non_json_number(raw: bytes) -> bool:
    if b"NaN" in raw or b"Infinity" in raw:
        return True
    shapes = raw.translate(_NUMBER_SHAPES)
    return b"e000" in shapes or b"e+000" in shapes or b"0" * 200 in shapes


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _in_range(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def checked(text: str) -> Any:
        value = parse(text)
        if not -sys.float_info.max <= value <= sys.float_info.max:
            raise ValueError(f"number {text[:24]} is beyond the range of a 64-bit float")
        return value

    return checked


_FLOAT, _INT = _in_range(float), _in_range(int)


def _read_json(raw: bytes) -> Any:
    """The SDK's reading of an untyped input (`json.loads`; empty is None), with 400s."""
    if not raw:
        return None
    try:
        if _maybe_non_json_number(raw):
            return json.loads(raw, parse_constant=_no_constant, parse_float=_FLOAT, parse_int=_INT)
        return json.loads(raw)
    # JSONDecodeError, UnicodeDecodeError for non-UTF-8 bytes, the checks above, and json's C
    # parser recursing once per level of nesting ([[[[...).
    except (ValueError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        errors = [{"loc": (), "msg": f"not JSON: {detail}", "type": "json_invalid"}]
        raise InvalidInput(f"invalid input: not JSON: {detail}", errors=errors) from exc


def _validating_reader(serde: TypeAdapterSerde[Any]) -> Callable[[bytes], Any]:
    accepts_none = serde.accepts_none()
    deserialize = serde.deserialize

    def read(raw: bytes) -> Any:
        if raw:
            if _maybe_non_json_number(raw):
                _read_json(raw)  # raises for NaN, Infinity and 1e999, which pydantic reads
            return deserialize(raw)
        if accepts_none:
            return None
        raise _missing_input()

    return read


def _rejected(ctx: restate.Context, handler: HandlerRef, exc: InvalidInput) -> None:
    """Log and count input that failed validation: a one-way send has no caller to tell."""
    target = f"{handler.service}/{handler.name}"
    with _lock:
        _rejections[target] += 1
    request = getattr(ctx, "request", None)  # None when a test calls the handler directly
    invocation = request().id if callable(request) else "?"
    logger.warning("rejected input of %s (invocation %s): %s", target, invocation, exc.message)


def rejection_counts() -> dict[str, int]:
    """Inputs rejected by validation in this process, per ``service/handler`` (for metrics)."""
    with _lock:
        return dict(_rejections)


def _install_input(
    handler: HandlerRef,
    serde: Serde[Any],
    read: Callable[[bytes], Any],
    *,
    none_is_missing: bool = False,
) -> None:
    """Give `handler` rea's reading of its input.

    With `none_is_missing`, an empty body still reaches the handler as None, as under the SDK
    (handlers that ignore a declared parameter are called without a body); if the handler
    then fails with an ordinary exception, that failure is the missing input's: a 400 instead
    of the retried 500 the SDK gives.
    """
    original = cast(Callable[[restate.Context, Any], Awaitable[Any]], handler.fn)

    @functools.wraps(original)
    async def fn(ctx: restate.Context, raw: bytes) -> Any:
        try:
            value = read(raw)
        except InvalidInput as exc:
            _rejected(ctx, handler, exc)
            raise
        if raw or not none_is_missing:
            return await original(ctx, value)
        try:
            return await original(ctx, None)
        except Exception as exc:
            if restate.is_internal_exception(exc) or isinstance(exc, restate.TerminalError):
                raise
            missing = _missing_input()
            _rejected(ctx, handler, missing)
            raise missing from exc

    # arity stays 2, so the SDK passes the raw body (from _RawInput) to `fn`.
    handler.fn = fn
    handler.input_serde = _RawInput(serde)


def _install_handler(handler: HandlerRef, validation: str) -> None:
    # The SDK's type hint holds the annotation without Optional, so read the signature again.
    signature = inspect.signature(handler.fn, eval_str=True)
    in_type, out_type = handler.input_type, handler.output_type
    if handler.arity == 2 and in_type is not None and not in_type.is_void:
        annotation = list(signature.parameters.values())[-1].annotation
        if annotation is not inspect.Parameter.empty and _sdk.sdk_chose_serde(
            handler.input_serde, in_type.annotation
        ):
            _install_typed_input(handler, annotation, validation)
    returns = signature.return_annotation
    if (
        out_type is not None
        and not out_type.is_void
        and _sdk.sdk_chose_serde(handler.output_serde, out_type.annotation)
        # Plain JSON values and TypedDicts (plain dicts): the SDK's json.dumps already writes
        # them as is; a dump through pydantic would coerce (3 -> 3.0 for a float result).
        and not (validation == "compatible" and (_has_typed_dict(returns) or _json_only(returns)))
    ):
        serde = _handler_serde(returns, handler)
        if serde is not None:
            handler.output_serde = serde
            handler.set_schemas(
                output_schema=functools.partial(serde.json_schema, mode="serialization")
            )


def _checking_reader(serde: TypeAdapterSerde[Any]) -> Callable[[bytes], Any]:
    check = serde.check

    def read(raw: bytes) -> Any:
        value = _read_json(raw)
        if raw:
            check(raw)  # the type, strictly: "42" is no int, 1 is no bool
        return value  # as the SDK hands it over: 3 stays 3 for a float, a list stays a list

    return read


def _takes_none(annotation: Any) -> bool:
    return annotation is Any or type(None) in typing.get_args(annotation)


def _json_only(annotation: Any) -> bool:
    """Whether `annotation` describes plain JSON values only (no models, dates, enums...)."""
    if annotation is Any or annotation in _JSON_SCALARS or annotation in (list, dict, tuple):
        return True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return True
    if origin is typing.Annotated:
        return _json_only(args[0])
    if origin in _JSON_CONTAINERS:
        return all(arg is Ellipsis or _json_only(arg) for arg in args)
    return False


def _install_typed_input(handler: HandlerRef, annotation: Any, validation: str) -> None:
    if validation == "compatible" and _has_typed_dict(annotation):
        # Read as the SDK reads it (handlers use .get() on keys callers may omit), except
        # that a body that is not JSON is the caller's fault: a 400, not a 500.
        typed = _handler_serde_quiet(annotation)
        _install_input(
            handler,
            typed or DefaultSerde(),
            _read_json,
            none_is_missing=not _takes_none(annotation),
        )
        return
    serde = _handler_serde(annotation, handler)
    if serde is None:
        return
    if validation == "compatible" and _json_only(annotation):
        # Checked, not converted: the handler gets the value the SDK would hand it (and an
        # empty body is None, as there), so working code sees no difference at all.
        _install_input(
            handler, serde, _checking_reader(serde), none_is_missing=not serde.accepts_none()
        )
    else:
        _install_input(handler, serde, _validating_reader(serde))
    handler.set_schemas(input_schema=serde.json_schema)


def _handler_serde_quiet(annotation: Any) -> TypeAdapterSerde[Any] | None:
    try:
        return TypeAdapterSerde[Any](annotation)
    except (TypeError, PydanticSchemaGenerationError):
        return None


def install_serdes(service: AnyService, *, validation: str = "compatible") -> None:
    """Give every typed handler of `service` pydantic serdes, 400s for bad input and schemas.

    Internal: `rea.app` calls it on its copy of each service. Untyped handlers and serdes the
    user passed to the decorator are left as they are; a second call changes nothing. A type
    pydantic cannot validate here (``typing.TypedDict`` on Python < 3.12 under ``"strict"``)
    keeps the SDK's serde, with one warning naming the handler and the fix.
    """
    for handler in _sdk.handlers(service).values():
        _install_handler(handler, validation)
