"""What lambda-gate relies on Lambda to do; each test states one behaviour.

Runs against the local AWS by default and against a real account with --contract-aws
(see conftest.py), so a difference between the two shows up as a failing test here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

Deploy = Callable[..., Any]  # conftest.deploy: sources -> Deployed(name, versions)
Deployed = Any


def returning(value: str) -> str:
    """A handler that answers ``value``: tells apart which version's code ran."""
    return f"def handler(event, context):\n    return {value!r}\n"


def invoke(lambda_api, name: str, **kwargs) -> tuple[dict, object]:
    response = lambda_api.invoke(FunctionName=name, **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return raised.value.response["Error"]["Code"]


# Invoke: the qualifier decides which version's code runs.

def test_invoking_a_version_number_runs_that_versions_code(lambda_api,
                                                           two_versions: Deployed) -> None:
    first, second = two_versions.versions
    assert invoke(lambda_api, two_versions.name, Qualifier=first)[1] == "v1"
    assert invoke(lambda_api, two_versions.name, Qualifier=second)[1] == "v2"


def test_invoking_without_a_qualifier_runs_latest(lambda_api, two_versions: Deployed) -> None:
    response, payload = invoke(lambda_api, two_versions.name)
    assert payload == "latest"
    assert response["ExecutedVersion"] == "$LATEST"


def test_a_qualified_arn_selects_the_version(lambda_api, two_versions: Deployed) -> None:
    arn = lambda_api.get_function_configuration(
        FunctionName=two_versions.name, Qualifier="1")["FunctionArn"]
    assert arn.endswith(":1")
    assert invoke(lambda_api, arn)[1] == "v1"


def test_invoking_an_alias_runs_the_version_it_points_to(lambda_api, alias_name: str,
                                                         two_versions: Deployed) -> None:
    name = two_versions.name
    lambda_api.create_alias(FunctionName=name, Name=alias_name, FunctionVersion="1")
    assert invoke(lambda_api, name, Qualifier=alias_name)[1] == "v1"
    lambda_api.update_alias(FunctionName=name, Name=alias_name, FunctionVersion="2")
    assert invoke(lambda_api, f"{name}:{alias_name}")[1] == "v2"


def test_executed_version_header_names_the_version_behind_an_alias(
        lambda_api, alias_name: str, two_versions: Deployed) -> None:
    lambda_api.create_alias(FunctionName=two_versions.name, Name=alias_name,
                            FunctionVersion="2")
    response, _ = invoke(lambda_api, two_versions.name, Qualifier=alias_name)
    assert response["ExecutedVersion"] == "2"


def test_weighted_alias_routing_reaches_both_versions(lambda_api, alias_name: str,
                                                      two_versions: Deployed) -> None:
    lambda_api.create_alias(FunctionName=two_versions.name, Name=alias_name,
                            FunctionVersion="1",
                            RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    seen: dict[str, str] = {}
    for _ in range(60):  # both unseen after 60 fair tosses: p = 2**-59
        response, payload = invoke(lambda_api, two_versions.name, Qualifier=alias_name)
        seen[response["ExecutedVersion"]] = payload
        if len(seen) == 2:
            break
    assert seen == {"1": "v1", "2": "v2"}


# Aliases: optimistic locking, names, routing.

def test_each_alias_update_issues_a_new_revision_id(lambda_api, alias_name: str,
                                                    two_versions: Deployed) -> None:
    name = two_versions.name
    created = lambda_api.create_alias(FunctionName=name, Name=alias_name, FunctionVersion="1")
    updated = lambda_api.update_alias(FunctionName=name, Name=alias_name, FunctionVersion="2",
                                      RevisionId=created["RevisionId"])
    assert updated["RevisionId"] != created["RevisionId"]
    assert lambda_api.get_alias(FunctionName=name, Name=alias_name)["RevisionId"] == \
        updated["RevisionId"]
    listed = lambda_api.list_aliases(FunctionName=name)["Aliases"]
    assert {a["Name"]: a["RevisionId"] for a in listed}[alias_name] == updated["RevisionId"]


def test_update_alias_with_a_stale_revision_id_is_refused(lambda_api, alias_name: str,
                                                          two_versions: Deployed) -> None:
    name = two_versions.name
    created = lambda_api.create_alias(FunctionName=name, Name=alias_name, FunctionVersion="1")
    lambda_api.update_alias(FunctionName=name, Name=alias_name, FunctionVersion="2")
    with pytest.raises(ClientError) as raised:
        lambda_api.update_alias(FunctionName=name, Name=alias_name, FunctionVersion="1",
                                RevisionId=created["RevisionId"])
    assert error_code(raised) == "PreconditionFailedException"
    assert lambda_api.get_alias(FunctionName=name, Name=alias_name)["FunctionVersion"] == "2"


def test_updating_an_alias_that_does_not_exist_is_not_found(lambda_api,
                                                           two_versions: Deployed) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_api.update_alias(FunctionName=two_versions.name, Name="no-such-alias",
                                FunctionVersion="2")
    assert error_code(raised) == "ResourceNotFoundException"


def test_creating_an_alias_that_exists_is_a_resource_conflict(lambda_api, alias_name: str,
                                                               two_versions: Deployed) -> None:
    name = two_versions.name
    lambda_api.create_alias(FunctionName=name, Name=alias_name, FunctionVersion="1")
    with pytest.raises(ClientError) as raised:
        lambda_api.create_alias(FunctionName=name, Name=alias_name, FunctionVersion="2")
    assert error_code(raised) == "ResourceConflictException"
    assert lambda_api.get_alias(FunctionName=name, Name=alias_name)["FunctionVersion"] == "1"


@pytest.mark.parametrize("bad_name", ["123", "has.dot", "x" * 129],
                         ids=["all-digits", "dot", "too-long"])
def test_invalid_alias_names_are_refused(lambda_api, two_versions: Deployed,
                                         bad_name: str) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_api.create_alias(FunctionName=two_versions.name, Name=bad_name,
                                FunctionVersion="1")
    assert error_code(raised) == "ValidationException"


@pytest.mark.parametrize(("primary", "weights", "code"), [
    ("1", {"2": 1.5}, "ValidationException"),
    ("1", {"1": 0.5}, "InvalidParameterValueException"),
    ("$LATEST", {"2": 0.5}, "InvalidParameterValueException"),
    ("1", {"2": 0.1, "3": 0.1}, "InvalidParameterValueException"),
    ("1", {"99": 0.5}, "ResourceNotFoundException"),
], ids=["weight-above-1", "primary-as-additional", "latest-primary", "two-additional",
        "missing-version"])
def test_invalid_routing_configs_are_refused(lambda_api, alias_name: str,
                                             three_versions: Deployed, primary: str,
                                             weights: dict, code: str) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_api.create_alias(FunctionName=three_versions.name, Name=alias_name,
                                FunctionVersion=primary,
                                RoutingConfig={"AdditionalVersionWeights": weights})
    assert error_code(raised) == code


def test_list_aliases_can_filter_by_function_version(lambda_api, deploy: Deploy) -> None:
    fn = deploy(returning("v1"), returning("v2"))
    lambda_api.create_alias(FunctionName=fn.name, Name="on-one", FunctionVersion="1")
    lambda_api.create_alias(FunctionName=fn.name, Name="on-two", FunctionVersion="2")
    listed = lambda_api.list_aliases(FunctionName=fn.name, FunctionVersion="2")["Aliases"]
    assert [alias["Name"] for alias in listed] == ["on-two"]


# Versions: deletion and listing.

def test_a_version_an_alias_points_to_cannot_be_deleted(lambda_api, alias_name: str,
                                                        deploy: Deploy) -> None:
    fn = deploy(returning("v1"))
    lambda_api.create_alias(FunctionName=fn.name, Name=alias_name, FunctionVersion="1")
    with pytest.raises(ClientError) as raised:
        lambda_api.delete_function(FunctionName=fn.name, Qualifier="1")
    assert error_code(raised) == "ResourceConflictException"
    assert lambda_api.get_function(FunctionName=fn.name, Qualifier="1")


def test_a_version_in_an_aliases_routing_cannot_be_deleted(lambda_api, alias_name: str,
                                                           deploy: Deploy) -> None:
    fn = deploy(returning("v1"), returning("v2"))
    lambda_api.create_alias(FunctionName=fn.name, Name=alias_name, FunctionVersion="2",
                            RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}})
    with pytest.raises(ClientError) as raised:
        lambda_api.delete_function(FunctionName=fn.name, Qualifier="1")
    assert error_code(raised) == "ResourceConflictException"


