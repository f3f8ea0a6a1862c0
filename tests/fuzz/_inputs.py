"""Hypothesis strategies for bad input to a Restate handler, derived from its discovery schema.

A handler is described by what the server knows of it (`Target`: service, handler, service type,
input JSON schema or None for a handler without input). `bad_cases(target, family)` draws
`Case`s of one family of bad input for it; `FAMILIES_WITH_INPUT` and `FAMILIES_WITHOUT_INPUT`
list the families and whether rea's validation in the app or the server's ingress is expected
to refuse them.

Badness is chosen to hold under pydantic's lax mode (models) and its strict mode (plain JSON
types under ``validation="compatible"``) alike: no bool for a number (lax reads ``true`` as 1),
no numeric string for a number (lax reads ``"7"`` as 7), no whole float for an integer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

Json = Any
Schema = dict[str, Any]
Expect = Literal["app", "ingress"]

JSON_TYPE = "application/json"
SLOT = "\x00rea-fuzz-slot\x00"  # replaced by a number token after json.dumps
NON_JSON_NUMBERS = (
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-1E+400",
    b"9" * 250 + b"e99",  # a 2-digit exponent, 1e349
    b"1" + b"0" * 400,  # an integer beyond a 64-bit float
)
# Byte sequences that are not UTF-8, and escapes of unpaired UTF-16 surrogates.
NOT_UTF8 = (
    b"\xff",
    b"\xfe\xff",
    b"\x80",
    b"\xc0\xaf",  # overlong "/"
    b"\xc3(",  # a lead byte without its continuation
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf5\x80\x80\x80",  # beyond U+10FFFF
    b"\\ud800",
    b"\\udfff",
    b"\\ud83dx",
)
WRONG_CONTENT_TYPES = (
    "text/plain",
    "text/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=fuzz",
    "application/octet-stream",
    "application/vnd.api+json",
    "APPLICATION/JSON",
    "",
)


@dataclass(frozen=True)
class Target:
    """One handler as registered: where to send, and the input schema discovery gave it."""

    service: str
    handler: str
    service_type: str  # "Service", "VirtualObject" or "Workflow"
    schema: Schema | None  # None: the handler takes no input

    @property
    def name(self) -> str:
        return f"{self.service}/{self.handler}"

    def path(self, key: str) -> str:
        """The ingress path, with `key` for objects and workflows."""
        if self.service_type == "Service":
            return f"/{self.service}/{self.handler}"
        return f"/{self.service}/{key}/{self.handler}"


@dataclass(frozen=True)
class Case:
    """One bad request: body, content type (None: no header) and who should refuse it."""

    family: str
    body: bytes
    content_type: str | None
    expect: Expect

    def __repr__(self) -> str:
        head = self.body[:80]
        more = f"... ({len(self.body):,} bytes)" if len(self.body) > 80 else ""
        return f"Case({self.family}, {head!r}{more}, content_type={self.content_type!r})"


# -- JSON values ---------------------------------------------------------------------------------
_finite = st.floats(allow_nan=False, allow_infinity=False)
_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | _finite | st.text(max_size=12)
any_json: st.SearchStrategy[Json] = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
containers = st.lists(any_json, min_size=1, max_size=4) | st.dictionaries(
    st.text(max_size=6), any_json, min_size=1, max_size=4
)
_not_a_number = st.text(max_size=10).map(lambda s: "x" + s)  # never numeric, never "true"
_fraction = st.integers(-(10**6), 10**6).map(lambda n: n + 0.5)


def _resolve(schema: Schema, root: Schema) -> Schema:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return _resolve(root["$defs"][ref.rsplit("/", 1)[-1]], root)


def valid(schema: Schema, root: Schema | None = None) -> st.SearchStrategy[Json]:
    """Values `schema` accepts (the few shapes pydantic's schemas of the examples use)."""
    root = root or schema
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return st.one_of([valid(s, root) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=12)
    if kind == "integer":
        return st.integers(-(2**53), 2**53)
    if kind == "number":
        return st.integers(-(2**53), 2**53) | _finite
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(valid(schema.get("items", {}), root), max_size=3)
    if kind == "object":
        props = schema.get("properties", {})
        required = schema.get("required", [])
        return st.fixed_dictionaries(
            {name: valid(props[name], root) for name in required},
            optional={name: valid(s, root) for name, s in props.items() if name not in required},
        )
    return any_json  # {}: Any


def wrong_type(schema: Schema, root: Schema | None = None) -> st.SearchStrategy[Json]:
    """Values of a JSON type `schema` refuses (top level only)."""
    root = root or schema
    kind = str(_resolve(schema, root).get("type"))
    others: st.SearchStrategy[Json] = {
        "string": st.integers() | _finite | st.booleans() | st.none(),
        "integer": _not_a_number | _fraction | st.none(),
        "number": _not_a_number | st.none(),
        "boolean": _not_a_number | st.none() | st.integers(2, 10**6),
        "array": st.integers() | st.text() | st.booleans() | st.none(),
        "object": st.integers() | st.text() | st.booleans() | st.none(),
    }[kind]
    if kind == "array":
        return others | st.dictionaries(st.text(max_size=6), any_json, max_size=3)
    if kind == "object":
        return others | st.lists(any_json, max_size=3)
    return others | containers


def _fields(schema: Schema) -> list[str]:
    # Fields whose own bad values are known: not Any ({}), not unions with null (Optional).
    return [n for n, s in schema.get("properties", {}).items() if s and "anyOf" not in s]


def wrong_inside(schema: Schema, root: Schema | None = None) -> st.SearchStrategy[Json]:
    """A valid object or array except for one field or item, which is wrong (recursively)."""
    root = root or schema
    schema = _resolve(schema, root)
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        return st.tuples(
            st.lists(valid(items, root), max_size=3), bad_value(items, root), st.integers(0, 3)
        ).map(lambda t: [*t[0][: t[2]], t[1], *t[0][t[2] :]])
    if kind != "object" or not _fields(schema):
        return wrong_type(schema, root)
    return st.tuples(valid(schema, root), st.sampled_from(_fields(schema))).flatmap(
        lambda t: bad_value(schema["properties"][t[1]], root).map(lambda v: {**t[0], t[1]: v})
    )


def bad_value(schema: Schema, root: Schema) -> st.SearchStrategy[Json]:
    """Any value `schema` refuses: a wrong type, a wrong field or item, too short a string."""
    resolved = _resolve(schema, root)
    options = [wrong_type(resolved, root)]
    if resolved.get("type") in ("array", "object"):
        options.append(wrong_inside(resolved, root))
    if resolved.get("minLength"):
        options.append(st.text(max_size=resolved["minLength"] - 1))
    return st.one_of(options)


def missing_fields(schema: Schema) -> st.SearchStrategy[Json]:
    """A valid object without at least one required field, with unknown fields added."""
    required = schema.get("required", [])
    extra = st.dictionaries(st.text(min_size=1, max_size=8), any_json, max_size=3)
    return st.tuples(valid(schema), st.sets(st.sampled_from(required), min_size=1), extra).map(
        lambda t: {**{k: v for k, v in t[2].items() if k not in required}, **_drop(t[0], t[1])}
    )


def _drop(value: dict[str, Json], names: set[str]) -> dict[str, Json]:
    return {k: v for k, v in value.items() if k not in names}


def dumps(value: Json, *, ascii_only: bool = True) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode()


_encoded = st.builds(dumps, any_json, ascii_only=st.booleans())


# -- malformed bodies ----------------------------------------------------------------------------
def truncated(schema: Schema) -> st.SearchStrategy[bytes]:
    """A JSON container or string cut short: never JSON, whatever the cut."""
    kind = schema.get("type")
    source = valid(schema) if kind in ("object", "array", "string") else containers | st.text()
    docs = st.builds(dumps, source, ascii_only=st.booleans())
    return st.tuples(docs, st.integers(min_value=1)).map(
        lambda t: t[0][: 1 + t[1] % (len(t[0]) - 1)]
    )


def not_utf8(schema: Schema) -> st.SearchStrategy[bytes]:
    """A valid body with bytes that are not UTF-8 (or an unpaired surrogate) in a string."""

    def splice(doc: bytes, bad: bytes) -> bytes:
        quote = doc.find(b'"')
        if quote < 0:
            return b'["' + bad + b'", ' + doc + b"]"
        return doc[: quote + 1] + bad + doc[quote + 1 :]

    return st.builds(splice, st.builds(dumps, valid(schema)), st.sampled_from(NOT_UTF8))


def trailing_garbage(schema: Schema) -> st.SearchStrategy[bytes]:
    """A valid body, whitespace, then bytes that are not all whitespace."""
    garbage = st.binary(min_size=1, max_size=16).filter(lambda b: b.strip(b" \t\r\n") != b"")
    common = st.sampled_from([b"}", b"]", b",", b"x", b"\x00", b"null", b'{"a":1}'])
    space = st.sampled_from([b" ", b"\n", b"\t", b"\r\n"])
    return st.builds(
        lambda doc, sep, tail: doc + sep + tail,
        st.builds(dumps, valid(schema)),
        space,
        common | garbage,
    )


def non_json_number(schema: Schema) -> st.SearchStrategy[bytes]:
    """NaN, Infinity or a number beyond a 64-bit float where the input has a number (or at top)."""
    numeric = [
        n for n in _fields(schema) if schema["properties"][n].get("type") in ("number", "integer")
    ]
    if schema.get("type") == "object" and numeric:
        slot = st.tuples(valid(schema), st.sampled_from(numeric)).map(
            lambda t: dumps({**t[0], t[1]: SLOT})
        )
    elif schema.get("type") == "array":
        slot = st.just(dumps([SLOT]))
    else:
        slot = st.just(dumps(SLOT))
    marker = dumps(SLOT)
    return st.builds(lambda doc, n: doc.replace(marker, n), slot, st.sampled_from(NON_JSON_NUMBERS))


def deeply_nested() -> st.SearchStrategy[bytes]:
    """1,000 to 100,000 levels of arrays or objects, closed or not."""
    depth = st.integers(1_000, 100_000)
    shapes = st.sampled_from(["[", "[]", '{"a":', '{"a":}', '[{"a":'])

    def build(shape: str, d: int) -> bytes:
        if shape == "[]":
            return b"[" * d + b"]" * d
        if shape == '{"a":}':
            return b'{"a":' * d + b"1" + b"}" * d
        return shape.encode() * d

    return st.builds(build, shapes, depth)


def content_types() -> st.SearchStrategy[str]:
    """Content types the ingress must refuse for JSON input."""
    made = st.from_regex(r"\A[a-z]{1,10}/[a-z0-9.+-]{1,14}\Z").filter(lambda t: "json" not in t)
    return st.sampled_from(WRONG_CONTENT_TYPES) | made


def huge(schema: Schema | None, megabytes: int) -> bytes:
    """A body of `megabytes` MiB of a JSON type `schema` refuses (any body, without input)."""
    size = megabytes * 1024 * 1024
    if schema is not None and schema.get("type") == "string":
        return b"[" + b"1," * (size // 2) + b"1]"  # an array of numbers for a string
    if schema is not None and schema.get("type") == "array":
        return b'"' + b"x" * size + b'"'  # a string for an array
    if megabytes % 2:
        return b'["' + b'", "'.join([b"y" * 1000] * (size // 1004)) + b'"]'
    return b'"' + b"x" * size + b'"'


# -- families ------------------------------------------------------------------------------------
def _app(family: str, bodies: st.SearchStrategy[bytes]) -> st.SearchStrategy[Case]:
    return bodies.map(lambda body: Case(family, body, JSON_TYPE, "app"))


def _with_input(target: Target, family: str) -> st.SearchStrategy[Case]:
    schema = target.schema
    assert schema is not None
    if family == "wrong_type":
        return _app(family, st.builds(dumps, wrong_type(schema), ascii_only=st.booleans()))
    if family == "wrong_inside":
        return _app(family, st.builds(dumps, bad_value(schema, schema)))
    if family == "missing_fields":
        if schema.get("type") != "object" or not schema.get("required"):
            return _app(family, st.builds(dumps, st.dictionaries(st.text(max_size=6), any_json)))
        return _app(family, st.builds(dumps, missing_fields(schema)))
    if family == "truncated":
        return _app(family, truncated(schema))
    if family == "not_utf8":
        return _app(family, not_utf8(schema))
    if family == "trailing_garbage":
        return _app(family, trailing_garbage(schema))
    if family == "non_json_number":
        return _app(family, non_json_number(schema))
    if family == "deeply_nested":
        return _app(family, deeply_nested())
    if family == "empty_body":
        if schema.get("type") == "object":
            # No content type: the ingress lets it through, and rea says "missing input".
            with_header = st.sampled_from([JSON_TYPE, "text/plain"])
            return st.one_of(
                st.just(Case(family, b"", None, "app")),
                with_header.map(lambda t: Case(family, b"", t, "ingress")),
            )
        return content_types().map(lambda t: Case(family, b"", t, "ingress")) | st.just(
            Case(family, b"", JSON_TYPE, "ingress")
        )
    if family == "wrong_content_type":
        valid_body = st.builds(dumps, valid(schema))
        return st.builds(lambda b, t: Case(family, b, t, "ingress"), valid_body, content_types())
    raise ValueError(family)


def _without_input(family: str) -> st.SearchStrategy[Case]:
    if family == "body_without_input":
        bodies = _encoded | st.binary(min_size=1, max_size=64) | deeply_nested()
        types = st.none() | st.just(JSON_TYPE) | content_types()
        return st.builds(lambda b, t: Case(family, b, t, "ingress"), bodies, types)
    if family == "content_type_without_body":
        return (st.just(JSON_TYPE) | content_types()).map(lambda t: Case(family, b"", t, "ingress"))
    raise ValueError(family)


FAMILIES_WITH_INPUT = (
    "wrong_type",
    "wrong_inside",
    "missing_fields",
    "truncated",
    "not_utf8",
    "trailing_garbage",
    "non_json_number",
    "deeply_nested",
    "empty_body",
    "wrong_content_type",
)
FAMILIES_WITHOUT_INPUT = ("body_without_input", "content_type_without_body")
# Families whose bodies are not JSON at all (RFC 8259), whatever the handler takes.
NOT_JSON = frozenset(
    {"truncated", "not_utf8", "trailing_garbage", "non_json_number", "deeply_nested"}
)


def families(target: Target) -> tuple[str, ...]:
    """The families of bad input that apply to `target`."""
    return FAMILIES_WITHOUT_INPUT if target.schema is None else FAMILIES_WITH_INPUT


def bad_cases(target: Target, family: str) -> st.SearchStrategy[Case]:
    """Bad requests of one family for `target`."""
    if target.schema is None:
        return _without_input(family)
    return _with_input(target, family)
