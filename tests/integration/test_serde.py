"""rea's serdes end to end on a real server under always-replay, and the bare SDK for contrast."""

from __future__ import annotations

from typing import Any

import pytest

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.integration.apps import serde_app
from tests.integration.apps.serde_app import ATTEMPTS

ORDER = {"customer": "ann smith", "items": [{"sku": "a", "price": 1.5}, {"sku": "b", "price": 2}]}
BAD_ORDER = {"customer": "ann", "items": [{"sku": "a", "price": "cheap"}]}


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(serde_app.app)


@pytest.fixture
def bare(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(serde_app.bare_app)


def _invocation(h: Harness, invocation_id: str) -> dict[str, Any]:
    rows = h.query(
        "SELECT status, completion_result, completion_failure FROM sys_invocation "
        f"WHERE id = '{invocation_id}'"
    )
    assert len(rows) == 1
    return rows[0]


def _transient_errors(h: Harness, invocation_id: str) -> list[dict[str, Any]]:
    # A failed attempt that Restate retries leaves a TransientError event; sys_invocation's
    # retry_count is only kept while the invocation is in flight.
    return h.query(
        "SELECT event_json FROM sys_journal_events "
        f"WHERE id = '{invocation_id}' AND event_type = 'TransientError'"
    )


def test_dataclass_in_list_of_models_out(h: Harness) -> None:
    """A dataclass parameter arrives as the dataclass and a list[Model] result is JSON."""
    response = h.client.post("/SerdeShop/lines", json=ORDER)
    assert response.status_code == 200, response.text
    assert response.json() == [{"sku": "Order:a", "price": 1.5}, {"sku": "Order:b", "price": 2.0}]


def test_dataclass_in_model_out(h: Harness) -> None:
    """A pydantic model result is dumped with pydantic."""
    response = h.client.post("/SerdeShop/receipt", json=ORDER)
    assert response.json() == {"customer": "ann smith", "total": 3.5, "input_type": "Order"}


def test_dataclass_out(h: Harness) -> None:
    """A dataclass result, which the SDK alone cannot serialize, comes back as JSON."""
    response = h.client.post("/SerdeShop/normalize", json=ORDER)
    assert response.status_code == 200, response.text
    assert response.json()["customer"] == "Ann Smith"
    assert response.json()["note"] is None


def test_service_call_between_handlers(h: Harness) -> None:
    """ctx.service_call sends a dataclass to a rea handler and gets list[Model] back."""
    response = h.client.post("/SerdeShop/first_line", json=ORDER)
    assert response.status_code == 200, response.text
    assert response.json() == {"sku": "Order:a", "price": 1.5}


def test_typed_dict(h: Harness) -> None:
    """Under validation="strict" a typing_extensions.TypedDict is validated in and dumped out."""
    assert h.client.post("/SerdeShop/shift", json={"x": 1, "y": 2}).json() == {"x": 2, "y": 3}
    response = h.client.post("/SerdeShop/shift", json={"x": 1})
    assert response.status_code == 400
    assert response.json()["message"] == "invalid input: y: Field required"


def test_optional_model(h: Harness) -> None:
    """An Optional model maps an empty body to None and back; a model round-trips."""
    empty = h.client.post("/SerdeShop/echo")
    assert (empty.status_code, empty.content) == (200, b"")
    item = {"sku": "z", "price": 9.0}
    assert h.client.post("/SerdeShop/echo", json=item).json() == item


def test_virtual_object_with_models_in_state(h: Harness) -> None:
    """A VirtualObject takes a model, returns list[Model] and an Optional model."""
    assert h.client.post("/SerdeCart/c1/last").content == b""
    h.client.post("/SerdeCart/c1/add", json={"sku": "a", "price": 1}).raise_for_status()
    added = h.client.post("/SerdeCart/c1/add", json={"sku": "b", "price": 2})
    assert added.json() == [{"sku": "a", "price": 1.0}, {"sku": "b", "price": 2.0}]
    assert h.client.post("/SerdeCart/c1/last").json() == {"sku": "b", "price": 2.0}


def test_bad_input_is_400_after_one_attempt(h: Harness) -> None:
    """Input that fails validation answers 400 naming the field, after exactly one attempt."""
    response = h.client.post("/SerdeShop/lines", json=BAD_ORDER)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("invalid input: items.0.price: Input should be a valid number")
    invocation_id = response.headers["x-restate-id"]
    assert _invocation(h, invocation_id) == {
        "status": "completed",
        "completion_result": "failure",
        "completion_failure": f"[400] {message}",
    }
    assert _transient_errors(h, invocation_id) == []
    assert ATTEMPTS[invocation_id] == 1


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/SerdeShop/lines", None, "invalid input: missing input"),
        ("/SerdeCart/c2/add", b"{not json", "invalid input: Invalid JSON"),
        ("/SerdeCart/c2/add", b'{"sku": 1}', "invalid input: sku: Input should be a valid string"),
    ],
    ids=["missing", "malformed", "model-field"],
)
def test_other_bad_inputs_are_400(h: Harness, path: str, body: bytes | None, message: str) -> None:
    """A missing body, malformed JSON and a bad model field are all 400s."""
    headers = {"content-type": "application/json"} if body is not None else {}
    response = h.client.post(path, content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)
    assert ATTEMPTS[response.headers["x-restate-id"]] == 1


