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
from lambda_gate.settings import Settings
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


def example_settings(environment: str, root: Path) -> Settings:
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
    assert "version" not in promote  # the version this commit's smoke run passed


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


def test_jobs_carry_nothing_but_the_repository():
    circleci = [step for job in load(CIRCLECI)["jobs"].values() for step in job["steps"]]
    github = [step for job in load(GITHUB)["jobs"].values() for step in job["steps"]]

    assert not [step for step in circleci if isinstance(step, dict)
                and ({"persist_to_workspace", "attach_workspace"} & step.keys())]
    assert not [step for step in github
                if step.get("uses", "").startswith("actions/download-artifact")]
    assert "outputs" not in load(GITHUB)["jobs"]["publish-main"]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_state_and_records_are_shared_in_s3(environment, tmp_path):
    env = example_settings(environment, tmp_path).environment

    assert env.records_url and env.records_url.startswith("s3://")
    assert env.backend_config is not None
    assert "use_lockfile = true" in (EXAMPLES / "backend" / env.backend_config.name
                                     ).read_text().replace("  ", " ")


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_path_the_settings_name_exists_once_copied(environment, tmp_path):
    """var_files are the repository's own; backend files come from examples/ci/backend."""
    repo = EXAMPLES.parents[1]
    env = example_settings(environment, tmp_path).environment

    for path in env.var_files:
        assert (repo / path.relative_to(tmp_path)).is_file(), path
    assert env.backend_config.relative_to(tmp_path).parent == Path("terraform/backend")
    assert (EXAMPLES / "backend" / env.backend_config.name).is_file()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.parent.name)
def test_lambda_gate_is_installed_from_its_repository_by_url(template):
    from packaging.requirements import Requirement

    installs = [line for script in run_scripts(load(template))
                for line in script.splitlines() if line.startswith("pip install")]
    source = yaml.safe_load(template.read_text())
    source = (source.get("env") or source["executors"]["python"]["environment"])[
        "LAMBDA_GATE_SOURCE"]

    assert installs and all("${LAMBDA_GATE_SOURCE}" in line for line in installs)
    requirement = Requirement(shlex.split(installs[0])[2].replace(
        "${LAMBDA_GATE_SOURCE}", source))
    assert requirement.name == "lambda-gate"
    assert requirement.url.startswith("git+https://")


def test_circleci_promotes_only_after_a_manual_approval():
    workflow = load(CIRCLECI)["workflows"]["deploy"]["jobs"]
    jobs = {name: spec for entry in workflow for name, spec in entry.items()}

    assert jobs["approve-promotion"]["type"] == "approval"
    assert jobs["approve-promotion"]["requires"] == ["publish-main"]
    assert jobs["promote-main"]["requires"] == ["approve-promotion"]


def test_github_promotes_only_through_the_production_environment():
    promote = load(GITHUB)["jobs"]["promote-main"]

    assert promote["environment"] == "production"
    assert promote["needs"] == "publish-main"


def test_github_queues_the_jobs_that_write_one_environments_state():
    jobs = load(GITHUB)["jobs"]

    assert jobs["publish-main"]["concurrency"] == {"group": "lambda-gate-prod",
                                                   "cancel-in-progress": False}
    # One group per branch: another branch's newer push never drops this one's deploy;
    # different branches wait for terraform's state lock instead.
    assert jobs["deploy-branch"]["concurrency"] == {
        "group": "lambda-gate-dev-${{ github.ref_name }}", "cancel-in-progress": False}
    assert "concurrency" not in jobs["promote-main"]  # no terraform; waits for approval


def test_circleci_runs_the_jobs_that_write_one_environments_state_one_at_a_time():
    workflow = load(CIRCLECI)["workflows"]["deploy"]["jobs"]
    jobs = {name: spec for entry in workflow for name, spec in entry.items()}
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_/")

    assert jobs["publish-main"]["serial-group"] == (
        "<< pipeline.project.slug >>/lambda-gate-prod")
    assert jobs["deploy-branch"]["serial-group"] == (
        "<< pipeline.project.slug >>/lambda-gate-dev/<< pipeline.git.branch >>")
    assert "serial-group" not in jobs["promote-main"]
    for name in ("publish-main", "deploy-branch"):
        compiled = jobs[name]["serial-group"].replace(
            "<< pipeline.project.slug >>", "gh/org/repo").replace(
            "<< pipeline.git.branch >>", "feature/x")
        assert set(compiled) <= allowed, compiled  # CircleCI's rule for the key
