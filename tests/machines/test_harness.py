"""The many-machines harness itself: clones apart, one S3 state with its lock."""

from __future__ import annotations

import pytest
from deploy_steps import versions_and_aliases

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def team(make_team):
    return make_team("machines-harness")


def test_a_machine_deploys_with_its_state_in_the_shared_bucket(team, lambda_client):
    machine = team.make_machine("a")

    result = machine.invoke("deploy", "--env", team.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert versions_and_aliases(lambda_client, team.function) == (["1"], {"main": "1"})
    state = team.state()
    assert state is not None and state["outputs"]["version"]["value"] == "1"
    found = team.s3.list_objects_v2(Bucket="team-tf-state", Prefix=team.state_key)
    assert [o["Key"] for o in found.get("Contents", [])] == [team.state_key]  # unlocked
    assert not (machine.root / ".lambda-gate" / "env" / team.env / "terraform.tfstate").exists()


def test_machines_are_fresh_clones_at_paths_of_their_own(team):
    b, c = team.make_machine("b"), team.make_machine("c")

    assert len(str(b.root)) != len(str(c.root))
    for machine in (b, c):
        assert machine.git("rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
        assert not (machine.root / ".lambda-gate").exists()
        assert (machine.root / "terraform" / "backend.tf").is_file()


def test_a_machine_races_through_a_process_group_of_its_own(team):
    machine = team.make_machine("racer")

    proc = machine.popen("--list")
    result = machine.communicate(proc, timeout=60)

    assert result.returncode == 0, result.stdout
    assert "deploy" in result.stdout
