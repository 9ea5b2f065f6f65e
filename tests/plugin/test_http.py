"""lambda_http: requests in, API Gateway proxy events to the target version, responses out.

Each test sends real requests through :class:`LambdaHttpSession` to a function on the
local AWS whose handler echoes the event it received (see ``HTTP_HANDLER``).
"""

from __future__ import annotations

import pytest

from lambda_gate.pytest_plugin.http_session import LambdaHttpSession


@pytest.fixture
def invoke(invoker_for, http_function):
    return invoker_for(http_function, "1")


@pytest.fixture
def http(invoke):
    with LambdaHttpSession(invoke) as session:
        yield session


@pytest.fixture
def http_v1(invoke):
    with LambdaHttpSession(invoke, event_format="v1") as session:
        yield session


def test_a_relative_path_reaches_the_function(http):
    response = http.get("/echo")

    assert response.status_code == 200
    assert response.json()["path"] == "/echo"
    assert response.headers["X-Echo"] == "yes"
    assert response.url == "http://lambda/echo"


def test_the_method_and_path_are_in_the_v2_event(http):
    echo = http.delete("/orders/17").json()

    assert (echo["format"], echo["method"], echo["path"], echo["routeKey"]) == (
        "v2", "DELETE", "/orders/17", "$default")


def test_v2_query_strings_are_raw_and_comma_joined(http):
    echo = http.get("/search", params=[("tag", "a"), ("tag", "b"), ("q", "x y")]).json()

    assert echo["rawQueryString"] == "tag=a&tag=b&q=x+y"
    assert echo["query"] == {"tag": "a,b", "q": "x y"}


def test_v2_headers_are_lower_case(http):
    echo = http.get("/echo", headers={"X-Request-Id": "r-1"}).json()

    assert echo["headers"]["x-request-id"] == "r-1"
    assert echo["headers"]["host"] == "lambda"


def test_v2_request_cookies_travel_in_their_own_list(http):
    echo = http.get("/echo", cookies={"session": "abc", "theme": "dark"}).json()

    assert sorted(echo["cookies"]) == ["session=abc", "theme=dark"]
    assert "cookie" not in echo["headers"]


def test_v2_response_cookies_become_set_cookie_headers(http):
    response = http.get("/cookies")

    assert response.status_code == 204
    assert response.raw.headers.getlist("Set-Cookie") == ["session=abc; Path=/",
                                                          "theme=dark; Path=/"]
    assert response.cookies.get_dict() == {"session": "abc", "theme": "dark"}


def test_cookies_set_by_the_function_are_sent_back_by_the_session(http):
    http.get("/cookies")

    echo = http.get("/echo").json()

    assert sorted(echo["cookies"]) == ["session=abc", "theme=dark"]


def test_a_json_body_is_sent_as_text(http):
    echo = http.post("/orders", json={"item": "tea"}).json()

    assert echo["isBase64Encoded"] is False
    assert bytes.fromhex(echo["bodyHex"]) == b'{"item": "tea"}'


def test_a_binary_body_is_base64_encoded_in_the_event(http):
    data = bytes(range(256))

    echo = http.put("/upload", data=data,
                    headers={"Content-Type": "application/octet-stream"}).json()

    assert echo["isBase64Encoded"] is True
    assert bytes.fromhex(echo["bodyHex"]) == data


def test_a_base64_response_body_arrives_as_bytes(http):
    response = http.get("/png")

    assert response.headers["Content-Type"] == "image/png"
    assert response.content == bytes(range(256))


def test_an_error_status_from_the_function_is_passed_through(http):
    response = http.get("/handled-error")

    assert response.status_code == 500
    assert response.json() == {"error": "database unavailable"}


def test_an_unhandled_exception_is_a_502_with_the_log_tail_attached(http):
    response = http.get("/boom")

    assert response.status_code == 502
    assert response.json() == {"message": "Internal Server Error"}
    assert response.invoke_result.payload["errorMessage"] == "unhandled failure in /boom"
    assert "http /boom" in response.log_tail


def test_a_v2_result_without_status_code_is_a_200_with_that_json(http):
    response = http.get("/bare")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"just": "a dict"}


def test_redirects_are_followed_through_the_function(http):
    response = http.get("/redirect")

    assert response.history[0].status_code == 302
    assert response.json()["query"] == {"from": "redirect"}


def test_a_route_fills_path_parameters_and_the_route_key(invoke):
    with LambdaHttpSession(invoke, route="GET /orders/{id}/items/{rest+}") as http:
        echo = http.get("/orders/17/items/a/b").json()

    assert echo["pathParameters"] == {"id": "17", "rest": "a/b"}
    assert echo["routeKey"] == "GET /orders/{id}/items/{rest+}"


def test_a_request_outside_the_route_is_a_404_without_an_invocation(invoke):
    with LambdaHttpSession(invoke, route="GET /orders/{id}") as http:
        response = http.post("/orders/17")

    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert response.invoke_result is None


