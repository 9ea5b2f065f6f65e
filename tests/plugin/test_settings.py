"""Which target the settings name, and where each value came from (no AWS involved)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_gate.pytest_plugin.target_settings import (
    Sourced,
    TargetError,
    check_qualifier,
    resolve_settings,
)

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:orders:7"


def test_nothing_set_means_no_target():
    settings = resolve_settings({}, {}, {})

    assert not settings.has_target


@pytest.mark.parametrize(
    ("cli", "env", "ini", "expected"),
    [
        ({}, {}, {"version": "3"}, Sourced("3", "ini lambda_version")),
        ({}, {"LAMBDA_GATE_VERSION": "2"}, {"version": "3"},
         Sourced("2", "LAMBDA_GATE_VERSION")),
        ({"version": "1"}, {"LAMBDA_GATE_VERSION": "2"}, {"version": "3"},
         Sourced("1", "--lambda-version")),
    ],
    ids=["ini", "env-beats-ini", "cli-beats-env"],
)
def test_command_line_beats_environment_beats_ini(cli, env, ini, expected):
    settings = resolve_settings({"function": "orders", **cli}, env, ini)

    assert settings.version == expected


def test_an_empty_value_counts_as_unset():
    settings = resolve_settings({"function": "orders", "version": ""},
                                {"LAMBDA_GATE_VERSION": "4"}, {})

    assert settings.version == Sourced("4", "LAMBDA_GATE_VERSION")


def test_function_and_version_may_come_from_different_sources():
    settings = resolve_settings({"version": "5"}, {"LAMBDA_GATE_FUNCTION": "orders"}, {})

    assert (settings.function, settings.version) == (
        Sourced("orders", "LAMBDA_GATE_FUNCTION"), Sourced("5", "--lambda-version"))


def test_an_arn_names_function_and_version():
    settings = resolve_settings({}, {"LAMBDA_GATE_ARN": ARN}, {})

    assert (settings.function, settings.version) == (
        Sourced("orders", "LAMBDA_GATE_ARN"), Sourced("7", "LAMBDA_GATE_ARN"))


def test_an_arn_on_the_command_line_overrides_a_function_in_the_environment():
    settings = resolve_settings({"arn": ARN}, {"LAMBDA_GATE_FUNCTION": "old",
                                                "LAMBDA_GATE_VERSION": "1"}, {})

    assert settings.function == Sourced("orders", "--lambda-arn")


def test_two_ways_of_naming_the_target_at_one_level_are_refused():
    with pytest.raises(TargetError, match=r"given twice \(--lambda-arn and --lambda-function\)"):
        resolve_settings({"arn": ARN, "function": "orders"}, {}, {})


def test_a_malformed_arn_is_refused_naming_its_source():
    with pytest.raises(TargetError, match="'arn:aws:lambda:orders' from LAMBDA_GATE_ARN is "
                                          "not a Lambda function ARN"):
        resolve_settings({}, {"LAMBDA_GATE_ARN": "arn:aws:lambda:orders"}, {})


def test_an_unqualified_arn_is_refused_as_latest():
    with pytest.raises(TargetError, match=r"from --lambda-arn is an unqualified ARN, which "
                                          r"means \$LATEST"):
        resolve_settings({"arn": ARN.rsplit(":", 1)[0]}, {}, {})


def test_a_function_without_a_version_is_refused():
    with pytest.raises(TargetError, match="'orders' from ini lambda_function has no version"):
        resolve_settings({}, {}, {"function": "orders"})


def test_a_function_name_lambda_would_reject_is_refused():
    with pytest.raises(TargetError, match="'orders api' from --lambda-function is not a Lambda "
                                          "function name: use 1 to 64 letters"):
        resolve_settings({"function": "orders api", "version": "1"}, {}, {})


def test_a_version_without_a_function_is_refused():
    with pytest.raises(TargetError, match="version '3' from LAMBDA_GATE_VERSION names no "
                                          "function"):
        resolve_settings({}, {"LAMBDA_GATE_VERSION": "3"}, {})


def write_outputs(path: Path, **outputs: object) -> Path:
    path.write_text(json.dumps(
        {name: {"sensitive": False, "type": "string", "value": value}
         for name, value in outputs.items()}))
    return path


def test_a_terraform_output_file_names_function_and_version(tmp_path: Path):
    outputs = write_outputs(tmp_path / "out.json", function_name="orders", version="7",
                            qualified_arn=ARN)

    settings = resolve_settings({"terraform_output": str(outputs)}, {}, {})

    source = f"terraform output file {outputs}"
    assert (settings.function, settings.version, settings.arn) == (
        Sourced("orders", source), Sourced("7", source), Sourced(ARN, source))


def test_a_terraform_output_file_may_use_lambda_name_and_lambda_version(tmp_path: Path):
    outputs = write_outputs(tmp_path / "out.json", lambda_name="orders", lambda_version="7")

    settings = resolve_settings({}, {"LAMBDA_GATE_TERRAFORM_OUTPUT": str(outputs)}, {})

    assert (settings.function.value, settings.version.value) == ("orders", "7")


def test_a_relative_terraform_output_path_from_ini_is_taken_from_the_ini_directory(
        tmp_path: Path):
    write_outputs(tmp_path / "out.json", function_name="orders", version="7")

    settings = resolve_settings({}, {}, {"terraform_output": "out.json"}, ini_dir=tmp_path,
                                cwd=tmp_path / "elsewhere")

    assert settings.version.value == "7"


def test_a_terraform_output_file_that_is_not_an_object_is_refused(tmp_path: Path):
    outputs = tmp_path / "out.json"
    outputs.write_text('["orders", "7"]')

    with pytest.raises(TargetError, match="is not a JSON object of outputs: write it with "
                                          "`terraform output -json`"):
        resolve_settings({"terraform_output": str(outputs)}, {}, {})


def test_a_terraform_output_whose_arn_disagrees_with_its_version_is_refused(tmp_path: Path):
    outputs = write_outputs(tmp_path / "out.json", function_name="orders", version="8",
                            qualified_arn=ARN)

    with pytest.raises(TargetError, match="disagrees with itself"):
        resolve_settings({"terraform_output": str(outputs)}, {}, {})


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE"])
def test_allow_alias_accepts_yes_values(value: str):
    settings = resolve_settings({}, {"LAMBDA_GATE_ALLOW_ALIAS": value}, {})

    assert settings.allow_alias and settings.allow_alias_source == "LAMBDA_GATE_ALLOW_ALIAS"


def test_allow_alias_refuses_other_values():
    with pytest.raises(TargetError, match="'maybe' from ini lambda_allow_alias is not a "
                                          "yes/no value"):
        resolve_settings({}, {}, {"allow_alias": "maybe"})


@pytest.mark.parametrize(("value", "expected"), [("v1", "v1"), ("1.0", "v1"), ("2.0", "v2")])
def test_the_http_event_format_accepts_versions_by_either_name(value: str, expected: str):
    settings = resolve_settings({}, {}, {"http_event_format": value})

    assert settings.http_event_format == expected


def test_an_unknown_http_event_format_is_refused():
    with pytest.raises(TargetError, match="'v3' from ini lambda_http_event_format is not an "
                                          "API Gateway payload format"):
        resolve_settings({}, {}, {"http_event_format": "v3"})


def test_a_version_number_passes_the_qualifier_check():
    check_qualifier(resolve_settings({"function": "orders", "version": "12"}, {}, {}))


def test_an_alias_passes_the_qualifier_check_when_aliases_are_allowed():
    check_qualifier(resolve_settings(
        {"function": "orders", "version": "live", "allow_alias": True}, {}, {}))


def test_latest_from_terraform_says_to_publish(tmp_path: Path):
    outputs = write_outputs(tmp_path / "out.json", function_name="orders", version="$LATEST")
    settings = resolve_settings({"terraform_output": str(outputs)}, {}, {})

    with pytest.raises(TargetError, match=r"\$LATEST is the unpublished code, not a version "
                                          r"\(terraform published nothing: set publish = true"):
        check_qualifier(settings)
