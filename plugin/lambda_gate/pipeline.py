"""The deploy pipeline: build, apply, smoke, promote, each a step of its own.

Data flows one way: settings give a build, the build's artifact goes to terraform,
terraform's published version goes to the smoke tests, and only the gate's verdict on
all of that reaches the alias. Each step is a function the tasks call on their own too,
so CI can run them one job at a time; :func:`deploy` runs them all and writes the record.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import aliases, gate, records, smoke
from .archive import code_sha256
from .aws import AwsTarget
from .build import BuildResult, build_package
from .config import Settings
from .errors import (
    ApprovalRequired,
    ConfigError,
    Error,
    GateClosed,
    TerraformError,
)
from .publish import (
    Published,
    apply_step,
    check_configuration,
    inputs_fingerprint,
    live_code_sha256,
    terraform_for,
    unchanged_outputs,
)
from .report import Reporter
from .targets import (
    LAST_APPLY,
    aws_target,
    deploying_branch,
    function_name,
    records_dir,
    state_path,
)
from .terraform import TerraformOutputs

__all__ = [
    "LAST_APPLY", "DeployOptions", "Published", "apply_step", "aws_target", "build_step",
    "check_configuration", "configured_function", "deploy", "deploying_branch",
    "dry_run_step", "dry_run_summary", "existing_artifact", "function_name",
    "live_code_sha256", "promote_command", "protected", "records_dir", "require_approval",
    "save_record", "smoke_step", "state_path", "terminal_confirm", "terraform_for",
]



# -- build -------------------------------------------------------------------------------

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


# -- smoke -----------------------------------------------------------------------------

def start_smoke(settings: Settings, target: AwsTarget, reporter: Reporter) -> smoke.SmokeRun:
    """Start the smoke tests' pytest now; it waits for the version to test."""
    # pytest's output is piped through us, so it follows our terminal, not its own
    # (PY_COLORS or FORCE_COLOR in a CI job would colour it otherwise).
    color = "--color=yes" if reporter.color else "--color=no"
    return smoke.SmokeRun([settings.smoke_path], junit=settings.reports_dir / "smoke-next.xml",
                          env=target.env, cwd=settings.root,
                          extra=(color, *settings.smoke_args))


def smoke_step(settings: Settings, target: AwsTarget, published: Published,
               reporter: Reporter, *, prepared: smoke.SmokeRun | None = None
               ) -> smoke.SmokeResult:
    """Run the smoke tests against the published version (in ``prepared``, if started)."""
    junit = settings.reports_dir / f"smoke-{published.version}.xml"
    with reporter.step("smoke"):
        reporter.detail(f"testing {published.qualified_arn}")
        started = time.perf_counter()
        run = prepared or start_smoke(settings, target, reporter)
        result = run.run(published.qualified_arn, log=reporter.detail)
        reporter.durations["pytest"] = round(time.perf_counter() - started, 3)
        if run.junit.exists():
            os.replace(run.junit, junit)
        result = dataclasses.replace(result, junit_path=junit)
        reporter.detail(f"{result.passed} passed, {result.failed + result.errors} failed, "
                        f"{result.skipped} skipped (JUnit XML: {junit})")
    return result


# -- promote ---------------------------------------------------------------------------

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


# -- the whole deploy ---------------------------------------------------------------------

@dataclass(frozen=True)
class DeployOptions:
    alias: str | None = None
    approve: bool = False
    full: bool = False
    force_build: bool = False
    dry_run: bool = False


def deploy(settings: Settings, options: DeployOptions, reporter: Reporter, *,
           confirm: Callable[[str], bool] | None = terminal_confirm) -> records.DeployRecord:
    """Build, apply, smoke-test and promote; the record says how far it got and why.

    Raises an :class:`Error` when the deploy did not promote; the record is written
    in every case.
    """
    branch = None
    alias = options.alias
    if alias:
        aliases.validate_alias(alias)
        branch = deploying_branch(settings)  # for the record and the branch guard
    else:
        branch = aliases.current_branch(cwd=settings.root)
        alias = aliases.alias_for_branch(branch)
    record = records.DeployRecord(environment=settings.environment.name, alias=alias,
                                  git_branch=branch, git_commit=records.git_commit(settings.root))
    try:
        _deploy(settings, options, reporter, record, confirm)
        return record
    except Error as exc:
        if record.outcome == "started":
            record.outcome = "failed"
        record.reason = exc.message
        raise
    finally:
        record.durations = dict(reporter.durations)
        if record.function is not None or record.outcome != "started":
            save_record(settings, record)


def save_record(settings: Settings, record: records.DeployRecord) -> Path:
    """Keep the record with the environment's others, and as the CI report.

    ``reports_dir/deploy-record.json`` is always the latest one, at a fixed path a CI
    job can store as an artifact next to the smoke tests' JUnit XML.
    """
    path = records.write(record, records_dir(settings))
    reports = settings.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, reports / "deploy-record.json")
    return path


def _deploy(settings: Settings, options: DeployOptions, reporter: Reporter,
            record: records.DeployRecord, confirm) -> None:
    target = aws_target(settings, reporter, branch=record.git_branch)
    built = build_step(settings, reporter, force=options.force_build)
    record.artifact_sha256 = built.code_sha256
    if options.dry_run:
        dry_run_step(settings, target, reporter, record, full=options.full)
        return
    # The smoke tests' pytest starts while terraform applies (most of an apply is the
    # provider waiting for Lambda), and is stopped if the deploy ends before the tests.
    prepared: list[smoke.SmokeRun] = []
    try:
        _publish_and_test(settings, options, reporter, record, confirm, target, built,
                          lambda: prepared.append(start_smoke(settings, target, reporter)),
                          prepared)
    finally:
        for run in prepared:
            run.cancel()


