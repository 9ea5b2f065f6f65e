"""Preflight: the mistakes that would break the pipeline silently, caught before terraform.

Each test starts from a copy of the reference configuration (or the article's
``lambda.tf``), breaks something, and shows what a user is told: every problem at once,
numbered, each with its ``file:line`` and its fix. No terraform runs here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lambda_gate.publish import preflight
from lambda_gate.publish.outputs import OutputNames
from lambda_gate.publish.problems import ConfigProblems, Problem

REFERENCE = Path(__file__).resolve().parents[2] / "terraform"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "terraform"
    shutil.copytree(REFERENCE, target, ignore=shutil.ignore_patterns(".terraform*"))
    return target


@pytest.fixture
def article(tmp_path: Path) -> Path:
    """The article's terraform/lambda.tf, exactly as published."""
    target = tmp_path / "terraform"
    target.mkdir()
    shutil.copy(FIXTURES / "article" / "lambda.tf", target / "lambda.tf")
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def problems(config_dir: Path, **options) -> tuple[tuple[Problem, ...], str]:
    options.setdefault("local_state", True)
    options.setdefault("shared_environment", False)
    with pytest.raises(ConfigProblems) as raised:
        preflight.check(config_dir, **options)
    return raised.value.problems, str(raised.value)


def only(config_dir: Path, **options) -> Problem:
    found, message = problems(config_dir, **options)
    assert len(found) == 1, message
    return found[0]


def test_the_reference_configuration_passes(config_dir):
    report = preflight.check(config_dir, local_state=True, shared_environment=False)

    assert report.function.address == "aws_lambda_function.this"
    assert report.warnings == ()
    assert report.backend is None


def test_publish_missing_names_the_file_and_line_and_says_to_add_it(config_dir):
    edit(config_dir / "main.tf", "publish = true", "")

    problem = only(config_dir)

    line = line_of(config_dir / "main.tf", 'resource "aws_lambda_function" "this"')
    assert problem.where == f"terraform/main.tf:{line}"
    assert problem.what == "aws_lambda_function.this does not set publish"
    assert problem.fix.startswith("set `publish = true`")


def test_publish_false_is_reported_at_its_line(config_dir):
    edit(config_dir / "main.tf", "publish = true", "publish = false")

    problem = only(config_dir)

    assert problem.where == f"terraform/main.tf:{line_of(config_dir / 'main.tf', 'publish =')}"
    assert problem.what == "aws_lambda_function.this sets publish = false"


def test_publish_written_as_a_string_is_accepted(config_dir):
    edit(config_dir / "main.tf", "publish = true", 'publish = "true"')

    preflight.check(config_dir, local_state=True, shared_environment=False)


def test_a_hard_coded_package_path_shows_the_line_to_change(config_dir):
    edit(config_dir / "main.tf", "filename         = var.artifact_path",
         'filename         = "../lambda.zip"')

    problem = only(config_dir)

    assert problem.where == f"terraform/main.tf:{line_of(config_dir / 'main.tf', 'filename')}"
    assert problem.what == ('aws_lambda_function.this uploads "../lambda.zip", not the '
                            "package lambda-gate builds")
    assert problem.fix.endswith('line in aws_lambda_function.this (lambda-gate sets '
                                "var.artifact_path to the package it built):\n"
                                '- filename         = "../lambda.zip"\n'
                                "+ filename         = var.artifact_path")


def test_a_missing_source_code_hash_says_what_to_add(config_dir):
    edit(config_dir / "main.tf", "source_code_hash = filebase64sha256(var.artifact_path)", "")

    problem = only(config_dir)

    assert problem.what == "aws_lambda_function.this has no source_code_hash"
    assert problem.fix.endswith("+ source_code_hash = filebase64sha256(var.artifact_path)")


