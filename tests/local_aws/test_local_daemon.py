"""The local AWS as a real background process: start, status, stop, and failures."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_gate.errors import LocalAwsError
from lambda_gate.local_aws import daemon


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port some other program is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_start_status_stop_round_trip(tmp_path: Path) -> None:
    started = daemon.start(tmp_path, "127.0.0.1", _free_port())
    try:
        assert daemon.status(tmp_path) == started
        assert daemon.ask_instance(started.url)["instance_id"] == started.instance_id
        recorded = json.loads((tmp_path / "local-aws.json").read_text())
        assert recorded["pid"] == started.pid and recorded["url"] == started.url
        assert (tmp_path / "local-aws.log").exists()
    finally:
        assert daemon.stop(tmp_path) is True
    assert daemon.status(tmp_path) is None
    assert daemon.ask_instance(started.url, timeout=0.5) is None
    assert not (tmp_path / "local-aws.json").exists()


def test_stop_without_a_running_server_reports_nothing_stopped(tmp_path: Path) -> None:
    assert daemon.stop(tmp_path) is False


def test_a_stale_pid_file_is_cleaned_up(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    (tmp_path / "local-aws.json").write_text(json.dumps({
        "url": "http://127.0.0.1:9", "pid": int(finished.stdout), "instance_id": "gone",
        "started_at": "2020-01-01T00:00:00+00:00"}))
    assert daemon.status(tmp_path) is None
    assert not (tmp_path / "local-aws.json").exists()


def test_start_on_a_taken_port_says_how_to_pick_another(tmp_path: Path,
                                                        held_port: int) -> None:
    with pytest.raises(LocalAwsError) as raised:
        daemon.start(tmp_path, "127.0.0.1", held_port)
    message = str(raised.value)
    assert f"port {held_port} on 127.0.0.1 is already in use" in message
    assert "lambda_gate.local_aws.port" in message
    assert "INVOKE_LAMBDA_GATE_LOCAL_AWS_PORT" in message
    assert not (tmp_path / "local-aws.json").exists()


def test_a_port_held_by_another_projects_local_aws_names_it_and_the_ways_out(
        tmp_path: Path) -> None:
    other = tmp_path / "other-repo" / ".lambda-gate"
    port = _free_port()
    theirs = daemon.start(other, "127.0.0.1", port)
    try:
        with pytest.raises(LocalAwsError) as raised:
            daemon.start(tmp_path / "this-repo" / ".lambda-gate", "127.0.0.1", port)
    finally:
        daemon.stop(other)

    assert raised.value.exit_code == 2
    assert str(raised.value) == (
        f"cannot start the local AWS: port {port} on 127.0.0.1 is taken by another "
        f"lambda-gate local AWS, started {theirs.started_at} (its state is in {other}). "
        "Stop it with `invoke local-aws --stop` in the project that started it, use it "
        f"from this one with lambda_gate.local_aws.url = http://127.0.0.1:{port} "
        "(INVOKE_LAMBDA_GATE_LOCAL_AWS_URL), or give this project another port with "
        "lambda_gate.local_aws.port (INVOKE_LAMBDA_GATE_LOCAL_AWS_PORT).")
    assert not (tmp_path / "this-repo" / ".lambda-gate" / "local-aws.json").exists()


def test_module_entry_point_exits_2_with_one_line_on_a_taken_port(tmp_path: Path,
                                                                  held_port: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambda_gate.local_aws", "--host", "127.0.0.1",
         "--port", str(held_port), "--cache-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"lambda-gate local AWS: cannot start the local AWS: port {held_port} on 127.0.0.1 "
        "is already in use by another program. Pick a free port with "
        "lambda_gate.local_aws.port in invoke.yaml or INVOKE_LAMBDA_GATE_LOCAL_AWS_PORT, "
        "or stop what is using it."]


def test_a_port_held_by_a_local_aws_started_by_hand_is_named_without_a_state_dir(
        tmp_path: Path, local_aws) -> None:
    with pytest.raises(LocalAwsError) as raised:
        daemon.start(tmp_path, "127.0.0.1", local_aws.port)

    assert str(raised.value).startswith(
        f"cannot start the local AWS: port {local_aws.port} on 127.0.0.1 is taken by "
        f"another lambda-gate local AWS, started {local_aws.started_at}. Stop it with ")
