"""`invoke local-aws`: start, status and stop of the background local AWS, by the CLI."""

from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def project(make_project):
    project = make_project("local-aws-task")
    project.env.pop("INVOKE_LAMBDA_GATE_LOCAL_AWS_URL")
    project.env["INVOKE_LAMBDA_GATE_LOCAL_AWS_PORT"] = str(free_port())
    yield project
    project.invoke("local-aws", "--stop")


def test_status_says_when_it_is_not_running(project):
    result = project.invoke("local-aws", "--status")

    assert result.returncode == 1
    assert "the local AWS is not running" in result.stderr


def test_start_prints_a_loopback_url_that_status_and_stop_agree_on(project):
    port = project.env["INVOKE_LAMBDA_GATE_LOCAL_AWS_PORT"]

    started = project.invoke("local-aws")
    status = project.invoke("local-aws", "--status")
    stopped = project.invoke("local-aws", "--stop")
    after = project.invoke("local-aws", "--status")

    assert started.stdout.strip() == f"http://127.0.0.1:{port}"
    assert status.stdout.startswith(f"running at http://127.0.0.1:{port} (pid ")
    assert stopped.stdout.strip() == "stopped the local AWS"
    assert after.returncode == 1


def test_a_configured_local_aws_that_does_not_answer_is_named(project):
    result = project.invoke("deploy", extra_env={
        "INVOKE_LAMBDA_GATE_LOCAL_AWS_URL": f"http://127.0.0.1:{free_port()}"})

    assert result.returncode == 1
    assert "no lambda-gate local AWS answers at http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_restarted_local_aws_resets_the_local_state_and_says_so(make_project):
    project = make_project("restarted")
    env_dir = project.root / ".lambda-gate" / "env" / "local"
    project.write(".lambda-gate/env/local/local-aws-instance", "an-earlier-server\n")
    project.write(".lambda-gate/env/local/terraform.tfstate", "{}")
    project.write(".lambda-gate/env/local/last-apply.json", "{}")
    project.write(".lambda-gate/env/local/records/old.json", "{}")

    result = project.invoke("smoke")

    assert ("the local AWS was restarted empty: reset the local environment's terraform "
            "state and deploy records") in result.stdout
    assert sorted(p.name for p in env_dir.iterdir()) == ["local-aws-instance"]
    assert "no apply recorded for environment 'local'" in result.stderr


def test_state_left_by_a_deploy_that_never_reached_a_local_aws_is_reset_without_a_restart_story(
        make_project):
    project = make_project("never-reached")
    env_dir = project.root / ".lambda-gate" / "env" / "local"
    project.write(".lambda-gate/env/local/records/failed.json", "{}")

    result = project.invoke("smoke")

    assert ("the local environment's terraform state and deploy records belong to no local "
            "AWS that is running: reset them") in result.stdout
    assert "restarted" not in result.stdout
    assert sorted(p.name for p in env_dir.iterdir()) == ["local-aws-instance"]
