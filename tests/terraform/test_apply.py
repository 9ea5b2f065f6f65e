"""The apply step end to end: real invoke, real terraform, the local AWS.

One project walks through the apply step's life; each fixture is one step, run once,
and each test states one thing that holds after it. Terraform applies cost about ten
seconds each against the local AWS, so the steps build on each other.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deploy_steps import step_runner

FUNCTION = "tf-apply"
STAGING_FUNCTION = "tf-apply-staging"

INVOKE_YAML = f"""\
lambda_gate:
  terraform:
    vars: {{function_name: {FUNCTION}}}
  environments:
    local:
      var_files: terraform/environments/local.tfvars
    staging:
      local: true
      protected: ""
      var_files: terraform/environments/staging.tfvars
"""

# Fails after the function's update: terraform has published a version by then.
FAILING_RESOURCE = """\
resource "aws_iam_role_policy_attachment" "extra" {
  role       = aws_iam_role.lambda.name
  policy_arn = "arn:aws:iam::aws:policy/NoSuchPolicy"
  depends_on = [aws_lambda_function.this]
}
"""


@pytest.fixture(scope="module")
def project(make_project):
    project = make_project(FUNCTION)
    project.write("invoke.yaml", INVOKE_YAML)
    project.write("terraform/environments/local.tfvars", "memory_size = 128\n")
    project.write("terraform/environments/staging.tfvars",
                  f'function_name = "{STAGING_FUNCTION}"\n')
    return project


@pytest.fixture(scope="module")
def run(project, lambda_client):
    return step_runner(project, lambda_client, FUNCTION)


def state(project, env: str) -> Path:
    return project.root / ".lambda-gate" / "env" / env / "terraform.tfstate"


@pytest.fixture(scope="module")
def first_deploy(run):
    return run("deploy")


@pytest.fixture(scope="module")
def unchanged_apply(first_deploy, run):
    return run("apply")


@pytest.fixture(scope="module")
def full_apply(unchanged_apply, run):
    return run("apply", "--full")


@pytest.fixture(scope="module")
def memory_plan(full_apply, project, run):
    project.write("terraform/environments/local.tfvars", "memory_size = 256\n")
    return run("plan")


@pytest.fixture(scope="module")
def memory_apply(memory_plan, run):
    return run("apply")


@pytest.fixture(scope="module")
def code_apply(memory_apply, project, run):
    with (project.root / "src" / "app.py").open("a") as source:
        source.write("\n# a code change\n")
    build = project.invoke("build")
    assert build.returncode == 0, build.stdout + build.stderr
    return run("apply")


@pytest.fixture(scope="module")
def staging_deploy(code_apply, project, run):
    local_state = state(project, "local").read_bytes()
    step = run("deploy", "--env", "staging", function=STAGING_FUNCTION)
    assert state(project, "local").read_bytes() == local_state
    return step


@pytest.fixture(scope="module")
def half_way_failure(staging_deploy, project, run):
    project.write("terraform/extra.tf", FAILING_RESOURCE)
    with (project.root / "src" / "app.py").open("a") as source:
        source.write("\n# another code change\n")
    return run("deploy")


def test_a_first_deploy_publishes_version_1(first_deploy):
    assert first_deploy.result.returncode == 0, first_deploy.output
    assert first_deploy.versions == ["1"]
    assert first_deploy.aliases == {"main": "1"}


def test_the_state_lives_under_the_environments_own_directory(first_deploy, project):
    tfstate = json.loads(state(project, "local").read_text())

    assert tfstate["outputs"]["version"]["value"] == "1"
    assert not list((project.root / "terraform").glob("*.tfstate"))


def test_the_deprecated_state_flag_warning_is_not_shown(first_deploy):
    assert "Deprecated flag: -state" not in first_deploy.output


def test_an_unchanged_artifact_and_inputs_skip_terraform(unchanged_apply):
    assert unchanged_apply.result.returncode == 0, unchanged_apply.output
    assert "no change since the last apply (version 1): skipped terraform" in (
        unchanged_apply.output)
    assert "Refreshing state" not in unchanged_apply.output
    assert unchanged_apply.versions == ["1"]


def test_full_runs_terraform_and_publishes_nothing_when_nothing_changed(full_apply):
    assert full_apply.result.returncode == 0, full_apply.output
    assert "No changes. Your infrastructure matches the configuration." in full_apply.output
    assert full_apply.versions == ["1"]
    assert "version 1: arn:aws:lambda:" in full_apply.output


def test_plan_shows_a_changed_tfvars_value_and_changes_nothing(memory_plan):
    assert memory_plan.result.returncode == 0, memory_plan.output
    assert "memory_size                    = 128 -> 256" in memory_plan.output
    assert "plan: changes pending" in memory_plan.output
    assert memory_plan.versions == ["1"]


def test_a_changed_tfvars_value_makes_the_next_apply_publish(memory_apply, lambda_client):
    assert memory_apply.result.returncode == 0, memory_apply.output
    assert "skipped terraform" not in memory_apply.output
    assert memory_apply.versions == ["1", "2"]
    config = lambda_client.get_function_configuration(FunctionName=FUNCTION, Qualifier="2")
    assert config["MemorySize"] == 256


def test_a_code_change_publishes_a_new_version(code_apply):
    assert code_apply.result.returncode == 0, code_apply.output
    assert code_apply.versions == ["1", "2", "3"]
    assert "version 3: arn:aws:lambda:us-east-1:123456789012:function:tf-apply:3" in (
        code_apply.output)


def test_init_ran_once_for_all_those_applies(code_apply, project):
    init_marker = project.root / ".lambda-gate/env/local/tf-data/lambda-gate-init"

    assert init_marker.is_file()
    assert "Terraform has been successfully initialized" not in code_apply.output


def test_another_environment_keeps_its_own_state_function_and_records(staging_deploy,
                                                                      project):
    assert staging_deploy.result.returncode == 0, staging_deploy.output
    assert staging_deploy.versions == ["1"]
    assert staging_deploy.aliases == {"main": "1"}
    staging_state = json.loads(state(project, "staging").read_text())
    assert staging_state["outputs"]["function_name"]["value"] == STAGING_FUNCTION
    records = {env: [json.loads(p.read_text())["function"] for p in
                     (project.root / ".lambda-gate/env" / env / "records").glob("*.json")]
               for env in ("local", "staging")}
    assert records == {"local": [FUNCTION], "staging": [STAGING_FUNCTION]}


def test_an_apply_failing_half_way_fails_the_deploy_with_terraforms_error(half_way_failure):
    assert half_way_failure.result.returncode == 1
    assert ("error: terraform apply failed (exit 1):\nError: attaching IAM Policy "
            "(arn:aws:iam::aws:policy/NoSuchPolicy)") in half_way_failure.output
    assert "on extra.tf line 1" in half_way_failure.output
    assert "Traceback" not in half_way_failure.output


def test_an_apply_failing_half_way_leaves_the_alias_untouched(half_way_failure):
    assert half_way_failure.versions == ["1", "2", "3", "4"]
    assert half_way_failure.aliases == {"main": "1"}
    assert "Nothing was promoted" in half_way_failure.output


def test_a_failing_apply_prints_terraform_s_error_once_and_names_its_full_log(
        half_way_failure, project):
    output = half_way_failure.output
    assert output.count("Error: attaching IAM Policy") == 1
    log = project.root / ".lambda-gate/env/local/logs/terraform-apply.log"
    assert f"terraform's full output: {log}" in half_way_failure.result.stderr
    assert "Error: attaching IAM Policy" in log.read_text()
    summary = half_way_failure.result.stdout.strip().splitlines()[-1]
    assert summary.startswith("deploy failed in apply: main untouched; record "
                              ".lambda-gate/env/local/records/")
