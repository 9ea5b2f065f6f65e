"""What a person sees while a deploy runs: one header per step, its duration, a summary.

Colour only on a terminal and never when ``NO_COLOR`` is set, so CI logs stay plain.
``verbose`` asks the steps for every line their tools print (terraform's whole plan);
by default they condense it to the lines a person acts on. Waits count down in place
on a terminal and print one line each off one, where a redrawn line would be noise.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def use_color(stream: TextIO) -> bool:
    return (not os.environ.get("NO_COLOR") and hasattr(stream, "isatty")
            and stream.isatty() and os.environ.get("TERM") != "dumb")


class Reporter:
    """Prints step headers and lines; remembers each step's duration."""

    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.color = use_color(self.stream)
        self.verbose = verbose
        self.durations: dict[str, float] = {}
        #: The step that raised, if one did: a failure's summary names it.
        self.failed_step: str | None = None

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def line(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def detail(self, text: str) -> None:
        self.line(f"  {text}")

    def warn(self, text: str) -> None:
        self.line(self._paint(f"warning: {text}", "33"))

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.line(self._paint(f"==> {name}", "1;36"))
        start = time.perf_counter()
        ok = False
        try:
            yield
            ok = True
        finally:
            elapsed = time.perf_counter() - start
            self.durations[name] = round(elapsed, 3)
            if not ok and self.failed_step is None:
                self.failed_step = name
            status = "done" if ok else "failed"
            self.line(self._paint(f"    {name} {status} in {elapsed:.1f}s",
                                  "32" if ok else "31"))

    def summary(self, text: str, ok: bool) -> None:
        self.line(self._paint(text, "1;32" if ok else "1;31"))

    def wait(self, seconds: float, what: str, *, sleep=time.sleep,
             clock=time.monotonic) -> None:
        """Wait ``seconds`` for ``what``: a countdown redrawn in place on a terminal, a
        single line otherwise (a CI log keeps one line per wait, not one per second)."""
        if seconds <= 0:
            return
        if not self.color:
            self.detail(f"waiting {seconds:g}s {what}")
            sleep(seconds)
            return
        end = clock() + seconds
        while (left := end - clock()) > 0:
            self.stream.write(f"\r\x1b[2K  waiting {left:4.0f}s {what}")
            self.stream.flush()
            sleep(min(1.0, left))
        self.stream.write(f"\r\x1b[2K  waited {seconds:g}s {what}\n")
        self.stream.flush()
