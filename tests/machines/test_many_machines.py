"""Three CI machines, one account: fresh clones at different paths, shared S3 state.

Machine A deploys. Machine B, a fresh clone elsewhere, deploys the same commit and
publishes nothing, then a code change on its own branch and publishes exactly one
version behind its own alias. Machine C never deployed: it reads the function from
the shared state, the evidence from the shared records, and promotes and rolls back.
What Lambda holds is read with boto3 after each step.
"""

from __future__ import annotations

import json

import pytest
from deploy_steps import versions_and_aliases

pytestmark = pytest.mark.slow

FUNCTION = "machines-team"


@pytest.fixture(scope="module")
def team(make_team, records_bucket):
    return make_team(FUNCTION, settings={"environments": {"ci": {
        "records_url": f"s3://{records_bucket}/{FUNCTION}/"}}})


@pytest.fixture(scope="module")
def a(team, lambda_client):
    machine = team.make_machine("a")
    result = machine.invoke("deploy", "--env", team.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert versions_and_aliases(lambda_client, FUNCTION) == (["1"], {"main": "1"})
    return machine


@pytest.fixture(scope="module")
def b(team, a):
    return team.make_machine("b")


def test_a_fresh_clone_elsewhere_plans_no_change(b, team):
    assert b.invoke("build").returncode == 0
    result = b.invoke("plan", "--env", team.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "plan: no changes" in result.stdout


def test_a_fresh_clone_deploying_the_same_commit_publishes_nothing(b, team, lambda_client):
    result = b.invoke("deploy", "--env", team.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped terraform" in result.stdout
    assert "main already at version 1: nothing to deploy" in result.stdout
    assert versions_and_aliases(lambda_client, FUNCTION) == (["1"], {"main": "1"})


@pytest.fixture(scope="module")
def b_changed(b, team):
    b.git("checkout", "-q", "-b", "feature-b")
    source = (b.root / "src" / "app.py").read_text()
    b.commit("src/app.py", source + "\nRELEASE = 2\n", "a code change")
    result = b.invoke("deploy", "--env", team.env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_a_code_change_publishes_one_version_behind_its_own_alias(b_changed, lambda_client):
    assert versions_and_aliases(lambda_client, FUNCTION) == (
        ["1", "2"], {"main": "1", "feature-b": "2"})
    assert "promoted feature-b" in b_changed.stdout or "created feature-b" in b_changed.stdout


@pytest.fixture(scope="module")
def c(team, b_changed):
    return team.make_machine("c")


def test_a_machine_that_never_deployed_shows_the_status(c, team):
    result = c.invoke("status", "--env", team.env, "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout)
    assert status["function"] == FUNCTION
    assert {a["name"]: a["version"] for a in status["aliases"]} == {
        "main": "1", "feature-b": "2"}


def test_it_promotes_a_version_tested_elsewhere_from_the_shared_records(c, team,
                                                                        lambda_client):
    result = c.invoke("promote", "--version", "2", "--alias", "main", "--env", team.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert versions_and_aliases(lambda_client, FUNCTION)[1] == {"main": "2",
                                                                "feature-b": "2"}


def test_it_rolls_back_from_the_alias_history(c, team, lambda_client):
    result = c.invoke("rollback", "--alias", "main", "--env", team.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert versions_and_aliases(lambda_client, FUNCTION) == (
        ["1", "2"], {"main": "1", "feature-b": "2"})
