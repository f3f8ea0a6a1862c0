"""The cases of the compatibility suite: each one a scenario run on both sides, by category.

Simple cases are one request (``step "response"``); the others record several steps. Object keys
are the case names, so cases never share state (each side has its own server anyway).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.integration.compat._driver import _NO_BODY, Response, Scenario, Side

Case = tuple[str, Scenario]


def _one(path: str, value: Any = _NO_BODY, *, raw: bytes | None = None, **kw: Any) -> Scenario:
    def scenario(side: Side) -> None:
        side.call(path, value, raw=raw, step="response", **kw)

    return scenario


# -- dicts, lists, primitives, no-input handlers -----------------------------------------------
V = "/CompatValues"
VALUES: list[Case] = [
    ("no-input", _one(f"{V}/ping")),
    ("no-input-given-a-body", _one(f"{V}/ping", "x")),
    ("none-result", _one(f"{V}/nothing")),
    ("str", _one(f"{V}/greet", "Ada")),
    ("str-param-empty-body", _one(f"{V}/greet")),
    ("str-non-ascii", _one(f"{V}/echoStr", "héllo wörld ✓ 日本 😀")),
    ("str-escapes", _one(f"{V}/echoStr", raw=b'"\\u00e9\\n\\t\\"q\\" \\ud83d\\ude00"')),
    ("int", _one(f"{V}/echoInt", 42)),
    ("int-big", _one(f"{V}/echoInt", 2**70)),
    ("float", _one(f"{V}/echoFloat", 0.1)),
    ("float-large", _one(f"{V}/echoFloat", 1e20)),
    ("float-small", _one(f"{V}/echoFloat", 1.5e-07)),
    ("float-negative-zero", _one(f"{V}/echoFloat", -0.0)),
    ("float-given-an-int", _one(f"{V}/echoFloat", 3)),
    ("int-given-a-whole-float", _one(f"{V}/echoInt", 2.0)),
    ("int-given-a-numeric-string", _one(f"{V}/echoInt", "42")),
    ("bool-given-1", _one(f"{V}/echoBool", 1)),
    ("str-given-a-number", _one(f"{V}/echoStr", 5)),
    ("list-given-a-dict", _one(f"{V}/echoList", {"a": 1})),
    ("bool", _one(f"{V}/echoBool", True)),
    ("dict", _one(f"{V}/echoDict", {"b": 1, "é": [1.5, None], "n": {"deep": [True, "ü"]}})),
    ("dict-key-order", _one(f"{V}/echoDict", {"z": 1, "a": 2, "m": 3})),
    ("dict-compact-input", _one(f"{V}/echoDict", raw=b'{"a":[1,2],"b":{"c":"d"}}')),
    ("list", _one(f"{V}/echoList", [1, "two", 3.0, None, {"x": []}])),
    ("list-empty", _one(f"{V}/echoList", [])),
    ("untyped", _one(f"{V}/untyped", {"any": ["thing", 1]})),
    ("untyped-empty-body", _one(f"{V}/untyped")),
    ("untyped-malformed-json", _one(f"{V}/untyped", raw=b"{nope")),
    ("floats-to-dict", _one(f"{V}/stats", [1.5, 2.5, 4.25])),
    ("nested-result", _one(f"{V}/nested")),
    ("tuple-result", _one(f"{V}/pair")),
    ("int-keys-result", _one(f"{V}/numberKeys")),
    ("optional-result-value", _one(f"{V}/maybe", True)),
    ("optional-result-none", _one(f"{V}/maybe", False)),
    ("terminal-error", _one(f"{V}/fail", "nein ✗")),
    ("malformed-json", _one(f"{V}/echoStr", raw=b"{bad")),
    ("crash-retried", _one(f"{V}/crash", "boom")),
    ("crash-retried-no-input", _one(f"{V}/crashNoInput")),
]


# -- TypedDict inputs with keys callers omit ---------------------------------------------------
T = "/CompatTypedDicts"
FULL = {"name": "Ann", "title": "Dr.", "tags": ["a", "ü"]}


def _typed_dicts(handler: str, label: str) -> list[Case]:
    path = f"{T}/{handler}"
    return [
        (f"{label}-all-keys", _one(path, FULL)),
        (f"{label}-optional-key-omitted", _one(path, {"name": "Ann", "tags": ["x"]})),
        (f"{label}-notrequired-key-omitted", _one(path, {"name": "Ann", "title": None})),
        (f"{label}-only-required-key", _one(path, {"name": "Ann"})),
        (f"{label}-extra-key", _one(path, {"name": "Ann", "title": "Dr.", "extra": 1})),
        (f"{label}-wrong-type", _one(path, {"name": 5, "title": None})),
        (f"{label}-required-key-missing", _one(path, {"title": "Dr."})),
        (f"{label}-empty-body", _one(path)),
        (f"{label}-malformed-json", _one(path, raw=b'{"name": ')),
    ]


TYPED_DICTS: list[Case] = [
    *_typed_dicts("greet", "typing-typeddict"),
    *_typed_dicts("greetExt", "typing-extensions-typeddict"),
    ("typeddict-list", _one(f"{T}/greetMany", [FULL, {"name": "Bo"}, {"name": "Cy", "x": 0}])),
    ("typeddict-list-empty", _one(f"{T}/greetMany", [])),
]


# -- proxies: raw bytes forwarded with calls and one-way sends ---------------------------------
P = "/CompatProxy"


def _proxy_request(service: str, handler: str, message: bytes, **extra: Any) -> dict[str, Any]:
    # Optional keys the proxy reads with .get() are omitted, as the SDK's drivers omit them.
    return {"serviceName": service, "handlerName": handler, "message": list(message), **extra}


def _one_way_then(
    service: str, key: str, handler: str, message: bytes, read: str, **extra: Any
) -> Scenario:
    """Send through the proxy, wait for the message's invocation, then read the target."""

    def scenario(side: Side) -> None:
        request = _proxy_request(service, handler, message, virtualObjectKey=key, **extra)
        sent = side.call(f"{P}/oneWayCall", request)
        side.record("proxy", sent.masked())
        side.attach(json.loads(sent.body), step="message")
        side.call(f"/{service}/{key}/{read}", step="read")

    return scenario


