"""Preflight: the mistakes that would break the pipeline silently, caught before terraform.

Each test starts from a copy of the reference configuration, breaks one thing, and shows
the message a user gets. No terraform runs here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lambda_gate.errors import ConfigError
from lambda_gate.publish import preflight

REFERENCE = Path(__file__).resolve().parents[2] / "terraform"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "terraform"
    shutil.copytree(REFERENCE, target, ignore=shutil.ignore_patterns(".terraform*"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def failure(config_dir: Path, *, local_state: bool = True) -> str:
    with pytest.raises(ConfigError) as raised:
        preflight.check(config_dir, local_state=local_state, shared_environment=False)
    return str(raised.value)


def test_the_reference_configuration_passes(config_dir):
    report = preflight.check(config_dir, local_state=True, shared_environment=False)

    assert report.function.address == "aws_lambda_function.this"
    assert report.warnings == ()
    assert report.backend is None


def test_publish_missing_names_the_file_and_says_to_add_it(config_dir):
    edit(config_dir / "main.tf", "publish = true", "")

    message = failure(config_dir)

    assert message.startswith("terraform/main.tf: aws_lambda_function.this does not set publish")
    assert "set `publish = true`" in message


def test_publish_false_is_reported_as_what_it_is(config_dir):
    edit(config_dir / "main.tf", "publish = true", "publish = false")

    assert "aws_lambda_function.this sets publish = False" in failure(config_dir)


def test_publish_written_as_a_string_is_accepted(config_dir):
    edit(config_dir / "main.tf", "publish = true", 'publish = "true"')

    preflight.check(config_dir, local_state=True, shared_environment=False)


def test_a_hard_coded_package_path_is_refused(config_dir):
    edit(config_dir / "main.tf", "filename         = var.artifact_path",
         'filename         = "../lambda.zip"')

    message = failure(config_dir)

    assert "terraform/main.tf: aws_lambda_function.this takes filename from" in message
    assert "'\"../lambda.zip\"'" in message
    assert "set `filename = var.artifact_path`" in message


def test_a_missing_source_code_hash_says_what_to_add(config_dir):
    edit(config_dir / "main.tf", "source_code_hash = filebase64sha256(var.artifact_path)", "")

    message = failure(config_dir)

    assert "terraform/main.tf: aws_lambda_function.this has no source_code_hash" in message
    assert "add `source_code_hash = filebase64sha256(var.artifact_path)`" in message


def test_a_source_code_hash_that_does_not_follow_the_artifact_is_refused(config_dir):
    edit(config_dir / "main.tf", "filebase64sha256(var.artifact_path)",
         'filebase64sha256("../lambda.zip")')

    message = failure(config_dir)

    assert "source_code_hash is 'filebase64sha256(\"../lambda.zip\")'" in message
    assert "which does not follow the artifact" in message


def test_an_undeclared_artifact_variable_is_reported(config_dir):
    text = (config_dir / "variables.tf").read_text()
    block_end = text.index("}\n") + 2
    (config_dir / "variables.tf").write_text(text[block_end:])

    assert 'variable "artifact_path" is not declared' in failure(config_dir)


@pytest.mark.parametrize("output", ["function_name", "version", "qualified_arn"])
def test_each_output_the_pipeline_reads_is_required(config_dir, output):
    text = (config_dir / "outputs.tf").read_text()
    start = text.index(f'output "{output}"')
    (config_dir / "outputs.tf").write_text(text[:start] + text[text.index("}\n", start) + 2:])

    message = failure(config_dir)

    assert f'output "{output}" is missing' in message
    assert f"value = aws_lambda_function.this.{output}" in message


def test_an_output_pointing_elsewhere_is_refused(config_dir):
    edit(config_dir / "outputs.tf", "aws_lambda_function.this.version", '"1"')

    assert 'output "version" is \'"1"\': it must be aws_lambda_function.this.version' in (
        failure(config_dir))


def test_a_configuration_without_a_function_is_refused(config_dir):
    (config_dir / "main.tf").write_text("")

    assert "no aws_lambda_function resource in" in failure(config_dir)


def test_two_functions_in_one_configuration_are_refused(config_dir):
    text = (config_dir / "main.tf").read_text()
    start = text.index('resource "aws_lambda_function"')
    (config_dir / "second.tf").write_text(text[start:].replace('"this"', '"other"', 1))

    message = failure(config_dir)

    assert "declares several Lambda functions" in message
    assert "aws_lambda_function.this, aws_lambda_function.other" in message


def test_a_syntax_error_names_the_file_the_line_and_shows_it(config_dir):
    edit(config_dir / "main.tf", "  memory_size   = var.memory_size\n",
         "  memory_size   = \n")

    message = failure(config_dir)

    line = (config_dir / "main.tf").read_text().splitlines().index("  memory_size   = ") + 1
    assert message.startswith(f"{config_dir / 'main.tf'}:{line}:")
    assert "not valid HCL" in message
    assert f"    {line} |   memory_size   = \n" in message


def test_a_file_cut_short_says_where_it_ends_and_what_is_missing(config_dir):
    text = (config_dir / "outputs.tf").read_text()
    (config_dir / "outputs.tf").write_text(text.rstrip().rstrip("}"))

    message = failure(config_dir)

    assert f"{config_dir / 'outputs.tf'}:" in message
    assert "not valid HCL (expected `}`)" in message
    assert "the file ends before the block or expression is closed" in message


def test_a_missing_directory_points_at_the_setting(tmp_path):
    message = failure(tmp_path / "nowhere")

    assert "does not exist: set lambda_gate.terraform.dir" in message


def test_a_remote_backend_cannot_hold_a_local_environments_state(config_dir):
    (config_dir / "backend.tf").write_text('terraform {\n  backend "s3" {}\n}\n')

    message = failure(config_dir, local_state=True)

    assert "declares a 's3' backend, but this environment keeps its state in a local" in (
        message)


def test_a_backend_config_file_needs_a_backend_block(config_dir):
    message = failure(config_dir, local_state=False)

    assert "declares no backend, but this environment has a backend_config file" in message
    assert 'add `terraform { backend "s3" {} }`' in message


def test_a_declared_backend_is_reported(config_dir):
    (config_dir / "backend.tf").write_text('terraform {\n  backend "s3" {}\n}\n')

    report = preflight.check(config_dir, local_state=False, shared_environment=False)

    assert report.backend == "s3"


def test_one_role_for_every_branch_is_warned_about_in_a_shared_environment(config_dir):
    report = preflight.check(config_dir, local_state=True, shared_environment=True)

    assert len(report.warnings) == 1
    assert report.warnings[0].startswith(
        "terraform/main.tf: every version of aws_lambda_function.this uses "
        "aws_iam_role.lambda, whichever branch published it")


def test_a_role_passed_in_from_outside_is_not_warned_about(config_dir):
    edit(config_dir / "main.tf", "role          = aws_iam_role.lambda.arn",
         "role          = var.role_arn")

    report = preflight.check(config_dir, local_state=True, shared_environment=True)

    assert report.warnings == ()


def test_a_directory_without_tf_files_names_the_setting(tmp_path):
    with pytest.raises(ConfigError,
                       match=r"no \.tf files in .*: set lambda_gate\.terraform\.dir\."):
        preflight.check(tmp_path, local_state=True, shared_environment=False)
