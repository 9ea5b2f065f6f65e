"""`invoke deploy`, end to end: real invoke, real terraform, real pytest, the local AWS.

One project walks through a deploy's life; each fixture below is one step of it, run
once, and each test states one thing that must hold after that step. Only two steps
publish (each terraform apply costs about ten seconds against the local AWS).
"""

from __future__ import annotations

import json

import pytest
from deploy_steps import step_runner

FUNCTION = "gate-e2e"

SKIPPED_ONLY = '''
import pytest


@pytest.mark.skip(reason="not ready")
def test_later(lambda_http):
    pass
'''


@pytest.fixture(scope="module")
def project(make_project):
    return make_project(FUNCTION)


@pytest.fixture(scope="module")
def run(project, lambda_client):
    return step_runner(project, lambda_client, FUNCTION)


@pytest.fixture(scope="module")
def first_deploy(run):
    return run("deploy")


@pytest.fixture(scope="module")
def redeploy(first_deploy, run):
    return run("deploy")


@pytest.fixture(scope="module")
def empty_smoke(redeploy, project, run):
    (project.root / "smoke-empty").mkdir()
    return run("deploy", "--alias", "empty",
               extra_env={"INVOKE_LAMBDA_GATE_SMOKE_PATH": "smoke-empty"})


@pytest.fixture(scope="module")
def skipped_smoke(empty_smoke, project, run):
    project.write("smoke-skipped/test_skipped.py", SKIPPED_ONLY)
    return run("deploy", "--alias", "skipped",
               extra_env={"INVOKE_LAMBDA_GATE_SMOKE_PATH": "smoke-skipped"})


NEVER_INVOKED = """
def test_true():
    assert True


def test_target_only(lambda_target):
    assert lambda_target.version
"""


@pytest.fixture(scope="module")
def never_invoked(skipped_smoke, project, run):
    project.write("smoke-true/test_true.py", NEVER_INVOKED)
    return run("deploy", "--alias", "untouched",
               extra_env={"INVOKE_LAMBDA_GATE_SMOKE_PATH": "smoke-true"})


PROTECT_RELEASE = {"INVOKE_LAMBDA_GATE_ENVIRONMENTS_LOCAL_PROTECTED": "release"}


@pytest.fixture(scope="module")
def unapproved(never_invoked, run):
    return run("deploy", "--alias", "release", extra_env=PROTECT_RELEASE)


@pytest.fixture(scope="module")
def approved_later(unapproved, run):
    command = unapproved.output.split("To promote it, run:\n")[-1].splitlines()[0].split()
    assert command[:2] == ["invoke", "promote"]
    return run(*command[1:], extra_env=PROTECT_RELEASE)


@pytest.fixture(scope="module")
def broken_deploy(approved_later, project, run):
    source = (project.root / "src" / "app.py").read_text()
    project.write("src/app.py", source.replace('"status": "ok"', '"status": "degraded"'))
    return run("deploy", "--verbose")


def test_a_first_deploy_promotes_the_version_it_published(first_deploy):
    assert first_deploy.result.returncode == 0, first_deploy.output
    assert first_deploy.versions == ["1"]
    assert first_deploy.aliases == {"main": "1"}
    assert "created main -> 1" in first_deploy.output


def test_the_summary_names_version_alias_tests_junit_and_record(first_deploy, project):
    last = first_deploy.result.stdout.strip().splitlines()[-1]
    head, version, tests, junit, record = last.split("; ")
    assert (head, version, tests) == ("created main -> 1", "version 1", "3 tests passed")
    assert junit == "JUnit .lambda-gate/reports/smoke-1.xml"
    assert (project.root / junit.removeprefix("JUnit ")).is_file()
    assert record.startswith("record .lambda-gate/env/local/records/")
    saved = json.loads((project.root / record.removeprefix("record ")).read_text())
    assert (saved["version"], saved["outcome"]) == ("1", "promoted")


def test_pytest_names_the_junit_file_the_summary_names(first_deploy, project):
    assert f"generated xml file: {project.root}/.lambda-gate/reports/smoke-1.xml" in (
        first_deploy.output)
    assert "smoke-next" not in first_deploy.output


def apply_step_lines(step) -> list[str]:
    lines = step.output.splitlines()
    return lines[lines.index("==> apply"):lines.index("==> smoke")]


def test_terraform_output_is_condensed_to_the_resources_it_changes(first_deploy):
    lines = apply_step_lines(first_deploy)
    assert "  aws_lambda_function.this will be created" in lines
    assert "  Plan: 2 to add, 0 to change, 0 to destroy." in lines
    assert [line for line in lines if "Creation complete after" in line]
    assert not [line for line in lines if "known after apply" in line
                or line.strip().startswith(("+ ", "~ ", "- "))]


def test_verbose_streams_terraform_s_attributes(broken_deploy):
    lines = [line.strip() for line in apply_step_lines(broken_deploy)]
    assert "# aws_lambda_function.this will be updated in-place" in lines
    assert [line for line in lines if line.strip().startswith("~ source_code_hash")]


def test_terraform_s_full_output_is_kept_under_the_state_dir(broken_deploy, project):
    logs = project.root / ".lambda-gate/env/local/logs"
    assert "~ source_code_hash" in (logs / "terraform-plan.log").read_text()
    assert "Apply complete!" in (logs / "terraform-apply.log").read_text()


def test_each_step_prints_a_header_and_its_duration(first_deploy):
    for step in ("build", "apply", "smoke", "promote"):
        assert f"==> {step}" in first_deploy.output
        assert f"{step} done in " in first_deploy.output


