"""Fixtures for the pytest plugin's tests: real functions on the session's local AWS.

The functions are created once per session with boto3, from handler sources written
here, and never changed afterwards (tests that move an alias make their own function),
so tests can share them. Test sessions run by ``pytester`` find the local AWS through
``AWS_ENDPOINT_URL``, which the root ``local_aws`` fixture sets.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from packages import zip_of

from lambda_gate.pytest_plugin.invoker import LambdaInvoker
from lambda_gate.pytest_plugin.target import make_client, resolve_target
from lambda_gate.pytest_plugin.target_settings import TargetSettings, resolve_settings

#: An environment value the functions are given; it must never reach a report.
SECRET_VALUE = "s3cret-token-4d1f9"

VERSIONED_HANDLER = '''
import os

CODE_VERSION = "{code_version}"


def handler(event, context):
    print("running code", CODE_VERSION)
    if event.get("leak"):
        print("token is", os.environ["TOKEN"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        import time
        time.sleep(event["sleep"])
    return {{"code_version": CODE_VERSION, "event": event}}
'''

HTTP_HANDLER = '''
import base64
import json


def handler(event, context):
    print("http", event.get("rawPath") or event.get("path"))
    is_v2 = event.get("version") == "2.0"
    path = event["rawPath"] if is_v2 else event["path"]
    if path == "/boom":
        raise RuntimeError("unhandled failure in /boom")
    if path == "/handled-error":
        return {"statusCode": 500, "body": json.dumps({"error": "database unavailable"})}
    if path == "/bare":
        return {"just": "a dict"}
    if path == "/not-json":
        return "plain"
    if path == "/png":
        png = bytes(range(256))
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(png).decode(), "isBase64Encoded": True}
    if path == "/cookies":
        if is_v2:
            return {"statusCode": 204, "cookies": ["session=abc; Path=/", "theme=dark; Path=/"]}
        return {"statusCode": 204,
                "multiValueHeaders": {"Set-Cookie": ["session=abc; Path=/", "theme=dark; Path=/"]}}
    if path == "/multi":
        return {"statusCode": 200, "headers": {"X-Single": "one"},
                "multiValueHeaders": {"X-Multi": ["a", "b"]}, "body": ""}
    if path == "/redirect":
        return {"statusCode": 302, "headers": {"Location": "/echo?from=redirect"}}
    body = event.get("body")
    if event.get("isBase64Encoded") and body is not None:
        body_bytes = base64.b64decode(body)
    else:
        body_bytes = (body or "").encode()
    echo = {
        "format": "v2" if is_v2 else "v1",
        "method": event["requestContext"]["http"]["method"] if is_v2 else event["httpMethod"],
        "path": path,
        "rawQueryString": event.get("rawQueryString"),
        "query": event.get("queryStringParameters"),
        "multiQuery": event.get("multiValueQueryStringParameters"),
        "pathParameters": event.get("pathParameters"),
        "routeKey": event.get("routeKey"),
        "resource": event.get("resource"),
        "headers": event.get("headers"),
        "cookies": event.get("cookies"),
        "isBase64Encoded": event.get("isBase64Encoded"),
        "bodyHex": body_bytes.hex(),
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json",
                                           "X-Echo": "yes"},
            "body": json.dumps(echo)}
'''


@dataclass(frozen=True)
class Function:
    """A function on the local AWS: its name and its published versions."""

    name: str
    versions: tuple[str, ...]

    def arn(self, qualifier: str) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.name}:{qualifier}"


MakeFunction = Callable[..., Function]


@pytest.fixture(scope="session")
def secret_value() -> str:
    """The value of the ``versioned`` function's TOKEN variable."""
    return SECRET_VALUE


@pytest.fixture(scope="session")
def make_function(lambda_client, role_arn: str) -> MakeFunction:
    """Create a function whose version N runs ``sources[N-1]``; returns its name."""

    def make(*sources: str, timeout: int = 3, env: dict[str, str] | None = None,
             prefix: str = "plugin", extra_files: dict[str, str] | None = None) -> Function:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        lambda_client.create_function(
            FunctionName=name, Runtime="python3.11", Role=role_arn, Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": sources[0], **(extra_files or {})})},
            Publish=True,
            Timeout=timeout, Environment={"Variables": env or {}},
        )
        for source in sources[1:]:
            lambda_client.update_function_code(
                FunctionName=name, ZipFile=zip_of({"app.py": source}), Publish=True)
        return Function(name, tuple(str(n) for n in range(1, len(sources) + 1)))

    return make


@pytest.fixture(scope="session")
def versioned(make_function: MakeFunction, lambda_client) -> Function:
    """Two versions with different code, a 1 s timeout, a secret and alias ``live`` -> 1."""
    function = make_function(
        VERSIONED_HANDLER.format(code_version="one"),
        VERSIONED_HANDLER.format(code_version="two"),
        timeout=1,
        env={"TOKEN": SECRET_VALUE, "STAGE": "smoke"},
        prefix="versioned",
    )
    lambda_client.create_alias(FunctionName=function.name, Name="live", FunctionVersion="1")
    return function


@pytest.fixture(scope="session")
def http_function(make_function: MakeFunction) -> Function:
    return make_function(HTTP_HANDLER, prefix="http")


@pytest.fixture(scope="session")
def settings_for() -> Callable[..., TargetSettings]:
    """Settings naming ``function`` ``version`` on the command line."""

    def settings(function: Function, version: str = "1", **cli: str) -> TargetSettings:
        return resolve_settings({"function": function.name, "version": version, **cli}, {}, {})

    return settings


@pytest.fixture(scope="session")
def invoker_for(local_aws, settings_for) -> Callable[..., LambdaInvoker]:
    """A :class:`LambdaInvoker` for a version, built as the plugin builds it."""

    def invoker(function: Function, version: str = "1") -> LambdaInvoker:
        settings = settings_for(function, version)
        client = make_client(settings)
        target, _ = resolve_target(client, settings)
        return LambdaInvoker(client, target)

    return invoker


RunPytest = Callable[..., pytest.RunResult]


@pytest.fixture
def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> RunPytest:
    """Run pytest in-process with only this plugin loaded.

    Other installed plugins are left out: they would be imported afresh for every run
    (pytester forgets modules a run imported), which costs seconds per run. One test
    checks that the entry point loads the plugin on its own.
    """
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_inprocess("-p", "lambda_gate.pytest_plugin", *args)

    return run
