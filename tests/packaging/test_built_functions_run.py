"""Built packages deployed to the local AWS answer invocations.

The Python function's compiled dependency must be the wheel for Lambda's platform, and
the Node.js function's transpiled output and production dependency must be in the zip:
running them as published versions proves both.
"""

from __future__ import annotations

import json
import uuid


def publish(lambda_client, role_arn: str, built, *, runtime: str, handler: str) -> str:
    name = f"built-{uuid.uuid4().hex[:10]}"
    lambda_client.create_function(
        FunctionName=name, Runtime=runtime, Handler=handler, Role=role_arn,
        Code={"ZipFile": built.result.path.read_bytes()}, Publish=True)
    return name


def invoke(lambda_client, name: str, event: dict) -> dict:
    answer = lambda_client.invoke(FunctionName=name, Qualifier="1",
                                  Payload=json.dumps(event).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def test_a_python_function_with_a_binary_dependency_answers(
        python_function_x86_64, lambda_client, role_arn):
    name = publish(lambda_client, role_arn, python_function_x86_64, runtime="python3.11",
                   handler="app.handler")

    assert invoke(lambda_client, name, {"text": "<i>x</i>"}) == {
        "escaped": "&lt;i&gt;x&lt;/i&gt;"}


def test_a_node_function_with_a_build_step_and_a_dependency_answers(
        node_function, lambda_client, role_arn):
    name = publish(lambda_client, role_arn, node_function, runtime="nodejs20.x",
                   handler="dist/main.handler")

    assert invoke(lambda_client, name, {"value": "42"}) == {"isNumber": True}
    assert invoke(lambda_client, name, {"value": "forty-two"}) == {"isNumber": False}
