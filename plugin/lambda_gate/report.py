"""What a person sees while a deploy runs: one header per step, its duration, a summary.

Colour only on a terminal and never when ``NO_COLOR`` is set, so CI logs stay plain.
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

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.color = use_color(self.stream)
        self.durations: dict[str, float] = {}

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
            status = "done" if ok else "failed"
            self.line(self._paint(f"    {name} {status} in {elapsed:.1f}s",
                                  "32" if ok else "31"))

    def summary(self, text: str, ok: bool) -> None:
        self.line(self._paint(text, "1;32" if ok else "1;31"))
