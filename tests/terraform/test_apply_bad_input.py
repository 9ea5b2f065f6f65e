"""Bad input to the apply step, through the command line: one clear message each.

Each case exits non-zero with terraform's own diagnostic (or ours, when terraform is not
there to give one), prints no traceback and publishes and promotes nothing. None of
them needs a successful apply, so they share one project that has never applied.
"""

from __future__ import annotations

import pytest

FUNCTION = "tf-bad-input"


@pytest.fixture(scope="module")
def project(make_project):
    project = make_project(FUNCTION)
    built = project.invoke("build")
    assert built.returncode == 0, built.stdout + built.stderr
    return project


def output(result) -> str:
    return result.stdout + result.stderr


def function_exists(lambda_client) -> bool:
    try:
        lambda_client.get_function(FunctionName=FUNCTION)
    except lambda_client.exceptions.ResourceNotFoundException:
        return False
    return True


def test_terraform_not_installed_says_how_to_install_it(project, lambda_client):
    result = project.invoke(
        "deploy", extra_env={"INVOKE_LAMBDA_GATE_TERRAFORM_BINARY": "terraform-not-here"})

    assert result.returncode == 1
    assert ("error: terraform not found ('terraform-not-here' is not on PATH): install "
            "Terraform 1.5 or newer (https://developer.hashicorp.com/terraform/install)") in (
        output(result))
    assert "Traceback" not in output(result)
    assert not function_exists(lambda_client)


def test_an_unreachable_provider_points_at_the_plugin_dir_setting(project, lambda_client,
                                                                  tmp_path):
    result = project.invoke(
        "apply", extra_env={"INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR": str(tmp_path)})

    assert result.returncode == 1
    assert ("error: terraform init failed (exit 1):\n"
            "Error: Failed to query available provider packages") in output(result)
    assert f"could not install hashicorp/aws from the mirror {tmp_path}" in output(result)
    assert "INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR" in output(result)
    assert "Traceback" not in output(result)
    assert not function_exists(lambda_client)


def test_a_syntax_error_names_the_file_and_line_before_terraform_runs(project,
                                                                      lambda_client):
    project.write("terraform/broken.tf", 'resource "aws_sqs_queue" "q" {\n  name = \n}\n')
    try:
        result = project.invoke("deploy")
    finally:
        (project.root / "terraform" / "broken.tf").unlink()

    assert result.returncode == 2
    assert "1. terraform/broken.tf:2:10: not valid HCL:\n   2 |   name = \n" in output(result)
    assert "==> build" not in output(result)
    assert "Traceback" not in output(result)
    assert not function_exists(lambda_client)


def test_a_configuration_that_does_not_publish_is_stopped_before_terraform(project,
                                                                          lambda_client):
    main = project.root / "terraform" / "main.tf"
    text = main.read_text()
    main.write_text(text.replace("publish = true", "publish = false"))
    try:
        result = project.invoke("apply")
    finally:
        main.write_text(text)

    assert result.returncode == 2
    assert "terraform/main.tf:" in output(result)
    assert (": aws_lambda_function.this sets publish = false\n   fix: set `publish = true`"
            in output(result))
    assert not function_exists(lambda_client)
