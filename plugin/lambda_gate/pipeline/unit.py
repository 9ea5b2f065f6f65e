"""The deploy of a service of several functions: built, applied, tested, promoted as one.

The same stages as a single function's deploy (:mod:`.deploy`), each for every
function at once: the packages are built two at a time, one ``terraform apply``
publishes whatever changed, each changed function's smoke tests run against its own
new version, and the aliases move only when every gate opened, all together
(:mod:`lambda_gate.aliases.unit`), so production never runs the new API beside the old
worker. A function whose alias already points at its version is unchanged: it is not
tested again (unless ``retest``) and its alias is left alone.

Every function gets a record of its own, all under one deploy id; a rollback reads
them to put the whole unit back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .. import aliases, git, records
from ..aliases.unit import Move, UnitNotPromoted, promote_unit
from ..aws import AwsTarget
from ..build.service import build_service
from ..errors import ApprovalRequired, ConfigError, Error, GateClosed
from ..functions import select
from ..publish import Published, check_configuration, unit_preflight
from ..publish.unit import apply_unit, unit_terraform
from ..report import Reporter
from ..settings import ServiceFunction, Settings
from ..smoke import SmokeRun, evaluate
from .deploy import DeployOptions, deploy_alias
from .steps import protected, terminal_confirm
from .summary import SUCCESSFUL, failure_outcome, lost_race_head
from .targets import aws_target
from .unit_steps import prefixed, save_unit_records, smoke_all, start_smoke_runs


@dataclass(frozen=True)
class UnitOptions:
    """What a service's deploy adds to :class:`DeployOptions`."""

    function: str | None = None  # --function KEY: test and promote that one only
    retest: bool = False  # test unchanged functions too


def deploy_unit(settings: Settings, options: DeployOptions, reporter: Reporter, *,
                unit: UnitOptions = UnitOptions(),
                confirm: Callable[[str], bool] | None = terminal_confirm
                ) -> dict[str, records.DeployRecord]:
    """Build, apply, smoke-test and promote every function; one record per function.

    Raises an :class:`Error` when the deploy did not promote; the records are written
    in every case once the deploy reached AWS.
    """
    chosen = select(settings.functions, unit.function)
    for fn in chosen:  # before anything is built or applied
        if not fn.smoke_path.exists():
            raise ConfigError(
                f"the smoke tests of {fn.key} are missing: {fn.smoke_path} does not "
                f"exist. Put them there, or set lambda_gate.functions.{fn.key}.smoke_path."
            )
    alias, branch = deploy_alias(settings, options.alias)
    deploy_id = uuid.uuid4().hex[:12]
    commit = git.git_commit(settings.root)
    recs = {fn.key: records.DeployRecord(
        environment=settings.environment.name, alias=alias, git_branch=branch,
        git_commit=commit, deploy_id=deploy_id, function_key=fn.key) for fn in chosen}
    try:
        _deploy(settings, options, unit, reporter, recs, chosen, confirm)
        return recs
    except Error as exc:
        for rec in recs.values():
            if rec.outcome == "started":
                rec.outcome = failure_outcome(exc)
            rec.reason = rec.reason or exc.message
        raise
    finally:
        for rec in recs.values():
            rec.durations = dict(reporter.durations)
        if any(r.function is not None or r.outcome != "started" for r in recs.values()):
            save_unit_records(settings, recs)
        failed = [r for r in recs.values() if r.outcome not in SUCCESSFUL + ("dry-run",)]
        if failed:
            reporter.summary(_failure_summary(recs, reporter.failed_step), ok=False)


def _failure_summary(recs: dict[str, records.DeployRecord], failed_step: str | None) -> str:
    """The last line of a service's deploy that did not promote: where it stopped and
    where each alias is (the error itself follows, printed by the task)."""
    first = next(iter(recs.values()))
    outcomes = {r.outcome for r in recs.values()}
    if "gate-closed" in outcomes:
        head = "gate closed: no alias moved"
    elif "approval-required" in outcomes:
        head = "waiting for approval: the new versions passed their smoke tests"
    elif "stale-lock" in outcomes:
        head = "terraform's state lock is held by a run that is gone: nothing published"
    elif "lost-race" in outcomes:
        head = lost_race_head(first)
    else:
        head = f"deploy failed {f'in {failed_step}' if failed_step else 'before the build'}"
    where = ", ".join(f"{key} at {r.alias_after or r.alias_before or 'none'}"
                      + (f" (version {r.version} published)" if r.version
                         and r.version != (r.alias_after or r.alias_before) else "")
                      for key, r in recs.items())
    return f"{head}; {first.alias}: {where}"


def _deploy(settings: Settings, options: DeployOptions, unit: UnitOptions,
            reporter: Reporter, recs: dict[str, records.DeployRecord],
            chosen: tuple[ServiceFunction, ...], confirm) -> None:
    target = aws_target(settings, reporter, branch=next(iter(recs.values())).git_branch)
    with reporter.step("build"):
        built = build_service(settings.functions, force=options.force_build,
                              log=reporter.detail)
    for key, rec in recs.items():
        rec.artifact_sha256 = built[key].code_sha256
    if options.dry_run:
        _dry_run(settings, target, reporter, recs)
        return
    prepared: dict[str, SmokeRun] = {}
    try:
        published = apply_unit(
            settings, target, reporter, full=options.full,
            shas={key: result.code_sha256 for key, result in built.items()},
            before_terraform=lambda: prepared.update(
                start_smoke_runs(settings, target, reporter, chosen)))
        _test_and_promote(settings, options, unit, reporter, recs, chosen, target,
                          published, prepared, confirm)
    finally:
        for run in prepared.values():
            run.cancel()


