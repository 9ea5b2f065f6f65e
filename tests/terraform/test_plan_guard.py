"""The plan guard end to end: real invoke, real terraform, the local AWS, boto3 to check.

One project walks through it: a first deploy (with an extra log group), a dry run whose
plan updates the function and destroys the log group, a rename of the function that
the guard refuses (the function, its versions and its alias stay), the rename's dry
run, and the rename with --allow-replace. Then ``terraform.dir`` pointed at a copy of
the configuration: refused before anything runs, accepted with --adopt-state.
"""

from __future__ import annotations

import shutil

import pytest
from deploy_steps import step_runner, versions_and_aliases

FUNCTION = "tf-guard"
RENAMED = "tf-guard-renamed"

LOG_GROUP = """\
resource "aws_cloudwatch_log_group" "extra" {
  name = "/lambda-gate/tests/tf-guard-extra"
}
"""


@pytest.fixture(scope="module")
def project(make_project):
    project = make_project(FUNCTION)
    project.write("terraform/extra.tf", LOG_GROUP)
    return project


@pytest.fixture(scope="module")
def run(project, lambda_client):
    return step_runner(project, lambda_client, FUNCTION)


def rename(project, name: str) -> None:
    project.write("invoke.yaml",
                  f"lambda_gate:\n  terraform:\n    vars: {{function_name: {name}}}\n")


@pytest.fixture(scope="module")
def first_deploy(run):
    step = run("deploy")
    assert step.result.returncode == 0, step.output
    return step


@pytest.fixture(scope="module")
def update_and_destroy_dry_run(first_deploy, project, run):
    (project.root / "terraform" / "extra.tf").unlink()
    with (project.root / "src" / "app.py").open("a") as source:
        source.write("\n# a change the plan updates in place\n")
    return run("deploy", "--dry-run")


@pytest.fixture(scope="module")
def refused(update_and_destroy_dry_run, project, run):
    rename(project, RENAMED)
    return run("deploy")


@pytest.fixture(scope="module")
def replace_dry_run(refused, run):
    return run("deploy", "--dry-run")


@pytest.fixture(scope="module")
def allowed(replace_dry_run, run):
    return run("deploy", "--allow-replace", function=RENAMED)


def test_a_dry_run_tables_an_update_in_place_and_a_destroy(update_and_destroy_dry_run):
    step = update_and_destroy_dry_run
    assert step.result.returncode == 0, step.output
    assert ("plan: 1 to update in place, 1 to destroy\n"
            "    update in place  aws_lambda_function.this\n"
            "    destroy          aws_cloudwatch_log_group.extra  (it is no longer in the "
            "configuration)\n") in step.output
    assert ("dry run: would publish a new version and move main from 1 to it after the "
            "smoke tests. Nothing was changed.") in step.output
    assert (step.versions, step.aliases) == (["1"], {"main": "1"})


def test_a_replacement_of_the_function_is_refused_naming_what_forces_it(refused):
    assert refused.result.returncode == 2, refused.output
    assert ("error: the plan would replace or destroy what a deploy cannot get back:\n"
            '  - aws_lambda_function.this would be replaced (function_name forces it: '
            '"tf-guard" -> "tf-guard-renamed"): Lambda deletes the function with every '
            "published version and alias\n"
            "  - aws_iam_role.lambda would be replaced (name_prefix forces it: ") in (
        refused.output)
    assert "Nothing was applied." in refused.output
    assert "--allow-replace" in refused.output
    assert "Traceback" not in refused.output


def test_a_refused_replacement_leaves_the_function_its_versions_and_alias(refused,
                                                                         lambda_client):
    assert (refused.versions, refused.aliases) == (["1"], {"main": "1"})
    assert versions_and_aliases(lambda_client, RENAMED) == ([], {})
    code = lambda_client.get_function(FunctionName=FUNCTION, Qualifier="1")
    assert code["Configuration"]["Version"] == "1"


def test_a_dry_run_of_a_replacement_says_so_and_never_would_publish(replace_dry_run):
    step = replace_dry_run
    assert step.result.returncode == 0, step.output
    assert "    replace  aws_lambda_function.this  (function_name forces it: " in (
        step.output)
    assert "would publish" not in step.output
    assert ("dry run: aws_lambda_function.this would be replaced (function_name forces "
            'it: "tf-guard" -> "tf-guard-renamed")') in step.output
    assert "a deploy refuses that without --allow-replace. Nothing was changed." in (
        step.output)
    assert (step.versions, step.aliases) == (["1"], {"main": "1"})


def test_allow_replace_lets_the_replacement_through(allowed, lambda_client):
    assert allowed.result.returncode == 0, allowed.output
    assert "allowed: aws_lambda_function.this would be replaced" in allowed.output
    assert (allowed.versions, allowed.aliases) == (["1"], {"main": "1"})
    assert versions_and_aliases(lambda_client, FUNCTION) == ([], {})


# -- state follows the configuration ----------------------------------------------------


@pytest.fixture(scope="module")
def moved_configuration(allowed, project):
    shutil.copytree(project.root / "terraform", project.root / "infra",
                    ignore=shutil.ignore_patterns(".terraform*"))
    project.write("invoke.yaml", "lambda_gate:\n  terraform:\n    dir: infra\n"
                                 f"    vars: {{function_name: {RENAMED}}}\n")
    return project


@pytest.fixture(scope="module")
def other_configuration(moved_configuration, run):
    return run("deploy", function=RENAMED)


@pytest.fixture(scope="module")
def adopted(other_configuration, run):
    return run("deploy", "--adopt-state", function=RENAMED)


def test_another_configuration_is_refused_on_this_state_before_anything_runs(
        other_configuration):
    step = other_configuration
    assert step.result.returncode == 2, step.output
    assert ("error: environment 'local' keeps the state of the configuration in terraform/, "
            "but lambda_gate.terraform.dir is now infra/: terraform would plan to destroy "
            "what terraform/ made. Nothing was changed.") in step.output
    assert "==> build" not in step.output
    assert (step.versions, step.aliases) == (["1"], {"main": "1"})


def test_adopt_state_takes_the_state_over_for_a_moved_configuration(adopted, project):
    assert adopted.result.returncode == 0, adopted.output
    assert (adopted.versions, adopted.aliases) == (["1"], {"main": "1"})
    origin = project.root / ".lambda-gate/env/local/terraform.tfstate.configuration"
    assert origin.read_text() == "infra\n"
