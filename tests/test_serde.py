"""rea's pydantic serdes and `install_serdes`, without a server."""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from typing import Any, Optional

import msgspec
import pytest
import restate
from pydantic import BaseModel
from restate.discovery import compute_discovery_json
from restate.endpoint import Endpoint
from restate.handler import Handler, handler_from_callable, invoke_handler
from restate.serde import DefaultSerde, JsonSerde
from typing_extensions import TypedDict

from rea._serde import TypeAdapterSerde, install_serdes, rejection_counts, serde_for
from rea.errors import InvalidInput, OutputSerializationError


class Item(BaseModel):
    sku: str
    price: float


@dataclasses.dataclass
class Address:
    street: str
    city: str


class Point(TypedDict):
    x: int
    y: int


class OldPoint(typing.TypedDict):
    x: int


class Cart(BaseModel):
    items: list[Item]


class Struct(msgspec.Struct):
    a: int


@pytest.mark.parametrize(
    ("type_", "value", "wire"),
    [
        (int, 7, b"7"),
        (str, "Ada", b'"Ada"'),
        (Item, Item(sku="A1", price=2.5), b'{"sku":"A1","price":2.5}'),
        (
            Address,
            Address("1 Main St", "Springfield"),
            b'{"street": "1 Main St", "city": "Springfield"}',
        ),
        (list[Item], [Item(sku="B", price=1.0)], b'[{"sku": "B", "price": 1.0}]'),
        (Point, {"x": 1, "y": 2}, b'{"x": 1, "y": 2}'),
        (Optional[Item], Item(sku="C", price=3.0), b'{"sku":"C","price":3.0}'),  # noqa: UP045
    ],
    ids=["int", "str", "model", "dataclass", "list-model", "typeddict", "optional-model"],
)
def test_round_trip(type_: Any, value: Any, wire: bytes) -> None:
    """A value serializes to the SDK's JSON and comes back equal and of the same type."""
    serde = TypeAdapterSerde[Any](type_)
    assert serde.serialize(value) == wire
    back = serde.deserialize(wire)
    assert back == value
    assert type(back) is type(value)


@pytest.mark.parametrize(
    "value",
    [{"a": 1, "b": [1, 2.5, None]}, ["é", "日本"], "naïve", 1.0, 10**20, True, {"n": {"k": []}}],
)
def test_same_bytes_as_the_sdk(value: Any) -> None:
    """Plain JSON values are written byte for byte as the SDK's DefaultSerde writes them."""
    assert TypeAdapterSerde[Any](Any).serialize(value) == DefaultSerde().serialize(value)
    assert TypeAdapterSerde[Any](type(value)).serialize(value) == DefaultSerde().serialize(value)


def test_models_are_written_as_the_sdk_writes_them() -> None:
    """A pydantic model is compact JSON, as model_dump_json (the SDK's choice for models)."""
    cart = Cart(items=[Item(sku="é", price=1.0)])
    assert TypeAdapterSerde[Cart](Cart).serialize(cart) == cart.model_dump_json().encode()


def test_none_maps_to_empty_bytes() -> None:
    """None serializes to b"" and b"" deserializes to None, as everywhere in the SDK."""
    serde = TypeAdapterSerde[Item | None](Item | None)
    assert serde.serialize(None) == b""
    assert serde.deserialize(b"") is None
    assert serde.deserialize(b"null") is None


def test_invalid_input_names_the_field() -> None:
    """A validation failure is an InvalidInput (status 400) whose message names the field."""
    serde = TypeAdapterSerde[Cart](Cart)
    with pytest.raises(InvalidInput) as info:
        serde.deserialize(b'{"items": [{"sku": "A", "price": "cheap"}]}')
    err = info.value
    assert err.status_code == 400
    assert isinstance(err, restate.TerminalError)
    assert str(err).startswith("invalid input: items.0.price: Input should be a valid number")
    assert err.errors == [
        {
            "loc": ("items", 0, "price"),
            "msg": "Input should be a valid number, unable to parse string as a number",
            "type": "float_parsing",
        }
    ]