def _test_and_promote(settings: Settings, options: DeployOptions, unit: UnitOptions,
                      reporter: Reporter, recs: dict[str, records.DeployRecord],
                      chosen: tuple[ServiceFunction, ...], target: AwsTarget,
                      published: dict[str, Published], prepared: dict[str, SmokeRun],
                      confirm) -> None:
    alias = next(iter(recs.values())).alias
    assert alias is not None
    client = target.client("lambda")
    current = {}
    for fn in chosen:
        rec, pub = recs[fn.key], published[fn.key]
        rec.function, rec.version = pub.function_name, pub.version
        rec.qualified_arn, rec.code_sha256 = pub.qualified_arn, pub.code_sha256
        current[fn.key] = aliases.get_alias(client, pub.function_name, alias)
        rec.alias_before = current[fn.key].version if current[fn.key] else None
    changed = [fn for fn in chosen if unit.retest or not _at(current[fn.key],
                                                              published[fn.key])]
    for fn in chosen:
        if fn not in changed:
            rec = recs[fn.key]
            rec.alias_after, rec.outcome = rec.alias_before, "unchanged"
            rec.smoke_passed = bool(records.passing_record(
                settings.records_dir, rec.function or "", rec.version or ""))
            run = prepared.pop(fn.key, None)
            if run is not None:
                run.cancel()
    if not changed:
        where = ", ".join(f"{fn.key} {published[fn.key].version}" for fn in chosen)
        reporter.summary(f"{alias} already at {where}: nothing to deploy", ok=True)
        return

    results = smoke_all(settings, target, reporter, changed, published, prepared)
    closed = []
    for fn in changed:
        rec, pub, result = recs[fn.key], published[fn.key], results[fn.key]
        rec.tests_passed, rec.tests_failed = result.passed, result.failed + result.errors
        rec.tests_skipped, rec.failed_tests = result.skipped, list(result.failed_tests)
        decision = evaluate(result, published_arn=pub.qualified_arn,
                            published_version=pub.version,
                            artifact_code_sha256=recs[fn.key].artifact_sha256 or "",
                            live_code_sha256=pub.code_sha256)
        rec.smoke_passed = decision.open
        if not decision.open:
            closed.append(f"{fn.key}: {decision.reason}")
    if closed:
        for fn in changed:
            recs[fn.key].outcome = "gate-closed"
            recs[fn.key].alias_after = recs[fn.key].alias_before
        untouched = ", ".join(f"{fn.key} version {published[fn.key].version}"
                              for fn in changed)
        raise GateClosed(f"not promoted: {'; '.join(closed)}. No alias moved: {alias} is "
                         f"untouched on every function; {untouched} left published, "
                         "unaliased.")

    with reporter.step("promote"):
        try:
            require_unit_approval(settings, alias, approve=options.approve,
                                  confirm=confirm)
        except ApprovalRequired:
            for fn in changed:
                recs[fn.key].outcome = "approval-required"
            raise
        moves = [Move(fn.key, published[fn.key].function_name, published[fn.key].version,
                      current[fn.key]) for fn in changed]
        try:
            changes = promote_unit(client, alias, moves,
                                   log=prefixed(reporter.detail, None))
        except UnitNotPromoted:
            for fn in changed:
                live = aliases.get_alias(client, published[fn.key].function_name, alias)
                recs[fn.key].alias_after = live.version if live else None
                recs[fn.key].outcome = "failed"
            raise
    for fn, change in zip(changed, changes, strict=True):
        recs[fn.key].alias_after, recs[fn.key].outcome = change.after, "promoted"
    moved = ", ".join(f"{fn.key} {c.before or 'new'} -> {c.after}"
                      for fn, c in zip(changed, changes, strict=True))
    reporter.summary(f"promoted {alias} as a unit: {moved}", ok=True)


def _at(state: aliases.AliasState | None, published: Published) -> bool:
    return state is not None and state.version == published.version and not state.weights


def require_unit_approval(settings: Settings, alias: str, *, approve: bool,
                          confirm: Callable[[str], bool] | None) -> None:
    """A protected alias moves only with approval, as for one function; the command
    to run later promotes the last apply's versions of every function."""
    if not protected(settings, alias) or approve or settings.approve:
        return
    if confirm is not None and confirm(f"promote protected alias {alias} of every "
                                       "function? [y/N] "):
        return
    raise ApprovalRequired(
        f"alias {alias} is protected and promotion was not approved; the new versions "
        "passed their smoke tests and are left published. To promote them, run:\n"
        f"    invoke promote --alias {alias} --env {settings.environment.name} --approve")


def plan_unit(settings: Settings, target: AwsTarget, reporter: Reporter) -> bool:
    """``terraform plan`` of the service; whether it would change anything."""
    with reporter.step("plan"):
        check_configuration(settings, reporter, check=unit_preflight.check)
        return unit_terraform(settings, target, reporter).plan().changes


def _dry_run(settings: Settings, target: AwsTarget, reporter: Reporter,
             recs: dict[str, records.DeployRecord]) -> None:
    changes = plan_unit(settings, target, reporter)
    for rec in recs.values():
        rec.outcome = "dry-run"
    what = "changes pending" if changes else "no changes"
    reporter.summary(f"dry run: plan shows {what}. Nothing was changed.", ok=True)