def test_the_articles_configuration_gets_every_problem_in_one_run(article):
    found, message = problems(article, runtime="nodejs12.x", handler="dist/main.handler")

    line = line_of(article / "lambda.tf", "filename")
    assert [p.where for p in found] == [f"terraform/lambda.tf:{line}", "terraform/"]
    assert found[0].fix.endswith(
        "change the lines in aws_lambda_function.lambda (lambda-gate sets var.artifact_path "
        "to the package it built):\n"
        '- filename         = "../lambda.zip"\n'
        '- source_code_hash = filebase64sha256("../lambda.zip")\n'
        "+ filename         = var.artifact_path\n"
        "+ source_code_hash = filebase64sha256(var.artifact_path)")
    assert found[1].what == 'variable "artifact_path" is not declared'
    assert found[1].fix.startswith('add `variable "artifact_path" { type = string }`')
    assert message.startswith("the terraform configuration in terraform/ has 2 problems; "
                              "nothing was changed. Fix them all, then run again:\n\n1. "
                              "terraform/lambda.tf:")
    assert "\n\n2. terraform/: variable \"artifact_path\" is not declared\n   fix: " in message


def test_the_articles_outputs_and_the_documented_edits_pass(article):
    edit(article / "lambda.tf", 'filename         = "../lambda.zip"',
         "filename         = var.artifact_path")
    edit(article / "lambda.tf", 'source_code_hash = filebase64sha256("../lambda.zip")',
         "source_code_hash = filebase64sha256(var.artifact_path)")
    with (article / "lambda.tf").open("a") as tf:
        tf.write('\nvariable "artifact_path" { type = string }\n')

    report = preflight.check(article, local_state=True, shared_environment=False,
                             runtime="nodejs12.x", handler="dist/main.handler")

    assert report.function.address == "aws_lambda_function.lambda"


def test_a_hard_coded_runtime_that_differs_from_the_build_is_a_problem(article):
    found, _ = problems(article, runtime="python3.11", handler="dist/main.handler")

    runtime = [p for p in found if "runtime" in p.what]
    assert runtime[0].where == f"terraform/lambda.tf:{line_of(article / 'lambda.tf', 'runtime')}"
    assert runtime[0].what == ('aws_lambda_function.lambda has runtime = "nodejs12.x", but '
                               "lambda-gate builds and checks the package for "
                               'lambda_gate.function.runtime = "python3.11"')


def test_an_undeclared_artifact_variable_is_reported(config_dir):
    text = (config_dir / "variables.tf").read_text()
    (config_dir / "variables.tf").write_text(text[text.index("}\n") + 2:])

    assert only(config_dir).what == 'variable "artifact_path" is not declared'


@pytest.mark.parametrize("output", ["function_name", "version"])
def test_each_output_the_pipeline_needs_is_required(config_dir, output):
    text = (config_dir / "outputs.tf").read_text()
    start = text.index(f'output "{output}"')
    (config_dir / "outputs.tf").write_text(text[:start] + text[text.index("}\n", start) + 2:])

    problem = only(config_dir)

    assert problem.what.endswith(" is missing")
    assert f'"{output}"' in problem.what
    assert problem.fix.startswith(
        f'add `output "{output}" {{ value = aws_lambda_function.this.{output} }}`')


def test_without_a_qualified_arn_output_lambda_gate_asks_lambda(config_dir):
    text = (config_dir / "outputs.tf").read_text()
    start = text.index('output "qualified_arn"')
    (config_dir / "outputs.tf").write_text(text[:start])

    preflight.check(config_dir, local_state=True, shared_environment=False)


def test_configured_output_names_replace_the_defaults(config_dir):
    edit(config_dir / "outputs.tf", 'output "version"', 'output "published"')

    preflight.check(config_dir, local_state=True, shared_environment=False,
                    outputs=OutputNames(version=("published",)))
    problem = only(config_dir)
    assert problem.what.startswith('an output named "version" or "lambda_version"')


def test_an_output_pointing_elsewhere_is_refused(config_dir):
    edit(config_dir / "outputs.tf", "aws_lambda_function.this.version", '"1"')

    problem = only(config_dir)

    line = line_of(config_dir / "outputs.tf", '"1"')
    assert problem.where == f"terraform/outputs.tf:{line}"
    assert problem.what == "output \"version\" is \"1\", not the function's version"
    assert problem.fix == "make it `value = aws_lambda_function.this.version`"


