"""The steps of a service's deploy that run once per function: smoke runs and records.

Each function's smoke tests are a directory of their own (``smoke_path``, by default
``<smoke.path>/<key>``), run by a pytest process of their own against that function's
new version, so the plugin's fixtures need to know nothing about the service. Two
runs go at once; their output is prefixed with the function's key.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from .. import records
from ..aws import AwsTarget
from ..publish import Published
from ..report import Reporter
from ..settings import ServiceFunction, Settings
from ..smoke import SmokeResult, SmokeRun
from .steps import start_smoke

_LOCK = threading.Lock()


def prefixed(log: Callable[[str], None], key: str | None) -> Callable[[str], None]:
    """``log``, each line whole (one lock for all threads) and prefixed ``[key]``."""

    def line(text: str) -> None:
        with _LOCK:
            log(f"[{key}] {text}" if key else text)

    return line


def start_smoke_runs(settings: Settings, target: AwsTarget, reporter: Reporter,
                     functions: Sequence[ServiceFunction]) -> dict[str, SmokeRun]:
    """A pytest process per function, started now, each waiting for its version."""
    runs: dict[str, SmokeRun] = {}
    try:
        for fn in functions:
            runs[fn.key] = start_smoke(settings, target, reporter, path=fn.smoke_path,
                                       junit=f"smoke-{fn.key}-next.xml")
    except BaseException:
        for run in runs.values():
            run.cancel()
        raise
    return runs


def smoke_all(settings: Settings, target: AwsTarget, reporter: Reporter,
              functions: Sequence[ServiceFunction], published: dict[str, Published],
              prepared: dict[str, SmokeRun]) -> dict[str, SmokeResult]:
    """Each function's smoke tests against its own new version, two at a time.

    Uses the runs in ``prepared`` (taking them out of it) and starts the missing ones.
    The JUnit XML of each goes to ``smoke-<key>-<version>.xml`` in the reports directory.
    """
    with reporter.step("smoke"):
        started = time.perf_counter()
        runs = {}
        for fn in functions:
            runs[fn.key] = prepared.pop(fn.key, None) or start_smoke(
                settings, target, reporter, path=fn.smoke_path,
                junit=f"smoke-{fn.key}-next.xml")

        def one(fn: ServiceFunction) -> SmokeResult:
            pub, log = published[fn.key], prefixed(reporter.detail, fn.key)
            log(f"testing {pub.qualified_arn}")
            run = runs[fn.key]
            result = run.run(pub.qualified_arn, log=log)
            junit = settings.reports_dir / f"smoke-{fn.key}-{pub.version}.xml"
            if run.junit.exists():
                os.replace(run.junit, junit)
            log(f"{result.passed} passed, {result.failed + result.errors} failed, "
                f"{result.skipped} skipped (JUnit XML: {junit})")
            return dataclasses.replace(result, junit_path=junit)

        try:
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="smoke") as pool:
                futures = {fn.key: pool.submit(one, fn) for fn in functions}
            results = {key: future.result() for key, future in futures.items()}
        finally:
            for run in runs.values():
                run.cancel()
        reporter.durations["pytest"] = round(time.perf_counter() - started, 3)
    return results


def save_unit_records(settings: Settings, recs: dict[str, records.DeployRecord]) -> None:
    """Each function's record with the environment's others, and as a CI report
    (``deploy-record-<key>.json`` in the reports directory)."""
    reports = settings.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    for key, rec in recs.items():
        path = records.write(rec, settings.records_dir)
        shutil.copyfile(path, reports / f"deploy-record-{key}.json")
