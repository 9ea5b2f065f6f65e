"""Promotion order across pipelines: no late step back, and rollbacks that stick.

Two fresh clones of one repository share one function, one S3 state and one records
bucket, as two CI pipelines of a team do:

- pipeline 1 (machine a) publishes and tests a change, and waits for its approval;
  meanwhile pipeline 2 (machine b) deploys a later change to main. Pipeline 1's late
  promote is refused, naming both versions: main stays on pipeline 2's.
- a person rolls main back; a rerun of pipeline 2's deploy (same commit, unchanged
  code) does not promote the version rolled back from again, unless ``--force``.
- after a failed deploy, ``prune --keep 1`` keeps main's version and its rollback
  target, and deletes the versions that failed or that nothing needs.

Each outcome is read from Lambda with boto3.
"""

from __future__ import annotations

import pytest
from deploy_steps import versions_and_aliases

pytestmark = pytest.mark.slow

FUNCTION = "machines-promotion-order"


def change_code(machine, marker: str) -> None:
    source = (machine.root / "src" / "app.py").read_text()
    machine.commit("src/app.py", f"{source}\nRELEASE = {marker!r}\n", f"release {marker}")


def ok(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def team(make_team, records_bucket):
    return make_team(FUNCTION, settings={"environments": {"ci": {
        "records_url": f"s3://{records_bucket}/{FUNCTION}/"}}})


@pytest.fixture(scope="module")
def raced(team, lambda_client):
    """main at version 3 (pipeline 2's); version 2 (pipeline 1's) tested, unpromoted."""
    a, b = team.make_machine("a"), team.make_machine("b")
    ok(a.invoke("deploy", "--env", team.env))
    change_code(a, "pipeline-1")
    for step in ("build", "apply", "smoke"):
        ok(a.invoke(step, *(["--env", team.env] if step != "build" else [])))
    change_code(b, "pipeline-2")
    ok(b.invoke("deploy", "--env", team.env))
    assert versions_and_aliases(lambda_client, FUNCTION) == (["1", "2", "3"], {"main": "3"})
    return a, b


def test_a_late_promote_of_an_older_version_is_refused(team, raced, lambda_client):
    a, _ = raced

    result = a.invoke("promote", "--version", "2", "--env", team.env)

    assert result.returncode == 4, result.stdout + result.stderr
    assert ("not moving main back to an older version: it serves version 3 (published "
            in result.stderr)
    assert "main last moved to it at " in result.stderr  # from pipeline 2's shared record
    assert "newer than version 2 (published " in result.stderr
    assert "`invoke rollback --to 2` (or pass --allow-older)" in result.stderr
    assert versions_and_aliases(lambda_client, FUNCTION) == (["1", "2", "3"], {"main": "3"})


def test_a_rerun_of_the_deploy_rolled_back_from_leaves_the_rollback_in_place(
        team, raced, lambda_client):
    _, b = raced
    ok(b.invoke("rollback", "--env", team.env))
    assert versions_and_aliases(lambda_client, FUNCTION)[1] == {"main": "1"}

    rerun = b.invoke("deploy", "--env", team.env)

    assert rerun.returncode == 4, rerun.stdout + rerun.stderr
    assert "not promoted: main was rolled back from version 3; main stays at 1" in rerun.stdout
    assert ("not promoting version 3 to main: main was rolled back from it "
            "(`invoke rollback`)") in rerun.stderr
    assert "or pass --force to promote version 3 again" in rerun.stderr
    assert versions_and_aliases(lambda_client, FUNCTION) == (["1", "2", "3"], {"main": "1"})

    forced = b.invoke("deploy", "--env", team.env, "--force")

    ok(forced)
    assert versions_and_aliases(lambda_client, FUNCTION) == (["1", "2", "3"], {"main": "3"})


def test_prune_after_a_rollback_keeps_the_rollback_target(team, raced, lambda_client):
    _, b = raced
    assert versions_and_aliases(lambda_client, FUNCTION)[1] == {"main": "3"}  # forced back
    change_code(b, "pipeline-3")  # the newest version fails its smoke tests
    b.commit("smoke/test_release.py",
             "def test_release_is_broken(lambda_http):\n"
             "    assert lambda_http.get('/health').status_code == 500\n")
    assert b.invoke("deploy", "--env", team.env).returncode == 1
    assert versions_and_aliases(lambda_client, FUNCTION) == (
        ["1", "2", "3", "4"], {"main": "3"})

    ok(b.invoke("prune", "--keep", "1", "--env", team.env))

    # 3: main's version and the newest that passed; 1: main's rollback target.
    assert versions_and_aliases(lambda_client, FUNCTION) == (["1", "3"], {"main": "3"})
    ok(b.invoke("rollback", "--env", team.env))
    assert versions_and_aliases(lambda_client, FUNCTION)[1] == {"main": "1"}