def test_the_v1_event_has_method_path_and_a_proxy_resource(http_v1):
    echo = http_v1.post("/orders/17").json()

    assert (echo["format"], echo["method"], echo["path"], echo["resource"]) == (
        "v1", "POST", "/orders/17", "/{proxy+}")
    assert echo["pathParameters"] == {"proxy": "orders/17"}


def test_v1_query_strings_have_last_and_all_values(http_v1):
    echo = http_v1.get("/search?tag=a&tag=b&q=x").json()

    assert echo["query"] == {"tag": "b", "q": "x"}
    assert echo["multiQuery"] == {"tag": ["a", "b"], "q": ["x"]}


def test_v1_multi_value_headers_keep_every_value(http_v1):
    response = http_v1.get("/multi")

    assert response.raw.headers.getlist("X-Multi") == ["a", "b"]
    assert response.headers["X-Multi"] == "a, b"
    assert response.headers["X-Single"] == "one"


def test_v1_cookies_come_from_multi_value_set_cookie_headers(http_v1):
    response = http_v1.get("/cookies")

    assert response.cookies.get_dict() == {"session": "abc", "theme": "dark"}


def test_a_v1_result_without_status_code_is_a_502(http_v1):
    response = http_v1.get("/bare")

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert "statusCode" in response.problem


def test_a_v1_route_sets_the_resource_and_path_parameters(invoke):
    with LambdaHttpSession(invoke, event_format="v1", route="/orders/{id}") as http:
        echo = http.get("/orders/17").json()

    assert (echo["resource"], echo["pathParameters"]) == ("/orders/{id}", {"id": "17"})


HTTP_TEST = """
import pytest

def test_format(lambda_http):
    assert lambda_http.get("/echo").json()["format"] == {expected!r}
"""


def test_the_fixture_sends_v2_events_by_default(pytester, run_pytest, http_function):
    pytester.makepyfile(HTTP_TEST.format(expected="v2"))

    run_pytest(f"--lambda-arn={http_function.arn('1')}").assert_outcomes(passed=1)


def test_the_ini_file_chooses_the_event_format(pytester, run_pytest, http_function):
    pytester.makeini("[pytest]\nlambda_http_event_format = v1\n")
    pytester.makepyfile(HTTP_TEST.format(expected="v1"))

    run_pytest(f"--lambda-arn={http_function.arn('1')}").assert_outcomes(passed=1)


def test_the_marker_chooses_the_event_format_over_the_ini_file(pytester, run_pytest,
                                                               http_function):
    pytester.makeini("[pytest]\nlambda_http_event_format = v2\n")
    pytester.makepyfile(HTTP_TEST.format(expected="v1").replace(
        "def test_format", "@pytest.mark.lambda_http(format='v1')\ndef test_format"))

    run_pytest(f"--lambda-arn={http_function.arn('1')}").assert_outcomes(passed=1)


def test_the_marker_route_fills_path_parameters(pytester, run_pytest, http_function):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.lambda_http(route="GET /orders/{id}")
        def test_route(lambda_http):
            assert lambda_http.get("/orders/9").json()["pathParameters"] == {"id": "9"}
    """)

    run_pytest(f"--lambda-arn={http_function.arn('1')}").assert_outcomes(passed=1)


def test_a_502_in_a_failing_test_shows_the_function_log(pytester, run_pytest, http_function):
    pytester.makepyfile("""
        def test_boom(lambda_http):
            assert lambda_http.get("/boom").status_code == 200
    """)

    result = run_pytest(f"--lambda-arn={http_function.arn('1')}")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*- lambda log tail -*",
        "--- invocation 1 of 1: status 200, version 1, Unhandled error (RuntimeError), * ms ---",
        "*http /boom*",
        "[[]ERROR[]] RuntimeError: unhandled failure in /boom",
        "Traceback (most recent call last):",
        '*app.py", line *, in handler',
        '*raise RuntimeError("unhandled failure in /boom")',
    ])


def test_an_import_error_behind_a_502_reaches_the_failing_tests_report(
        pytester, run_pytest, make_function):
    broken = make_function("import settings\n\ndef handler(event, context):\n    return {}\n",
                           prefix="broken-import",
                           extra_files={"settings.py": "import pydantic_core_missing\n"})
    pytester.makepyfile("""
        def test_health(lambda_http):
            response = lambda_http.get("/health")
            assert response.status_code == 200, response.problem
    """)

    result = run_pytest(f"--lambda-arn={broken.arn('1')}")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*AssertionError: the function failed (Unhandled: Runtime.ImportModuleError)*",
        "*- lambda log tail -*",
        "--- invocation 1 of 1: status 200, version 1, "
        "Unhandled error (Runtime.ImportModuleError), * ms ---",
        "[[]ERROR[]] Runtime.ImportModuleError: Unable to import module 'app': "
        "No module named 'pydantic_core_missing'",
        "Traceback (most recent call last):",
        '*settings.py", line 1, in <module>',
    ])

