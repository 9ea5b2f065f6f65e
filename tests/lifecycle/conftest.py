"""Functions with many versions, made fast: boto3 against the session's local AWS.

Versions come from ``update_function_code`` with a tiny zip and ``publish_version``
(about 30 ms a version), not terraform: terraform is not what these tests are about.
Each function gets a fresh name, so tests share the server without seeing each other.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable

import boto3
import pytest

HANDLER = "def handler(event, context):\n    return {'version': %d}\n"


def tiny_zip(n: int) -> bytes:
    """A package whose bytes differ per ``n``: Lambda publishes only changed code."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("app.py", (2020, 1, 1, 0, 0, 0)), HANDLER % n)
    return buffer.getvalue()


MakeFunction = Callable[..., str]


@pytest.fixture(scope="session")
def make_function(lambda_client, role_arn: str) -> MakeFunction:
    """``make_function(versions=N)``: a new function with versions 1..N published."""

    def make(versions: int = 1, prefix: str = "lifecycle") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        lambda_client.create_function(
            FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role_arn,
            Code={"ZipFile": tiny_zip(1)}, Publish=True,
        )
        for n in range(2, versions + 1):
            lambda_client.update_function_code(FunctionName=name, ZipFile=tiny_zip(n))
            published = lambda_client.publish_version(FunctionName=name)
            assert published["Version"] == str(n)
        return name

    return make


@pytest.fixture(scope="session")
def cloudwatch(local_aws):
    return boto3.client("cloudwatch", endpoint_url=local_aws.url, region_name="us-east-1")


@pytest.fixture
def make_alarm(cloudwatch) -> Callable[[str], str]:
    """``make_alarm(name)``: a metric alarm in state OK."""

    def make(name: str) -> str:
        cloudwatch.put_metric_alarm(
            AlarmName=name, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
        return name

    return make


def versions_of(lambda_client, function: str) -> list[str]:
    """Published version numbers of ``function``, every page, in order."""
    pages = lambda_client.get_paginator("list_versions_by_function")
    return sorted((v["Version"] for page in pages.paginate(FunctionName=function)
                   for v in page["Versions"] if v["Version"] != "$LATEST"), key=int)


def alias_of(lambda_client, function: str, alias: str) -> tuple[str, dict[str, float]]:
    """(primary version, weights) of an alias, as Lambda has it."""
    found = lambda_client.get_alias(FunctionName=function, Name=alias)
    weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return found["FunctionVersion"], dict(weights)


@pytest.fixture(scope="session")
def lambda_state(lambda_client):
    """Helpers that read what Lambda now holds: ``.versions(fn)``, ``.alias(fn, name)``."""

    class State:
        @staticmethod
        def versions(function: str) -> list[str]:
            return versions_of(lambda_client, function)

        @staticmethod
        def alias(function: str, alias: str) -> tuple[str, dict[str, float]]:
            return alias_of(lambda_client, function, alias)

    return State()
