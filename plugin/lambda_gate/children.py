"""Child processes (terraform, pytest) that an interrupt or a timeout stops cleanly.

Each child runs in its own process group, so a Ctrl-C at the terminal (which signals
the foreground group: lambda-gate alone) or a SIGINT/SIGTERM sent to lambda-gate's
process reaches the child exactly once, forwarded by lambda-gate as SIGINT: terraform
then stops its provider, saves its state and releases its lock, pytest ends its session
and writes its report. A second interrupt is forwarded too (terraform takes it as
"stop now"); a child that has not ended ``grace`` seconds after the first is killed
with its whole group, so no provider is left behind.

A process group of its own also means a SIGKILL of lambda-gate alone (which nothing can
forward) leaves the child to finish on its own; a killed CI job kills the whole tree.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any


def format_seconds(seconds: float) -> str:
    """``15m``, ``90s``, ``1h30m``: a timeout as a person would write it."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
             f"{secs}s" if secs or not whole else ""]
    return "".join(parts)


class Child:
    """One child process: its output read line by line, interrupts and a timeout handled.

    ``interrupted`` tells that lambda-gate was interrupted while the child ran;
    ``timed_out`` that ``timeout`` seconds passed first. Either way the child was
    asked to stop with SIGINT and is waited for.
    """

    def __init__(self, argv: Sequence[str], *, grace: float = 60.0, **popen: Any) -> None:
        self.grace = grace
        self.interrupted = False
        self.timed_out = False
        self._timers: list[threading.Timer] = []
        self.proc = subprocess.Popen(argv, start_new_session=True, **popen)

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def _after(self, seconds: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def stop(self) -> None:
        """Ask the child to stop (SIGINT); kill its group if it has not after ``grace``."""
        first = not (self.interrupted or self.timed_out)
        self._signal(signal.SIGINT)
        if first:
            self._after(self.grace, lambda: self._signal(signal.SIGKILL))

    def start_timeout(self, seconds: float | None) -> None:
        """Stop the child when it has run ``seconds`` more (from now)."""
        if seconds is None or seconds <= 0:
            return

        def expire() -> None:
            if self.proc.poll() is None and not self.interrupted:
                self.stop()
                self.timed_out = True

        self._after(seconds, expire)

    def _interrupt(self) -> None:
        self.stop()
        self.interrupted = True

    def read(self, on_line: Callable[[str], None]) -> None:
        """Hand each line of the child's output to ``on_line`` until it closes."""
        stream = self.proc.stdout
        assert stream is not None
        while True:
            try:
                line = stream.readline()
                if not line:
                    return
                on_line(line)
            except KeyboardInterrupt:
                self._interrupt()

    def wait(self) -> int:
        """The child's exit code, once it has ended; interrupts meanwhile are forwarded."""
        while True:
            try:
                code = self.proc.wait()
                break
            except KeyboardInterrupt:
                self._interrupt()
        for timer in self._timers:
            timer.cancel()
        return code


def interrupt_on_sigterm() -> None:
    """SIGTERM (a CI job cancelled, ``kill``) is handled as Ctrl-C is: it raises
    KeyboardInterrupt, so children are stopped and the deploy record finalised."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