def test_latest_cannot_be_deleted_on_its_own(lambda_api, two_versions: Deployed) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_api.delete_function(FunctionName=two_versions.name, Qualifier="$LATEST")
    assert error_code(raised) == "InvalidParameterValueException"


def test_an_unaliased_version_can_be_deleted(lambda_api, deploy: Deploy) -> None:
    fn = deploy(returning("v1"), returning("v2"))
    lambda_api.delete_function(FunctionName=fn.name, Qualifier="1")
    versions = lambda_api.list_versions_by_function(FunctionName=fn.name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "2"]


def test_list_versions_pages_fifty_at_a_time_with_a_marker(lambda_api,
                                                            deploy: Deploy) -> None:
    fn = deploy(*(returning(f"v{i}") for i in range(1, 56)))
    first = lambda_api.list_versions_by_function(FunctionName=fn.name)
    assert len(first["Versions"]) == 50
    rest = lambda_api.list_versions_by_function(FunctionName=fn.name,
                                                Marker=first["NextMarker"])
    assert "NextMarker" not in rest
    versions = [v["Version"] for v in first["Versions"] + rest["Versions"]]
    assert versions == ["$LATEST", *fn.versions]


# Invoke: errors, timeouts, logs and payload limits.

def test_a_handler_exception_is_a_function_error_with_lambdas_shape(lambda_api,
                                                                   deploy: Deploy) -> None:
    fn = deploy("def handler(event, context):\n    raise ValueError('bad input')\n")
    response, payload = invoke(lambda_api, fn.name, Qualifier="1")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "bad input"
    assert any("raise ValueError('bad input')" in line for line in payload["stackTrace"])


