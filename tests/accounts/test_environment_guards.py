"""Choosing an environment from the command line, and what stops a deploy before it starts.

Each refusal is one clear message with a non-zero exit, before the build and before any
call that changes AWS. The named environments point at the session's local AWS through
AWS_ENDPOINT_URL, as a real account would through its own endpoint.
"""

from __future__ import annotations

import pytest

FUNCTION = "gate-accounts"
ROLE = "arn:aws:iam::123456789012:role/lambda-gate-deploy"

SETTINGS = f"""\
lambda_gate:
  terraform:
    vars: {{function_name: {FUNCTION}}}
  environments:
    prod:
      role_arn: {ROLE}
      branches: main
    broken-role:
      role_arn: lambda-gate-deploy
"""

FEATURE = {"GIT_BRANCH": "feature/login"}
NO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                  "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None,
                  "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="module")
def project(make_project):
    project = make_project(FUNCTION)
    project.write("invoke.yaml", SETTINGS)
    return project


@pytest.fixture(scope="module")
def run(project, tmp_path_factory):
    empty = tmp_path_factory.mktemp("no-aws-config")

    def run_invoke(*args: str, env: dict[str, str | None] | None = None):
        changes = {"AWS_CONFIG_FILE": str(empty / "config"),
                   "AWS_SHARED_CREDENTIALS_FILE": str(empty / "credentials"), **(env or {})}
        saved = dict(project.env)
        project.env = {k: v for k, v in {**saved, **changes}.items() if v is not None}
        try:
            return project.invoke(*args)
        finally:
            project.env = saved

    return run_invoke


@pytest.fixture
def nothing_changed(project, lambda_client):
    """After the test: no function was created and no package was built."""
    yield
    assert FUNCTION not in [f["FunctionName"] for f in lambda_client.list_functions()[
        "Functions"]]
    assert not (project.root / "build" / "lambda.zip").exists()


def error_line(result) -> str:
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


def test_an_unknown_environment_lists_the_configured_ones(run, nothing_changed):
    result = run("deploy", "--env", "staging")

    assert result.returncode == 2
    assert error_line(result) == (
        "error: unknown environment 'staging' (configured: broken-role, local, prod): pick "
        "one of those with --env, or add it under lambda_gate.environments.")


def test_a_branch_not_allowed_in_prod_stops_the_deploy(run, nothing_changed):
    result = run("deploy", "--env", "prod", env=FEATURE)

    assert result.returncode == 2
    assert error_line(result) == (
        "error: branch 'feature/login' may not deploy to environment 'prod' (allowed: "
        "main); nothing was changed. Deploy it to another environment with --env, or "
        "merge it first.")


def test_naming_the_alias_does_not_get_round_the_branch_guard(run, nothing_changed):
    result = run("deploy", "--env", "prod", "--alias", "main", env=FEATURE)

    assert result.returncode == 2
    assert "branch 'feature/login' may not deploy to environment 'prod'" in result.stderr


def test_promotion_in_prod_from_a_branch_not_allowed_is_refused(run, nothing_changed):
    result = run("promote", "--env", "prod", "--version", "1", "--alias", "main",
                 "--approve", env=FEATURE)

    assert result.returncode == 2
    assert "branch 'feature/login' may not deploy to environment 'prod'" in result.stderr


def test_a_deploy_whose_branch_cannot_be_told_is_refused_in_prod(run, nothing_changed):
    result = run("deploy", "--env", "prod", "--alias", "main",
                 env={"GIT_BRANCH": None, "GIT_DIR": "/nonexistent"})

    assert result.returncode == 2
    assert error_line(result) == (
        "error: environment 'prod' accepts deploys only from branches main, and the "
        "branch being deployed cannot be told (detached HEAD and no CI branch variable): "
        "set GIT_BRANCH. Nothing was changed.")


def test_a_role_arn_that_is_not_one_is_refused(run, nothing_changed):
    result = run("deploy", "--env", "broken-role")

    assert result.returncode == 2
    assert error_line(result) == (
        "error: environment 'broken-role': role_arn 'lambda-gate-deploy' is not an IAM "
        "role ARN: write it as arn:aws:iam::ACCOUNT_ID:role/NAME "
        "(lambda_gate.environments.broken-role.role_arn).")


def test_a_role_cannot_be_assumed_without_credentials(run, nothing_changed):
    result = run("deploy", "--env", "prod", env={"GIT_BRANCH": "main", **NO_CREDENTIALS})

    assert result.returncode == 2
    assert error_line(result) == (
        f"error: environment 'prod': cannot assume role {ROLE}: this job has no AWS "
        "credentials to assume it with. Give the job credentials (a CI secret, OIDC, an "
        "instance role) or set the environment's profile; nothing was changed.")


def test_the_allowed_branch_plans_in_prod_through_the_assumed_role(make_project):
    project = make_project(f"{FUNCTION}-plan")
    project.write("invoke.yaml", SETTINGS.replace(FUNCTION, f"{FUNCTION}-plan"))

    result = project.invoke("deploy", "--env", "prod", "--dry-run")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "aws_lambda_function.this will be created" in result.stdout
    assert ("dry run: would publish a new version and create main at it after the smoke "
            "tests; main is protected, so promotion also needs approval. Nothing was "
            "changed.") in result.stdout