def test_the_smoke_tests_ran_against_the_qualified_arn(first_deploy):
    assert f"testing arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}:1" in (
        first_deploy.output)
    assert "3 passed, 0 failed, 0 skipped" in first_deploy.output


def test_a_redeploy_with_nothing_changed_publishes_nothing(redeploy):
    assert redeploy.result.returncode == 0, redeploy.output
    assert redeploy.versions == ["1"]
    assert "skipped terraform" in redeploy.output
    assert "main already at version 1: nothing to deploy" in redeploy.output


def test_an_empty_smoke_directory_promotes_nothing(empty_smoke):
    assert empty_smoke.result.returncode == 1
    assert "not promoted: no smoke test ran" in empty_smoke.output
    assert "empty" not in empty_smoke.aliases
    assert "Traceback" not in empty_smoke.output


def test_only_skipped_smoke_tests_promote_nothing(skipped_smoke):
    assert skipped_smoke.result.returncode == 1
    assert "not promoted: no smoke test passed (1 skipped)" in skipped_smoke.output
    assert "skipped" not in skipped_smoke.aliases


def test_a_suite_that_never_invokes_the_function_promotes_nothing(never_invoked):
    assert never_invoked.result.returncode == 1
    assert ("not promoted: no passing smoke test invoked version 1: 2 passed without "
            "calling it") in never_invoked.output
    assert "untouched" not in never_invoked.aliases
    assert "Traceback" not in never_invoked.output


def test_a_protected_alias_waits_for_approval_with_a_distinct_exit_code(unapproved):
    assert unapproved.result.returncode == 3
    assert "waiting for approval: version 1 passed its smoke tests" in unapproved.output
    assert unapproved.output.count("alias release is protected") == 1
    assert "invoke promote --version 1 --alias release --env local --approve" in (
        unapproved.output)
    assert "release" not in unapproved.aliases


def test_the_printed_promote_command_promotes_the_tested_version(approved_later):
    assert approved_later.result.returncode == 0, approved_later.output
    assert approved_later.aliases["release"] == "1"


def test_a_failing_smoke_test_leaves_the_alias_and_names_the_test(broken_deploy):
    assert broken_deploy.result.returncode == 1
    assert "test_health_reports_the_version_under_test" in broken_deploy.output
    assert broken_deploy.aliases["main"] == "1"
    assert broken_deploy.versions == ["1", "2"]
    assert "version 2 is left published, unaliased" in broken_deploy.output
    assert "Traceback" not in broken_deploy.output


def test_a_closed_gate_prints_its_error_once_after_the_summary(broken_deploy):
    assert broken_deploy.output.count("not promoted: 1 smoke test(s) failed") == 1
    summary = broken_deploy.result.stdout.strip().splitlines()[-1]
    assert summary.startswith("gate closed: version 2 not promoted; main stays at 1; "
                              "1 test passed, 1 failed") or summary.startswith(
        "gate closed: version 2 not promoted; main stays at 1; 2 tests passed, 1 failed")
    assert broken_deploy.result.stderr.startswith("error: not promoted: ")


@pytest.fixture(scope="module")
def promote_untested(broken_deploy, project, run):
    # A record edited by hand to vouch for version 2 is malformed, so it counts for nothing.
    records = project.root / ".lambda-gate/env/local/records"
    forged = json.loads(sorted(records.glob("*-promoted.json"))[0].read_text())
    forged.update(version="2", smoke_passed="no")
    (records / "99999999T999999-2-promoted.json").write_text(json.dumps(forged))
    return run("promote", "--version", "2", "--alias", "main")


@pytest.fixture(scope="module")
def promote_forced(promote_untested, run):
    return run("promote", "--version", "2", "--alias", "main", "--force")


def test_every_deploy_leaves_a_record_of_what_it_did(first_deploy, project):
    records = [json.loads(p.read_text()) for p in
               sorted((project.root / ".lambda-gate/env/local/records").glob("*.json"))]
    first = records[0]

    assert first["outcome"] == "promoted"
    assert (first["function"], first["version"], first["alias"]) == (FUNCTION, "1", "main")
    assert (first["alias_before"], first["alias_after"]) == (None, "1")
    assert first["qualified_arn"].endswith(f"function:{FUNCTION}:1")
    assert first["code_sha256"] == first["artifact_sha256"]
    assert (first["tests_passed"], first["tests_failed"], first["tests_skipped"]) == (3, 0, 0)
    assert first["git_branch"] == "main"
    assert {"build", "apply", "smoke", "promote"} <= set(first["durations"])


def test_promote_refuses_a_version_no_record_shows_passing(promote_untested):
    assert promote_untested.result.returncode == 1
    assert "no deploy record shows version 2 passed its smoke tests" in promote_untested.output
    assert promote_untested.aliases["main"] == "1"


def test_promote_with_force_moves_the_alias_anyway(promote_forced):
    assert promote_forced.result.returncode == 0, promote_forced.output
    assert promote_forced.aliases["main"] == "2"
    assert "promoted main: 1 -> 2" in promote_forced.output


@pytest.fixture(scope="module")
def smoke_of_broken_version(promote_forced, run):
    return run("smoke", "--version", "2")


def test_the_smoke_task_fails_on_a_failing_version_and_names_the_test(smoke_of_broken_version):
    assert smoke_of_broken_version.result.returncode == 1
    assert ("error: 1 smoke test(s) failed: smoke.test_api::"
            "test_health_reports_the_version_under_test") in smoke_of_broken_version.output
