"""Building every function of a service: each with :func:`build_package`, two at a time.

Each function has its own artifact and its own cache directory, so each is reused on
its own inputs (its source, the directories it includes, its requirements) and one
function's change rebuilds that function alone. Two builds run at once: most of a
build is pip's or npm's subprocess, and the machines lambda-gate runs on in CI often
have two cores, so a third would only queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..settings import ServiceFunction
from .cache import BuildResult
from .package import build_package

#: Builds running at once.
WORKERS = 2


def build_service(functions: Sequence[ServiceFunction], *, force: bool = False,
                  log: Callable[[str], None] = print) -> dict[str, BuildResult]:
    """Build (or reuse) every function's package; results by key, in the given order.

    Each line a build logs is prefixed with its function's key, and lines are written
    whole (one lock), so two builds' output interleaves legibly. The first failure is
    raised once the other builds have finished, so no half-written artifact is left.
    """
    lock = threading.Lock()

    def logger(key: str) -> Callable[[str], None]:
        def line(text: str) -> None:
            with lock:
                log(f"[{key}] {text}")
        return line

    if len(functions) == 1:
        only = functions[0]
        return {only.key: build_package(only.build, force=force, log=logger(only.key))}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="build") as pool:
        futures = {fn.key: pool.submit(build_package, fn.build, force=force,
                                       log=logger(fn.key)) for fn in functions}
    return {key: future.result() for key, future in futures.items()}
