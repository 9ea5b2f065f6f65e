"""Two CI machines racing for terraform's state lock (S3 backend, ``use_lockfile``).

Two fresh clones of one repository deploy code changes of their own to one function
and one state. One deploy is held mid-apply (its UpdateFunctionCode call kept waiting
by a proxy, so it holds the lock for as long as the test needs) while the other runs:

- with the lock wait (the default), the second waits, says who holds the lock, and
  both publish their code in turn;
- with ``lock_timeout: 0s`` the second gives up at once with exit 4, publishing
  nothing, and the first one's result stands;
- a deploy killed mid-apply (SIGKILL to its whole process tree) leaves the lock object
  in S3; the next deploy says that its holder is gone and how to free it (exit 5), and
  ``invoke unlock --yes`` frees it.

Each outcome is read from Lambda and S3 with boto3.
"""

from __future__ import annotations

import os
import pwd
import socket

import pytest
from deploy_steps import artifact_sha256, code_sha256, versions_and_aliases
from faults.processes import Running
from faults.proxy import FaultProxy, Hold

pytestmark = pytest.mark.slow

FUNCTION = "machines-lock-race"
#: terraform's record of who took a lock: user@host.
WHO = f"{pwd.getpwuid(os.getuid()).pw_name}@{socket.gethostname()}"


def change_code(machine, marker: str) -> None:
    source = (machine.root / "src" / "app.py").read_text()
    machine.commit("src/app.py", f"{source}\nRELEASE = {marker!r}\n", f"release {marker}")


def lock_exists(team) -> bool:
    found = team.s3.list_objects_v2(Bucket="team-tf-state", Prefix=team.lock_key)
    return any(o["Key"] == team.lock_key for o in found.get("Contents", []))


@pytest.fixture(scope="module")
def team(make_team):
    return make_team(FUNCTION)


@pytest.fixture(scope="module")
def proxy(local_aws):
    started = FaultProxy(local_aws.url).start()
    yield started
    started.stop()


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


def held_mid_apply(machine, team, proxy, *, forward: bool = True,
                   args: tuple[str, ...] = ()) -> tuple[Running, Hold]:
    """``machine``'s deploy, started and held in terraform's UpdateFunctionCode call:
    terraform holds the state lock until the hold is released."""
    hold = Hold("PUT", rf"/functions/{FUNCTION}/code$", forward=forward)
    proxy.holds.append(hold)
    running = Running(machine, "deploy", "--env", team.env, *args,
                      extra_env={"AWS_ENDPOINT_URL": proxy.url})
    try:
        hold.wait_reached(timeout=180)
    except AssertionError:
        running.kill_tree()
        running.finish()
        raise AssertionError(f"the deploy never reached UpdateFunctionCode:\n"
                             f"{running.output}") from None
    assert lock_exists(team)
    return running, hold


@pytest.fixture(scope="module")
def in_turn(a, b, team, proxy):
    change_code(a, "a-1")
    change_code(b, "b-1")
    first, hold = held_mid_apply(a, team, proxy)
    try:
        second = Running(b, "deploy", "--env", team.env)
        second.wait_for_line("for terraform's state lock", timeout=180)
    finally:
        hold.release()
    return (first.finish(), first.output), (second.finish(), second.output)


def test_racing_deploys_both_publish_their_code_in_turn(in_turn, a, b, lambda_client):
    (first_code, first_out), (second_code, second_out) = in_turn

    assert first_code == 0, first_out
    assert second_code == 0, second_out
    versions, aliases = versions_and_aliases(lambda_client, FUNCTION)
    assert versions == ["1", "2", "3"]
    assert code_sha256(lambda_client, FUNCTION, "2") == artifact_sha256(a.root)
    assert code_sha256(lambda_client, FUNCTION, "3") == artifact_sha256(b.root)
    assert aliases == {"main": "3"}


def test_the_waiting_deploy_says_who_holds_the_lock(in_turn, team):
    _, (_, output) = in_turn

    assert ("waiting up to 5m (lambda_gate.terraform.lock_timeout) for terraform's state "
            f"lock, held by {WHO} since ") in output
    assert "for terraform apply (lock ID " in output
    assert f"at s3://team-tf-state/{team.lock_key}" in output
    assert "got terraform's state lock after " in output


@pytest.fixture(scope="module")
def without_wait(in_turn, a, b, team, proxy, lambda_client):
    change_code(a, "a-2")
    change_code(b, "b-2")
    first, hold = held_mid_apply(a, team, proxy)
    try:
        loser = b.invoke("deploy", "--env", team.env,
                         extra_env={"INVOKE_LAMBDA_GATE_TERRAFORM_LOCK_TIMEOUT": "0s"})
        during = versions_and_aliases(lambda_client, FUNCTION)
    finally:
        hold.release()
    return loser, during, (first.finish(), first.output)


