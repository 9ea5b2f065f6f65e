"""Bad input to the pipeline: one clear line, a non-zero exit, no traceback, no change."""

from __future__ import annotations

import pytest

from lambda_gate.errors import TerraformError
from lambda_gate.publish.terraform import outputs_from


@pytest.fixture(scope="module")
def project(make_project):
    return make_project("bad-input")


def assert_clean_failure(result, code: int, message: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_an_unknown_task_argument_is_refused_by_invoke(project):
    result = project.invoke("deploy", "--no-such-flag")

    assert_clean_failure(result, 1, "No idea what '--no-such-flag' is!")


def test_a_missing_setting_names_its_config_path(project):
    result = project.invoke("build", extra_env={"INVOKE_LAMBDA_GATE_FUNCTION_HANDLER": ""})

    assert_clean_failure(result, 2, "lambda_gate.function.handler is not set: add it to "
                                    "invoke.yaml")


def test_a_handler_the_package_lacks_stops_the_build_and_leaves_no_artifact(project):
    artifact = project.root / "build" / "lambda.zip"
    artifact.unlink(missing_ok=True)

    result = project.invoke("deploy", extra_env={
        "INVOKE_LAMBDA_GATE_FUNCTION_HANDLER": "app.handle_event"})

    assert_clean_failure(result, 1, "handler 'app.handle_event': app.py defines no "
                                    "top-level 'handle_event'.")
    assert "==> apply" not in result.stdout
    assert not artifact.exists()


def test_a_missing_function_source_says_which_setting_to_fix(project):
    result = project.invoke("deploy", extra_env={"INVOKE_LAMBDA_GATE_FUNCTION_SOURCE_DIR":
                                                 "nowhere"})

    assert result.returncode != 0
    assert "nowhere does not exist" in result.stderr
    assert "lambda_gate.function.source_dir" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_an_unknown_environment_lists_the_known_ones(project):
    result = project.invoke("deploy", "--env", "staging")

    assert_clean_failure(result, 2, "unknown environment 'staging' (configured: local)")


def test_an_alias_lambda_would_refuse_is_refused_before_anything_runs(project):
    result = project.invoke("deploy", "--alias", "1234")

    assert_clean_failure(result, 2, "'1234' is not a valid alias name")
    assert "==> build" not in result.stdout


def test_promote_without_any_apply_says_what_to_run_first(project):
    result = project.invoke("promote", "--alias", "main")

    assert_clean_failure(result, 1, "no apply recorded for environment 'local': run "
                                    "`invoke apply` (or `invoke deploy`) first")


def test_terraform_outputs_without_a_version_are_an_error():
    with pytest.raises(TerraformError, match="lack version .*: the configuration must output "
                                             "the function's name and version"):
        outputs_from({"function_name": "api-backend"}, source="terraform.tfstate")


def test_a_terraform_version_that_is_not_a_number_asks_for_publish():
    with pytest.raises(TerraformError, match=r"version is '\$LATEST' .*set publish = true"):
        outputs_from({"function_name": "api-backend", "version": "$LATEST"}, source="state")


def test_promote_of_something_that_is_not_a_version_number_is_refused(project):
    result = project.invoke("promote", "--version", "latest", "--alias", "main")

    assert_clean_failure(result, 2, "--version 'latest' is not a version number.")


def test_rollback_to_something_that_is_not_a_version_number_is_refused(project):
    result = project.invoke("rollback", "--alias", "main", "--to", "previous",
                            extra_env={"INVOKE_LAMBDA_GATE_FUNCTION_NAME": "bad-input"})

    assert_clean_failure(result, 2, "--to 'previous' is not a version number.")


def test_apply_before_any_build_says_to_build_first(project):
    result = project.invoke("apply")

    assert_clean_failure(result, 2, "no artifact at ")
    assert "build/lambda.zip: run `invoke build` first." in result.stderr


def test_status_before_any_apply_says_how_to_name_the_function(project):
    result = project.invoke("status")

    assert_clean_failure(result, 2, "no function to work on in environment 'local': no "
                                    "apply is recorded there (nor does terraform's state "
                                    "hold a function_name output) and "
                                    "lambda_gate.function.name is not set.")


def test_prune_without_keep_says_what_to_pass(project):
    result = project.invoke("prune")

    assert_clean_failure(result, 2,
                         "pass --keep N: how many of the newest passing versions to keep.")


def test_an_empty_canary_is_refused_before_anything_is_read(project):
    result = project.invoke("promote", "--version", "1", "--canary", " ")

    assert_clean_failure(result, 2, "--canary is empty: pass increasing steps from 1 to 99")
