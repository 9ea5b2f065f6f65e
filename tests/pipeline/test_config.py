"""Settings come from invoke's config; a bad value is named by its config path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from invoke import Config

from lambda_gate import config
from lambda_gate.errors import ConfigError


def settings_with(**sections):
    defaults = copy.deepcopy(config.DEFAULTS)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(defaults.get(key), dict):
            defaults[key].update(value)
        else:
            defaults[key] = value
    return config.load({"lambda_gate": defaults}, root=Path("/repo"))


def test_the_defaults_describe_a_python_function_deployed_locally():
    settings = settings_with()

    assert settings.function.source_dir == Path("/repo/src")
    assert settings.environment.name == "local" and settings.environment.local
    assert settings.protected_aliases == ()  # nobody's production runs on the local AWS
    assert settings.build.artifact == Path("/repo/build/lambda.zip")


def test_a_named_environment_protects_main_by_default():
    settings = config.load({"lambda_gate": {**copy.deepcopy(config.DEFAULTS),
                                            "environments": {"prod": {"region": "eu-west-1"}}}},
                           root=Path("/repo"), environment="prod")

    assert settings.protected_aliases == ("main",)
    assert not settings.environment.local
    assert settings.environment.region == "eu-west-1"


def test_environment_variables_override_lists_as_comma_separated_strings(monkeypatch):
    monkeypatch.setenv("INVOKE_LAMBDA_GATE_ALIASES_PROTECTED", "main, release")
    monkeypatch.setenv("INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR", "/mirror")
    cfg = Config(defaults={"lambda_gate": copy.deepcopy(config.DEFAULTS)})
    cfg.load_shell_env()

    settings = config.load(cfg, root=Path("/repo"), environment="local")

    assert settings.terraform.plugin_dir == Path("/mirror")
    assert config.load(cfg, root=Path("/repo")).protected_aliases == ()  # local's own
    cfg.lambda_gate.environments["dev"] = {"region": "us-east-1"}
    assert config.load(cfg, root=Path("/repo"), environment="dev").protected_aliases == (
        "main", "release")


@pytest.mark.parametrize(("sections", "message"), [
    ({"function": {"handler": ""}},
     "lambda_gate.function.handler is not set: add it to invoke.yaml"),
    ({"function": {"runtime": "java21"}},
     "lambda_gate.function.runtime 'java21' is not a Lambda runtime lambda-gate builds for: "
     "use one of python3.9, python3.10, python3.11, python3.12, python3.13 or a nodejsNN.x"),
    ({"function": {"runtime": "python3.99"}},
     "lambda_gate.function.runtime 'python3.99' is not a Lambda runtime"),
    ({"smoke": {"timeout": "soon"}},
     "lambda_gate.smoke.timeout must be a duration such as 900, 90s, 15m or 1h30m"),
    ({"terraform": {"timeout": -5}},
     "lambda_gate.terraform.timeout must be a duration"),
    ({"terraform": {"vars": {"memory_size": None}}},
     "lambda_gate.terraform.vars.memory_size has no value"),
    ({"function": {"architecture": "sparc"}},
     "lambda_gate.function.architecture 'sparc' is not one of x86_64, arm64."),
    ({"local_aws": {"port": "eighty"}},
     "lambda_gate.local_aws.port must be a number, got 'eighty'."),
    ({"environments": {"local": {"state": "a.tfstate", "backend_config": "s3.hcl"}}},
     "lambda_gate.environments.local sets both state and backend_config: keep one"),
    ({"terraform": {"vars": "memory_size=256"}},
     "lambda_gate.terraform.vars must be a mapping of name: value."),
    ({"smoke": "tests/smoke"}, "lambda_gate.smoke must be a mapping, got 'tests/smoke'."),
], ids=["missing", "runtime", "unknown-python", "smoke-timeout", "terraform-timeout",
        "var-without-value", "architecture", "port", "state-and-backend", "vars", "section"])
def test_a_bad_setting_is_named_by_its_path(sections, message):
    with pytest.raises(ConfigError) as raised:
        settings_with(**sections)

    assert message in str(raised.value)


def test_settings_without_the_collection_say_where_they_come_from():
    with pytest.raises(ConfigError, match="no lambda_gate settings found: use the collection "
                                          "from lambda_gate.tasks"):
        config.load({}, root=Path("/repo"))


@pytest.mark.parametrize(("value", "seconds"), [
    (900, 900.0), ("90s", 90.0), ("15m", 900.0), ("1h30m", 5400.0), ("0", None), (0, None),
])
def test_timeouts_take_seconds_or_a_duration(value, seconds):
    settings = settings_with(smoke={"timeout": value}, terraform={"timeout": value})

    assert settings.smoke_timeout == seconds
    assert settings.terraform.timeout == seconds


def test_the_smoke_timeout_defaults_to_fifteen_minutes():
    assert settings_with().smoke_timeout == 900.0


def test_terraform_vars_that_are_maps_lists_or_booleans_reach_terraform_as_hcl():
    settings = settings_with(terraform={"vars": {
        "environment_variables": {"LOG_LEVEL": "debug"}, "subnets": ["a", "b"],
        "tracing": True, "memory_size": 256}})

    assert settings.terraform.vars == {
        "environment_variables": '{"LOG_LEVEL": "debug"}', "subnets": '["a", "b"]',
        "tracing": "true", "memory_size": "256"}