def test_invalid_json_is_invalid_input() -> None:
    """Malformed JSON is an InvalidInput too, not a generic error."""
    with pytest.raises(InvalidInput, match="invalid input: Invalid JSON"):
        TypeAdapterSerde[int](int).deserialize(b"{nope")


def test_many_errors_are_summarized() -> None:
    """The message lists a few errors and counts the rest; `errors` keeps them all."""
    with pytest.raises(InvalidInput) as info:
        TypeAdapterSerde[list[int]](list[int]).deserialize(json.dumps(["x"] * 8).encode())
    assert str(info.value).endswith("; and 3 more")
    assert len(info.value.errors) == 8


def test_output_that_does_not_fit_is_an_error() -> None:
    """A value that does not fit the declared type raises OutputSerializationError (500)."""
    with pytest.raises(OutputSerializationError) as info:
        TypeAdapterSerde[int](int).serialize("not a number")  # type: ignore[arg-type]
    assert info.value.status_code == 500
    assert "cannot serialize str as int" in str(info.value)


def test_output_dict_shaped_like_the_model_is_accepted() -> None:
    """A dict with the model's fields is validated and dumped rather than rejected."""
    serde = TypeAdapterSerde[Item](Item)
    assert serde.serialize({"sku": "A", "price": 1}) == b'{"sku":"A","price":1.0}'  # type: ignore[arg-type]


def test_serde_for_caches_and_falls_back() -> None:
    """serde_for reuses one serde per type and leaves types pydantic cannot adapt to the SDK."""
    assert serde_for(list[Item]) is serde_for(list[Item])
    assert isinstance(serde_for(Address), TypeAdapterSerde)
    assert type(serde_for(Struct)) is DefaultSerde


def test_json_schema_modes() -> None:
    """json_schema gives pydantic's schema for both modes."""
    schema = TypeAdapterSerde[list[Item]](list[Item]).json_schema()
    assert schema["type"] == "array"
    assert schema["items"] == {"$ref": "#/$defs/Item"}
    assert "Item" in TypeAdapterSerde[Item](Item).json_schema(mode="serialization")["title"]


def _service() -> restate.Service:
    svc = restate.Service("Shop")

    @svc.handler()
    async def checkout(ctx: restate.Context, address: Address) -> list[Item]:
        return [Item(sku=address.city, price=1.0)]

    @svc.handler()
    async def maybe(ctx: restate.Context, item: Item | None) -> Item | None:
        return item

    @svc.handler()
    async def untyped(ctx, body):  # type: ignore[no-untyped-def]
        return body

    @svc.handler(input_serde=JsonSerde(), output_serde=JsonSerde())
    async def explicit(ctx: restate.Context, address: Address) -> Address:
        return address

    @svc.handler()
    async def nothing(ctx: restate.Context) -> None:
        return None

    return svc


async def test_installed_handler_returns_typed_output() -> None:
    """After install_serdes a dataclass input arrives as a dataclass and list[Model] serializes."""
    svc = _service()
    install_serdes(svc)
    out = await invoke_handler(svc.handlers["checkout"], None, b'{"street":"s","city":"Oslo"}')
    assert json.loads(out) == [{"sku": "Oslo", "price": 1.0}]


async def test_installed_handler_rejects_bad_input_with_400() -> None:
    """Bad input raises InvalidInput (400) from the handler, not the SDK's parse error (500)."""
    svc = _service()
    install_serdes(svc)
    with pytest.raises(InvalidInput) as info:
        await invoke_handler(svc.handlers["checkout"], None, b'{"street":"s"}')
    assert info.value.status_code == 400
    assert str(info.value) == "invalid input: city: Field required"


async def test_empty_body_is_missing_input_unless_optional() -> None:
    """An empty body is a 400 for a required input and None for an Optional one."""
    svc = _service()
    install_serdes(svc)
    with pytest.raises(InvalidInput, match="missing input"):
        await invoke_handler(svc.handlers["checkout"], None, b"")
    assert await invoke_handler(svc.handlers["maybe"], None, b"") == b""