def test_a_timeout_is_a_function_error_naming_the_limit(lambda_api, deploy: Deploy) -> None:
    fn = deploy("import time\ndef handler(event, context):\n    time.sleep(30)\n", timeout=1)
    response, payload = invoke(lambda_api, fn.name, Qualifier="1")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_log_tail_returns_the_end_of_the_log_base64(lambda_api, deploy: Deploy) -> None:
    fn = deploy("def handler(event, context):\n    print('x' * 5000)\n    print('the end')\n")
    response, _ = invoke(lambda_api, fn.name, Qualifier="1", LogType="Tail")
    log = base64.b64decode(response["LogResult"])
    assert len(log) <= 4096
    assert b"the end" in log
    assert b"REPORT RequestId:" in log


def test_without_log_tail_no_log_is_returned(lambda_api, two_versions: Deployed) -> None:
    response, _ = invoke(lambda_api, two_versions.name, Qualifier="1")
    assert "LogResult" not in response


def test_a_request_payload_over_6_mb_is_refused(lambda_api, two_versions: Deployed) -> None:
    event = json.dumps({"blob": "x" * (6 * 1024 * 1024)})
    with pytest.raises(ClientError) as raised:
        lambda_api.invoke(FunctionName=two_versions.name, Qualifier="1", Payload=event)
    assert error_code(raised) == "RequestTooLargeException"


def test_a_response_over_6_mb_is_a_function_error(lambda_api, deploy: Deploy) -> None:
    fn = deploy("def handler(event, context):\n    return 'x' * (6 * 1024 * 1024 + 200)\n")
    response, payload = invoke(lambda_api, fn.name, Qualifier="1")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Function.ResponseSizeTooLarge"


def test_dry_run_checks_access_without_running(lambda_api, two_versions: Deployed) -> None:
    response = lambda_api.invoke(FunctionName=two_versions.name, Qualifier="1",
                                 InvocationType="DryRun")
    assert response["StatusCode"] == 204


def test_an_event_invocation_is_accepted_with_202(lambda_api, two_versions: Deployed) -> None:
    response = lambda_api.invoke(FunctionName=two_versions.name, Qualifier="1",
                                 InvocationType="Event")
    assert response["StatusCode"] == 202


def test_invoking_a_missing_version_is_not_found(lambda_api, two_versions: Deployed) -> None:
    with pytest.raises(ClientError) as raised:
        invoke(lambda_api, two_versions.name, Qualifier="99")
    assert error_code(raised) == "ResourceNotFoundException"


# Account.

def test_account_settings_report_limits_and_usage(lambda_api,
                                                  two_versions: Deployed) -> None:
    settings = lambda_api.get_account_settings()
    limit, usage = settings["AccountLimit"], settings["AccountUsage"]
    assert limit["TotalCodeSize"] > 0 and limit["ConcurrentExecutions"] > 0
    assert limit["CodeSizeZipped"] < limit["CodeSizeUnzipped"]
    assert usage["FunctionCount"] >= 1
    assert 0 < usage["TotalCodeSize"] <= limit["TotalCodeSize"]
