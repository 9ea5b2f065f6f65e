"""Shared fixtures for lambda-gate's own tests.

One embedded local AWS serves the whole session (moto's backends are global to a
process, so there is exactly one); tests that need isolation create their own
function names instead of resetting the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from lambda_gate.local_aws.server import LocalAws, serve_in_thread

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    """The embedded local AWS on a free loopback port, with the process pointed at it.

    boto3, terraform and any subprocess started by a test inherit AWS_ENDPOINT_URL and
    dummy credentials from the environment set here.
    """
    server = serve_in_thread(host="127.0.0.1", port=0,
                             cache_dir=tmp_path_factory.mktemp("code-cache"))
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_ENDPOINT_URL", server.url)
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("AWS_REGION", "us-east-1")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        mp.delenv(var, raising=False)
    try:
        yield server
    finally:
        mp.undo()
        server.stop()


@pytest.fixture(scope="session")
def lambda_client(local_aws: LocalAws):
    import boto3

    return boto3.client("lambda", endpoint_url=local_aws.url, region_name="us-east-1")


def pytest_report_header(config: pytest.Config) -> str:
    return f"terraform plugin dir: {os.environ.get('INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR') or '(registry)'}"
