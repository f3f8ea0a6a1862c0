"""The documented, deliberate differences between rea.app and restate.app, case by case.

Every case not listed here must get the same status and body bytes from both apps at every
step. A listed case must differ exactly as documented at its step, and match at every other
step. README.md in this directory has the same list as a table.
"""

from __future__ import annotations

from tests.integration.compat._driver import (
    Difference,
    Expect,
    only_rea_additions,
    only_rea_frames,
)

UNPARSABLE = "Unable to parse an input argument. "

NOT_JSON = Difference(
    step="response",
    sdk=Expect(500, message=UNPARSABLE),
    rea=Expect(400, message="invalid input: "),
    why="a body that is not JSON is the caller's fault: rea answers 400 after one attempt, "
    "the SDK fails the invocation terminally with 500",
)
REA_FRAME = Difference(
    step="response",
    relation=only_rea_frames,
    why="the 500 of a typed handler that keeps failing shows rea's validating wrapper "
    "(rea/_serde.py) in its stack trace; status, message and every other frame are the SDK's",
)


def _bad_model(step: str, field: str) -> Difference:
    return Difference(
        step=step,
        sdk=Expect(500, message=UNPARSABLE + "1 validation error for Item"),
        rea=Expect(400, message=f"invalid input: {field}"),
        why="input that fails a pydantic model: rea 400 after one attempt, naming the field; "
        "the SDK gives a terminal 500 'Unable to parse an input argument'",
    )


WRONG_TYPE = "a typed input of the wrong type: rea 400 after one attempt (docs/app.md); the SDK "
WRONG_TYPE += "hands the value over unchecked"

DIFFERENCES: dict[str, Difference] = {
    # values
    "malformed-json": NOT_JSON,
    "str-given-a-number": Difference(
        step="response",
        sdk=Expect(200, body=b"5"),
        rea=Expect(400, message="invalid input: Input should be a valid string"),
        why=WRONG_TYPE,
    ),
    "int-given-a-whole-float": Difference(
        step="response",
        sdk=Expect(200, body=b"2.0"),
        rea=Expect(400, message="invalid input: Input should be a valid integer"),
        why=WRONG_TYPE,
    ),
    "int-given-a-numeric-string": Difference(
        step="response",
        sdk=Expect(200, body=b'"42"'),
        rea=Expect(400, message="invalid input: Input should be a valid integer"),
        why=WRONG_TYPE,
    ),
    "bool-given-1": Difference(
        step="response",
        sdk=Expect(200, body=b"1"),
        rea=Expect(400, message="invalid input: Input should be a valid boolean"),
        why=WRONG_TYPE,
    ),
    "list-given-a-dict": Difference(
        step="response",
        sdk=Expect(200, body=b'{"a": 1}'),
        rea=Expect(400, message="invalid input: Input should be a valid array"),
        why=WRONG_TYPE,
    ),
    "crash-retried": REA_FRAME,
    # TypedDicts: read as the SDK reads them, except a body that is not JSON
    "typing-typeddict-malformed-json": NOT_JSON,
    "typing-extensions-typeddict-malformed-json": NOT_JSON,
    "typing-typeddict-required-key-missing": REA_FRAME,
    "typing-extensions-typeddict-required-key-missing": REA_FRAME,
    "typeddict-required-key-missing-retried": REA_FRAME,
    # pydantic models
    "model-invalid-field": _bad_model("response", "price: Input should be a valid number"),
    "model-missing-field": _bad_model("response", "price: Field required"),
    "model-malformed-json": Difference(
        step="response",
        sdk=Expect(500, message=UNPARSABLE + "1 validation error for Item\n  Invalid JSON"),
        rea=Expect(400, message="invalid input: Invalid JSON"),
        why=NOT_JSON.why,
    ),
    "model-empty-body": Difference(
        step="response",
        sdk=Expect(500, message="AttributeError(\"'NoneType' object has no attribute"),
        rea=Expect(
            400, body=b'{"code":400,"message":"invalid input: missing input","source":"invocation"}'
        ),
        why="an empty body for a model parameter: the SDK hands the handler None (whose "
        "AttributeError is retried until killed), rea answers 400 'missing input'",
    ),
    "one-way-invalid-model": _bad_model("message", "price: Input should be a valid number"),
    # dataclasses, list[Model]
    "dataclass-in": Difference(
        step="response",
        sdk=Expect(500, message="AttributeError(\"'dict' object has no attribute 'sender'\")"),
        rea=Expect(200, body=b'"a: 2.0 kg (fragile)"'),
        why="rea hands a dataclass parameter over as the dataclass (validated); the SDK hands "
        "over a dict, so attribute access fails and is retried until killed",
    ),
    "dataclass-in-read-as-dict": Difference(
        step="response",
        sdk=Expect(200, body=b'"a: 2 kg"'),
        rea=Expect(500, message="TypeError(\"'Parcel' object is not subscriptable\")"),
        why="the other side of the same choice: SDK code that indexes the dict it was given "
        "breaks under rea (a drop-in hazard, documented in docs/serde.md)",
    ),
    "dataclass-invalid": Difference(
        step="response",
        sdk=Expect(500, message="AttributeError(\"'dict' object has no attribute 'sender'\")"),
        rea=Expect(400, message="invalid input: weight: Input should be a valid number"),
        why="a dataclass that does not validate: rea 400 after one attempt",
    ),
    "dataclass-out": Difference(
        step="response",
        sdk=Expect(500, message="TypeError('Object of type Parcel is not JSON serializable')"),
        rea=Expect(200, body=b'{"sender": "bob", "weight": 1.5, "fragile": false}'),
        why="the SDK cannot serialize a dataclass result (retried until killed); rea writes the "
        "bytes the SDK's DefaultSerde writes for that dataclass elsewhere (json.dumps(asdict))",
    ),
    "list-of-models-out": Difference(
        step="response",
        sdk=Expect(500, message="TypeError('Object of type Item is not JSON serializable')"),
        rea=Expect(
            200,
            value=[
                {"name": "ä", "price": 1.0, "tags": []},
                {"name": "b", "price": 2.5, "tags": ["x"]},
            ],
        ),
        why="the SDK cannot serialize a list[Model] result (retried until killed); rea can",
    ),
    # discovery
    "discovered-services-and-handlers": Difference(
        step="services",
        relation=only_rea_additions,
        why="rea.app serves SagaDeadLetters and adds _rea_attach/_rea_output to every workflow "
        "(rea.app(..., dead_letters=False, workflow_output=False) turns them off)",
    ),
}
