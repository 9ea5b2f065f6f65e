"""The deploy pipeline: build, apply, smoke, promote, each a step of its own.

Data flows one way: settings give a build, the build's artifact goes to terraform,
terraform's published version goes to the smoke tests, and only the gate's verdict on
all of that reaches the alias. Each step is a function the tasks call on their own too,
so CI can run them one job at a time; :func:`deploy` runs them all and writes the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from .. import aliases, git, record_store, records
from ..aws import AwsTarget
from ..build import BuildResult
from ..errors import ApprovalRequired, Error, GateClosed, Interrupted
from ..publish import apply_step, check_configuration, check_state_origin
from ..report import Reporter
from ..settings import Settings
from ..smoke import SmokeRun, evaluate
from .dry_run import dry_run_step
from .moves import check_promotion_order
from .steps import (
    build_step,
    note_working_tree,
    require_approval,
    save_record,
    smoke_step,
    start_smoke,
    terminal_confirm,
)
from .summary import SUCCESSFUL, deploy_summary, failure_outcome
from .targets import (
    aws_target,
    deploying_branch,
    function_name,
    require_local_runtime,
    warn_local_state,
)


@dataclass(frozen=True)
class DeployOptions:
    alias: str | None = None
    approve: bool = False
    full: bool = False
    force_build: bool = False
    dry_run: bool = False
    allow_replace: bool = False
    adopt_state: bool = False
    import_function: bool = False
    #: Promote even a version the alias was rolled back from.
    force: bool = False


def deploy_alias(settings: Settings, alias: str | None) -> tuple[str, str | None]:
    """The alias a deploy moves (``--alias``, else the branch's) and the git branch."""
    if alias is not None:  # "" too: an empty --alias is a mistake, not "the branch's"
        aliases.validate_alias(alias)
        return alias, deploying_branch(settings)  # for the record and the branch guard
    branch = git.current_branch(cwd=settings.root)
    return aliases.alias_for_branch(branch), branch


def deploy(settings: Settings, options: DeployOptions, reporter: Reporter, *,
           confirm: Callable[[str], bool] | None = terminal_confirm) -> records.DeployRecord:
    """Build, apply, smoke-test and promote; the record says how far it got and why.

    Raises an :class:`Error` when the deploy did not promote; the record is written
    in every case, and the summary line printed (but not the error: the task prints it).
    """
    alias, branch = deploy_alias(settings, options.alias)
    record = records.DeployRecord(environment=settings.environment.name, alias=alias,
                                  git_branch=branch, git_commit=git.git_commit(settings.root))
    note_working_tree(settings, record, reporter)
    targets: list[AwsTarget] = []  # where the record is shared, once it is known
    try:
        _deploy(settings, options, reporter, record, confirm, targets)
        return record
    except (KeyboardInterrupt, Interrupted) as exc:
        record.outcome = "interrupted"
        record.reason = exc.message if isinstance(exc, Interrupted) else "interrupted"
        read_back_alias(settings, targets, record)
        raise Interrupted(
            f"{record.reason} The deploy record says what Lambda shows now; the next "
            "deploy finishes what this one started.") from None
    except Error as exc:
        if record.outcome == "started":
            record.outcome = failure_outcome(exc)
        record.reason = exc.message
        raise
    finally:
        record.durations = dict(reporter.durations)
        path = None
        if record.function is not None or record.outcome != "started":
            try:
                path = save_record(settings, record, targets[0] if targets else None,
                                   reporter)
            except OSError as exc:
                # What happened in AWS comes first: a moved alias stays a success.
                reporter.warn(f"the deploy record could not be written ({exc.strerror}: "
                              f"{exc.filename}); `invoke promote` will not find it as "
                              "evidence for this version")
        if record.outcome != "dry-run":
            reporter.summary(deploy_summary(settings, record, path, reporter.failed_step),
                             ok=record.outcome in SUCCESSFUL)


def read_back_alias(settings: Settings, targets: list[AwsTarget],
                    record: records.DeployRecord) -> None:
    """Fill the record's alias before and after from Lambda, after an interrupt.

    Before the alias was read by this deploy it cannot have moved, so what Lambda shows
    is both. Nothing is filled in when Lambda cannot be asked.
    """
    if not targets or record.alias is None:
        return
    try:
        function = record.function or function_name(settings, targets[0])
        current = aliases.get_alias(targets[0].client("lambda"), function, record.alias)
    except (Error, ClientError, BotoCoreError):
        return
    record.alias_after = current.version if current else None
    if record.function is None:
        record.alias_before = record.alias_after


def _deploy(settings: Settings, options: DeployOptions, reporter: Reporter,
            record: records.DeployRecord, confirm, targets: list[AwsTarget]) -> None:
    # Every problem of the configuration, before anything is started or built.
    warn_local_state(settings, reporter)
    check_configuration(settings, reporter)
    check_state_origin(settings, adopt=options.adopt_state)
    target = aws_target(settings, reporter, branch=record.git_branch, warn=False)
    targets.append(target)
    require_local_runtime(settings, target)
    built = build_step(settings, reporter, force=options.force_build)
    record.artifact_sha256 = built.code_sha256
    if options.dry_run:
        dry_run_step(settings, target, reporter, record, full=options.full,
                     allow_replace=options.allow_replace)
        return
    # The smoke tests' pytest starts while terraform applies (most of an apply is the
    # provider waiting for Lambda), and is stopped if the deploy ends before the tests.
    prepared: list[SmokeRun] = []
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
                      prepared: list[SmokeRun]) -> None:
    alias = record.alias
    assert alias is not None
    published = apply_step(settings, target, reporter, artifact_sha=built.code_sha256,
                           full=options.full, before_terraform=warm_up,
                           allow_replace=options.allow_replace,
                           adopt_state=options.adopt_state, confirm=confirm,
                           import_function=options.import_function)
    record.function = published.function_name
    record.version = published.version
    record.qualified_arn = published.qualified_arn
    record.code_sha256 = published.code_sha256
    client = target.client("lambda")
    current = aliases.get_alias(client, published.function_name, alias)
    record.alias_before = current.version if current else None
    # "Nothing to deploy" only when the alias's version really holds the artifact.
    if (current is not None and current.version == published.version and not current.weights
            and published.code_sha256 == built.code_sha256):
        record.alias_after = current.version
        record.outcome = "unchanged"
        record.smoke_passed = bool(record_store.for_settings(settings, target).passing(
            published.function_name, published.version))
        return
    # A rerun of the deploy a person rolled back from publishes nothing new: the same
    # version again, which must not go back live behind their back.
    check_promotion_order(settings, target, published.function_name, current,
                          published.version, allow_rolled_back=options.force)

    result = smoke_step(settings, target, published, reporter,
                        prepared=prepared[0] if prepared else None)
    record.tests_passed, record.tests_failed = result.passed, result.failed + result.errors
    record.tests_skipped = result.skipped
    record.failed_tests = list(result.failed_tests)
    decision = evaluate(result, published_arn=published.qualified_arn,
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
