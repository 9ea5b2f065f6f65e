"""The deploy's steps, each also run on its own by a task: build, smoke, approval, record.

Each takes the settings and a reporter and wraps one stage (:mod:`lambda_gate.build`,
:mod:`lambda_gate.smoke`) with the step's header, timing and output, so ``invoke
build`` and ``invoke smoke`` print exactly what the same step prints inside a deploy.
The apply step is :func:`lambda_gate.publish.apply_step`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .. import git, record_store, records
from ..aws import AwsTarget
from ..build import BuildResult, build_package, code_sha256
from ..errors import ApprovalRequired, ConfigError
from ..publish import Published
from ..report import Reporter
from ..settings import Settings
from ..smoke import SmokeResult, SmokeRun


def build_step(settings: Settings, reporter: Reporter, *, force: bool = False) -> BuildResult:
    with reporter.step("build"):
        result = build_package(settings.build, force=force, log=reporter.detail)
    return result


def existing_artifact(settings: Settings) -> str:
    """CodeSha256 of the artifact already built; an error when there is none."""
    artifact = settings.build.artifact
    if not artifact.is_file():
        raise ConfigError(f"no artifact at {artifact}: run `invoke build` first.")
    return code_sha256(artifact)


def start_smoke(settings: Settings, target: AwsTarget, reporter: Reporter, *,
                path: Path | None = None, junit: str = "smoke-next.xml") -> SmokeRun:
    """Start the smoke tests' pytest now; it waits for the version to test.

    ``path``: the tests (default ``lambda_gate.smoke.path``); ``junit``: the report's
    file name in the reports directory.
    """
    # pytest's output is piped through us, so it follows our terminal, not its own
    # (PY_COLORS or FORCE_COLOR in a CI job would colour it otherwise).
    color = "--color=yes" if reporter.color else "--color=no"
    return SmokeRun([path or settings.smoke_path], junit=settings.reports_dir / junit,
                          env=target.env, cwd=settings.root,
                          extra=(color, *settings.smoke_args),
                          timeout=settings.smoke_timeout)


def smoke_step(settings: Settings, target: AwsTarget, published: Published,
               reporter: Reporter, *, prepared: SmokeRun | None = None
               ) -> SmokeResult:
    """Run the smoke tests against the published version (in ``prepared``, if started)."""
    junit = settings.reports_dir / f"smoke-{published.version}.xml"
    with reporter.step("smoke"):
        reporter.detail(f"testing {published.qualified_arn}")
        started = time.perf_counter()
        run = prepared or start_smoke(settings, target, reporter)
        # pytest names the file it writes, which is then moved to the version's name:
        # its line names where the report ends up, as the summary does.
        written, final = str(run.junit), str(junit)
        result = run.run(published.qualified_arn,
                         log=lambda line: reporter.detail(line.replace(written, final)))
        reporter.durations["pytest"] = round(time.perf_counter() - started, 3)
        if run.junit.exists():
            os.replace(run.junit, junit)
        result = dataclasses.replace(result, junit_path=junit)
        reporter.detail(f"{result.passed} passed, {result.failed + result.errors} failed, "
                        f"{result.skipped} skipped (JUnit XML: {junit})")
    return result


def protected(settings: Settings, alias: str) -> bool:
    return alias in settings.protected_aliases


def promote_command(settings: Settings, alias: str, version: str) -> str:
    return (f"invoke promote --version {version} --alias {alias} "
            f"--env {settings.environment.name} --approve")


def require_approval(settings: Settings, alias: str, version: str, *, approve: bool,
                     confirm: Callable[[str], bool] | None) -> None:
    """Protected aliases move only with approval: ``--approve`` or a terminal's yes."""
    if not protected(settings, alias) or approve or settings.approve:
        return
    question = f"promote protected alias {alias} to version {version}? [y/N] "
    if confirm is not None and confirm(question):
        return
    raise ApprovalRequired(
        f"alias {alias} is protected and promotion was not approved; version {version} "
        f"passed its smoke tests and is left published. To promote it, run:\n"
        f"    {promote_command(settings, alias, version)}"
    )


def terminal_confirm(question: str) -> bool:
    """Ask on the terminal; never in CI or without one."""
    if os.environ.get("CI") or not sys.stdin.isatty():
        return False
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def save_record(settings: Settings, record: records.DeployRecord,
                target: AwsTarget | None = None, reporter: Reporter | None = None) -> Path:
    """Keep the record with the environment's others, and as the CI report.

    With a ``records_url`` the record is shared through S3 too (through ``target``);
    when that upload fails, ``reporter`` is warned (the record stays on this machine),
    else the error is raised. ``reports_dir/deploy-record.json`` is always the latest
    one, at a fixed path a CI job can store as an artifact next to the JUnit XML.
    """
    store = record_store.for_settings(settings, target)
    try:
        path = store.write(record)
    except record_store.RecordStoreError as exc:
        if reporter is None:
            raise
        reporter.warn(f"{exc.message} The record is kept on this machine only: promote "
                      "on another machine will not find it.")
        path = records.write(record, settings.records_dir)
    reports = settings.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, reports / "deploy-record.json")
    return path


def note_working_tree(settings: Settings, record: records.DeployRecord,
                      reporter: Reporter) -> None:
    """Record whether the tree being deployed has uncommitted changes, and which.

    lambda-gate's own output (state, reports, the artifact) is left out, so a tree whose
    .gitignore lacks them is not called dirty for what the deploy itself writes.
    """
    changed = git.uncommitted_files(settings.root)
    if changed is None:
        return
    own = []
    for path in (settings.state_dir, settings.reports_dir, settings.build.artifact):
        try:
            own.append(path.relative_to(settings.root).as_posix())
        except ValueError:
            pass
    changed = [p for p in changed
               if not any(p == o or p.startswith(o + "/") or (p.endswith("/") and o.startswith(p))
                          for o in own)]
    record.git_dirty = bool(changed)
    record.git_dirty_files = changed[:records.DIRTY_FILES_KEPT]
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        reporter.detail(f"uncommitted changes in {', '.join(changed[:3])}{more}: "
                        "the record notes the tree was dirty")