async def test_bare_sdk_gives_500_for_bad_input() -> None:
    """Without install_serdes, the SDK reports the same bad input as a 500."""
    svc = _service()
    with pytest.raises(restate.TerminalError) as info:
        await invoke_handler(svc.handlers["maybe"], None, b'{"sku": 1}')
    assert info.value.status_code == 500


def test_install_is_idempotent() -> None:
    """A second install_serdes call leaves every handler exactly as the first left it."""
    svc = _service()
    install_serdes(svc)
    before = {
        n: (h.fn, h.handler_io.input_serde, h.handler_io.output_serde)
        for n, h in svc.handlers.items()
    }
    install_serdes(svc)
    after = {
        n: (h.fn, h.handler_io.input_serde, h.handler_io.output_serde)
        for n, h in svc.handlers.items()
    }
    assert after == before


def test_explicit_and_untyped_handlers_keep_the_sdk_serdes() -> None:
    """Serdes the user passed and handlers without annotations are left alone."""
    svc = _service()
    untyped = svc.handlers["untyped"]
    explicit = svc.handlers["explicit"]
    kept = (untyped.fn, untyped.handler_io.input_serde, untyped.handler_io.output_serde)
    explicit_in, explicit_out = explicit.handler_io.input_serde, explicit.handler_io.output_serde
    install_serdes(svc)
    assert (untyped.fn, untyped.handler_io.input_serde, untyped.handler_io.output_serde) == kept
    assert explicit.handler_io.input_serde is explicit_in
    assert explicit.handler_io.output_serde is explicit_out
    assert type(svc.handlers["nothing"].handler_io.output_serde) is DefaultSerde


def test_arity_and_client_lookup_survive() -> None:
    """The arity is unchanged and callers still find the handler and serialize typed args."""
    svc = restate.Service("Lookup")

    @svc.handler()
    async def ship(ctx: restate.Context, address: Address) -> str:
        return address.city

    install_serdes(svc)
    handler: Handler[Any, Any] = handler_from_callable(ship)
    assert handler is svc.handlers["ship"]
    assert handler.arity == 2
    assert (
        handler.handler_io.input_serde.serialize(Address("s", "c"))
        == b'{"street": "s", "city": "c"}'
    )


def _manifest(svc: restate.Service) -> dict[str, Any]:
    endpoint = Endpoint()
    endpoint.bind(svc)
    services = json.loads(compute_discovery_json(endpoint, 4, "bidi"))["services"]
    return {h["name"]: h for h in services[0]["handlers"]}


def test_discovery_shows_schemas() -> None:
    """Discovery carries pydantic's input schema and serialization-mode output schema."""
    svc = _service()
    install_serdes(svc)
    handlers = _manifest(svc)
    checkout = handlers["checkout"]
    assert checkout["input"]["jsonSchema"]["required"] == ["street", "city"]
    assert checkout["output"]["jsonSchema"]["items"] == {"$ref": "#/$defs/Item"}
    maybe = handlers["maybe"]
    assert {"type": "null"} in maybe["input"]["jsonSchema"]["anyOf"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="pydantic accepts typing.TypedDict")
async def test_typing_typeddict_is_read_as_the_sdk_reads_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """typing.TypedDict on Python < 3.12 is served (read like the SDK, missing keys and all)."""
    svc = restate.Service("Old")

    @svc.handler()
    async def take(ctx: restate.Context, value: OldPoint) -> int:
        return value.get("x", -1)

    install_serdes(svc)
    assert caplog.records == []  # the default mode needs no validation: nothing to warn about
    assert await invoke_handler(svc.handlers["take"], None, b'{"x": 3}') == b"3"
    assert await invoke_handler(svc.handlers["take"], None, b"{}") == b"-1"
    with pytest.raises(InvalidInput, match="not JSON"):
        await invoke_handler(svc.handlers["take"], None, b"{nope")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="pydantic accepts typing.TypedDict")