def _proxy_call(service: str, handler: str, message: bytes, **extra: Any) -> Scenario:
    return _one(f"{P}/call", _proxy_request(service, handler, message, **extra))


def _idempotent_calls(side: Side) -> None:
    request = _proxy_request(
        "CompatCounter", "add", b"1", virtualObjectKey="idem", idempotencyKey="k-1"
    )
    side.call(f"{P}/call", request, step="first")
    side.call(f"{P}/call", request, step="again")
    side.call("/CompatCounter/idem/get", step="counter")


def _many_calls(side: Side) -> None:
    def item(message: bytes, one_way: bool, await_at_end: bool) -> dict[str, Any]:
        request = _proxy_request("CompatList", "append", message, virtualObjectKey="many")
        return {"proxyRequest": request, "oneWayCall": one_way, "awaitAtTheEnd": await_at_end}

    side.call(
        f"{P}/manyCalls",
        [item(b'"a"', True, False), item(b'"b"', False, True), item(b'"c"', False, False)],
        step="response",
    )
    side.record(
        "list",
        side.until(
            "three appends",
            lambda: side.call("/CompatList/many/get"),
            lambda r: r.status != 200 or len(json.loads(r.body)) >= 3,
        ),
    )


DICT_BYTES = json.dumps({"b": 1, "é": [1.5, None]}, ensure_ascii=False).encode()
PROXIES: list[Case] = [
    ("proxy-call-dict", _proxy_call("CompatValues", "echoDict", DICT_BYTES)),
    ("proxy-call-typeddict", _proxy_call("CompatTypedDicts", "greet", b'{"name":"Ann"}')),
    ("proxy-call-no-input", _proxy_call("CompatValues", "ping", b"")),
    ("proxy-call-model", _proxy_call("CompatModels", "quote", b'{"name":"n","price":1}')),
    ("proxy-idempotent-call", _idempotent_calls),
    (
        "one-way-typeddict-optional-key-omitted",
        _one_way_then("CompatInbox", "inbox-1", "record", b'{"name":"Ann"}', "read"),
    ),
    (
        "one-way-ext-typeddict-optional-key-omitted",
        _one_way_then("CompatInbox", "inbox-2", "recordExt", b'{"name":"Bo","tags":["x"]}', "read"),
    ),
    (
        "one-way-delayed",
        _one_way_then("CompatList", "delayed", "append", b'"late"', "get", delayMillis=20),
    ),
    ("proxy-many-calls", _many_calls),
    ("raw-echo", _one(f"{P}/rawEcho", raw=b"\x00\xff\xfe{ }", content_type="x/y")),
    ("raw-echo-json", _one(f"{P}/rawEcho", raw=b'{"a":   1}')),
    ("raw-echo-empty", _one(f"{P}/rawEcho")),
    ("raw-forward-to-json-handler", _one(f"{P}/rawForward", raw=DICT_BYTES)),
]


