"""main's path through CI: publish and smoke-test in one job, promote in another.

A smoke job of its own checks that the version runs the code it was given: its own
build, else the artifact the apply that published the version recorded; with neither,
or with another build, it tests nothing and records nothing.

The promote job starts from a fresh checkout holding only what a CI workspace carries
(for teams whose records stay on the machine, without records_url; the templates
share them through S3 instead and carry nothing). It must find the smoke job's record
there and move the protected alias to exactly the tested version; without the records
it must refuse.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import zipfile

import pytest
from deploy_steps import artifact_sha256

FUNCTION = "gate-ci-jobs"
ROLE = "arn:aws:iam::123456789012:role/lambda-gate-deploy"
SETTINGS = f"""\
lambda_gate:
  reports_dir: reports
  terraform:
    vars: {{function_name: {FUNCTION}}}
  environments:
    prod:
      role_arn: {ROLE}
      branches: main
"""
CHECKOUT = ("src", "smoke", "terraform", "tasks.py", "invoke.yaml")


#: What a workspace carries from the publish job to the promote job.
CARRIED = [".lambda-gate/env/prod/records", ".lambda-gate/env/prod/last-apply.json", "reports"]


@pytest.fixture(scope="module")
def publish_job(make_project):
    project = make_project(FUNCTION)
    project.write("invoke.yaml", SETTINGS)
    for step in (["build"], ["apply", "--env", "prod"], ["smoke", "--env", "prod"]):
        result = project.invoke(*step)
        assert result.returncode == 0, result.stdout + result.stderr
    return project


def fresh_checkout(publish_job, tmp_path, carried: list[str]):
    """A new working copy with only ``carried`` brought over from the publish job."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in [*CHECKOUT, *carried]:
        source = publish_job.root / name
        target = checkout / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    return dataclasses.replace(publish_job, root=checkout)


def version_tested_in(project) -> str:
    return json.loads((project.root / "reports" / "deploy-record.json").read_text())[
        "version"]


def promote(project, version: str):
    return project.invoke("promote", "--version", version, "--alias", "main",
                          "--env", "prod", "--approve")


def test_the_smoke_job_leaves_its_record_in_the_reports(publish_job):
    record = json.loads((publish_job.root / "reports" / "deploy-record.json").read_text())

    assert (record["version"], record["outcome"], record["smoke_passed"]) == (
        "1", "tested", True)
    assert (publish_job.root / "reports" / "smoke-1.xml").is_file()


def test_promote_without_the_records_refuses_the_version(publish_job, tmp_path):
    carried = [p for p in CARRIED if not p.endswith("records")]
    checkout = fresh_checkout(publish_job, tmp_path, carried)

    result = promote(checkout, version_tested_in(checkout))

    assert result.returncode == 1
    assert ("no deploy record shows version 1 passed its smoke tests" in result.stderr)


def test_promote_in_a_fresh_checkout_moves_the_alias_to_the_tested_version(
        publish_job, tmp_path, lambda_client):
    checkout = fresh_checkout(publish_job, tmp_path, CARRIED)

    result = promote(checkout, version_tested_in(checkout))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "created main -> 1" in result.stdout
    alias = lambda_client.get_alias(FunctionName=FUNCTION, Name="main")
    assert alias["FunctionVersion"] == "1"


def records_in(project) -> list[str]:
    return sorted(p.name for p in (project.root / ".lambda-gate/env/prod/records").glob("*"))


def substitute_artifact(checkout) -> None:
    """This job's build is not the code the version runs: another commit's package."""
    artifact = checkout.root / "build" / "lambda.zip"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(artifact, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'other'\n")


def test_a_smoke_job_whose_build_is_not_the_versions_code_tests_nothing(
        publish_job, tmp_path, lambda_client):
    checkout = fresh_checkout(publish_job, tmp_path, CARRIED)
    substitute_artifact(checkout)
    before = records_in(checkout)
    alias_before = lambda_client.list_aliases(FunctionName=FUNCTION)["Aliases"]

    result = checkout.invoke("smoke", "--env", "prod", "--version", "1")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "version 1 runs CodeSha256" in result.stderr
    assert "but this job's build (" in result.stderr
    assert "Nothing was tested or recorded" in result.stderr
    assert "Traceback" not in result.stderr
    assert records_in(checkout) == before
    assert lambda_client.list_aliases(FunctionName=FUNCTION)["Aliases"] == alias_before


def test_a_smoke_job_without_the_build_checks_the_apply_that_published_the_version(
        publish_job, tmp_path):
    checkout = fresh_checkout(publish_job, tmp_path, CARRIED)
    last_apply = json.loads(
        (checkout.root / ".lambda-gate/env/prod/last-apply.json").read_text())
    assert last_apply["artifact_sha256"] == artifact_sha256(publish_job.root)

    result = checkout.invoke("smoke", "--env", "prod")

    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads((checkout.root / "reports" / "deploy-record.json").read_text())
    assert (record["version"], record["smoke_passed"]) == ("1", True)
    assert record["artifact_sha256"] == last_apply["artifact_sha256"]


def test_a_smoke_job_with_nothing_to_check_the_version_against_refuses(
        publish_job, tmp_path):
    # terraform's state says which function; nothing says which code it should run.
    checkout = fresh_checkout(publish_job, tmp_path, [".lambda-gate/env/prod/terraform.tfstate"])

    result = checkout.invoke("smoke", "--env", "prod", "--version", "1")

    assert result.returncode == 1, result.stdout + result.stderr
    assert ("nothing here says which code version 1 should run: there is no build in "
            "this job") in result.stderr
    assert "Traceback" not in result.stderr
    assert not (checkout.root / ".lambda-gate/env/prod/records").exists()