async def test_strict_typing_typeddict_falls_back_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Strict validation of a typing.TypedDict it cannot validate: the SDK's serde, a warning."""
    svc = restate.Service("OldStrict")

    @svc.handler()
    async def take(ctx: restate.Context, value: OldPoint) -> int:
        return value["x"]

    kept = svc.handlers["take"].handler_io.input_serde
    install_serdes(svc, validation="strict")
    assert svc.handlers["take"].handler_io.input_serde is kept
    (record,) = caplog.records
    assert "OldStrict/take" in record.getMessage()
    assert "typing_extensions import TypedDict" in record.getMessage()
    assert await invoke_handler(svc.handlers["take"], None, b'{"x": 3}') == b"3"


async def test_strict_validates_typeddicts() -> None:
    """Strict mode validates a TypedDict pydantic can handle; the default reads it as JSON."""
    for validation, expected in (("compatible", b'"1"'), ("strict", None)):
        svc = restate.Service(f"Td{validation}")

        @svc.handler()
        async def take(ctx: restate.Context, value: Point) -> str:
            return str(value.get("x"))

        install_serdes(svc, validation=validation)
        body = b'{"x": 1}'  # y is missing
        if expected is None:
            with pytest.raises(InvalidInput, match="y: Field required"):
                await invoke_handler(svc.handlers["take"], None, body)
        else:
            assert await invoke_handler(svc.handlers["take"], None, body) == expected


async def test_rejected_input_is_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    """Input that fails validation is logged with the handler and counted, then raised."""
    svc = _service()
    install_serdes(svc)
    before = rejection_counts().get("Shop/checkout", 0)
    with pytest.raises(InvalidInput):
        await invoke_handler(svc.handlers["checkout"], None, b'{"street": "s"}')
    assert rejection_counts()["Shop/checkout"] == before + 1
    assert "rejected input of Shop/checkout" in caplog.text
    assert "city: Field required" in caplog.text


async def test_compatible_mode_checks_plain_json_without_converting() -> None:
    """Plain JSON inputs are checked strictly and handed over as the SDK reads them."""
    svc = restate.Service("PlainJson")

    @svc.handler()
    async def halve(ctx: restate.Context, value: float) -> float:
        return value

    @svc.handler()
    async def count(ctx: restate.Context, value: int) -> str:
        return repr(value)

    install_serdes(svc)
    assert await invoke_handler(svc.handlers["halve"], None, b"3") == b"3"  # not 3.0
    assert await invoke_handler(svc.handlers["count"], None, b"") == b'"None"'  # as the SDK
    for body in (b'"42"', b"2.0", b"true"):
        with pytest.raises(InvalidInput, match="valid integer"):
            await invoke_handler(svc.handlers["count"], None, body)


async def test_an_empty_body_the_handler_fails_on_is_a_400() -> None:
    """Compatible mode hands an empty body over as None, as the SDK does, but a handler that
    then fails on it gets the caller's 400 instead of a retried 500; a TypedDict too."""
    svc = restate.Service("EmptyBody")

    @svc.handler()
    async def add(ctx: restate.Context, value: int) -> int:
        return 1 + value

    @svc.handler()
    async def ignores(ctx: restate.Context, value: str) -> str:
        return "fine"

    @svc.handler()
    async def optional(ctx: restate.Context, value: int | None) -> int:
        return 1 + value  # type: ignore[operator]  # the handler's own bug: a 500

    @svc.handler()
    async def typed(ctx: restate.Context, value: Point) -> int:
        return value["x"]

    install_serdes(svc)
    for name in ("add", "typed"):
        with pytest.raises(InvalidInput, match="missing input"):
            await invoke_handler(svc.handlers[name], None, b"")
    assert await invoke_handler(svc.handlers["ignores"], None, b"") == b'"fine"'
    with pytest.raises(TypeError):
        await invoke_handler(svc.handlers["optional"], None, b"")


