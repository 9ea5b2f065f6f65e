"""The CI templates in examples/ci call only tasks and options that exist.

Every ``invoke ...`` command in them is parsed by invoke's own parser against
lambda-gate's collection, so a renamed task or option fails here rather than in a
user's pipeline; the environments, report paths and carried files they name are
checked against the settings file that ships with them.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from invoke import Config, Program
from invoke.parser import ParseError, Parser, ParseResult

from lambda_gate import config
from lambda_gate.aws import validate_role_arn
from lambda_gate.tasks import ns

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
CIRCLECI = EXAMPLES / "circleci" / "config.yml"
GITHUB = EXAMPLES / "github" / "deploy.yml"
TEMPLATES = [CIRCLECI, GITHUB]
SEPARATORS = {"&&", "||", ";", "|"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def run_scripts(node) -> Iterator[str]:
    """Every shell script of a CircleCI or GitHub Actions file."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield value
            elif key == "run" and isinstance(value, dict):
                yield value["command"]
            else:
                yield from run_scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from run_scripts(item)


def invoke_commands(path: Path) -> list[list[str]]:
    """The arguments of each ``invoke`` command line in the template."""
    commands = []
    for script in run_scripts(load(path)):
        for line in script.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            for start, word in enumerate(words):
                if word != "invoke":
                    continue
                args = []
                for arg in words[start + 1:]:
                    if arg in SEPARATORS:
                        break
                    args.append(arg)
                commands.append(args)
    return commands


def parse(args: list[str]) -> ParseResult:
    parser = Parser(initial=Program().initial_context, contexts=ns.to_contexts())
    return parser.parse_argv(args)


def calls(path: Path) -> list[tuple[str, dict[str, object]]]:
    """(task, options given) for every task the template runs."""
    found = []
    for args in invoke_commands(path):
        for context in parse(args):
            if context.name is not None:
                given = {name: arg.value for name, arg in context.args.items()
                         if arg.got_value}
                found.append((context.name, given))
    return found


def example_settings(environment: str, root: Path) -> config.Settings:
    """The settings the templates run with: the collection's defaults and invoke.yaml."""
    cfg = Config(defaults=ns.configuration(), overrides=load(EXAMPLES / "invoke.yaml"))
    return config.load(cfg, root=root, environment=environment)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.parent.name)
def test_every_invoke_command_parses_against_the_collection(template):
    commands = invoke_commands(template)

    assert commands, f"{template} runs no invoke command"
    for args in commands:
        try:
            parse(args)
        except ParseError as exc:
            pytest.fail(f"{template.name}: `invoke {shlex.join(args)}`: {exc}")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.parent.name)
def test_branches_deploy_to_dev_and_main_goes_through_approved_promotion(template):
    tasks = calls(template)

    assert ("deploy", {"env": "dev"}) in tasks
    assert [name for name, _ in tasks if name != "deploy"] == [
        "build", "apply", "smoke", "promote"]
    promote = dict(tasks)["promote"]
    assert promote["alias"] == "main"
    assert promote["env"] == "prod"
    assert promote["approve"] is True
    assert promote["version"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.parent.name)
def test_every_environment_used_is_configured_with_a_valid_role(template, tmp_path):
    used = {options["env"] for _, options in calls(template) if "env" in options}

    assert used == {"dev", "prod"}
    for name in used:
        validate_role_arn(example_settings(name, tmp_path).environment)


def test_only_main_may_deploy_to_prod_and_its_main_alias_is_protected(tmp_path):
    prod = example_settings("prod", tmp_path)

    assert prod.environment.branches == ("main",)
    assert prod.protected_aliases == ("main",)


def reports_path(tmp_path: Path) -> str:
    return str(example_settings("prod", tmp_path).reports_dir.relative_to(tmp_path))


def test_circleci_stores_the_reports_directory_as_artifacts_and_test_results(tmp_path):
    steps = load(CIRCLECI)["commands"]["keep-reports"]["steps"]

    assert {"store_artifacts": {"path": reports_path(tmp_path)}} in steps
    assert {"store_test_results": {"path": reports_path(tmp_path)}} in steps
    for name, job in load(CIRCLECI)["jobs"].items():
        assert "keep-reports" in job["steps"], f"job {name} keeps no reports"


def test_github_uploads_the_reports_directory_even_when_a_step_failed(tmp_path):
    for name, job in load(GITHUB)["jobs"].items():
        uploads = [step for step in job["steps"]
                   if step.get("uses", "").startswith("actions/upload-artifact")
                   and step["with"]["path"] == reports_path(tmp_path)]
        if name == "promote-main":
            continue  # promote writes no report of its own
        assert len(uploads) == 1, f"job {name} uploads no reports"
        assert uploads[0]["if"] == "always()"


def carried_paths(tmp_path: Path) -> set[str]:
    """What promote reads in a fresh checkout: the apply's outputs and the records."""
    settings = example_settings("prod", tmp_path)
    return {str(settings.records_dir.relative_to(tmp_path)),
            str(settings.last_apply_path.relative_to(tmp_path))}


def test_circleci_carries_the_records_from_publish_to_promote(tmp_path):
    jobs = load(CIRCLECI)["jobs"]
    persisted = next(step["persist_to_workspace"] for step in jobs["publish-main"]["steps"]
                     if isinstance(step, dict) and "persist_to_workspace" in step)

    assert persisted["root"] == "."
    assert carried_paths(tmp_path) <= set(persisted["paths"])
    assert {"attach_workspace": {"at": "."}} in jobs["promote-main"]["steps"]


def test_circleci_promotes_only_after_a_manual_approval():
    workflow = load(CIRCLECI)["workflows"]["deploy"]["jobs"]
    jobs = {name: spec for entry in workflow for name, spec in entry.items()}

    assert jobs["approve-promotion"]["type"] == "approval"
    assert jobs["approve-promotion"]["requires"] == ["publish-main"]
    assert jobs["promote-main"]["requires"] == ["approve-promotion"]


def test_github_carries_the_records_from_publish_to_promote(tmp_path):
    jobs = load(GITHUB)["jobs"]
    upload = next(step["with"] for step in jobs["publish-main"]["steps"]
                  if step.get("uses", "").startswith("actions/upload-artifact")
                  and step["with"]["name"] == "lambda-gate-prod")
    download = next(step["with"] for step in jobs["promote-main"]["steps"]
                    if step.get("uses", "").startswith("actions/download-artifact"))
    settings_dir = str(example_settings("prod", tmp_path).env_state_dir.relative_to(tmp_path))

    assert set(upload["path"].split()) == carried_paths(tmp_path)
    assert upload["include-hidden-files"] is True
    assert download == {"name": "lambda-gate-prod", "path": settings_dir}


def test_github_promotes_only_through_the_production_environment():
    promote = load(GITHUB)["jobs"]["promote-main"]

    assert promote["environment"] == "production"
    assert promote["needs"] == "publish-main"
