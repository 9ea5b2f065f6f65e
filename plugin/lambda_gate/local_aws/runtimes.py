"""Local runners for Lambda runtimes: one subprocess per invocation.

``python3.x`` runtimes run with ``python3.x`` from PATH when that interpreter works,
else with the Python running the local AWS; ``nodejs*`` runtimes run with ``node``.
The handler's outcome comes back through a result file written by the bootstrap, never
through stdout, so whatever the function prints ends up in the log only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .api_errors import ApiFault

_HERE = Path(__file__).resolve().parent
PYTHON_BOOTSTRAP = _HERE / "bootstrap_python.py"
NODE_BOOTSTRAP = _HERE / "bootstrap_node.js"


@dataclass(frozen=True)
class RunResult:
    """What one invocation produced.

    ``outcome`` is ``"payload"``, ``"error"`` (the runtime reported an error),
    ``"timeout"`` (killed at the deadline) or ``"exit"`` (died without a result).
    """

    outcome: str
    payload: str | None
    error: dict | None
    output: str
    duration_ms: float
    exit_code: int | None = None


@cache
def _working_python(name: str) -> str | None:
    """The absolute path of interpreter ``name`` if it is on PATH and actually runs.

    pyenv-style shims exist for versions that are not installed, so being on PATH is
    not enough; asking the interpreter for its own path also skips the shim next time.
    """
    if shutil.which(name) is None:
        return None
    try:
        out = subprocess.run([name, "-c", "import sys; print(sys.executable)"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def unsupported(runtime: str, why: str) -> ApiFault:
    return ApiFault(502, "InvalidRuntimeException",
                    f"The runtime {runtime!r} cannot run on lambda-gate's local AWS: {why}. "
                    "Use a python3.x or nodejs runtime, or test this function against a "
                    "real AWS account.")


def command_for(runtime: str | None) -> list[str]:
    """The argv prefix that runs a bootstrap for ``runtime``; the invocation file follows."""
    runtime = runtime or ""
    if runtime.startswith("python3."):
        python = _working_python(runtime) or sys.executable
        return [python, "-s", "-S", str(PYTHON_BOOTSTRAP)]
    if runtime.startswith("nodejs"):
        node = shutil.which("node")
        if node is None:
            raise unsupported(runtime, "`node` is not on the PATH of the local AWS")
        return [node, str(NODE_BOOTSTRAP)]
    raise unsupported(runtime or "(none)", "only python3.x and nodejs runtimes run locally")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def run(command: list[str], *, task_root: Path, spec: dict, event: bytes,
        env: dict[str, str], timeout_s: float) -> RunResult:
    """Run the bootstrap once with ``spec`` (handler and context fields) and ``event``.

    The process gets its own session so a timeout kills it and anything it started.
    """
    with tempfile.TemporaryDirectory(prefix="lambda-gate-invoke-") as work:
        work_dir = Path(work)
        event_path = work_dir / "event.json"
        event_path.write_bytes(event)
        result_path = work_dir / "result.json"
        spec = {**spec, "task_root": str(task_root), "event_path": str(event_path),
                "result_path": str(result_path)}
        invocation_path = work_dir / "invocation.json"
        invocation_path.write_text(json.dumps(spec), encoding="utf-8")
        log_path = work_dir / "output.log"
        started = time.monotonic()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([*command, str(invocation_path)], cwd=task_root, env=env,
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            try:
                proc.wait(timeout=timeout_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                timed_out = True
        duration_ms = (time.monotonic() - started) * 1000
        output = log_path.read_bytes().decode("utf-8", errors="replace")
        if timed_out:
            return RunResult("timeout", None, None, output, duration_ms)
        if not result_path.exists():
            return RunResult("exit", None, None, output, duration_ms, proc.returncode)
        outcome = json.loads(result_path.read_text(encoding="utf-8"))
    if "error" in outcome:
        return RunResult("error", None, outcome["error"], output, duration_ms)
    return RunResult("payload", outcome["payload"], None, output, duration_ms)