def test_without_the_wait_the_loser_exits_4_and_publishes_nothing(without_wait, b, team,
                                                                  lambda_client):
    loser, during, _ = without_wait
    output = loser.stdout + loser.stderr

    assert loser.returncode == 4, output
    assert during == (["1", "2", "3"], {"main": "3"})
    assert ("lost the race for terraform's state lock: nothing published; main "
            "untouched") in output
    assert (f"another run holds terraform's state lock (s3://team-tf-state/"
            f"{team.lock_key}), held by {WHO} since ") in output
    assert "without waiting (lambda_gate.terraform.lock_timeout is 0s)" in output
    assert "Traceback" not in output
    versions, _ = versions_and_aliases(lambda_client, FUNCTION)
    shas = {code_sha256(lambda_client, FUNCTION, v) for v in versions}
    assert artifact_sha256(b.root) not in shas


def test_without_the_wait_the_winners_deploy_stands(without_wait, a, lambda_client):
    _, _, (code, output) = without_wait

    assert code == 0, output
    versions, aliases = versions_and_aliases(lambda_client, FUNCTION)
    assert versions == ["1", "2", "3", "4"]
    assert aliases == {"main": "4"}
    assert code_sha256(lambda_client, FUNCTION, "4") == artifact_sha256(a.root)


@pytest.fixture(scope="module")
def killed(without_wait, b, team, proxy):
    change_code(b, "b-3")
    running, hold = held_mid_apply(b, team, proxy, forward=False)
    running.kill_tree()
    running.finish()
    hold.release()  # dropped: the killed provider's call never reaches AWS
    assert not running.group_alive()
    return running


@pytest.fixture(scope="module")
def after_kill(killed, a, team, lambda_client):
    change_code(a, "a-3")
    result = a.invoke("deploy", "--env", team.env)
    return result, lock_exists(team), versions_and_aliases(lambda_client, FUNCTION)


def test_a_killed_deploy_leaves_the_lock_and_the_next_one_explains_it(after_kill, team):
    result, locked, (versions, aliases) = after_kill
    output = result.stdout + result.stderr

    assert result.returncode == 5, output
    assert locked
    assert (versions, aliases) == (["1", "2", "3", "4"], {"main": "4"})
    assert f"terraform's state lock at s3://team-tf-state/{team.lock_key} is held by " \
           f"{WHO} since " in output
    assert ("and no terraform process here uses this state any more: the run that took "
            "it ended without releasing it (killed)") in output
    assert "invoke unlock --env ci" in output
    assert ("terraform's state lock is held by a run that is gone: nothing published; "
            "main untouched") in output
    assert "Traceback" not in output


def test_unlock_without_a_terminal_asks_for_yes_and_frees_nothing(after_kill, a, team):
    result = a.invoke("unlock", "--env", team.env)
    output = result.stdout + result.stderr

    assert result.returncode == 2, output
    assert f"held by {WHO} since " in output
    assert "its run is gone: it was taken on this host" in output
    assert ("the lock was not freed: confirm on a terminal, or pass --yes (`invoke unlock "
            "--env ci --yes`). Nothing was changed.") in output
    assert lock_exists(team)


@pytest.fixture(scope="module")
def unlocked(after_kill, a, team):
    result = a.invoke("unlock", "--env", team.env, "--yes")
    return result, lock_exists(team)


def test_unlock_frees_the_lock(unlocked):
    result, locked = unlocked

    assert result.returncode == 0, result.stdout + result.stderr
    assert "unlocked terraform's state of environment 'ci': freed lock " in result.stdout
    assert not locked


def test_unlock_without_a_lock_says_there_is_nothing_to_do(unlocked, b, team):
    result = b.invoke("unlock", "--env", team.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (f"terraform's state of environment 'ci' is not locked (s3://team-tf-state/"
            f"{team.lock_key}): nothing to unlock") in result.stdout


def test_after_unlock_a_deploy_publishes_again(unlocked, a, lambda_client):
    result = a.invoke("deploy", "--env", "ci")

    assert result.returncode == 0, result.stdout + result.stderr
    versions, aliases = versions_and_aliases(lambda_client, FUNCTION)
    assert versions[:4] == ["1", "2", "3", "4"] and len(versions) == 5
    assert aliases == {"main": versions[-1]}
    assert code_sha256(lambda_client, FUNCTION, versions[-1]) == artifact_sha256(a.root)
