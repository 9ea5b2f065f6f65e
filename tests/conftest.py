"""Shared fixtures for lambda-gate's own tests.

One embedded local AWS serves the whole session (moto's backends are global to a
process, so there is exactly one); tests that need isolation create their own
function names instead of resetting the server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@pytest.fixture(scope="session")
def role_arn(local_aws: LocalAws) -> str:
    """An execution role: the local AWS, like Lambda, refuses a role that does not exist."""
    import boto3

    iam = boto3.client("iam", endpoint_url=local_aws.url, region_name="us-east-1")
    return iam.create_role(RoleName="lambda-gate-tests", AssumeRolePolicyDocument="{}",
                           )["Role"]["Arn"]


def pytest_report_header(config: pytest.Config) -> str:
    mirror = os.environ.get("INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR") or "(registry)"
    return f"terraform provider mirror: {mirror}"


REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def terraform_binary() -> str:
    """terraform, which the pipeline tests need: missing, they fail, never skip."""
    found = shutil.which("terraform")
    if found is None:
        pytest.fail("terraform is not on PATH: the pipeline tests need Terraform 1.5+ and "
                    "the hashicorp/aws provider (or INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR "
                    "pointing at a provider mirror).", pytrace=False)
    return found


@dataclass
class Project:
    """A copy of the example service in its own directory, deployed with real invoke."""

    root: Path
    env: dict[str, str]

    def invoke(self, *args: str, extra_env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "invoke", *args], cwd=self.root, text=True,
            capture_output=True, env={**self.env, **(extra_env or {})}, timeout=300,
        )

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture(scope="session")
def make_project(local_aws: LocalAws, terraform_binary: str,
                 tmp_path_factory: pytest.TempPathFactory):
    """Copies of the example service (src, smoke, terraform, tasks.py), one per name.

    Each gets its own function name, so projects share the session's local AWS without
    seeing each other's versions.
    """

    def make(function_name: str) -> Project:
        root = tmp_path_factory.mktemp(function_name)
        for part in ("src", "smoke", "terraform"):
            shutil.copytree(REPO / part, root / part,
                            ignore=shutil.ignore_patterns(".terraform*", "__pycache__"))
        shutil.copy(REPO / "tasks.py", root / "tasks.py")
        (root / "invoke.yaml").write_text(
            "lambda_gate:\n"
            "  terraform:\n"
            f"    vars: {{function_name: {function_name}}}\n"
        )
        env = dict(os.environ)
        env.update(INVOKE_LAMBDA_GATE_LOCAL_AWS_URL=local_aws.url, GIT_BRANCH="main",
                   CI="true", NO_COLOR="1")
        return Project(root=root, env=env)

    return make
