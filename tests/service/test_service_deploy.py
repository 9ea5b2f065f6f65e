"""A service of two functions, deployed as one unit: real invoke, terraform and pytest.

The example's HTTP API and worker share ``common/``. One copy walks through a
service's life; each fixture is one step of it, run once, and each test states what
must hold after that step, read from Lambda through boto3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alias_race import AliasRace
from deploy_steps import versions_and_aliases

PREFIX = "unit-e2e"
API, WORKER = f"{PREFIX}-api", f"{PREFIX}-worker"


@pytest.fixture(scope="module")
def service(make_service):
    return make_service(PREFIX)


@pytest.fixture(scope="module")
def run(service, lambda_client):
    """``run(*args)`` -> (result, {key: (versions, aliases)}) after the command."""

    def step(*args: str, extra_env: dict[str, str] | None = None):
        result = service.invoke(*args, extra_env=extra_env)
        state = {key: versions_and_aliases(lambda_client, name)
                 for key, name in (("api", API), ("worker", WORKER))}
        return result, state

    return step


def edit(service, relative: str, old: str, new: str) -> None:
    path = service.root / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def first_deploy(run):
    return run("deploy")


@pytest.fixture(scope="module")
def worker_change(first_deploy, service, run):
    edit(service, "services/worker/worker.py", "return {", "return {'worker': 2, ")
    return run("deploy")


@pytest.fixture(scope="module")
def shared_change(worker_change, service, run):
    edit(service, "common/__init__.py", 'GREETING = "Hello"', 'GREETING = "Hi"')
    return run("deploy")


@pytest.fixture(scope="module")
def rolled_back(shared_change, run):
    return run("rollback")


@pytest.fixture(scope="module")
def failing_worker(rolled_back, service, run):
    edit(service, "common/__init__.py", 'GREETING = "Hi"', 'GREETING = "Hey"')
    edit(service, "services/worker/worker.py", '"processed": done', '"processed": []')
    return run("deploy")


@pytest.fixture(scope="module")
def raced(failing_worker, service, run, lambda_client, local_aws):
    edit(service, "services/worker/worker.py", '"processed": []', '"processed": done')

    def other_client_moves_the_worker_alias():
        lambda_client.update_alias(FunctionName=WORKER, Name="main",
                                   Description="moved by another client")

    with AliasRace(local_aws.url, WORKER, other_client_moves_the_worker_alias) as proxy:
        before = lambda_client.get_alias(FunctionName=API, Name="main")
        result = run("deploy", extra_env={"INVOKE_LAMBDA_GATE_LOCAL_AWS_URL": proxy.url})
        assert proxy.raced.is_set(), result[0].stdout + result[0].stderr
    return result, before


def output(result) -> str:
    return result.stdout + result.stderr


def test_a_first_deploy_publishes_and_promotes_both_functions(first_deploy):
    result, state = first_deploy
    assert result.returncode == 0, output(result)
    assert state == {"api": (["1"], {"main": "1"}), "worker": (["1"], {"main": "1"})}
    assert "promoted main as a unit: api new -> 1, worker new -> 1" in output(result)


def test_the_state_records_each_artifact_path_relative_to_the_configuration(
        first_deploy, service):
    """A clone at another path gives terraform the same paths, so it plans no change."""
    (state_file,) = (service.root / ".lambda-gate").rglob("terraform.tfstate")
    resources = json.loads(state_file.read_text())["resources"]
    filenames = [instance["attributes"]["filename"] for resource in resources
                 if resource["type"] == "aws_lambda_function"
                 for instance in resource["instances"]]
    assert len(filenames) == 2
    assert not any(Path(name).is_absolute() for name in filenames)
    assert all(name.endswith(".zip") for name in filenames)


def test_each_function_is_tested_against_its_own_version(first_deploy):
    text = output(first_deploy[0])
    assert f"[api] testing arn:aws:lambda:us-east-1:123456789012:function:{API}:1" in text
    assert f"[worker] testing arn:aws:lambda:us-east-1:123456789012:function:{WORKER}:1" in text
    assert "[api] 2 passed, 0 failed" in text and "[worker] 1 passed, 0 failed" in text


def test_a_change_to_one_function_publishes_and_tests_that_one(worker_change):
    result, state = worker_change
    assert result.returncode == 0, output(result)
    assert state["api"] == (["1"], {"main": "1"})
    assert state["worker"] == (["1", "2"], {"main": "2"})
    assert "[api] testing" not in output(result)
    assert "promoted main as a unit: worker 1 -> 2" in output(result)


def test_a_change_to_shared_code_publishes_both(shared_change):
    result, state = shared_change
    assert result.returncode == 0, output(result)
    assert state["api"] == (["1", "2"], {"main": "2"})
    assert state["worker"] == (["1", "2", "3"], {"main": "3"})


def test_one_deploy_writes_a_record_per_function_under_one_deploy_id(shared_change, service):
    reports = service.root / ".lambda-gate" / "reports"
    api = json.loads((reports / "deploy-record-api.json").read_text())
    worker = json.loads((reports / "deploy-record-worker.json").read_text())
    assert api["deploy_id"] == worker["deploy_id"] is not None
    assert (api["function"], api["version"], api["outcome"]) == (API, "2", "promoted")
    assert (worker["function"], worker["version"], worker["outcome"]) == (WORKER, "3",
                                                                         "promoted")


def test_rollback_puts_the_whole_unit_back_to_the_previous_set(rolled_back):
    result, state = rolled_back
    assert result.returncode == 0, output(result)
    assert state["api"][1] == {"main": "1"} and state["worker"][1] == {"main": "2"}
    assert "rolled back main as a unit: api 2 -> 1, worker 3 -> 2" in output(result)


def test_a_failing_smoke_test_in_the_worker_moves_neither_alias(failing_worker):
    result, state = failing_worker
    assert result.returncode == 1, output(result)
    assert state["api"] == (["1", "2", "3"], {"main": "1"})
    assert state["worker"] == (["1", "2", "3", "4"], {"main": "2"})
    assert "not promoted: worker: 1 smoke test(s) failed" in output(result)
    assert "[api] 2 passed, 0 failed" in output(result)
    assert "Traceback" not in output(result)


def test_a_prune_dry_run_keeps_each_functions_rollback_target_not_its_failed_newest(
        failing_worker, run):
    """The worker's newest version (4) failed its smoke tests: --keep 1 counts its newest
    passing one (3) instead, and keeps main's version and where rollback would go."""
    result, state = run("prune", "--keep", "1", "--dry-run")
    assert result.returncode == 0, output(result)
    for line in (f"[worker] would keep {WORKER}:3: one of the newest 1 passing",
                 f"[worker] would keep {WORKER}:2: main's version",
                 f"[worker] would keep {WORKER}:1: main's history (rollback target)",
                 f"[worker] would delete {WORKER}:4 (",
                 f"[api] would keep {API}:3: one of the newest 1 passing",
                 f"[api] would keep {API}:1: main's version",
                 f"[api] would delete {API}:2 ("):
        assert line in output(result)
    assert state == failing_worker[1]