async def test_strict_mode_converts_plain_json() -> None:
    """Under strict, plain JSON inputs are validated in pydantic's lax mode, and converted."""
    svc = restate.Service("PlainJsonStrict")

    @svc.handler()
    async def count(ctx: restate.Context, value: int) -> str:
        return repr(value)

    install_serdes(svc, validation="strict")
    assert await invoke_handler(svc.handlers["count"], None, b'"42"') == b'"42"'
    with pytest.raises(InvalidInput, match="missing input"):
        await invoke_handler(svc.handlers["count"], None, b"")


def _number_service(validation: str) -> restate.Service:
    svc = restate.Service(f"Numbers{validation}")

    @svc.handler()
    async def amount(ctx: restate.Context, value: float) -> str:
        return repr(value)

    @svc.handler()
    async def item(ctx: restate.Context, value: Item) -> str:
        return repr(value.price)

    @svc.handler()
    async def point(ctx: restate.Context, value: Point) -> str:
        return repr(value)

    @svc.handler()
    async def anything(ctx: restate.Context, value: Any) -> str:
        return repr(value)

    install_serdes(svc, validation=validation)
    return svc


_NON_JSON_NUMBERS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-1E+400",
    b"1" + b"0" * 250 + b"e99",  # 2-digit exponent, 251 digits: 1e349
    b"1" + b"0" * 400,  # an integer beyond 1.8e308
]


@pytest.mark.parametrize("validation", ["compatible", "strict"])
@pytest.mark.parametrize("handler", ["amount", "item", "point", "anything"])
@pytest.mark.parametrize("number", _NON_JSON_NUMBERS, ids=lambda n: n[:12].decode())
async def test_nan_infinity_and_out_of_range_numbers_are_400(
    validation: str, handler: str, number: bytes
) -> None:
    """NaN, Infinity and numbers beyond a 64-bit float are a 400, never inf or nan inside."""
    body = number if handler in ("amount", "anything") else b'{"sku":"a","price":%s}' % number
    svc = _number_service(validation)
    with pytest.raises(InvalidInput, match=r"not JSON: .*(is not JSON|beyond the range)") as info:
        await invoke_handler(svc.handlers[handler], None, body)
    assert info.value.status_code == 400
    assert info.value.errors[0]["type"] == "json_invalid"


@pytest.mark.parametrize("validation", ["compatible", "strict"])
async def test_look_alikes_of_non_json_numbers_pass(validation: str) -> None:
    """Strings holding NaN or long digit runs, 1e308 and long fractions are fine JSON."""
    svc = _number_service(validation)
    digits = "9" * 400
    name = json.dumps(f"NaN Infinity e+999 {digits}").encode()
    assert (
        await invoke_handler(svc.handlers["anything"], None, name)
        == json.dumps(repr(json.loads(name))).encode()
    )
    assert await invoke_handler(svc.handlers["amount"], None, b"1e308") == b'"1e+308"'
    assert await invoke_handler(svc.handlers["amount"], None, b"1e-999") == b'"0.0"'
    fraction = b"0." + b"3" * 300
    assert await invoke_handler(svc.handlers["amount"], None, fraction) == b'"0.3333333333333333"'
    body = b'{"sku":%s,"price":1.5e+10}' % name
    assert await invoke_handler(svc.handlers["item"], None, body) == b'"15000000000.0"'


@pytest.mark.parametrize("validation", ["compatible", "strict"])
@pytest.mark.parametrize("handler", ["amount", "item", "point", "anything"])
@pytest.mark.parametrize("body", [b"[" * 100_000, b"[" * 5000 + b"]" * 5000, b'{"a":' * 50_000])
async def test_deeply_nested_input_is_400(validation: str, handler: str, body: bytes) -> None:
    """100k levels of nesting are a 400, not json's RecursionError (a retried 500)."""
    svc = _number_service(validation)
    with pytest.raises(InvalidInput) as info:
        await invoke_handler(svc.handlers[handler], None, body)
    assert info.value.status_code == 400
    assert info.value.errors[0]["type"] == "json_invalid"
