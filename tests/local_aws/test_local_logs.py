"""A function's errors are in its log tail: type, message and traceback."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

MakeFunction = Callable[..., str]


def log_tail(lambda_client, name: str, event: object = None) -> tuple[dict, str]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event or {}),
                                    LogType="Tail")
    return json.loads(response["Payload"].read()), base64.b64decode(
        response["LogResult"]).decode()


def test_a_handler_exception_is_logged_with_its_traceback(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": "def handler(event, context):\n"
                                    "    raise ValueError('bad input')\n"})
    _, log = log_tail(lambda_client, name)
    lines = log.splitlines()
    error_at = lines.index("[ERROR] ValueError: bad input")
    assert lines[error_at + 1] == "Traceback (most recent call last):"
    assert "app.py\", line 2, in handler" in lines[error_at + 2]
    assert lines[error_at + 3].strip() == "raise ValueError('bad input')"
    assert lines[error_at + 4].startswith("END RequestId: ")


def test_an_import_failing_inside_a_dependency_is_logged_where_it_failed(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": "import dep\ndef handler(e, c):\n    return 1\n",
                          "dep.py": "import pydantic_core_missing\n"})
    payload, log = log_tail(lambda_client, name)
    assert payload["errorMessage"] == (
        "Unable to import module 'app': No module named 'pydantic_core_missing'")
    assert ("[ERROR] Runtime.ImportModuleError: Unable to import module 'app': "
            "No module named 'pydantic_core_missing'") in log
    assert 'dep.py", line 1, in <module>' in log


def test_an_init_error_is_logged_before_the_invocation_starts(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": "import os\nTABLE = os.environ['TABLE_NAME']\n"})
    payload, log = log_tail(lambda_client, name)
    assert (payload["errorType"], payload["errorMessage"]) == ("KeyError", "'TABLE_NAME'")
    lines = log.splitlines()
    assert lines[0] == "[ERROR] KeyError: 'TABLE_NAME'"
    assert any("TABLE = os.environ['TABLE_NAME']" in line for line in lines)
    init_report = next(line for line in lines if line.startswith("INIT_REPORT"))
    assert "Status: error\tError Type: KeyError" in init_report
    assert lines.index(init_report) < next(
        i for i, line in enumerate(lines) if line.startswith("START RequestId:"))


def test_logging_warnings_carry_level_and_request_id(lambda_client,
                                                     make_function: MakeFunction) -> None:
    name = make_function({"app.py": "import logging\ndef handler(event, context):\n"
                                    "    logging.warning('careful')\n"
                                    "    return context.aws_request_id\n"})
    request_id, log = log_tail(lambda_client, name)
    line = next(line for line in log.splitlines() if line.startswith("[WARNING]"))
    assert line.endswith(f"\t{request_id}\tcareful")


def test_a_node_invoke_error_is_logged_as_lambdas_runtime_logs_it(
        lambda_client, make_function: MakeFunction) -> None:
    source = "exports.handler = async () => { throw new TypeError('bad input'); };\n"
    name = make_function({"index.js": source}, runtime="nodejs20.x", handler="index.handler")
    _, log = log_tail(lambda_client, name)
    line = next(line for line in log.splitlines() if "\tERROR\tInvoke Error \t" in line)
    logged = json.loads(line.split("\tInvoke Error \t", 1)[1])
    assert (logged["errorType"], logged["errorMessage"]) == ("TypeError", "bad input")
    assert logged["stack"][0] == "TypeError: bad input"


def test_a_node_module_that_fails_to_load_is_logged(lambda_client,
                                                    make_function: MakeFunction) -> None:
    name = make_function({"index.js": "require('not-bundled');\n"
                                      "exports.handler = async () => 1;\n"},
                         runtime="nodejs20.x", handler="index.handler")
    payload, log = log_tail(lambda_client, name)
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "Cannot find module 'not-bundled'" in payload["errorMessage"]
    assert "\tERROR\tUncaught Exception \t" in log
    assert "Cannot find module 'not-bundled'" in log