def test_several_problems_are_numbered_in_one_report(config_dir):
    edit(config_dir / "main.tf", "publish = true", "publish = false")
    edit(config_dir / "main.tf", "filename         = var.artifact_path",
         'filename         = "../lambda.zip"')
    edit(config_dir / "outputs.tf", "aws_lambda_function.this.version", '"1"')
    edit(config_dir / "versions.tf", 'provider "aws" {}', 'provider "aws" {\n  region = '
                                                          '"eu-west-1"\n}')

    found, message = problems(config_dir, region="us-east-1")

    assert [p.where.split(":")[0] for p in found] == [
        "terraform/main.tf", "terraform/main.tf", "terraform/outputs.tf",
        "terraform/versions.tf"]
    for number in range(1, 5):
        assert f"\n\n{number}. terraform/" in message
    assert message.count("   fix: ") == 4


def test_a_configuration_without_a_function_is_refused(config_dir):
    (config_dir / "main.tf").write_text("")

    assert only(config_dir).what == ("no aws_lambda_function resource, and no module call "
                                     "holding one")


def test_two_functions_in_one_configuration_are_refused(config_dir):
    text = (config_dir / "main.tf").read_text()
    start = text.index('resource "aws_lambda_function"')
    (config_dir / "second.tf").write_text(text[start:].replace('"this"', '"other"', 1))

    problem = only(config_dir)

    assert problem.where == "terraform/second.tf:1"
    assert "declares several Lambda functions (aws_lambda_function.this, " in problem.what


def test_syntax_errors_in_two_files_are_both_named_with_their_lines(config_dir):
    edit(config_dir / "main.tf", "  memory_size   = var.memory_size\n", "  memory_size   = \n")
    text = (config_dir / "outputs.tf").read_text()
    (config_dir / "outputs.tf").write_text(text.rstrip().rstrip("}"))

    found, _ = problems(config_dir)

    line = line_of(config_dir / "main.tf", "memory_size   =")
    assert found[0].where.startswith(f"terraform/main.tf:{line}:")
    assert found[0].what.startswith("not valid HCL")
    assert found[0].what.endswith(f"\n{line} |   memory_size   = ")
    assert found[1].where.startswith("terraform/outputs.tf:")
    assert found[1].what == ("not valid HCL (expected `}`):\nthe file ends before the block "
                             "or expression is closed")


def test_a_missing_directory_points_at_the_setting(tmp_path):
    from lambda_gate.errors import ConfigError

    with pytest.raises(ConfigError, match="does not exist: set lambda_gate.terraform.dir"):
        preflight.check(tmp_path / "nowhere", local_state=True, shared_environment=False)


def test_a_directory_without_tf_files_names_the_setting(tmp_path):
    from lambda_gate.errors import ConfigError

    with pytest.raises(ConfigError,
                       match=r"no \.tf files in .*: set lambda_gate\.terraform\.dir\."):
        preflight.check(tmp_path, local_state=True, shared_environment=False)


def test_a_remote_backend_cannot_hold_a_local_environments_state(config_dir):
    (config_dir / "backend.tf").write_text('terraform {\n  backend "s3" {}\n}\n')

    problem = only(config_dir, local_state=True)

    assert problem.where == "terraform/backend.tf:2"
    assert problem.what.startswith("the configuration declares a 's3' backend, but this "
                                   "environment keeps its state in a local file")


def test_a_backend_config_file_needs_a_backend_block(config_dir):
    problem = only(config_dir, local_state=False)

    assert "declares no backend, but this environment has a backend_config file" in (
        problem.what)
    assert problem.fix.startswith('add `terraform { backend "s3" {} }`')


def test_a_declared_backend_is_reported(config_dir):
    (config_dir / "backend.tf").write_text('terraform {\n  backend "s3" {}\n}\n')

    report = preflight.check(config_dir, local_state=False, shared_environment=False)

    assert report.backend == "s3"


def test_one_role_for_every_branch_is_warned_about_in_a_shared_environment(config_dir):
    report = preflight.check(config_dir, local_state=True, shared_environment=True)

    assert len(report.warnings) == 1
    assert report.warnings[0].startswith(
        f"terraform/main.tf:{line_of(config_dir / 'main.tf', 'role          =')}: every "
        "version of aws_lambda_function.this uses aws_iam_role.lambda, whichever branch "
        "published it")


def test_a_role_passed_in_from_outside_is_not_warned_about(config_dir):
    edit(config_dir / "main.tf", "role          = aws_iam_role.lambda.arn",
         "role          = var.role_arn")

    report = preflight.check(config_dir, local_state=True, shared_environment=True)

    assert report.warnings == ()