def _publish_and_test(settings: Settings, options: DeployOptions, reporter: Reporter,
                      record: records.DeployRecord, confirm, target: AwsTarget,
                      built: BuildResult, warm_up: Callable[[], None],
                      prepared: list[smoke.SmokeRun]) -> None:
    alias = record.alias
    assert alias is not None
    published = apply_step(settings, target, reporter, artifact_sha=built.code_sha256,
                           full=options.full, before_terraform=warm_up)
    record.function = published.function_name
    record.version = published.version
    record.qualified_arn = published.qualified_arn
    record.code_sha256 = published.code_sha256
    client = target.client("lambda")
    current = aliases.get_alias(client, published.function_name, alias)
    record.alias_before = current.version if current else None
    if current is not None and current.version == published.version and not current.weights:
        record.alias_after = current.version
        record.outcome = "unchanged"
        record.smoke_passed = bool(records.passing_record(
            records_dir(settings), published.function_name, published.version))
        reporter.summary(f"{alias} already at version {published.version}: nothing to deploy",
                         ok=True)
        return

    result = smoke_step(settings, target, published, reporter,
                        prepared=prepared[0] if prepared else None)
    record.tests_passed, record.tests_failed = result.passed, result.failed + result.errors
    record.tests_skipped = result.skipped
    record.failed_tests = list(result.failed_tests)
    decision = gate.evaluate(result, published_arn=published.qualified_arn,
                             published_version=published.version,
                             artifact_code_sha256=built.code_sha256,
                             live_code_sha256=published.code_sha256)
    if not decision.open:
        record.outcome = "gate-closed"
        raise GateClosed(
            f"not promoted: {decision.reason}. {alias} is untouched; version "
            f"{published.version} is left published, unaliased."
        )
    record.smoke_passed = True

    with reporter.step("promote"):
        try:
            require_approval(settings, alias, published.version, approve=options.approve,
                             confirm=confirm)
        except ApprovalRequired:
            record.outcome = "approval-required"
            raise
        change = aliases.promote(client, published.function_name, alias, published.version,
                                 expected=current)
    record.alias_after = change.after
    record.outcome = "promoted"
    reporter.summary(change.summary(), ok=True)


# -- dry run ---------------------------------------------------------------------------

def dry_run_step(settings: Settings, target: AwsTarget, reporter: Reporter,
                 record: records.DeployRecord, *, full: bool = False) -> None:
    """Show the plan and the alias change a deploy would make; change nothing.

    Runs ``terraform plan`` (never apply) and reads the alias; publishes no version,
    writes no alias, and leaves a record with outcome ``dry-run`` that vouches for no
    version. The summary follows what a deploy would do: when nothing changed since the
    last apply a deploy skips terraform, so a plan that only shows drift publishes nothing.
    """
    alias = record.alias
    assert alias is not None and record.artifact_sha256 is not None
    with reporter.step("plan"):
        check_configuration(settings, reporter)
        tf = terraform_for(settings, target, reporter, settings.build.artifact)
        plan = tf.plan()
        try:
            outputs: TerraformOutputs | None = tf.outputs()
        except TerraformError:
            outputs = None  # nothing applied yet in this environment
        fingerprint = inputs_fingerprint(settings, record.artifact_sha256,
                                         tf.input_variables())
        skipped = None if full else unchanged_outputs(settings, target, fingerprint,
                                                      record.artifact_sha256)
        if skipped is not None:
            outputs = skipped
            reporter.detail(f"no change since the last apply (version {skipped.version}): "
                            "a deploy would skip terraform; --full forces it")
    function = (outputs.function_name if outputs else None) or configured_function(settings)
    current = (aliases.get_alias(target.client("lambda"), function, alias)
               if function else None)
    record.function = function
    record.alias_before = current.version if current else None
    record.alias_after = record.alias_before
    record.outcome = "dry-run"
    summary = dry_run_summary(alias, changes=plan.changes and skipped is None,
                              alias_version=record.alias_before,
                              deployed_version=outputs.version if outputs else None)
    if protected(settings, alias) and not summary.startswith("no change"):
        summary += f"; {alias} is protected, so promotion also needs approval"
    reporter.summary(f"dry run: {summary}. Nothing was changed.", ok=True)


def configured_function(settings: Settings) -> str | None:
    """The function's name as configured, for when no apply has recorded it yet."""
    return settings.terraform.vars.get("function_name") or settings.function.name


def dry_run_summary(alias: str, *, changes: bool, alias_version: str | None,
                    deployed_version: str | None) -> str:
    """What a deploy would do to ``alias``, from the plan and the alias as it is.

    A plan with changes publishes a version whose number Lambda assigns only at apply,
    so the summary cannot name it.
    """
    if changes or deployed_version is None:
        if alias_version is None:
            return f"would publish a new version and create {alias} at it after the smoke tests"
        return (f"would publish a new version and move {alias} from {alias_version} to it "
                "after the smoke tests")
    if alias_version == deployed_version:
        return f"no change: {alias} already at {deployed_version}"
    if alias_version is None:
        return f"would create {alias} at version {deployed_version} after the smoke tests"
    return (f"would move {alias} from {alias_version} to version {deployed_version} "
            "after the smoke tests")
