"""The CI templates, run command by command in fresh clones, as CI would run them.

Each job of examples/ci's CircleCI and GitHub templates gets a machine of its own (a
fresh clone at its own path) and runs its shell steps in order; installing terraform
and lambda-gate is left out (both are already here). Nothing is carried from one job
to the next, because the templates carry nothing: terraform's state is in the S3
backend their settings name, the deploy records in their records_url. The settings are
examples/ci/invoke.yaml as shipped, with backend files pointed at the local AWS.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml
from deploy_steps import versions_and_aliases

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
TEMPLATES = {"circleci": EXAMPLES / "circleci" / "config.yml",
             "github": EXAMPLES / "github" / "deploy.yml"}
INSTALLS = ("pip install", "curl ", "sudo unzip", "terraform version")


def job_scripts(template: str, job: str) -> list[str]:
    """The job's shell steps in order, without the installs."""
    spec = yaml.safe_load(TEMPLATES[template].read_text())
    scripts = []
    for step in spec["jobs"][job]["steps"]:
        if template == "circleci" and step == "install":
            continue
        run = step.get("run") if isinstance(step, dict) else None
        if isinstance(run, dict):
            run = run["command"]
        if run and not run.strip().startswith(INSTALLS):
            scripts.append(run)
    return scripts


def account_client(local_aws, role_arn: str, region: str):
    """Lambda as the environment's role sees it (each environment is an account)."""
    sts = boto3.client("sts", endpoint_url=local_aws.url, region_name=region)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="checks")["Credentials"]
    return boto3.client("lambda", endpoint_url=local_aws.url, region_name=region,
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


def run_job(machine, template: str, job: str) -> None:
    scripts = job_scripts(template, job)
    assert scripts, f"{template} job {job} runs nothing"
    for script in scripts:
        result = machine.run(script)
        assert result.returncode == 0, (f"{template} {job}: {script}\n"
                                        f"{result.stdout}{result.stderr}")


@pytest.fixture(scope="module")
def example_settings():
    return yaml.safe_load((EXAMPLES / "invoke.yaml").read_text())["lambda_gate"]


@pytest.fixture(scope="module")
def records_buckets(s3_client, example_settings):
    for env in example_settings["environments"].values():
        bucket = env["records_url"][len("s3://"):].split("/")[0]
        if bucket not in {b["Name"] for b in s3_client.list_buckets()["Buckets"]}:
            s3_client.create_bucket(Bucket=bucket)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_the_template_flows_run_in_fresh_clones(template, make_team, local_aws,
                                                backend_settings, example_settings,
                                                records_buckets):
    function = f"flow-{template}"
    files = {f"terraform/backend/{env}.s3.hcl": backend_settings(
        f"lambda/{function}/{env}.tfstate") for env in ("dev", "prod")}
    team = make_team(function, settings=example_settings, files=files)
    envs = example_settings["environments"]
    dev = account_client(local_aws, envs["dev"]["role_arn"], envs["dev"]["region"])
    prod = account_client(local_aws, envs["prod"]["role_arn"], envs["prod"]["region"])

    feature = team.make_machine("feature")
    feature.git("checkout", "-q", "-b", "feature/login")
    run_job(feature, template, "deploy-branch")
    assert versions_and_aliases(dev, function) == (["1"], {"feature-login": "1"})

    run_job(team.make_machine("publish"), template, "publish-main")
    assert versions_and_aliases(prod, function) == (["1"], {})
    # ... a person approves: nothing runs, nothing is carried ...
    run_job(team.make_machine("promote"), template, "promote-main")
    assert versions_and_aliases(prod, function) == (["1"], {"main": "1"})
    assert versions_and_aliases(dev, function) == (["1"], {"feature-login": "1"})
