"""Invoke really runs the published code, locally, with Lambda's context and errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambda_gate.local_aws.server import LocalAws

MakeFunction = Callable[..., str]


CONTEXT_PY = """
def handler(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
    }
"""

ENV_PY = """
import os
def handler(event, context):
    return {name: os.environ.get(name) for name in event["names"]}
"""

RESERVED = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION",
            "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_LOG_STREAM_NAME", "TZ"]


def call(lambda_client, name: str, event: object = None, **kwargs) -> tuple[dict, object]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event or {}),
                                    **kwargs)
    return response, json.loads(response["Payload"].read())


def test_python_handler_gets_the_event_and_returns_json(lambda_client,
                                                        make_function: MakeFunction) -> None:
    name = make_function({"app.py": "def handler(event, context):\n"
                                    "    return {'doubled': event['n'] * 2}\n"})
    response, payload = call(lambda_client, name, {"n": 21})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert payload == {"doubled": 42}


def test_python_handler_may_live_in_a_subdirectory(lambda_client,
                                                   make_function: MakeFunction) -> None:
    name = make_function({"dist/main.py": "def handler(e, c):\n    return 'from dist'\n"},
                         handler="dist/main.handler")
    assert call(lambda_client, name)[1] == "from dist"


def test_python_context_carries_lambdas_fields(lambda_client,
                                               make_function: MakeFunction) -> None:
    name = make_function({"app.py": CONTEXT_PY}, memory=256, timeout=7)
    _, ctx = call(lambda_client, name, Qualifier="1")
    assert ctx["function_name"] == name
    assert ctx["function_version"] == "1"
    assert ctx["invoked_function_arn"] == (
        f"arn:aws:lambda:us-east-1:123456789012:function:{name}:1")
    assert ctx["memory_limit_in_mb"] == "256"
    assert len(ctx["aws_request_id"]) == 36
    assert ctx["log_group_name"] == f"/aws/lambda/{name}"
    assert "[1]" in ctx["log_stream_name"]
    assert 0 < ctx["remaining"] <= 7000


def test_reserved_environment_variables_are_set(lambda_client,
                                                make_function: MakeFunction) -> None:
    name = make_function({"app.py": ENV_PY}, memory=192)
    _, env = call(lambda_client, name, {"names": RESERVED}, Qualifier="1")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "1"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["_HANDLER"] == "app.handler"
    assert Path(env["LAMBDA_TASK_ROOT"], "app.py").is_file()
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["TZ"] == ":UTC"


def test_the_functions_own_environment_variables_are_set(lambda_client,
                                                         make_function: MakeFunction) -> None:
    name = make_function({"app.py": ENV_PY}, env={"GREETING": "hello", "TZ": "Europe/Paris"})
    _, env = call(lambda_client, name, {"names": ["GREETING", "TZ"]})
    assert env == {"GREETING": "hello", "TZ": "Europe/Paris"}


def test_reserved_variables_cannot_be_set_by_the_function(
        make_function: MakeFunction) -> None:
    with pytest.raises(ClientError) as raised:
        make_function({"app.py": ENV_PY}, env={"AWS_REGION": "mars-1"})
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert raised.value.response["Error"]["Message"].endswith(
        "Reserved keys used in this request: AWS_REGION")


def test_a_package_is_unpacked_once_per_code_sha(lambda_client, local_aws: LocalAws,
                                                 make_function: MakeFunction) -> None:
    name = make_function({"app.py": "import os\ndef handler(e, c):\n"
                                    "    return os.environ['LAMBDA_TASK_ROOT']\n"})
    first = call(lambda_client, name, Qualifier="1")[1]
    second = call(lambda_client, name, Qualifier="$LATEST")[1]
    sha = lambda_client.get_function_configuration(FunctionName=name)["CodeSha256"]
    assert first == second
    assert Path(first).name == base64.b64decode(sha).hex()


def test_prints_go_to_the_log_not_the_payload(lambda_client,
                                              make_function: MakeFunction) -> None:
    name = make_function({"app.py": "def handler(e, c):\n    print('just logging')\n"
                                    "    return 'result'\n"})
    response, payload = call(lambda_client, name, LogType="Tail")
    assert payload == "result"
    assert "just logging" in base64.b64decode(response["LogResult"]).decode()


def test_a_module_raising_on_import_fails_the_init_with_its_own_error(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": "raise RuntimeError('no config')\n"})
    response, payload = call(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "RuntimeError"
    assert payload["errorMessage"] == "no config"
    assert any("raise RuntimeError('no config')" in line for line in payload["stackTrace"])


def test_a_failed_import_is_an_import_module_error(lambda_client,
                                                   make_function: MakeFunction) -> None:
    name = make_function({"app.py": "import not_packaged\n"})
    response, payload = call(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == (
        "Unable to import module 'app': No module named 'not_packaged'")


def test_a_missing_handler_function_is_handler_not_found(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": "def other(e, c):\n    return 1\n"})
    response, payload = call(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.HandlerNotFound"
    assert payload["errorMessage"] == "Handler 'handler' missing on module 'app'"


def test_a_process_that_exits_without_answering_is_a_runtime_exit_error(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": "import os\ndef handler(e, c):\n    os._exit(3)\n"})
    response, payload = call(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Runtime exited with error: exit status 3")


def test_an_unsupported_runtime_is_named_in_the_error(lambda_client, lambda_client_once,
                                                      make_function: MakeFunction) -> None:
    name = make_function({"App.java": "class App {}"}, runtime="java21",
                         handler="App::handleRequest")
    with pytest.raises(ClientError) as raised:
        lambda_client_once.invoke(FunctionName=name)
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidRuntimeException"
    assert "'java21' cannot run on lambda-gate's local AWS" in error["Message"]


def test_a_package_with_path_traversal_is_refused_and_the_server_keeps_serving(
        lambda_client, lambda_client_once, make_function: MakeFunction, zip_package) -> None:
    escape = "../" * 8 + "tmp/lambda-gate-escaped.py"
    name = make_function(package=zip_package({"app.py": "def handler(e, c):\n    return 1\n",
                                         escape: "owned = True\n"}))
    with pytest.raises(ClientError) as raised:
        lambda_client_once.invoke(FunctionName=name)
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidZipFileException"
    assert f"entry {escape!r} points outside the package" in error["Message"]
    assert not Path("/tmp/lambda-gate-escaped.py").exists()
    healthy = make_function({"app.py": "def handler(e, c):\n    return 'still here'\n"})
    assert call(lambda_client, healthy)[1] == "still here"


def test_a_package_that_is_not_a_zip_is_refused(lambda_client, lambda_client_once,
                                                make_function: MakeFunction) -> None:
    name = make_function(package=b"definitely not a zip archive")
    with pytest.raises(ClientError) as raised:
        lambda_client_once.invoke(FunctionName=name)
    assert raised.value.response["Error"]["Code"] == "InvalidZipFileException"


def test_a_payload_that_is_not_json_is_refused(lambda_client,
                                               make_function: MakeFunction) -> None:
    name = make_function({"app.py": "def handler(e, c):\n    return 1\n"})
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName=name, Payload=b"{not json")
    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"


NODE_ASYNC = """
exports.handler = async (event, context) => ({
  sum: event.a + event.b,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  awsRequestId: context.awsRequestId,
  remaining: context.getRemainingTimeInMillis(),
  region: process.env.AWS_REGION,
  greeting: process.env.GREETING,
});
"""


def test_node_async_handler_with_context_and_environment(lambda_client,
                                                         make_function: MakeFunction) -> None:
    name = make_function({"index.js": NODE_ASYNC}, runtime="nodejs20.x",
                         handler="index.handler", env={"GREETING": "hi"})
    response, out = call(lambda_client, name, {"a": 2, "b": 3}, Qualifier="1")
    assert "FunctionError" not in response
    assert out["sum"] == 5
    assert out["functionName"] == name
    assert out["functionVersion"] == "1"
    assert out["invokedFunctionArn"].endswith(f":function:{name}:1")
    assert out["memoryLimitInMB"] == "128"
    assert len(out["awsRequestId"]) == 36
    assert 0 < out["remaining"] <= 3000
    assert (out["region"], out["greeting"]) == ("us-east-1", "hi")


def test_node_callback_handler_in_a_subdirectory(lambda_client,
                                                 make_function: MakeFunction) -> None:
    source = "exports.handler = (event, context, callback) => {\n" \
             "  setTimeout(() => callback(null, {echo: event.x}), 10);\n};\n"
    name = make_function({"dist/main.js": source}, runtime="nodejs20.x",
                         handler="dist/main.handler")
    assert call(lambda_client, name, {"x": "y"})[1] == {"echo": "y"}


def test_node_es_module_handler(lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"index.mjs": "export const handler = async () => 'esm';\n"},
                         runtime="nodejs20.x", handler="index.handler")
    assert call(lambda_client, name)[1] == "esm"


def test_node_thrown_error_is_shaped_as_lambdas(lambda_client,
                                                make_function: MakeFunction) -> None:
    source = "exports.handler = async () => { throw new TypeError('bad input'); };\n"
    name = make_function({"index.js": source}, runtime="nodejs20.x", handler="index.handler")
    response, payload = call(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "TypeError"
    assert payload["errorMessage"] == "bad input"
    assert payload["trace"][0] == "TypeError: bad input"


def test_node_missing_handler_is_handler_not_found(lambda_client,
                                                   make_function: MakeFunction) -> None:
    name = make_function({"index.js": "exports.other = async () => 1;\n"},
                         runtime="nodejs20.x", handler="index.handler")
    response, payload = call(lambda_client, name)
    assert payload == {"errorType": "Runtime.HandlerNotFound",
                       "errorMessage": "index.handler is undefined or not exported",
                       "trace": []}
