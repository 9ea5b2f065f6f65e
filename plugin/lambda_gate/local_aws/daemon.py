"""The local AWS as a background process that outlives the task that started it.

State lives in ``state_dir/local-aws.json`` (pid, url, instance id, start time) and the
server's log in ``state_dir/local-aws.log``. The pid file is only trusted while that
process still answers with the instance id we recorded: anything else is stale.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import LocalAwsError
from .environments import EnvironmentSettings
from .middleware import INSTANCE_PATH, RUNTIMES_PATH, SETTINGS_PATH
from .server import port_in_use

STATE_FILE = "local-aws.json"
LOG_FILE = "local-aws.log"
START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 10.0
POLL_INTERVAL_S = 0.05


@dataclass(frozen=True)
class DaemonStatus:
    url: str
    pid: int
    instance_id: str
    started_at: str


def _state_path(state_dir: Path) -> Path:
    return Path(state_dir) / STATE_FILE


def _read(state_dir: Path) -> DaemonStatus | None:
    try:
        raw = json.loads(_state_path(state_dir).read_text(encoding="utf-8"))
        return DaemonStatus(str(raw["url"]), int(raw["pid"]), str(raw["instance_id"]),
                            str(raw["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    """True if ``pid`` is a running process (a zombie does not count)."""
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own exited child
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_ours(pid: int) -> bool:
    """Whether ``pid`` runs our server, so we never signal an unrelated process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: the instance id check in status() is our guard
    return b"lambda_gate.local_aws" in cmdline


def ask_instance(url: str, timeout: float = 1.0) -> dict | None:
    """The server's ``{"instance_id", "started_at"}``, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url + INSTANCE_PATH, timeout=timeout) as response:
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _held(host: str, port: int) -> LocalAwsError:
    """Why ``port`` is taken, naming the other project when a local AWS of ours holds it
    (two repositories each deploying to ``local`` with the default port)."""
    answer = ask_instance(f"http://{host}:{port}", timeout=1.0)
    if not answer or "instance_id" not in answer:
        return port_in_use(host, port)
    cache = Path(str(answer.get("code_cache", "")))
    owner = (f" (its state is in {cache.parent})" if cache.name == "code-cache" else "")
    return LocalAwsError(
        f"cannot start the local AWS: port {port} on {host} is taken by another "
        f"lambda-gate local AWS, started {answer.get('started_at', 'earlier')}{owner}. "
        "Stop it with `invoke local-aws --stop` in the project that started it, use it "
        f"from this one with lambda_gate.local_aws.url = http://{host}:{port} "
        "(INVOKE_LAMBDA_GATE_LOCAL_AWS_URL), or give this project another port with "
        "lambda_gate.local_aws.port (INVOKE_LAMBDA_GATE_LOCAL_AWS_PORT).", exit_code=2)


def status(state_dir: Path) -> DaemonStatus | None:
    """The running server recorded in ``state_dir``, or None (removing a stale record)."""
    recorded = _read(state_dir)
    if recorded is None:
        _state_path(state_dir).unlink(missing_ok=True)
        return None
    answer = ask_instance(recorded.url) if _alive(recorded.pid) else None
    if answer is None or answer.get("instance_id") != recorded.instance_id:
        _state_path(state_dir).unlink(missing_ok=True)
        return None
    return recorded


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _log_tail(state_dir: Path, lines: int = 5) -> str:
    try:
        text = (Path(state_dir) / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def configure(url: str, settings: EnvironmentSettings) -> None:
    """Give a running server new execution environment settings (no restart)."""
    request = urllib.request.Request(url + SETTINGS_PATH, method="PUT",
                                     data=json.dumps(asdict(settings)).encode())
    try:
        with urllib.request.urlopen(request, timeout=5.0):
            pass
    except (OSError, urllib.error.URLError) as exc:
        raise LocalAwsError(f"could not configure the local AWS at {url}: {exc}") from None


def runtime_problem(url: str, runtime: str) -> str | None:
    """Why the server at ``url`` cannot run ``runtime`` (None when it can).

    The deploy asks before its smoke run, so a missing interpreter is reported as
    such rather than as failing smoke tests.
    """
    try:
        with urllib.request.urlopen(url + RUNTIMES_PATH + urllib.parse.quote(runtime),
                                    timeout=30.0) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None  # an older or foreign server: the invocation will tell
    return answer.get("problem")


def start(state_dir: Path, host: str, port: int,
          settings: EnvironmentSettings | None = None) -> DaemonStatus:
    """Start the server in the background unless it already runs; wait until it answers.

    A server already recorded in ``state_dir`` that still answers is returned as is
    (compare its ``url`` if host or port may have changed since it was started), after
    being given ``settings`` when they are passed.
    """
    state_dir = Path(state_dir)
    running = status(state_dir)
    if running is not None:
        if settings is not None:
            configure(running.url, settings)
        return running
    if not _port_free(host, port):
        raise _held(host, port)
    state_dir.mkdir(parents=True, exist_ok=True)
    instance_id = uuid.uuid4().hex
    url = f"http://{host}:{port}"
    argv = [sys.executable, "-m", "lambda_gate.local_aws", "--host", host, "--port",
            str(port), "--cache-dir", str(state_dir / "code-cache"),
            "--instance-id", instance_id]
    if settings is not None:
        argv += ["--settings", json.dumps(asdict(settings))]
    with open(state_dir / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                close_fds=True)
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            if code == 2:
                raise port_in_use(host, port)
            raise LocalAwsError(f"the local AWS exited with code {code} while starting; "
                                f"see {state_dir / LOG_FILE}:\n{_log_tail(state_dir)}")
        answer = ask_instance(url, timeout=0.5)
        if answer is not None:
            if answer.get("instance_id") != instance_id:
                proc.terminate()
                proc.wait()
                raise port_in_use(host, port)
            record = DaemonStatus(url, proc.pid, instance_id, str(answer["started_at"]))
            _state_path(state_dir).write_text(json.dumps(asdict(record), indent=2) + "\n",
                                              encoding="utf-8")
            return record
        time.sleep(POLL_INTERVAL_S)
    proc.kill()
    proc.wait()
    raise LocalAwsError(f"the local AWS did not answer on {url} within "
                        f"{START_DEADLINE_S:.0f}s; see {state_dir / LOG_FILE}.")


def stop(state_dir: Path) -> bool:
    """Stop the recorded server; True if one was running. Always removes the record."""
    recorded = _read(state_dir)
    _state_path(state_dir).unlink(missing_ok=True)
    if recorded is None or not _alive(recorded.pid) or not _is_ours(recorded.pid):
        return False
    os.kill(recorded.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_DEADLINE_S
    while time.monotonic() < deadline:
        if not _alive(recorded.pid):
            return True
        time.sleep(POLL_INTERVAL_S)
    os.kill(recorded.pid, signal.SIGKILL)
    return True
