"""A service's bad configuration: one clear message, exit 2, nothing changed in AWS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lambda_gate.errors import ConfigError
from lambda_gate.publish import unit_preflight

EXAMPLE = Path(__file__).resolve().parent / "example"


def test_a_function_without_its_smoke_tests_is_refused_before_anything_runs(
        make_service, lambda_client):
    service = make_service("unit-bad-smoke")
    shutil.rmtree(service.root / "smoke" / "worker")

    result = service.invoke("deploy")

    assert result.returncode == 2
    assert "the smoke tests of worker are missing" in result.stdout + result.stderr
    assert "lambda_gate.functions.worker.smoke_path" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    names = [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]]
    assert not any(name.startswith("unit-bad-smoke") for name in names)
    assert not (service.root / "build").exists()


@pytest.fixture
def configuration(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE / "terraform", tmp_path / "terraform")
    return tmp_path / "terraform"


def check(config_dir: Path) -> None:
    unit_preflight.check(config_dir, local_state=True, shared_environment=False)


def edit(config_dir: Path, old: str, new: str) -> None:
    main = config_dir / "main.tf"
    text = main.read_text()
    assert old in text
    main.write_text(text.replace(old, new))


def test_the_example_configuration_passes(configuration):
    check(configuration)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  publish          = true\n", "", r"aws_lambda_function.fn does not set `publish = "),
    ("filename         = each.value.artifact_path", 'filename = "../lambda.zip"',
     r'takes filename from "../lambda.zip": set `filename = each.value.artifact_path`'),
    ("source_code_hash = filebase64sha256(each.value.artifact_path)",
     'source_code_hash = "x"', r'source_code_hash is "x", which does not follow'),
    ('output "functions"', 'output "other"', r'output "functions" is missing'),
    ('variable "functions"', 'variable "lambdas"', r'variable "functions" is not declared'),
])
def test_a_configuration_mistake_is_named_with_its_fix(configuration, old, new, message):
    edit(configuration, old, new)

    with pytest.raises(ConfigError, match=message):
        check(configuration)
