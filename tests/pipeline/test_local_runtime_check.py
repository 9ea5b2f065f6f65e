"""A deploy to the local AWS says up front when no interpreter can run the runtime."""

from __future__ import annotations

import stat

import boto3
import pytest
from botocore.exceptions import ClientError

from lambda_gate.local_aws.environments import EnvironmentSettings
from lambda_gate.local_aws.server import serve_in_thread


@pytest.fixture
def server_without_python311(tmp_path):
    """A local AWS whose only python3.11 is a shim that does not run."""
    shim = tmp_path / "python3.11"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.11: command not found' >&2\nexit 127\n")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    server = serve_in_thread(cache_dir=tmp_path / "cache",
                             settings=EnvironmentSettings(interpreters={"python3.11": str(shim)}))
    yield server
    server.stop()


def test_a_runtime_the_local_aws_cannot_run_stops_the_deploy_before_anything_is_published(
        make_project, server_without_python311):
    project = make_project("no-python311")

    result = project.invoke("deploy", extra_env={
        "INVOKE_LAMBDA_GATE_LOCAL_AWS_URL": server_without_python311.url})

    assert result.returncode == 2, result.stdout + result.stderr
    assert "the local AWS cannot run python3.11: the python3.11 interpreter set in " \
           "lambda_gate.local_aws.interpreters cannot run it" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "==> apply" not in result.stdout
    client = boto3.client("lambda", endpoint_url=server_without_python311.url,
                          region_name="us-east-1")
    with pytest.raises(ClientError) as raised:
        client.get_function(FunctionName="no-python311")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
