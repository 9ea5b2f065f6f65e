"""Choosing the target version: every way to name it, and every way to get it wrong.

Each test runs a real pytest session with pytester against the local AWS. A bad target
is a usage error (exit code 4) raised before any test runs; the inner test touches a
file when it runs, so "no test ran" is checked, not assumed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RAN = "test-ran"

TARGET_TEST = f"""
from pathlib import Path

def test_uses_the_target(lambda_target):
    Path({RAN!r}).touch()
"""


@pytest.fixture
def session(pytester: pytest.Pytester, local_aws, run_pytest):
    """Run a pytest session with one test that uses ``lambda_target``."""
    pytester.makepyfile(test_uses_target=TARGET_TEST)
    return run_pytest


def refused(result: pytest.RunResult, pytester: pytest.Pytester, *message: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {line}" for line in message])
    assert not (pytester.path / RAN).exists()


def test_function_and_version_on_the_command_line_target_that_version(session, versioned):
    result = session(f"--lambda-function={versioned.name}", "--lambda-version=2")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"lambda-gate: {versioned.name} version 2 ({versioned.arn('2')}), "
         "from --lambda-version"])


def test_function_and_version_from_the_environment(session, versioned, monkeypatch):
    monkeypatch.setenv("LAMBDA_GATE_FUNCTION", versioned.name)
    monkeypatch.setenv("LAMBDA_GATE_VERSION", "1")

    result = session()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"lambda-gate: {versioned.name} version 1 *, "
                                 "from LAMBDA_GATE_VERSION"])


def test_function_and_version_from_the_ini_file(session, pytester, versioned):
    pytester.makeini(f"[pytest]\nlambda_function = {versioned.name}\nlambda_version = 1\n")

    result = session()

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["lambda-gate: * version 1 *, from ini lambda_version"])


def test_the_environment_beats_the_ini_file(session, pytester, versioned, monkeypatch):
    pytester.makeini(f"[pytest]\nlambda_function = {versioned.name}\nlambda_version = 1\n")
    monkeypatch.setenv("LAMBDA_GATE_VERSION", "2")

    result = session()

    result.stdout.fnmatch_lines(["lambda-gate: * version 2 *, from LAMBDA_GATE_VERSION"])


def test_the_command_line_beats_the_environment(session, versioned, monkeypatch):
    monkeypatch.setenv("LAMBDA_GATE_FUNCTION", versioned.name)
    monkeypatch.setenv("LAMBDA_GATE_VERSION", "2")

    result = session("--lambda-version=1")

    result.stdout.fnmatch_lines(["lambda-gate: * version 1 *, from --lambda-version"])


def test_a_qualified_arn_targets_its_version(session, versioned):
    result = session(f"--lambda-arn={versioned.arn('1')}")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"lambda-gate: {versioned.name} version 1 *, from --lambda-arn"])


def test_a_qualified_arn_from_the_environment(session, versioned, monkeypatch):
    monkeypatch.setenv("LAMBDA_GATE_ARN", versioned.arn("2"))

    result = session()

    result.stdout.fnmatch_lines(["lambda-gate: * version 2 *, from LAMBDA_GATE_ARN"])


def write_outputs(path: Path, **outputs: object) -> Path:
    path.write_text(json.dumps({name: {"sensitive": False, "type": "string", "value": value}
                                for name, value in outputs.items()}))
    return path


def test_a_terraform_output_file_targets_its_version(session, pytester, versioned):
    outputs = write_outputs(pytester.path / "outputs.json", function_name=versioned.name,
                            version="2", qualified_arn=versioned.arn("2"))

    result = session(f"--lambda-terraform-output={outputs}")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"lambda-gate: {versioned.name} version 2 *, from terraform output file {outputs}"])


def test_a_terraform_output_file_named_in_the_ini_file(session, pytester, versioned):
    write_outputs(pytester.path / "outputs.json", function_name=versioned.name, version="1")
    pytester.makeini("[pytest]\nlambda_terraform_output = outputs.json\n")

    result = session()

    result.stdout.fnmatch_lines(["lambda-gate: * version 1 *, from terraform output file *"])


def test_a_missing_terraform_output_file_is_a_usage_error(session, pytester, monkeypatch):
    monkeypatch.setenv("LAMBDA_GATE_TERRAFORM_OUTPUT", "nowhere.json")

    result = session()

    refused(result, pytester, "terraform output file */nowhere.json (from "
            "LAMBDA_GATE_TERRAFORM_OUTPUT) does not exist: write it with "
            "`terraform output -json > */nowhere.json` after `terraform apply`.")


def test_a_terraform_output_file_that_is_not_json_is_a_usage_error(session, pytester):
    (pytester.path / "outputs.txt").write_text('function_name = "orders"\n')

    result = session("--lambda-terraform-output=outputs.txt")

    refused(result, pytester, "terraform output file */outputs.txt (from "
            "--lambda-terraform-output) is not JSON (*): write it with "
            "`terraform output -json`, not `terraform output`.")


def test_a_terraform_output_file_without_the_version_is_a_usage_error(session, pytester):
    write_outputs(pytester.path / "outputs.json", function_name="orders")

    result = session("--lambda-terraform-output=outputs.json")

    refused(result, pytester, "terraform output file */outputs.json (from "
            "--lambda-terraform-output) has no version output (outputs found: "
            "function_name): add `output \"function_name\"` and `output \"version\"` *")


def test_a_malformed_arn_is_a_usage_error(session, pytester):
    result = session("--lambda-arn=orders:7")

    refused(result, pytester, "'orders:7' from --lambda-arn is not a Lambda function ARN: "
            "expected arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION, *")


def test_an_unqualified_arn_is_a_usage_error(session, pytester, versioned, monkeypatch):
    unqualified = versioned.arn("1").rsplit(":", 1)[0]
    monkeypatch.setenv("LAMBDA_GATE_ARN", unqualified)

    result = session()

    refused(result, pytester, f"'{unqualified}' from LAMBDA_GATE_ARN is an unqualified ARN, "
            "which means $LATEST: add the published version, e.g. *")


def test_a_version_that_does_not_exist_is_a_usage_error(session, pytester, versioned):
    result = session(f"--lambda-function={versioned.name}", "--lambda-version=9")

    refused(result, pytester, f"function '{versioned.name}' (from --lambda-function) version "
            "'9' (from --lambda-version) in us-east-1 does not exist: the function's "
            "published versions are 1, 2. Pass one of those (terraform output `version`).")


def test_a_function_that_does_not_exist_is_a_usage_error(session, pytester, monkeypatch):
    monkeypatch.setenv("LAMBDA_GATE_FUNCTION", "no-such-function")

    result = session("--lambda-version=1")

    refused(result, pytester, "function 'no-such-function' (from LAMBDA_GATE_FUNCTION) "
            "version '1' (from --lambda-version) in us-east-1 does not exist: there is no "
            "function 'no-such-function'. *")


def test_an_alias_is_refused_as_the_target(session, pytester, versioned, monkeypatch):
    monkeypatch.setenv("LAMBDA_GATE_ARN", versioned.arn("live"))

    result = session()

    refused(result, pytester, "the target version from LAMBDA_GATE_ARN is refused: 'live' is "
            "not a version number (an alias, or a typo). Smoke tests pin one published "
            "version *, add --lambda-allow-alias (LAMBDA_GATE_ALLOW_ALIAS=1, "
            "ini lambda_allow_alias = true).")


def test_latest_is_refused_as_the_target(session, pytester, versioned):
    result = session(f"--lambda-function={versioned.name}", "--lambda-version=$LATEST")

    refused(result, pytester, "the target version from --lambda-version is refused: $LATEST "
            "is the unpublished code, not a version. *")


def test_an_alias_is_the_target_when_aliases_are_allowed(session, versioned):
    result = session(f"--lambda-arn={versioned.arn('live')}", "--lambda-allow-alias")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        f"lambda-gate: {versioned.name} version 1 ({versioned.arn('live')}), from --lambda-arn",
        "lambda-gate: through alias 'live', allowed by --lambda-allow-alias",
    ])


def test_aliases_may_be_allowed_in_the_ini_file(session, pytester, versioned):
    pytester.makeini("[pytest]\nlambda_allow_alias = true\n")

    result = session(f"--lambda-arn={versioned.arn('live')}")

    result.stdout.fnmatch_lines(["lambda-gate: through alias 'live', allowed by "
                                 "ini lambda_allow_alias"])


def test_a_bad_allow_alias_value_is_a_usage_error(session, pytester, versioned, monkeypatch):
    monkeypatch.setenv("LAMBDA_GATE_ALLOW_ALIAS", "sometimes")

    result = session(f"--lambda-arn={versioned.arn('1')}")

    refused(result, pytester, "'sometimes' from LAMBDA_GATE_ALLOW_ALIAS is not a yes/no "
            "value: use 1 or 0 (true/false, yes/no, on/off).")


def test_a_function_without_a_version_is_a_usage_error(session, pytester, versioned):
    result = session(f"--lambda-function={versioned.name}")

    refused(result, pytester, f"function '{versioned.name}' from --lambda-function has no "
            "version: add --lambda-version N (or LAMBDA_GATE_VERSION), *")


def test_an_unknown_profile_is_a_usage_error(session, pytester, versioned):
    result = session(f"--lambda-arn={versioned.arn('1')}", "--lambda-profile=nobody")

    refused(result, pytester, "AWS profile 'nobody' from --lambda-profile is not configured: "
            "check ~/.aws/config, or drop the setting to use the default credentials.")


def test_an_unreachable_endpoint_is_a_usage_error(session, pytester, versioned, monkeypatch):
    monkeypatch.setenv("LAMBDA_GATE_ENDPOINT_URL", "http://127.0.0.1:9")

    result = session(f"--lambda-arn={versioned.arn('1')}")

    refused(result, pytester, f"cannot look up function '{versioned.name}' (from --lambda-arn) "
            "version '1' (from --lambda-arn) in us-east-1: Could not connect to the endpoint "
            "URL: *. Check --lambda-endpoint-url (LAMBDA_GATE_ENDPOINT_URL) or "
            "AWS_ENDPOINT_URL.")


def test_missing_credentials_are_a_usage_error(session, pytester, versioned, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(pytester.path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(pytester.path / "no-credentials"))

    result = session(f"--lambda-arn={versioned.arn('1')}")

    refused(result, pytester, "cannot look up function * in us-east-1: no AWS credentials "
            "found. Configure credentials or pass --lambda-profile.")


def test_no_region_anywhere_is_a_usage_error(session, pytester, versioned, monkeypatch):
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(pytester.path / "no-config"))

    result = session(f"--lambda-function={versioned.name}", "--lambda-version=1")

    refused(result, pytester, "no AWS region for the Lambda target: pass --lambda-region "
            "(LAMBDA_GATE_REGION, ini lambda_region) or set AWS_REGION.")


def test_an_endpoint_that_is_not_lambda_is_a_usage_error(session, pytester, versioned,
                                                         local_aws):
    result = session(f"--lambda-arn={versioned.arn('1')}",
                     f"--lambda-endpoint-url={local_aws.url}/not-lambda")

    refused(result, pytester, "cannot look up function * in us-east-1: 404: * Check the "
            "credentials, region and permissions (lambda:GetFunction), and the endpoint "
            f"{local_aws.url}/not-lambda.")


def test_the_region_setting_chooses_where_to_look(session, pytester, versioned):
    result = session(f"--lambda-function={versioned.name}", "--lambda-version=1",
                     "--lambda-region=eu-west-1")

    refused(result, pytester, "function * in eu-west-1 does not exist: there is no function *")


def test_the_endpoint_setting_beats_aws_endpoint_url(session, versioned, local_aws,
                                                      monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")

    result = session(f"--lambda-arn={versioned.arn('1')}",
                     f"--lambda-endpoint-url={local_aws.url}")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"lambda-gate: endpoint {local_aws.url}"])


def test_without_a_target_the_fixtures_skip_the_test_with_the_reason(pytester, run_pytest):
    pytester.makepyfile(TARGET_TEST + "\n\ndef test_plain():\n    pass\n")

    result = run_pytest("-rs")

    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "SKIPPED [[]1] *: no Lambda target: pass --lambda-function/--lambda-version, "
        "--lambda-arn or --lambda-terraform-output (or LAMBDA_GATE_* env vars)",
    ])
    assert not (pytester.path / RAN).exists()


def test_the_target_is_checked_even_when_no_test_uses_it(pytester, local_aws, run_pytest):
    pytester.makepyfile("def test_plain():\n    pass\n")

    result = run_pytest("--lambda-function=no-such-function", "--lambda-version=1")

    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_target_describes_the_version_and_only_names_environment_variables(
        pytester, run_pytest, versioned, secret_value):
    pytester.makepyfile(f"""
        def test_describe(lambda_target):
            assert lambda_target.function_name == {versioned.name!r}
            assert lambda_target.version == "2"
            assert lambda_target.qualified_arn == {versioned.arn("2")!r}
            assert lambda_target.runtime == "python3.11"
            assert lambda_target.timeout == 1
            assert lambda_target.memory_size == 128
            assert lambda_target.region == "us-east-1"
            assert len(lambda_target.code_sha256) == 44
            assert lambda_target.environment_variable_names == ("STAGE", "TOKEN")
            print(repr(lambda_target), str(lambda_target))
            assert False, "show the output"
    """)

    result = run_pytest(f"--lambda-arn={versioned.arn('2')}")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert False, \"show the output\"*",
                                 "*LambdaTarget(function_name=*"])
    assert secret_value not in result.stdout.str()
