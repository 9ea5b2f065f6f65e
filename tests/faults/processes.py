"""A deploy run as a real process in its own process group, to be signalled mid-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable


def interruptible() -> None:
    """Give the child SIGINT's default action back.

    A shell that starts a job in the background (``cmd &``, nohup, some CI runners) sets
    SIGINT to be ignored, and an ignored signal stays ignored across exec: the deploy
    would never see the Ctrl-C these tests send. Run in the child before exec.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Running:
    """``invoke ARGS`` started in a new session (its own process group), output collected."""

    def __init__(self, project, *args: str, extra_env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "invoke", *args], cwd=project.root, text=True,
            env={**project.env, **(extra_env or {})}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=interruptible)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 120) -> None:
        """Until a line containing ``text`` was printed (or the process ended)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.lines):
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"ended before printing {text!r}:\n{self.output}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output}")
                self._changed.wait(min(remaining, 0.5))

    def wait_until(self, condition: Callable[[], bool], timeout: float = 120) -> None:
        """Until ``condition()`` (state read through boto3) holds, polled with a bound."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                raise AssertionError(f"ended before the condition held:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s:\n{self.output}")
            time.sleep(0.1)

    def signal_group(self, signum: int) -> None:
        os.killpg(self.proc.pid, signum)

    def finish(self, timeout: float = 180) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def group_alive(self) -> bool:
        """Whether any process of the group is still running (an orphaned provider)."""
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill_tree(self) -> None:
        """SIGKILL everything, as a killed CI job's runner does: lambda-gate and each child
        in its own process group (terraform and its provider, pytest)."""
        for _ in range(3):  # a child started while the tree was listed is caught next time
            for pid in {self.proc.pid, *descendants(self.proc.pid)}:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children in their own process groups too)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (zombies count as ended)."""
    running = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    running.add(pid)
        except OSError:
            pass
    return running
