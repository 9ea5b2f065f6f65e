"""The Lambda contract suite: the AWS behaviour lambda-gate relies on, stated as tests.

By default it runs against the embedded local AWS, which is how we know the local AWS
keeps the contract. With ``--contract-aws`` the same tests run against the AWS account
of the ambient credentials, which is how we know the contract is Lambda's:

    LAMBDA_GATE_CONTRACT_ROLE_ARN=arn:aws:iam::...:role/... \\
        pytest tests/contract --contract-aws

The role needs only the basic Lambda execution policy. Every function the suite
creates is named ``lambda-gate-contract-*`` and deleted at the end of the session.
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import pytest
from botocore.exceptions import ClientError

ROLE_ENV = "LAMBDA_GATE_CONTRACT_ROLE_ARN"
RUNTIME = "python3.12"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lambda-gate contract")
    group.addoption("--contract-aws", action="store_true", default=False,
                    help="run the Lambda contract suite against the real AWS account of "
                         f"the ambient credentials (needs {ROLE_ENV}); creates and "
                         "deletes lambda-gate-contract-* functions")


@pytest.fixture(scope="session")
def against_aws(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--contract-aws", default=False))


@pytest.fixture(scope="session")
def lambda_api(request: pytest.FixtureRequest, against_aws: bool, execution_role: str):
    """The Lambda client the contract is checked through."""
    if not against_aws:
        return request.getfixturevalue("lambda_client")
    if os.environ.get("AWS_ENDPOINT_URL"):
        pytest.fail("--contract-aws talks to real AWS, but AWS_ENDPOINT_URL is set "
                    f"({os.environ['AWS_ENDPOINT_URL']}): unset it and run the contract "
                    "suite on its own (pytest tests/contract --contract-aws).")
    session = boto3.Session()
    if not session.region_name:
        pytest.fail("--contract-aws needs a region: set AWS_REGION (or AWS_DEFAULT_REGION, "
                    "or a region in your AWS profile).")
    return session.client("lambda")


@pytest.fixture(scope="session")
def execution_role(request: pytest.FixtureRequest, against_aws: bool) -> str:
    if against_aws:
        role = os.environ.get(ROLE_ENV)
        if not role:
            pytest.fail(f"--contract-aws needs an execution role: set {ROLE_ENV} to the ARN "
                        "of a role Lambda can assume (basic execution policy is enough).")
        return role
    local_aws = request.getfixturevalue("local_aws")
    iam = boto3.client("iam", endpoint_url=local_aws.url, region_name="us-east-1")
    name = f"lambda-gate-contract-{uuid.uuid4().hex[:8]}"
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def returning(value: str) -> str:
    """A handler that answers ``value``: tells apart which version's code ran."""
    return f"def handler(event, context):\n    return {value!r}\n"


@dataclass(frozen=True)
class Deployed:
    """A function and its published versions, in publishing order."""

    name: str
    versions: tuple[str, ...]


Deploy = Callable[..., Deployed]


@pytest.fixture(scope="session")
def deploy(lambda_api, execution_role: str) -> Iterator[Deploy]:
    """Create a function and publish one version per source; deleted at session end.

    ``latest`` (a source) is put on $LATEST after publishing, unpublished.
    """
    created: list[str] = []

    def update_code(name: str, source: str) -> None:
        lambda_api.update_function_code(FunctionName=name, ZipFile=package(source))
        lambda_api.get_waiter("function_updated_v2").wait(FunctionName=name)

    def make(*sources: str, latest: str | None = None, timeout: int = 3,
             memory: int = 128) -> Deployed:
        name = f"lambda-gate-contract-{uuid.uuid4().hex[:12]}"
        lambda_api.create_function(FunctionName=name, Runtime=RUNTIME, Role=execution_role,
                                   Handler="app.handler", Code={"ZipFile": package(sources[0])},
                                   Timeout=timeout, MemorySize=memory, Publish=True)
        created.append(name)
        lambda_api.get_waiter("function_active_v2").wait(FunctionName=name)
        versions = [v["Version"] for v in
                    lambda_api.list_versions_by_function(FunctionName=name)["Versions"]
                    if v["Version"] != "$LATEST"]
        for source in sources[1:]:
            update_code(name, source)
            versions.append(lambda_api.publish_version(FunctionName=name)["Version"])
        if latest is not None:
            update_code(name, latest)
        return Deployed(name, tuple(versions))

    yield make
    for name in created:
        try:
            lambda_api.delete_function(FunctionName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


@pytest.fixture(scope="session")
def two_versions(deploy: Deploy) -> Deployed:
    """Versions 1 and 2 answering "v1" and "v2", and unpublished code on $LATEST."""
    return deploy(returning("v1"), returning("v2"), latest=returning("latest"))


@pytest.fixture(scope="session")
def three_versions(deploy: Deploy) -> Deployed:
    """Versions 1, 2 and 3, for routing configurations that name several versions."""
    return deploy(returning("v1"), returning("v2"), returning("v3"))


@pytest.fixture
def alias_name() -> str:
    return f"contract-{uuid.uuid4().hex[:8]}"