def _one_way_bad_model(side: Side) -> None:
    request = _proxy_request("CompatModels", "quote", b'{"name":"x","price":"cheap"}')
    sent = side.call(f"{P}/oneWayCall", request)
    side.record("proxy", sent.masked())
    side.attach(json.loads(sent.body), step="message")


# -- pydantic models, dataclasses ----------------------------------------------------------------
M = "/CompatModels"
MODELS: list[Case] = [
    ("model", _one(f"{M}/quote", {"name": "Käse", "price": 3.5, "tags": ["fromage", "ü"]})),
    ("model-no-tags", _one(f"{M}/quote", {"name": "bread", "price": 2})),
    ("model-extra-field", _one(f"{M}/quote", {"name": "x", "price": 1, "colour": "red"})),
    ("model-echo", _one(f"{M}/echoItem", {"name": "ü", "price": 1e-07, "tags": []})),
    ("model-optional-empty-body", _one(f"{M}/maybeQuote")),
    ("model-optional-value", _one(f"{M}/maybeQuote", {"name": "y", "price": 0.5})),
    ("model-typed-call", _one(f"{M}/callQuote", {"name": "z", "price": 10, "tags": ["t"]})),
    ("model-invalid-field", _one(f"{M}/quote", {"name": "x", "price": "cheap"})),
    ("model-missing-field", _one(f"{M}/quote", {"name": "x"})),
    ("model-empty-body", _one(f"{M}/quote")),
    ("model-malformed-json", _one(f"{M}/quote", raw=b"{oops")),
    ("one-way-invalid-model", _one_way_bad_model),
    ("dataclass-in", _one(f"{M}/weigh", {"sender": "a", "weight": 2, "fragile": True})),
    ("dataclass-in-read-as-dict", _one(f"{M}/weighDict", {"sender": "a", "weight": 2})),
    ("dataclass-invalid", _one(f"{M}/weigh", {"sender": "a", "weight": "heavy"})),
    ("dataclass-out", _one(f"{M}/label", "bob")),
    ("list-of-models-out", _one(f"{M}/catalog")),
]


# -- virtual object state ------------------------------------------------------------------------
def _counter(side: Side) -> None:
    c = "/CompatCounter/counter"
    side.call(f"{c}/add", 1, step="add-1")
    side.call(f"{c}/add", 2, step="add-2")
    side.call(f"{c}/get", step="get")
    side.call(f"{c}/addThenFail", 5, step="add-then-fail")
    side.call(f"{c}/get", step="get-after-failure")
    side.call(f"{c}/reset", step="reset")
    side.call(f"{c}/get", step="get-after-reset")


def _state_rows(side: Side, service: str, key: str) -> Response:
    rows = side.query(
        "SELECT key, value_utf8 FROM state "
        f"WHERE service_name = '{service}' AND service_key = '{key}' ORDER BY key"
    )
    return Response(200, json.dumps(rows, ensure_ascii=False).encode())


def _list(side: Side) -> None:
    lst = "/CompatList/list"
    side.call(f"{lst}/append", "a", step="append-a")
    side.call(f"{lst}/append", "ü ✓", step="append-u")
    side.call(f"{lst}/get", step="get")
    side.record("state-at-rest", _state_rows(side, "CompatList", "list"))
    side.call(f"{lst}/clear", step="clear")
    side.call(f"{lst}/get", step="get-after-clear")


