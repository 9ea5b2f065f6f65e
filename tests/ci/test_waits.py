"""A wait (a canary's interval) counts down in place on a terminal and is one line in a
log, where a redrawn line would leave a second's worth of noise per line."""

from __future__ import annotations

import io

import pytest

from lambda_gate.report import Reporter


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    """Sleeping moves the clock: the wait runs its whole course without taking time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_wait_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    stream, clock = io.StringIO(), Clock()
    Reporter(stream).wait(3, "before checking", sleep=clock.sleep, clock=clock)
    assert stream.getvalue() == "  waiting 3s before checking\n"
    assert sum(clock.sleeps) == 3


def test_on_a_terminal_a_wait_counts_down_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    stream, clock = Terminal(), Clock()
    Reporter(stream).wait(3, "before checking", sleep=clock.sleep, clock=clock)
    frames = stream.getvalue().split("\r\x1b[2K")[1:]
    assert [frame.strip() for frame in frames] == [
        "waiting    3s before checking", "waiting    2s before checking",
        "waiting    1s before checking", "waited 3s before checking"]
    assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1
