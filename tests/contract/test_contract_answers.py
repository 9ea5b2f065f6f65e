"""Lambda's exact answers where moto's differ: status codes, shapes and messages.

Each test states one answer real AWS gave (recorded in LocalStack's snapshots of its
Lambda suite against a real account, or in the AWS documentation), so lambda-gate,
terraform's aws provider and smoke tests meet the same answers locally.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

Deploy = Callable[..., Any]  # conftest.deploy: sources -> Deployed(name, versions)
Deployed = Any
RUNTIME = "python3.12"


def returning(value: str) -> str:
    return f"def handler(event, context):\n    return {value!r}\n"


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = raised.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"])


def function_arn(lambda_api, name: str) -> str:
    return lambda_api.get_function_configuration(FunctionName=name)["FunctionArn"]


# Deleting versions.

def test_delete_function_with_an_alias_qualifier_is_refused_and_deletes_nothing(
        lambda_api, deploy: Deploy) -> None:
    fn = deploy(returning("v1"))
    lambda_api.create_alias(FunctionName=fn.name, Name="live", FunctionVersion="1")
    lambda_api.create_alias(FunctionName=fn.name, Name="other", FunctionVersion="1")
    with pytest.raises(ClientError) as raised:
        lambda_api.delete_function(FunctionName=fn.name, Qualifier="live")
    assert error_of(raised) == (400, "InvalidParameterValueException",
                                "Deletion of aliases is not currently supported.")
    assert lambda_api.get_function(FunctionName=fn.name, Qualifier="1")
    assert lambda_api.get_alias(FunctionName=fn.name, Name="other")["FunctionVersion"] == "1"


def test_deleting_a_version_that_does_not_exist_is_a_no_op(lambda_api,
                                                           two_versions: Deployed) -> None:
    response = lambda_api.delete_function(FunctionName=two_versions.name, Qualifier="99")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204


# Publishing.

def test_publish_version_refuses_a_code_sha256_that_is_not_latests(
        lambda_api, deploy: Deploy) -> None:
    fn = deploy(returning("v1"))
    current = lambda_api.get_function_configuration(FunctionName=fn.name)["CodeSha256"]
    stale = base64.b64encode(hashlib.sha256(b"other code").digest()).decode()
    with pytest.raises(ClientError) as raised:
        lambda_api.publish_version(FunctionName=fn.name, CodeSha256=stale)
    assert error_of(raised) == (
        400, "InvalidParameterValueException",
        f"CodeSHA256 ({stale}) is different from current CodeSHA256 in $LATEST ({current}). "
        "Please try again with the CodeSHA256 in $LATEST.")


def test_publish_version_refuses_a_stale_revision_id(lambda_api, deploy: Deploy) -> None:
    fn = deploy(returning("v1"))
    before = lambda_api.get_function_configuration(FunctionName=fn.name)["RevisionId"]
    lambda_api.update_function_code(FunctionName=fn.name, ZipFile=package(returning("v2")))
    lambda_api.get_waiter("function_updated_v2").wait(FunctionName=fn.name)
    after = lambda_api.get_function_configuration(FunctionName=fn.name)["RevisionId"]
    assert after != before
    with pytest.raises(ClientError) as raised:
        lambda_api.publish_version(FunctionName=fn.name, RevisionId=before)
    assert error_of(raised) == (
        412, "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id")
    published = lambda_api.publish_version(FunctionName=fn.name, RevisionId=after)
    assert published["Version"] == "2"


# Reading a function through an alias.

def test_get_function_by_alias_answers_the_alias_arn(lambda_api, alias_name: str,
                                                     two_versions: Deployed) -> None:
    name = two_versions.name
    lambda_api.create_alias(FunctionName=name, Name=alias_name, FunctionVersion="2")
    config = lambda_api.get_function(FunctionName=name, Qualifier=alias_name)["Configuration"]
    assert config["FunctionArn"] == f"{function_arn(lambda_api, name)}:{alias_name}"
    assert config["Version"] == "2"
    same = lambda_api.get_function_configuration(FunctionName=name, Qualifier=alias_name)
    assert same["FunctionArn"] == config["FunctionArn"]


# Aliases.

def test_emptied_weights_remove_the_routing_config(lambda_api, alias_name: str,
                                                   two_versions: Deployed) -> None:
    name = two_versions.name
    lambda_api.create_alias(FunctionName=name, Name=alias_name, FunctionVersion="1",
                            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    updated = lambda_api.update_alias(FunctionName=name, Name=alias_name, FunctionVersion="2",
                                      RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in updated
    assert "RoutingConfig" not in lambda_api.get_alias(FunctionName=name, Name=alias_name)


def test_updating_a_missing_alias_names_its_arn(lambda_api, two_versions: Deployed) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_api.update_alias(FunctionName=two_versions.name, Name="no-such-alias",
                                FunctionVersion="2")
    arn = function_arn(lambda_api, two_versions.name)
    assert error_of(raised) == (404, "ResourceNotFoundException",
                                f"Alias not found: {arn}:no-such-alias")


def test_a_stale_alias_revision_id_is_refused_naming_both_apis(
        lambda_api, alias_name: str, two_versions: Deployed) -> None:
    name = two_versions.name
    created = lambda_api.create_alias(FunctionName=name, Name=alias_name, FunctionVersion="1")
    lambda_api.update_alias(FunctionName=name, Name=alias_name, FunctionVersion="2")
    with pytest.raises(ClientError) as raised:
        lambda_api.update_alias(FunctionName=name, Name=alias_name, FunctionVersion="1",
                                RevisionId=created["RevisionId"])
    assert error_of(raised) == (
        412, "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id")


def test_a_weight_out_of_range_is_a_validation_error_in_javas_words(
        lambda_api, alias_name: str, three_versions: Deployed) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_api.create_alias(FunctionName=three_versions.name, Name=alias_name,
                                FunctionVersion="1",
                                RoutingConfig={"AdditionalVersionWeights": {"2": 2}})
    assert error_of(raised) == (
        400, "ValidationException",
        "1 validation error detected: Value '{2=2.0}' at "
        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value "
        "must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
        "must have value greater than or equal to 0.0, Member must not be null]")


# Environment variables.

def _create(lambda_api, execution_role: str, variables: dict[str, str]) -> None:
    lambda_api.create_function(
        FunctionName=f"lambda-gate-contract-{uuid.uuid4().hex[:12]}", Runtime=RUNTIME,
        Role=execution_role, Handler="app.handler", Code={"ZipFile": package(returning("x"))},
        Environment={"Variables": variables})


def test_reserved_environment_variables_are_refused(lambda_api, execution_role: str) -> None:
    with pytest.raises(ClientError) as raised:
        _create(lambda_api, execution_role, {"GREETING": "hi", "AWS_REGION": "mars-1"})
    assert error_of(raised) == (
        400, "InvalidParameterValueException",
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported "
        "for modification. Reserved keys used in this request: AWS_REGION")


def test_environment_variables_over_4_kb_are_refused(lambda_api, execution_role: str) -> None:
    variables = {"BIG": "x" * 4096}
    with pytest.raises(ClientError) as raised:
        _create(lambda_api, execution_role, variables)
    status, code, message = error_of(raised)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message.startswith("Lambda was unable to configure your environment variables "
                              "because the environment variables you have provided exceeded "
                              "the 4KB limit. String measured: ")
    assert message.endswith(json.dumps(variables, separators=(",", ":")))


# Invoke.

def test_invoking_a_missing_qualifier_names_the_qualified_arn(
        lambda_api, two_versions: Deployed) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_api.invoke(FunctionName=two_versions.name, Qualifier="99")
    arn = function_arn(lambda_api, two_versions.name)
    assert error_of(raised) == (404, "ResourceNotFoundException",
                                f"Function not found: {arn}:99")


def test_a_function_with_no_reserved_concurrency_left_is_throttled(lambda_api,
                                                                    deploy: Deploy) -> None:
    fn = deploy(returning("v1"))
    lambda_api.put_function_concurrency(FunctionName=fn.name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as raised:
        lambda_api.invoke(FunctionName=fn.name, Qualifier="1")
    assert error_of(raised) == (429, "TooManyRequestsException", "Rate Exceeded.")
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
