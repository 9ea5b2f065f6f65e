"""A deploy that failed half way is finished by the next plain deploy.

One project lives through the faults in order; each fixture is one step, run once, and
every outcome is read back from Lambda through boto3. A fault-injecting proxy sits
between the deploy (terraform and boto3 alike) and the local AWS.
"""

from __future__ import annotations

import json
import os
import signal

import pytest
from deploy_steps import artifact_sha256, code_sha256, step_runner, versions_and_aliases
from processes import Running, alive, descendants
from proxy import Fault, FaultProxy

FUNCTION = "faults-converge"


def change_code(project, marker: str) -> None:
    app = project.root / "src" / "app.py"
    app.write_text(app.read_text() + f"\n# {marker}\n")


@pytest.fixture(scope="module")
def project(make_project):
    return make_project(FUNCTION)


@pytest.fixture(scope="module")
def run(project, lambda_client):
    return step_runner(project, lambda_client, FUNCTION)


@pytest.fixture(scope="module")
def proxy(local_aws):
    started = FaultProxy(local_aws.url).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def first_deploy(run):
    step = run("deploy")
    assert step.result.returncode == 0, step.output
    return step


@pytest.fixture(scope="module")
def publish_failed(first_deploy, project, run, proxy):
    change_code(project, "publish fails")
    # Refused for good (the deploy role lacks lambda:PublishVersion, say): the provider
    # retries some errors, so every attempt of this deploy gets it.
    proxy.faults.append(Fault("POST", r"/functions/[^/]+/versions$", status=403,
                              code="AccessDeniedException", times=1000))
    step = run("deploy", extra_env={"INVOKE_LAMBDA_GATE_LOCAL_AWS_URL": proxy.url})
    proxy.faults.clear()
    return step


def test_a_failed_publish_version_fails_the_deploy_and_leaves_the_alias(
        publish_failed, project, lambda_client, proxy):
    assert ("POST", f"/2015-03-31/functions/{FUNCTION}/versions", 403) in proxy.requests
    assert publish_failed.result.returncode == 1, publish_failed.output
    assert "Traceback" not in publish_failed.output
    assert publish_failed.versions == ["1"]
    assert publish_failed.aliases == {"main": "1"}
    # What the issue describes: $LATEST holds the new code, no version does.
    assert code_sha256(lambda_client, FUNCTION, "$LATEST") == artifact_sha256(project.root)
    assert code_sha256(lambda_client, FUNCTION, "1") != artifact_sha256(project.root)


@pytest.fixture(scope="module")
def after_failed_publish(publish_failed, run):
    return run("deploy")


def test_the_next_plain_deploy_publishes_the_artifact_and_promotes_it(
        after_failed_publish, project, lambda_client):
    step = after_failed_publish
    assert step.result.returncode == 0, step.output
    assert "nothing to deploy" not in step.output
    assert step.versions == ["1", "2"]
    assert step.aliases == {"main": "2"}
    assert code_sha256(lambda_client, FUNCTION, "2") == artifact_sha256(project.root)
    assert "published $LATEST, which holds the artifact, as version 2 with PublishVersion" in (
        step.output)


@pytest.fixture(scope="module")
def full_after_convergence(after_failed_publish, run):
    return run("deploy", "--full")


def test_terraform_then_agrees_and_publishes_no_other_version(full_after_convergence):
    step = full_after_convergence
    assert step.result.returncode == 0, step.output
    assert step.versions == ["1", "2"]
    assert step.aliases == {"main": "2"}
    assert "main already at version 2: nothing to deploy" in step.output


def latest_record(project) -> dict:
    records = project.root / ".lambda-gate" / "env" / "local" / "records"
    newest = max(records.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return json.loads(newest.read_text())


@pytest.fixture(scope="module")
def interrupted(full_after_convergence, project, lambda_client):
    """Ctrl-C (SIGINT to the deploy's process group) once terraform has updated the code."""
    change_code(project, "interrupted")
    before = code_sha256(lambda_client, FUNCTION, "$LATEST")
    running = Running(project, "deploy")
    try:
        running.wait_until(lambda: code_sha256(lambda_client, FUNCTION, "$LATEST") != before)
        children = descendants(running.proc.pid)
        running.signal_group(signal.SIGINT)
        code = running.finish()
    finally:
        running.kill_group()
    return running, code, children


def test_an_interrupted_deploy_stops_terraform_and_exits_130(interrupted, project,
                                                              lambda_client):
    running, code, children = interrupted
    assert code == 130, running.output
    assert "Traceback" not in running.output
    assert children and not alive(children)  # no terraform, no provider left behind
    state = project.root / ".lambda-gate" / "env" / "local"
    assert not list(state.glob("*.lock.info"))  # terraform released its lock
    versions, aliases = versions_and_aliases(lambda_client, FUNCTION)
    assert aliases == {"main": "2"}
    record = latest_record(project)
    assert record["outcome"] == "interrupted"
    assert (record["alias_before"], record["alias_after"]) == ("2", aliases["main"])


@pytest.fixture(scope="module")
def after_interrupt(interrupted, run):
    return run("deploy")


def test_the_deploy_after_an_interrupt_promotes_the_artifact(after_interrupt, project,
                                                            lambda_client):
    step = after_interrupt
    assert step.result.returncode == 0, step.output
    assert "nothing to deploy" not in step.output
    assert step.aliases["main"] == step.versions[-1] != "2"
    live = code_sha256(lambda_client, FUNCTION, step.aliases["main"])
    assert live == artifact_sha256(project.root)


HANGING = '''
import pathlib
import time


def test_hangs(lambda_invoke):
    lambda_invoke({})
    pathlib.Path("hanging-started").write_text("")
    time.sleep(600)
'''


@pytest.fixture(scope="module")
def smoke_timed_out(after_interrupt, project, run):
    project.write("smoke-hanging/test_hang.py", HANGING)
    return run("deploy", "--alias", "hanging", extra_env={
        "INVOKE_LAMBDA_GATE_SMOKE_PATH": "smoke-hanging",
        "INVOKE_LAMBDA_GATE_SMOKE_TIMEOUT": "3s"})


def test_a_hanging_smoke_test_ends_the_deploy_with_the_gate_closed(smoke_timed_out):
    step = smoke_timed_out
    assert step.result.returncode == 1, step.output
    assert "smoke tests timed out after 3s" in step.output
    assert "hanging" not in step.aliases
    assert "Traceback" not in step.output


@pytest.fixture(scope="module")
def terminated_in_smoke(smoke_timed_out, project):
    """SIGTERM to the invoke process alone (as a cancelled CI job's runner sends it)."""
    marker = project.root / "hanging-started"
    marker.unlink(missing_ok=True)
    running = Running(project, "deploy", "--alias", "hanging", extra_env={
        "INVOKE_LAMBDA_GATE_SMOKE_PATH": "smoke-hanging"})
    try:
        running.wait_until(marker.exists)
        children = descendants(running.proc.pid)
        os.kill(running.proc.pid, signal.SIGTERM)
        code = running.finish()
    finally:
        running.kill_group()
    return running, code, children


def test_sigterm_stops_the_smoke_run_and_records_the_interrupt(terminated_in_smoke, project,
                                                              lambda_client):
    running, code, children = terminated_in_smoke
    assert code == 130, running.output
    assert "Traceback" not in running.output
    assert children and not alive(children)
    assert "hanging" not in versions_and_aliases(lambda_client, FUNCTION)[1]
    record = latest_record(project)
    assert (record["outcome"], record["alias"]) == ("interrupted", "hanging")
    assert (record["alias_before"], record["alias_after"]) == (None, None)
