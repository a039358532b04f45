"""The API description's examples are real: each matches its operation's answer in the document,
and the sandbox still answers with the same shape (else `python -m bff.openapi.examples`)."""

import json

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from bff.openapi import build_document, examples
from bff.openapi.document import recorded_examples
from bff.settings import load_settings

DOCUMENT = build_document(load_settings({}))
RECORDED = recorded_examples()


def operations() -> dict[str, tuple[str, str, dict]]:
    """operationId -> (method, a path the operation serves, the operation)."""
    return {
        spec["operationId"]: (method.upper(), path.replace("{", "").replace("}", ""), spec)
        for path, methods in DOCUMENT["paths"].items()
        for method, spec in methods.items()
    }


def shape(value):
    """The keys of `value`, nested; a list as the shape of its first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.parametrize("operation_id", sorted(RECORDED))
def test_each_example_is_a_valid_answer_of_its_operation(operation_id):
    method, path, _ = operations()[operation_id]
    request = EnvironBuilder(path=path, method=method).get_request()
    for status, example in RECORDED[operation_id].items():
        response = Response(
            json.dumps(example),
            status=int(status),
            content_type="application/json",
            headers={"X-Request-ID": "0" * 32},
        )
        OpenAPI.from_dict(DOCUMENT).validate_response(
            WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response)
        )


def test_the_examples_are_on_their_operations():
    for operation_id, (_, _, spec) in operations().items():
        for status, example in RECORDED.get(operation_id, {}).items():
            assert spec["responses"][status]["content"]["application/json"]["example"] == example


def test_the_sandbox_still_answers_as_recorded():
    assert {op: shape(answers) for op, answers in examples.record().items()} == {
        op: shape(answers) for op, answers in RECORDED.items()
    }


def test_no_example_carries_a_usable_token():
    text = json.dumps(RECORDED)
    assert {token for token in examples.TOKEN_PATTERN.findall(text)} == {examples.TOKEN}
