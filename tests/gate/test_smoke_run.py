"""The smoke step runs real pytest and reads back what the plugin tested."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from lambda_gate.errors import ConfigError
from lambda_gate.smoke import run_smoke

HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


@pytest.fixture(scope="module")
def published(lambda_client, role_arn):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    created = lambda_client.create_function(
        FunctionName="smoke-run", Runtime="python3.11", Handler="app.handler",
        Role=role_arn, Code={"ZipFile": buffer.getvalue()},
        Publish=True)
    version = lambda_client.get_function_configuration(FunctionName="smoke-run",
                                                       Qualifier=created["Version"])
    return version["FunctionArn"], created


def run(tmp_path: Path, arn: str, tests: str):
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "test_it.py").write_text(tests)
    return run_smoke([tmp_path / "smoke"], arn, junit=tmp_path / "junit.xml",
                     env=dict(os.environ), cwd=tmp_path, log=lambda line: None)


def test_counts_and_failing_names_come_from_the_junit_report(tmp_path, published):
    arn, _ = published
    result = run(tmp_path, arn, (
        "def test_ok(lambda_invoke):\n    assert lambda_invoke({}).payload == {'ok': True}\n"
        "def test_bad(lambda_invoke):\n    assert lambda_invoke({}).payload == {}\n"
    ))

    assert (result.passed, result.failed, result.exit_code) == (1, 1, 1)
    assert result.failed_tests == ("smoke.test_it::test_bad",)


def test_the_plugin_reports_the_version_it_tested(tmp_path, published):
    arn, created = published
    result = run(tmp_path, arn, "def test_ok(lambda_target):\n    pass\n")

    assert result.tested_arn == arn
    assert result.tested_version == created["Version"]
    assert result.tested_code_sha256 == created["CodeSha256"]


def test_a_missing_smoke_directory_is_a_settings_error(tmp_path, published):
    arn, _ = published
    with pytest.raises(ConfigError, match="smoke test path .*/nowhere does not exist: set "
                                          "lambda_gate.smoke.path"):
        run_smoke([tmp_path / "nowhere"], arn, junit=tmp_path / "j.xml", env=dict(os.environ),
                  cwd=tmp_path, log=lambda line: None)