def test_output_that_does_not_fit_is_terminal(h: Harness) -> None:
    """A result that does not fit its declared type is a 500 that is not retried."""
    response = h.client.post("/SerdeShop/broken")
    assert response.status_code == 500
    assert response.json()["message"].startswith("cannot serialize str as int")
    invocation_id = response.headers["x-restate-id"]
    assert _invocation(h, invocation_id)["completion_failure"].startswith("[500] cannot serialize")
    assert _transient_errors(h, invocation_id) == []
    assert ATTEMPTS[invocation_id] == 1


def test_discovery_exposes_json_schemas(h: Harness) -> None:
    """The admin API shows pydantic's schemas for inputs and outputs."""
    service = h.admin.get("/services/SerdeShop").json()
    handlers = {handler["name"]: handler for handler in service["handlers"]}
    lines = handlers["lines"]
    assert lines["input_json_schema"]["title"] == "Order"
    assert lines["input_json_schema"]["required"] == ["customer", "items"]
    assert lines["output_json_schema"]["type"] == "array"
    assert lines["output_json_schema"]["items"] == {"$ref": "#/$defs/Item"}
    assert handlers["shift"]["input_json_schema"]["required"] == ["x", "y"]
    assert {"type": "null"} in handlers["echo"]["output_json_schema"]["anyOf"]
    assert handlers["broken"]["output_json_schema"] == {"type": "integer"}


# -- the SDK alone -------------------------------------------------------------------------------
def test_bare_sdk_answers_500_for_bad_input(bare: Harness) -> None:
    """Without rea, the same bad model input is a 500 ("Unable to parse an input argument")."""
    response = bare.client.post("/SerdeBare/bare_add", json={"sku": 1, "price": "cheap"})
    assert response.status_code == 500
    assert response.json()["message"].startswith("Unable to parse an input argument")
    assert ATTEMPTS[response.headers["x-restate-id"]] == 1


def test_bare_sdk_hands_dataclasses_over_as_dicts(bare: Harness) -> None:
    """Without rea, a dataclass parameter arrives as a plain dict."""
    assert bare.client.post("/SerdeBare/bare_lines", json=ORDER).json() == "dict"


def test_bare_sdk_retries_a_dataclass_result(bare: Harness) -> None:
    """Without rea, a dataclass result fails every attempt until the retry policy kills it."""
    response = bare.client.post("/SerdeBare/bare_normalize", json=ORDER)
    assert response.status_code == 500
    assert "is not JSON serializable" in response.json()["message"]
    invocation_id = response.headers["x-restate-id"]
    assert ATTEMPTS[invocation_id] == 3
    assert _transient_errors(bare, invocation_id) != []
