"""Named environments reach their account through a profile or an assumed role.

The local AWS's STS stands in for the account: it hands out role credentials whose
caller identity names the role and the session, and knows IAM users' own keys, so
these tests see which identity boto3 and the subprocesses actually use. (It accepts
any role ARN and trust policy, so a refusal by a trust policy cannot be shown here;
the role ARN's shape is checked by lambda-gate itself.)
"""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest

from lambda_gate.aws import remote_target, session_name
from lambda_gate.errors import ConfigError
from lambda_gate.settings import EnvironmentSettings

ROLE = "arn:aws:iam::123456789012:role/lambda-gate-deploy"
WHO_AM_I = ("import boto3; "
            "print(boto3.client('sts').get_caller_identity()['Arn'])")


def environment(**overrides) -> EnvironmentSettings:
    return EnvironmentSettings(**{"name": "prod", "region": "us-east-1", "local": False,
                                  **overrides})


def identity_of_children(target) -> str:
    """The caller identity a subprocess (terraform, pytest) gets from the target's env."""
    proc = subprocess.run([sys.executable, "-c", WHO_AM_I], env=dict(target.env),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """A job with no AWS credentials anywhere (and no instance metadata to ask)."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def staging_profile(local_aws, monkeypatch, tmp_path) -> str:
    """A profile holding an IAM user's own keys, unlike the job's keys in the env."""
    iam = boto3.client("iam", endpoint_url=local_aws.url, region_name="us-east-1")
    user = "staging-deployer"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile staging]\n"
        f"aws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    yield f"arn:aws:iam::123456789012:user/{user}"
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=user)


def test_the_assumed_role_session_is_named_after_the_branch(local_aws):
    target = remote_target(environment(role_arn=ROLE), branch="feature/login")

    arn = target.client("sts").get_caller_identity()["Arn"]

    assert arn == ("arn:aws:sts::123456789012:assumed-role/lambda-gate-deploy/"
                   "lambda-gate-feature-login")


def test_subprocesses_run_as_the_assumed_role(local_aws):
    target = remote_target(environment(role_arn=ROLE), branch="main")

    assert identity_of_children(target) == (
        "arn:aws:sts::123456789012:assumed-role/lambda-gate-deploy/lambda-gate-main")


def test_a_branch_name_too_long_for_sts_still_names_the_session(local_aws):
    branch = "feature/" + "very-long-branch-name-" * 5

    target = remote_target(environment(role_arn=ROLE), branch=branch)

    arn = target.client("sts").get_caller_identity()["Arn"]
    assert arn.endswith("/" + session_name(branch))
    assert len(session_name(branch)) == 64


def test_an_unknown_branch_still_names_the_session(local_aws):
    target = remote_target(environment(role_arn=ROLE), branch=None)

    assert target.client("sts").get_caller_identity()["Arn"].endswith("/lambda-gate-unknown")


def test_a_profile_environment_uses_the_profile_in_boto3(local_aws, staging_profile):
    target = remote_target(environment(name="staging", profile="staging"))

    assert target.client("sts").get_caller_identity()["Arn"] == staging_profile


def test_a_profile_environment_runs_subprocesses_with_the_profile_not_the_jobs_keys(
        local_aws, staging_profile):
    target = remote_target(environment(name="staging", profile="staging"))

    assert identity_of_children(target) == staging_profile


def test_a_role_is_assumed_with_the_profiles_credentials(local_aws, staging_profile):
    target = remote_target(environment(name="staging", profile="staging", role_arn=ROLE),
                           branch="main")

    assert identity_of_children(target).startswith(
        "arn:aws:sts::123456789012:assumed-role/lambda-gate-deploy/")
    assert "AWS_PROFILE" not in target.env


def test_an_unknown_profile_is_named_in_the_error(local_aws, staging_profile):
    with pytest.raises(ConfigError) as raised:
        remote_target(environment(profile="prod-admin"))

    assert str(raised.value).startswith(
        "environment 'prod': AWS profile 'prod-admin' cannot be used (The config profile "
        "(prod-admin) could not be found)")


@pytest.mark.parametrize("arn", [
    "lambda-gate-deploy",
    "arn:aws:iam::123456789012:user/lambda-gate-deploy",
    "arn:aws:iam::1234:role/lambda-gate-deploy",
])
def test_a_value_that_is_not_a_role_arn_is_refused_before_any_call(arn):
    with pytest.raises(ConfigError) as raised:
        remote_target(environment(role_arn=arn))

    assert str(raised.value) == (
        f"environment 'prod': role_arn {arn!r} is not an IAM role ARN: write it as "
        "arn:aws:iam::ACCOUNT_ID:role/NAME (lambda_gate.environments.prod.role_arn).")


def test_a_job_without_credentials_is_told_it_needs_some(local_aws, no_credentials):
    with pytest.raises(ConfigError) as raised:
        remote_target(environment(role_arn=ROLE), branch="main")

    assert str(raised.value) == (
        f"environment 'prod': cannot assume role {ROLE}: this job has no AWS credentials "
        "to assume it with. Give the job credentials (a CI secret, OIDC, an instance "
        "role) or set the environment's profile; nothing was changed.")
