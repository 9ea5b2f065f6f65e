"""`invoke deploy --dry-run`: the build, the plan and the alias change, and nothing else.

Both dry runs go against the project the CI deploy left at version 1 behind ``main``:
one with nothing changed, one with changed code. Neither may publish a version, move an
alias, write terraform state or record an apply.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_gate.pipeline.dry_run import dry_run_summary


@dataclass(frozen=True)
class Snapshot:
    """What a deploy can change: Lambda's versions and aliases, and the local state."""

    versions: tuple[tuple[str, str], ...]
    aliases: tuple[tuple[str, str, str, str], ...]
    files: tuple[tuple[str, bytes], ...]


def snapshot(lambda_client, function: str, root: Path) -> Snapshot:
    versions = lambda_client.list_versions_by_function(FunctionName=function)["Versions"]
    aliases = lambda_client.list_aliases(FunctionName=function)["Aliases"]
    state = root / ".lambda-gate" / "env" / "local"
    files = [state / "terraform.tfstate", state / "last-apply.json"]
    return Snapshot(
        versions=tuple((v["Version"], v["CodeSha256"]) for v in versions),
        aliases=tuple((a["Name"], a["FunctionVersion"], a["RevisionId"], a["Description"])
                      for a in aliases),
        files=tuple((path.name, path.read_bytes()) for path in files),
    )


@dataclass(frozen=True)
class DryRun:
    result: subprocess.CompletedProcess[str]
    before: Snapshot
    after: Snapshot
    record: dict

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def dry_run(ci_deploy, lambda_client) -> DryRun:
    project = ci_deploy.project
    before = snapshot(lambda_client, ci_deploy.function, project.root)
    result = project.invoke("deploy", "--dry-run")
    after = snapshot(lambda_client, ci_deploy.function, project.root)
    record = json.loads((project.root / "ci-reports" / "deploy-record.json").read_text())
    return DryRun(result, before, after, record)


@pytest.fixture(scope="module")
def unchanged(ci_deploy, lambda_client) -> DryRun:
    return dry_run(ci_deploy, lambda_client)


@pytest.fixture(scope="module")
def changed(unchanged, ci_deploy, lambda_client):
    app = ci_deploy.project.root / "src" / "app.py"
    original = app.read_text()
    app.write_text(original + "\n# a change the plan must notice\nCHANGED = True\n")
    try:
        yield dry_run(ci_deploy, lambda_client)
    finally:
        app.write_text(original)


def test_a_dry_run_of_an_unchanged_project_says_there_is_nothing_to_do(unchanged):
    assert unchanged.result.returncode == 0, unchanged.output
    assert ("dry run: no change: main already at 1. Nothing was changed."
            in unchanged.output), unchanged.output


def test_a_dry_run_says_when_a_deploy_would_skip_terraform(unchanged, changed):
    assert "a deploy would skip terraform" in unchanged.output
    assert "a deploy would skip terraform" not in changed.output


def test_a_dry_run_of_changed_code_says_it_would_publish_and_move_the_alias(changed):
    assert changed.result.returncode == 0, changed.output
    assert ("dry run: would publish a new version and move main from 1 to it after the "
            "smoke tests. Nothing was changed.") in changed.output


def test_a_dry_run_builds_and_shows_the_terraform_plan(changed):
    assert "==> build" in changed.output
    assert "==> plan" in changed.output
    assert "aws_lambda_function.this will be updated in-place" in changed.output


def test_a_dry_run_neither_applies_nor_runs_the_smoke_tests(unchanged, changed):
    for run in (unchanged, changed):
        assert "==> apply" not in run.output
        assert "==> smoke" not in run.output
        assert "==> promote" not in run.output


@pytest.mark.parametrize("which", ["unchanged", "changed"])
def test_a_dry_run_leaves_versions_aliases_and_state_exactly_as_they_were(which, request):
    run = request.getfixturevalue(which)

    assert run.after == run.before
    assert [version for version, _ in run.after.versions] == ["$LATEST", "1"]


def test_a_dry_run_leaves_a_record_that_vouches_for_no_version(changed):
    assert changed.record["outcome"] == "dry-run"
    assert changed.record["smoke_passed"] is False
    assert changed.record["version"] is None
    assert (changed.record["alias_before"], changed.record["alias_after"]) == ("1", "1")


@pytest.mark.parametrize(("changes", "alias_version", "deployed", "summary"), [
    (True, "4", "4", "would publish a new version and move main from 4 to it after the "
                     "smoke tests"),
    (True, None, None, "would publish a new version and create main at it after the "
                       "smoke tests"),
    (False, "5", "5", "no change: main already at 5"),
    (False, "4", "5", "would move main from 4 to version 5 after the smoke tests"),
    (False, None, "5", "would create main at version 5 after the smoke tests"),
])
def test_the_dry_run_summary_names_the_alias_change(changes, alias_version, deployed,
                                                    summary):
    assert dry_run_summary("main", changes=changes, alias_version=alias_version,
                           deployed_version=deployed) == summary