def _map(side: Side) -> None:
    m = "/CompatMap/map"
    side.call(f"{m}/set", {"key": "k1", "value": "v1"}, step="set-k1")
    side.call(f"{m}/set", {"key": "ü", "value": "ß"}, step="set-u")
    side.call(f"{m}/get", "k1", step="get-k1")
    side.call(f"{m}/get", "nope", step="get-missing")
    side.record("state-at-rest", _state_rows(side, "CompatMap", "map"))
    side.call(f"{m}/clearAll", step="clear-all")
    side.call(f"{m}/get", "k1", step="get-after-clear")


OBJECTS: list[Case] = [
    ("object-counter", _counter),
    ("object-list", _list),
    ("object-map", _map),
    ("typeddict-required-key-missing-retried", _one("/CompatMap/map2/set", {"key": "k"})),
]


# -- awakeables, cancellation, kill ------------------------------------------------------------
def _awakeable_id(side: Side, key: str) -> str:
    held = side.until(
        "the awakeable id",
        lambda: side.call(f"/CompatHolder/{key}/get"),
        lambda r: r.status != 200 or bool(r.body),
    )
    assert held.status == 200, f"{side.name}: CompatHolder/{key}/get: {held}"
    return str(json.loads(held.body))


def _awakeable(handler: str, key: str, how: str, body: bytes, content_type: str) -> Scenario:
    def scenario(side: Side) -> None:
        invocation = side.send(f"/CompatWaiter/{key}/{handler}")
        awakeable = _awakeable_id(side, key)
        answer = side.harness.client.post(
            f"/restate/awakeables/{awakeable}/{how}",
            content=body,
            headers={"content-type": content_type},
        )
        side.record(how, Response(answer.status_code, answer.content))
        side.attach(invocation, step="result")

    return scenario


def _unlock_from_a_handler(side: Side) -> None:
    invocation = side.send("/CompatWaiter/unlock/waitText")
    _awakeable_id(side, "unlock")
    side.call("/CompatHolder/unlock/unlock", "via holder ✓", step="unlock")
    side.attach(invocation, step="result")


def _cancel(side: Side) -> None:
    runner = side.send("/CompatCancelRunner/cancel/start")
    _awakeable_id(side, "cancel")
    blocked = side.invocation_of("CompatBlocker", "cancel", "block")
    side.admin_patch(f"/invocations/{blocked}/cancel", step="cancel")
    side.attach(runner, step="runner")
    side.attach(blocked, step="blocked")
    side.call("/CompatBlocker/cancel/cleanup", step="cleanup")
    side.call("/CompatBlocker/cancel/isUnlocked", step="unlocked")


def _kill(side: Side) -> None:
    runner = side.send("/CompatKillRunner/kill/startCallTree")
    _awakeable_id(side, "kill")
    blocked = side.invocation_of("CompatBlocker", "kill", "block")
    side.admin_patch(f"/invocations/{runner}/kill", step="kill")
    side.record("runner", side.attach(runner).masked())
    side.record("blocked", side.attach(blocked).masked())
    side.call("/CompatBlocker/kill/cleanup", step="cleanup")
    side.call("/CompatBlocker/kill/isUnlocked", step="unlocked")


JSON = "application/json"
WAITS: list[Case] = [
    (
        "awakeable-resolved-with-dict",
        _awakeable(
            "waitDict", "dict", "resolve", '{"ok":true,"note":"día","n":[1,2.5]}'.encode(), JSON
        ),
    ),
    (
        "awakeable-resolved-with-str",
        _awakeable("waitText", "text", "resolve", '"fine ✓"'.encode(), JSON),
    ),
    ("awakeable-rejected", _awakeable("waitText", "reject", "reject", b"no way", "text/plain")),
    ("awakeable-resolved-by-a-handler", _unlock_from_a_handler),
    ("cancel", _cancel),
    ("kill", _kill),
]