def test_a_race_on_the_second_alias_moves_the_first_back(raced, lambda_client):
    (result, state), api_before = raced
    assert result.returncode == 4, output(result)
    api_after = lambda_client.get_alias(FunctionName=API, Name="main")
    assert api_after["FunctionVersion"] == "1"
    assert api_after["Description"] == api_before["Description"]
    worker = lambda_client.get_alias(FunctionName=WORKER, Name="main")
    assert (worker["FunctionVersion"], worker["Description"]) == ("2",
                                                                  "moved by another client")


def test_after_a_race_the_summary_says_where_each_alias_stands(raced):
    (result, _), _ = raced
    text = output(result)
    assert "not promoted as a unit: moving main of worker" in text
    assert "Where each alias stands: api: main -> version 1 (moved to 3, then back); " \
           "worker: main -> version 2 (not moved by this promotion)." in text


def test_status_shows_every_function(raced, run):
    result, _ = run("status", "--json")
    assert result.returncode == 0, output(result)
    found = json.loads(result.stdout)
    assert sorted(found["functions"]) == ["api", "worker"]
    assert found["functions"]["api"]["function"] == API
    assert [a["version"] for a in found["functions"]["worker"]["aliases"]] == ["2"]


def test_function_limits_a_task_to_one_function(raced, run):
    result, _ = run("status", "--function", "worker")
    assert result.returncode == 0, output(result)
    assert WORKER in result.stdout and API not in result.stdout


def test_an_unknown_function_is_a_usage_error(raced, run):
    result, _ = run("prune", "--keep", "1", "--function", "web")
    assert result.returncode == 2
    assert "--function 'web' is not a configured function (configured: api, worker)" in (
        output(result))
    assert "Traceback" not in output(result)


def test_build_with_function_builds_that_one(raced, run):
    result, _ = run("build", "--function", "api")
    assert result.returncode == 0, output(result)
    assert result.stdout.splitlines()[-1].startswith("api ")
    assert "[worker]" not in result.stdout
