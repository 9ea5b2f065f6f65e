"""One terraform configuration for every environment of a team's repository.

The configuration declares ``backend "s3" {}`` for the shared environments; the
``local`` environment of the same clone still deploys to the embedded local AWS with
its state in a local file, and a shared environment left on local state is warned
about before anything runs.
"""

from __future__ import annotations

import pytest
from deploy_steps import versions_and_aliases

pytestmark = pytest.mark.slow

FUNCTION = "machines-one-config"


@pytest.fixture(scope="module")
def team(make_team):
    return make_team(FUNCTION, settings={"environments": {"staging": {
        "role_arn": "arn:aws:iam::123456789012:role/lambda-gate-staging"}}})


def test_the_local_environment_deploys_beside_a_declared_s3_backend(team, local_aws,
                                                                    lambda_client):
    machine = team.make_machine("laptop")

    result = machine.invoke("deploy", extra_env={
        "INVOKE_LAMBDA_GATE_LOCAL_AWS_URL": local_aws.url})

    assert result.returncode == 0, result.stdout + result.stderr
    assert versions_and_aliases(lambda_client, FUNCTION) == (["1"], {"main": "1"})
    assert team.state() is None  # nothing went to the shared state
    local_state = machine.root / ".lambda-gate" / "env" / "local" / "terraform.tfstate"
    assert '"version"' in local_state.read_text()
    assert machine.git("status", "--porcelain", "terraform") == ""  # no file of ours there


def test_a_shared_environment_on_local_state_is_warned_about_first(team, lambda_client):
    machine = team.make_machine("misconfigured")

    result = machine.invoke("deploy", "--env", "staging")

    assert result.returncode == 2, result.stdout + result.stderr
    warning = "warning: environment 'staging' keeps its terraform state in a file on this"
    assert warning in result.stdout
    assert "==> build" not in result.stdout  # the configuration's problem stops it first
    assert "declares a 's3' backend" in result.stderr
    assert versions_and_aliases(lambda_client, FUNCTION)[0] == ["1"]