# -- side effects and non-determinism --------------------------------------------------------------
def _nondeterministic(path: str) -> Scenario:
    """Call, then record the journal mismatches Restate reported for the invocation."""

    def scenario(side: Side) -> None:
        response = side.call(path, step="response")
        events = side.query(
            "SELECT event_json FROM sys_journal_events "
            f"WHERE id = '{response.invocation}' AND event_type = 'TransientError'"
        )
        errors = [json.loads(event["event_json"]) for event in events]
        mismatches = [(e["error_code"], e["error_message"]) for e in errors]
        assert any(code == 570 for code, _ in mismatches), f"{side.name}: no mismatch: {errors}"
        side.record("mismatches", Response(200, json.dumps(mismatches).encode()))

    return scenario


E = "/CompatEffects"
N = "/CompatNondet"
EFFECTS: list[Case] = [
    ("run-results", _one(f"{E}/squares", 4)),
    ("run-dict", _one(f"{E}/record")),
    ("run-model", _one(f"{E}/model")),
    ("run-terminal-caught", _one(f"{E}/terminalCaught", "nein ✗")),
    ("run-terminal-raised", _one(f"{E}/terminalRaised", "nein")),
    ("run-retries-exhausted", _one(f"{E}/retriesExhausted")),
    ("nondeterminism-state-key", _nondeterministic(f"{N}/set-key/setDifferentKey")),
    ("nondeterminism-state-value", _nondeterministic(f"{N}/payload/changingPayload")),
    ("nondeterminism-sleep-or-run", _nondeterministic(f"{N}/sleep-run/eitherSleepOrRun")),
]


# -- workflows with promises -------------------------------------------------------------------
def _workflow(resolve: Callable[[Side, str], None]) -> Scenario:
    def scenario(side: Side) -> None:
        key = "wf-" + resolve.__name__
        w = f"/CompatWorkflow/{key}"
        side.call(f"{w}/getState", step="state-before")
        submitted = side.call(f"{w}/run/send", "in ✓")
        side.record("submit", submitted.masked())
        side.record(
            "state",
            side.until(
                "the workflow state",
                lambda: side.call(f"{w}/getState"),
                lambda r: r.status != 200 or bool(r.body),
            ),
        )
        side.call(f"{w}/peek", step="peek-before")
        resolve(side, w)
        side.get(f"/restate/workflow/CompatWorkflow/{key}/attach", step="attach")
        side.get(f"/restate/workflow/CompatWorkflow/{key}/output", step="output")
        side.call(f"{w}/peek", step="peek-after")
        side.record("run-again", side.call(f"{w}/run", "again").masked())

    return scenario


def unblocked(side: Side, w: str) -> None:
    side.call(f"{w}/unblock", "out ü", step="unblock")


def rejected(side: Side, w: str) -> None:
    side.call(f"{w}/reject", "not today", step="reject")


WORKFLOWS: list[Case] = [
    ("workflow-promise-resolved", _workflow(unblocked)),
    ("workflow-promise-rejected", _workflow(rejected)),
]


# -- what the server discovered ----------------------------------------------------------------
def _discovered(side: Side) -> None:
    listing = {
        service["name"]: sorted(handler["name"] for handler in service["handlers"])
        for service in side.harness.deployment["services"]
    }
    side.record("services", Response(200, json.dumps(listing, sort_keys=True).encode()))


DISCOVERY: list[Case] = [("discovered-services-and-handlers", _discovered)]


CATEGORIES: dict[str, list[Case]] = {
    "values": VALUES,
    "typed-dicts": TYPED_DICTS,
    "proxies-and-bytes": PROXIES,
    "models-and-dataclasses": MODELS,
    "object-state": OBJECTS,
    "awakeables-cancel-kill": WAITS,
    "side-effects-nondeterminism": EFFECTS,
    "workflows": WORKFLOWS,
    "discovery": DISCOVERY,
}

CASES: dict[str, Scenario] = {name: s for cases in CATEGORIES.values() for name, s in cases}
assert len(CASES) == sum(len(cases) for cases in CATEGORIES.values()), "duplicate case names"

#: Cases where rea.app does not give the SDK's answer yet, and no difference is documented:
#: check_pending.py runs them (``pytest tests/integration/compat/check_pending.py``); each moves
#: back to the suite once rea matches it, or to differences.py if the difference is kept.
PENDING: dict[str, str] = {}
assert PENDING.keys() <= CASES.keys()
