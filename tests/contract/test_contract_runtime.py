"""How Lambda's Python runtime runs a version: init errors, warm reuse, what it logs."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

Deploy = Callable[..., Any]  # conftest.deploy: sources -> Deployed(name, versions)

COUNTER = """
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    return COUNT
"""


def invoke(lambda_api, name: str, qualifier: str = "1") -> tuple[dict, Any, str]:
    response = lambda_api.invoke(FunctionName=name, Qualifier=qualifier, LogType="Tail")
    log = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
    return response, json.loads(response["Payload"].read() or b"null"), log


def test_an_exception_at_import_fails_the_init_with_its_own_type(lambda_api,
                                                                deploy: Deploy) -> None:
    fn = deploy("import os\nTABLE = os.environ['TABLE_NAME']\n"
                "def handler(event, context):\n    return TABLE\n")
    response, payload, _ = invoke(lambda_api, fn.name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "KeyError"
    assert payload["errorMessage"] == "'TABLE_NAME'"


def test_a_missing_module_is_an_import_module_error(lambda_api, deploy: Deploy) -> None:
    fn = deploy("import requests\ndef handler(event, context):\n    return 1\n")
    response, payload, log = invoke(lambda_api, fn.name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == "Unable to import module 'app': No module named 'requests'"
    assert "Runtime.ImportModuleError" in log


def test_boto3_is_provided_by_the_runtime(lambda_api, deploy: Deploy) -> None:
    fn = deploy("import boto3\ndef handler(event, context):\n    return boto3.__name__\n")
    assert invoke(lambda_api, fn.name)[1] == "boto3"


def test_module_state_survives_between_invocations_of_a_warm_version(
        lambda_api, deploy: Deploy) -> None:
    fn = deploy(COUNTER)
    counts = [invoke(lambda_api, fn.name)[1] for _ in range(2)]
    assert counts == [1, 2]


def test_init_duration_is_reported_on_the_cold_start_only(lambda_api,
                                                          deploy: Deploy) -> None:
    fn = deploy(COUNTER)
    _, _, cold = invoke(lambda_api, fn.name)
    _, _, warm = invoke(lambda_api, fn.name)
    assert "Init Duration: " in next(x for x in cold.splitlines() if x.startswith("REPORT"))
    assert "Init Duration" not in next(x for x in warm.splitlines() if x.startswith("REPORT"))


def test_an_unhandled_error_is_logged_with_its_type_and_message(lambda_api,
                                                                deploy: Deploy) -> None:
    fn = deploy("def handler(event, context):\n    raise ValueError('bad input')\n")
    _, _, log = invoke(lambda_api, fn.name)
    assert "[ERROR] ValueError: bad input" in log
    assert "Traceback (most recent call last):" in log
