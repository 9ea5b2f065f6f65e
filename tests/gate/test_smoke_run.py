"""The smoke step runs real pytest and reads back what the plugin tested."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lambda_gate.errors import ConfigError
from lambda_gate.handoff import TARGET_FD_VARIABLE
from lambda_gate.smoke import SmokeRun, run_smoke

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


def test_a_run_started_ahead_tests_the_version_it_is_given_later(tmp_path, published):
    arn, created = published
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "test_it.py").write_text("def test_ok(lambda_target):\n    pass\n")
    prepared = SmokeRun([tmp_path / "smoke"], junit=tmp_path / "junit.xml",
                        env=dict(os.environ), cwd=tmp_path)

    result = prepared.run(arn, log=lambda line: None)

    assert (result.passed, result.tested_arn) == (1, arn)


def test_a_run_started_ahead_in_another_region_follows_the_arns_region(tmp_path, published):
    # The client made while waiting is in the job's region; the function is not.
    arn, _ = published
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "test_it.py").write_text(
        "def test_ok(lambda_invoke):\n    assert lambda_invoke({}).payload == {'ok': True}\n")
    env = {**os.environ, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}
    prepared = SmokeRun([tmp_path / "smoke"], junit=tmp_path / "junit.xml", env=env,
                        cwd=tmp_path)

    result = prepared.run(arn, log=lambda line: None)

    assert (result.passed, result.failed, result.tested_arn) == (1, 0, arn)


def test_a_cancelled_run_runs_no_test_and_leaves_no_process(tmp_path, published):
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "test_it.py").write_text("def test_ok(lambda_target):\n    pass\n")
    prepared = SmokeRun([tmp_path / "smoke"], junit=tmp_path / "junit.xml",
                        env=dict(os.environ), cwd=tmp_path)
    process = prepared.child.proc if prepared.child else None

    prepared.cancel()

    assert process is not None and process.returncode is not None
    assert not (tmp_path / "junit.xml").exists()


def test_the_plugin_stops_without_testing_when_the_deploy_sends_no_target(tmp_path):
    (tmp_path / "test_it.py").write_text("def test_ok(lambda_target):\n    pass\n")
    read_end, write_end = os.pipe()
    os.close(write_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
            env={**os.environ, TARGET_FD_VARIABLE: str(read_end)}, pass_fds=(read_end,),
            capture_output=True, text=True, cwd=tmp_path)
    finally:
        os.close(read_end)

    assert result.returncode == 0
    assert "lambda-gate: the deploy stopped before its smoke tests" in result.stdout
    assert "passed" not in result.stdout


def test_only_passing_tests_that_invoked_the_target_count_as_evidence(tmp_path, published):
    arn, created = published
    result = run(tmp_path, arn, (
        "import boto3\n"
        "def test_fixture(lambda_invoke):\n    lambda_invoke({})\n"
        "def test_http(lambda_http):\n    lambda_http.get('/')\n"
        "def test_own_client(lambda_target):\n"
        "    boto3.client('lambda').invoke(FunctionName=lambda_target.qualified_arn)\n"
        "def test_own_client_by_name(lambda_target):\n"
        "    boto3.client('lambda').invoke(FunctionName='smoke-run',\n"
        "                                  Qualifier=lambda_target.version)\n"
        "def test_latest_is_not_the_target(lambda_target):\n"
        "    boto3.client('lambda').invoke(FunctionName='smoke-run')\n"
        "def test_true():\n    assert True\n"
        "def test_record_property_cannot_fake_it(record_property):\n"
        "    record_property('lambda_gate.qualified_arn', 'x')\n"
        "def test_failing_invoker(lambda_invoke):\n    lambda_invoke({})\n    assert False\n"
    ))

    assert result.passed == 7
    assert result.tested_arn == arn
    assert result.invoking_tests == ("smoke.test_it::test_fixture", "smoke.test_it::test_http",
                                     "smoke.test_it::test_own_client",
                                     "smoke.test_it::test_own_client_by_name")
