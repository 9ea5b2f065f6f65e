"""Fixtures for the local AWS's own tests: an execution role and a function factory.

They use the session's embedded local AWS (``local_aws`` and ``lambda_client`` from
tests/conftest.py); every function gets a fresh name, so tests never share state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from packages import zip_of

from lambda_gate.local_aws.environments import EnvironmentSettings
from lambda_gate.local_aws.server import LocalAws, serve_in_thread


@pytest.fixture(scope="session")
def lambda_client_once(local_aws: LocalAws):
    """A Lambda client that does not retry: Lambda answers some invoke errors with 502,
    which boto3 would otherwise retry with backoff before raising."""
    return boto3.client("lambda", endpoint_url=local_aws.url, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="session")
def zip_package() -> Callable[[dict[str, str]], bytes]:
    """Build a deployment package from {path: source}."""
    return zip_of


MakeFunction = Callable[..., str]


@pytest.fixture
def make_function(lambda_client, role_arn: str) -> MakeFunction:
    """Create a function with ``Publish=True`` (so version 1 exists); returns its name."""

    def make(files: dict[str, str] | None = None, *, package: bytes | None = None,
             runtime: str = "python3.11", handler: str = "app.handler",
             env: dict[str, str] | None = None, timeout: int = 3,
             memory: int = 128) -> str:
        name = f"local-{uuid.uuid4().hex[:12]}"
        lambda_client.create_function(
            FunctionName=name, Runtime=runtime, Role=role_arn, Handler=handler,
            Code={"ZipFile": package if package is not None else zip_of(files or {})},
            Environment={"Variables": env or {}}, Timeout=timeout, MemorySize=memory,
            Publish=True)
        return name

    return make


@pytest.fixture
def other_local_aws(tmp_path_factory: pytest.TempPathFactory, local_aws: LocalAws
                    ) -> Iterator[Callable[..., tuple[LocalAws, object]]]:
    """Another server with its own environment settings, and a Lambda client for it.

    moto's state is per process, so it serves the same functions as ``local_aws``;
    only how it runs them differs.
    """
    started: list[LocalAws] = []

    def start(**settings: object) -> tuple[LocalAws, object]:
        server = serve_in_thread(cache_dir=tmp_path_factory.mktemp("other-cache"),
                                 settings=EnvironmentSettings(**settings))  # type: ignore[arg-type]
        started.append(server)
        client = boto3.client("lambda", endpoint_url=server.url, region_name="us-east-1",
                              config=Config(retries={"total_max_attempts": 1}))
        return server, client

    yield start
    for server in started:
        server.stop()
