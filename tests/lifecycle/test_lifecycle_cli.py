"""The lifecycle tasks through the real command line: `python -m invoke ...`.

The function is made with boto3 and named by INVOKE_LAMBDA_GATE_FUNCTION_NAME, so no
terraform apply is needed; each command runs against the session's local AWS.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from lambda_gate import aliases, records

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def function(lambda_client, make_function):
    """Versions 1-5; main went 1 -> 2; feature-x serves 3."""
    name = make_function(versions=5, prefix="cli")
    aliases.promote(lambda_client, name, "main", "1")
    aliases.promote(lambda_client, name, "main", "2")
    aliases.promote(lambda_client, name, "feature-x", "3")
    return name


@pytest.fixture(scope="module")
def project(make_project):
    return make_project("lifecycle-cli")


@pytest.fixture
def run(project, function):
    def run_task(*args: str, **env: str):
        return project.invoke(*args, extra_env={"INVOKE_LAMBDA_GATE_FUNCTION_NAME": function,
                                                **env})

    return run_task


def test_status_json_is_the_documented_object(run, function):
    result = run("status", "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["schema"], report["function"]) == (1, function)
    assert [(a["name"], a["version"], a["history"]) for a in report["aliases"]] == [
        ("feature-x", "3", []), ("main", "2", ["1"])]


def test_rollback_moves_the_branch_alias_back(run, lambda_state, function):
    result = run("rollback")

    assert result.returncode == 0, result.stderr
    assert "rolled back main: 2 -> 1" in result.stdout
    assert lambda_state.alias(function, "main") == ("1", {})


def test_a_rollback_whose_record_cannot_be_written_still_reports_the_move(
        run, project, lambda_state, function):
    (project.root / "reports-blocked").write_text("a file where the reports would go\n")

    result = run("rollback", INVOKE_LAMBDA_GATE_REPORTS_DIR="reports-blocked/reports")

    assert result.returncode == 0, result.stderr
    assert "warning: the record of this move could not be written (Not a directory: " in (
        result.stdout)
    assert "the alias did move" in result.stdout
    assert "rolled back main: 2 -> 1" in result.stdout
    assert lambda_state.alias(function, "main") == ("1", {})


def test_rollback_with_no_history_fails_with_a_clear_message(run, lambda_state, function):
    result = run("rollback", "--alias", "feature-x")

    assert result.returncode == 2
    assert ("error: alias feature-x has no recorded history before version 3: nothing to "
            "roll back to. Pass --to N") in result.stderr
    assert "Traceback" not in result.stderr
    assert lambda_state.alias(function, "feature-x") == ("3", {})


def test_prune_with_keep_zero_fails_and_deletes_nothing(run, lambda_state, function):
    result = run("prune", "--keep", "0")

    assert result.returncode == 2
    assert "error: --keep 0 would delete every unaliased version" in result.stderr
    assert lambda_state.versions(function) == ["1", "2", "3", "4", "5"]


def test_prune_dry_run_lists_and_deletes_nothing(run, lambda_state, function):
    result = run("prune", "--keep", "1", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert f"would keep {function}:1: main's history (rollback target)" in result.stdout
    assert f"would delete {function}:4 (" in result.stdout
    assert f"would delete {function}:5 (" in result.stdout
    assert "dry run: would delete 2 version(s)" in result.stdout
    assert lambda_state.versions(function) == ["1", "2", "3", "4", "5"]


def test_prune_deletes_and_reports_the_storage_freed(run, lambda_state, function):
    """No deploy record shows 4 or 5 passed, so --keep 1 keeps neither."""
    result = run("prune", "--keep", "1")

    assert result.returncode == 0, result.stderr
    assert f"deleted 2 version(s) of {function}, freed 330 B" in result.stdout
    assert lambda_state.versions(function) == ["1", "2", "3"]


def test_canary_weights_outside_1_to_99_fail_and_change_nothing(run, lambda_state, function):
    result = run("promote", "--version", "4", "--force", "--canary", "10,100",
                 "--interval", "0")

    assert result.returncode == 2
    assert "error: --canary '10,100': 100 is outside 1 to 99" in result.stderr
    assert lambda_state.alias(function, "main") == ("2", {})


def test_canary_promotion_ends_wholly_on_the_new_version(run, lambda_state, function):
    result = run("promote", "--version", "4", "--force", "--canary", "10,50",
                 "--interval", "0")

    assert result.returncode == 0, result.stderr
    assert "main: 10% of traffic to version 4, 90% to 2" in result.stdout
    assert "main: 50% of traffic to version 4, 50% to 2" in result.stdout
    assert lambda_state.alias(function, "main") == ("4", {})


def test_canary_refuses_to_start_while_a_configured_alarm_is_in_alarm(
        project, run, lambda_state, cloudwatch, make_alarm, function):
    alarm = make_alarm(f"cli-{uuid.uuid4().hex[:6]}-main-errors")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")
    prefix = alarm.removesuffix("-main-errors")

    result = run("promote", "--version", "4", "--force", "--canary", "10",
                 "--interval", "0", INVOKE_LAMBDA_GATE_ALIASES_ALARMS=f"{prefix}-{{alias}}-errors")

    assert result.returncode == 1
    assert f"CloudWatch alarm {alarm} is in ALARM. Nothing was changed." in result.stderr
    assert lambda_state.alias(function, "main") == ("2", {})


def test_a_canary_onto_an_alias_that_does_not_exist_is_refused_before_any_write(
        run, lambda_client, function):
    result = run("promote", "--version", "4", "--force", "--alias", "fresh", "--canary",
                 "10,50", "--interval", "0")

    assert result.returncode == 2
    assert ("error: alias fresh does not exist yet, so a canary has no old version to keep "
            "traffic on while version 4 gets part of it. Promote without --canary first "
            "(`invoke promote --version 4 --alias fresh`), or pass --create-alias to "
            "create fresh pointing wholly at version 4. Nothing was changed."
            ) in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_alias(FunctionName=function, Name="fresh")


def test_a_refused_canary_onto_a_protected_new_alias_asks_no_approval_first(
        run, lambda_client, function):
    result = run("promote", "--version", "4", "--force", "--alias", "fresh", "--canary",
                 "10", "--interval", "0", INVOKE_LAMBDA_GATE_ENVIRONMENTS_LOCAL_PROTECTED="fresh")

    assert result.returncode == 2  # not 3, approval required: it could never start
    assert "alias fresh does not exist yet" in result.stderr
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_alias(FunctionName=function, Name="fresh")


def test_with_create_alias_a_canary_creates_the_new_alias_wholly_and_says_so(
        run, lambda_state, function):
    result = run("promote", "--version", "4", "--force", "--alias", "fresh", "--canary",
                 "10,50", "--interval", "0", "--create-alias")

    assert result.returncode == 0, result.stderr
    assert "created fresh -> 4 (no old version to shift traffic from)" in result.stdout
    assert "10% of traffic" not in result.stdout
    assert lambda_state.alias(function, "fresh") == ("4", {})


def test_create_alias_leaves_a_canary_onto_an_existing_alias_as_it_is(
        run, lambda_state, function):
    result = run("promote", "--version", "4", "--force", "--canary", "10", "--interval",
                 "0", "--create-alias")

    assert result.returncode == 0, result.stderr
    assert "main: 10% of traffic to version 4, 90% to 2" in result.stdout
    assert "promoted main: 2 -> 4" in result.stdout
    assert lambda_state.alias(function, "main") == ("4", {})


def test_promote_refuses_an_older_version_than_the_alias_serves(run, lambda_state, function):
    result = run("promote", "--version", "1", "--force")

    assert result.returncode == 4
    assert "not moving main back to an older version: it serves version 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert lambda_state.alias(function, "main") == ("2", {})


def test_promote_goes_back_to_an_older_version_when_allowed(run, lambda_state, function):
    result = run("promote", "--version", "1", "--force", "--allow-older")

    assert result.returncode == 0, result.stderr
    assert "promoted main: 2 -> 1" in result.stdout
    assert lambda_state.alias(function, "main") == ("1", {})


def test_promote_of_the_version_rolled_back_from_needs_force(
        run, project, lambda_client, lambda_state, function):
    live = lambda_client.get_function_configuration(FunctionName=function, Qualifier="2")
    records.write(records.DeployRecord(environment="local", function=function, version="2",
                                       code_sha256=live["CodeSha256"], smoke_passed=True,
                                       outcome="tested"),
                  project.root / ".lambda-gate/env/local/records")
    assert run("rollback").returncode == 0  # main 2 -> 1, 2 marked

    refused = run("promote", "--version", "2")
    forced = run("promote", "--version", "2", "--force")

    assert refused.returncode == 4
    assert "not promoting version 2 to main: main was rolled back from it" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    assert lambda_state.alias(function, "main") == ("2", {})


def test_promote_refuses_a_version_that_does_not_exist(run, lambda_state, function):
    result = run("promote", "--version", "99", "--force")

    assert result.returncode == 2
    assert f"error: version 99 of {function} does not exist." in result.stderr
    assert lambda_state.alias(function, "main") == ("2", {})


def test_an_alias_lambda_cannot_take_is_a_clear_error(run, lambda_state, function):
    result = run("promote", "--version", "4", "--force", "--alias", "feature/x")

    assert result.returncode == 2
    assert "error: 'feature/x' is not a valid alias name" in result.stderr
    assert "the alias would be 'feature-x'" in result.stderr


def test_cleanup_deletes_a_merged_branchs_alias(run, lambda_client, function):
    result = run("cleanup", "--alias", "feature-x")

    assert result.returncode == 0, result.stderr
    assert "deleted alias feature-x (it pointed at version 3)" in result.stdout
    assert aliases.get_alias(lambda_client, function, "feature-x") is None


def test_cleanup_refuses_a_protected_alias(run, lambda_client, function):
    result = run("cleanup", "--alias", "main",
                 INVOKE_LAMBDA_GATE_ENVIRONMENTS_LOCAL_PROTECTED="main")

    assert result.returncode == 2
    assert "error: alias main is protected" in result.stderr
    assert aliases.get_alias(lambda_client, function, "main") is not None


def test_without_an_apply_or_a_configured_name_the_tasks_say_how_to_set_it(project):
    result = project.invoke("status")

    assert result.returncode == 2
    assert "lambda_gate.function.name is not set" in result.stderr
    assert "INVOKE_LAMBDA_GATE_FUNCTION_NAME" in result.stderr


FAILING_THROUGH_ALIAS = '''
def test_the_new_version_is_broken(lambda_invoke):
    assert lambda_invoke({}).payload == {"version": "never"}
'''


def test_smoke_tests_failing_through_the_alias_roll_the_canary_back(
        project, run, lambda_state, function):
    project.write("smoke-alias-bad/test_alias.py", FAILING_THROUGH_ALIAS)

    result = run("promote", "--version", "4", "--force", "--canary", "50", "--interval",
                 "0", "--smoke-alias", INVOKE_LAMBDA_GATE_SMOKE_PATH="smoke-alias-bad")

    assert result.returncode == 1
    assert ("stopped at 50%: the smoke tests against main failed "
            "(smoke-alias-bad.test_alias::test_the_new_version_is_broken)") in result.stderr
    assert lambda_state.alias(function, "main") == ("2", {})


def test_the_ci_wrapper_promotes_from_any_directory(project, lambda_state, function,
                                                    tmp_path):
    (project.root / "bin").mkdir(exist_ok=True)
    script = project.root / "bin" / "create_update_alias.sh"
    script.write_bytes((REPO / "bin" / "create_update_alias.sh").read_bytes())
    script.chmod(0o755)

    result = subprocess.run(
        [str(script), "--version", "5", "--force", "--alias", "feature-x"], cwd=tmp_path,
        env={**project.env, "INVOKE_LAMBDA_GATE_FUNCTION_NAME": function}, text=True,
        capture_output=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "promoted feature-x: 3 -> 5" in result.stdout
    assert lambda_state.alias(function, "feature-x") == ("5", {})
