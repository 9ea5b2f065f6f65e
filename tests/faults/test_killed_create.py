"""A deploy killed (SIGKILL to its whole process tree, as when a CI job is killed) during
the function's first create, and the deploys after it."""

from __future__ import annotations

import pytest
from deploy_steps import versions_and_aliases
from processes import Running

FUNCTION = "faults-killed-create"


def exists(client) -> bool:
    try:
        client.get_function(FunctionName=FUNCTION)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def role_names(iam) -> set[str]:
    return {r["RoleName"] for r in iam.get_paginator("list_roles").paginate()
            .build_full_result()["Roles"]}


@pytest.fixture(scope="module")
def iam(local_aws):
    import boto3

    return boto3.client("iam", endpoint_url=local_aws.url, region_name="us-east-1")


@pytest.fixture(scope="module")
def project(make_project):
    return make_project(FUNCTION)


@pytest.fixture(scope="module")
def killed(project, lambda_client):
    running = Running(project, "deploy")
    try:
        running.wait_until(lambda: exists(lambda_client))
        running.kill_tree()
        running.finish()
    finally:
        running.kill_group()
    return running


@pytest.fixture(scope="module")
def after_kill(killed, project, lambda_client, iam):
    roles = role_names(iam)
    result = project.invoke("deploy")
    return result, roles, role_names(iam)


def test_the_next_deploy_stops_before_terraform_with_the_import_command(
        after_kill, project, lambda_client):
    result, roles_before, roles_after = after_kill
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert (f"function {FUNCTION} already exists in Lambda, but the terraform state of "
            "environment 'local' does not manage it") in output
    assert "invoke deploy --import-function --env local" in output
    state = project.root / ".lambda-gate" / "env" / "local" / "terraform.tfstate"
    assert (f"terraform -chdir={project.root / 'terraform'} import -input=false "
            f"-state={state} aws_lambda_function.this {FUNCTION}") in output
    assert f"TF_DATA_DIR={project.root / '.lambda-gate/env/local/tf-data'}" in output
    assert "Creating..." not in output
    assert "Traceback" not in output
    assert roles_after == roles_before  # nothing created
    assert versions_and_aliases(lambda_client, FUNCTION)[1] == {}


@pytest.fixture(scope="module")
def adopted(after_kill, project):
    return project.invoke("deploy", "--import-function")


def test_adopting_the_function_converges_on_a_tested_version(adopted, lambda_client):
    output = adopted.stdout + adopted.stderr
    assert adopted.returncode == 0, output
    assert f"importing function {FUNCTION} into the state" in output
    versions, aliases = versions_and_aliases(lambda_client, FUNCTION)
    assert aliases == {"main": versions[-1]}
