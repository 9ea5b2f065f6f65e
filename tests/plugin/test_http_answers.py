"""How API Gateway answers for results a well-behaved function never returns.

These map a recorded invocation result to the HTTP answer, without Lambda: the inputs
are what Invoke returns, the expected answers what API Gateway documents.
"""

from __future__ import annotations

import json

import pytest

from lambda_gate.pytest_plugin.http_events import build_event, encode_body
from lambda_gate.pytest_plugin.http_session import answer_from_result
from lambda_gate.pytest_plugin.invoker import InvokeResult


def result(raw: bytes, function_error: str | None = None) -> InvokeResult:
    return InvokeResult(200, function_error, None, raw, "", "1", 0.0)


def proxy(**fields: object) -> InvokeResult:
    return result(json.dumps(fields).encode())


@pytest.mark.parametrize(("event_format", "message"), [("v2", "Internal Server Error"),
                                                       ("v1", "Internal server error")])
def test_a_function_error_is_a_502_worded_as_each_api_words_it(event_format, message):
    answer = answer_from_result(result(b'{"errorMessage": "x"}', "Unhandled"), event_format)

    assert (answer.status, json.loads(answer.body)) == (502, {"message": message})


def test_a_response_that_is_not_json_is_a_502():
    answer = answer_from_result(result(b"not json"))

    assert (answer.status, answer.problem) == (502, "the function's response is not JSON")


@pytest.mark.parametrize("status", ["abc", 42, 700, True, None])
def test_a_status_code_that_is_not_an_http_status_is_a_502(status):
    answer = answer_from_result(proxy(statusCode=status))

    assert answer.status == 502


def test_a_numeric_string_status_code_is_accepted():
    assert answer_from_result(proxy(statusCode="201")).status == 201


def test_a_body_that_is_not_a_string_is_a_502():
    answer = answer_from_result(proxy(statusCode=200, body={"a": 1}))

    assert (answer.status, answer.problem) == (
        502, "body must be a string (JSON-encode it yourself)")


def test_a_body_marked_base64_that_is_not_base64_is_a_502():
    answer = answer_from_result(proxy(statusCode=200, body="***", isBase64Encoded=True))

    assert answer.status == 502


def test_a_v2_result_that_is_a_json_string_is_a_200_with_that_json():
    answer = answer_from_result(result(b'"hello"'))

    assert (answer.status, answer.body) == (200, b'"hello"')


def test_v2_ignores_multi_value_headers():
    answer = answer_from_result(proxy(statusCode=200, multiValueHeaders={"X-A": ["1", "2"]}))

    assert ("X-A", "1") not in answer.headers


def test_v1_multi_value_headers_win_over_headers_of_the_same_name():
    answer = answer_from_result(proxy(statusCode=200, headers={"X-A": "0", "X-B": "b"},
                                      multiValueHeaders={"X-A": ["1", "2"]}), "v1")

    assert answer.headers == (("X-B", "b"), ("X-A", "1"), ("X-A", "2"))


@pytest.mark.parametrize(("content_type", "body", "expected"), [
    (None, b"plain", ("plain", False)),
    ("application/json", b"{}", ("{}", False)),
    ("application/vnd.api+json", b"{}", ("{}", False)),
    ("text/csv; charset=utf-8", b"a,b", ("a,b", False)),
    ("application/octet-stream", b"abc", ("YWJj", True)),
    ("text/plain", b"\xff\xfe", ("//4=", True)),
])
def test_request_bodies_are_base64_encoded_unless_textual(content_type, body, expected):
    assert encode_body(body, content_type) == expected


def test_an_empty_request_body_is_left_out_of_the_v2_event():
    event = build_event("GET", "http://lambda/", {}, None)

    assert "body" not in event and event["isBase64Encoded"] is False


def test_an_empty_query_is_left_out_of_both_events():
    v2 = build_event("GET", "http://lambda/x", {}, None)
    v1 = build_event("GET", "http://lambda/x", {}, None, event_format="v1")

    assert "queryStringParameters" not in v2
    assert (v1["queryStringParameters"], v1["multiValueQueryStringParameters"]) == (None, None)


def test_an_unknown_event_format_is_refused():
    with pytest.raises(ValueError, match="event_format must be one of v2, v1, not 'v3'"):
        build_event("GET", "http://lambda/", {}, None, event_format="v3")
