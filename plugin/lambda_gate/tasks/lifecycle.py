"""An alias's life after promotion: rollback, status, prune, cleanup; canary promotion.

These tasks work on the function of the environment's last apply, else on
``lambda_gate.function.name``, so they run from any checkout, not only the one that
deployed. ``run_canary_promotion`` is what ``invoke promote --canary`` runs.
"""

from __future__ import annotations

import json

from invoke import task

from .. import aliases, publish, record_store, smoke
from ..aliases import canary
from ..aliases import prune as pruning
from ..aliases import status as status_report
from ..aws import AwsTarget
from ..errors import ConfigError
from ..pipeline.moves import record_move
from ..pipeline.steps import protected, require_approval, terminal_confirm
from ..pipeline.targets import aws_target, function_name
from ..report import Reporter
from ..settings import Settings
from . import unit
from ._common import exits, is_unit, settings_from
from .steps import FUNCTION_HELP

__all__ = ["rollback", "status", "prune", "cleanup"]

#: Seconds between canary steps when neither --interval nor the setting says.
DEFAULT_INTERVAL = 60.0


def _target(settings: Settings, reporter: Reporter) -> AwsTarget:
    return aws_target(settings, reporter, start_local=False)


@task(help={
    "alias": "Alias to roll back (default: named after the git branch).",
    "to": "Version to go back to (default: the one before the current, from the history).",
    "env": "Environment (default: lambda_gate.environment).",
    "approve": "Approve moving a protected alias (lambda_gate.aliases.protected).",
    "function": FUNCTION_HELP,
})
@exits
def rollback(c, alias=None, to=None, env=None, approve=False, function=None):
    """Move the alias back to the version it served before, from its recorded history.

    The version moved away from is marked in the alias, so that a rerun of the deploy
    that published it does not promote it again (unless `invoke deploy --force`).

    During a canary, sends all traffic back to the alias's primary version. Refuses when
    there is no history or the version was deleted. Honours lambda_gate.function.name
    when no apply is recorded. A service of several functions goes back to the set of
    versions before its last unit deploy (from the deploy records).
    """
    settings = settings_from(c, env)
    if is_unit(settings, function):
        return unit.rollback(settings, alias=alias, function=function, to=to,
                             approve=approve)
    reporter = Reporter()
    alias = aliases.resolve_alias(alias, cwd=settings.root)
    target = _target(settings, reporter)
    function = function_name(settings, target, reporter)
    client = target.client("lambda")
    _, target_version = aliases.rollback_target(client, function, alias, to)
    require_approval(settings, alias, target_version, approve=approve,
                              confirm=terminal_confirm)
    with reporter.step("rollback"):
        change = aliases.rollback(client, function, alias, to)
    record_move(settings, target, reporter, function=function, change=change,
                outcome="rolled-back")
    reporter.summary(f"rolled back {alias}: {change.before} -> {change.after}", ok=True)


@task(name="status", help={
    "json": "Print the documented JSON object (schema 1) instead of text.",
    "env": "Environment (default: lambda_gate.environment).",
    "function": FUNCTION_HELP,
})
@exits
def status(c, json_=False, env=None, function=None):
    """Each alias with its version, weights, CodeSha256 and history; versions and storage."""
    settings = settings_from(c, env)
    if is_unit(settings, function):
        return unit.status(settings, function=function, as_json=json_)
    reporter = Reporter()
    target = _target(settings, reporter)
    function = function_name(settings, target, reporter)
    client = target.client("lambda")
    found = status_report.gather(client, function, settings.environment.name)
    if json_:
        print(json.dumps(found.as_json(), indent=2, sort_keys=True))
    else:
        print(found.as_text())


@task(help={
    "keep": "How many of the newest versions that passed their smoke tests to keep "
            "besides those the aliases use or may roll back to (1 or more).",
    "dry_run": "Only list what would be kept (and why) and what would be deleted.",
    "env": "Environment (default: lambda_gate.environment).",
    "function": FUNCTION_HELP,
})
@exits
def prune(c, keep=None, dry_run=False, env=None, function=None):
    """Delete published versions no alias uses or may roll back to, beyond the newest
    --keep that passed their smoke tests.

    Never deletes $LATEST, a version an alias sends traffic to (primary or weighted), or
    the first lambda_gate.aliases.keep_history versions of an alias's history (the
    rollback targets). --keep counts only versions a deploy record shows passing, so a
    newest version that failed does not push the last good one out. Reports the
    versions deleted and the code storage freed.
    """
    if keep is None:
        raise ConfigError("pass --keep N: how many of the newest passing versions to keep.")
    keep = pruning.validate_keep(keep)
    settings = settings_from(c, env)
    if is_unit(settings, function):
        return unit.prune(settings, function=function, keep=keep, dry_run=dry_run)
    reporter = Reporter()
    target = _target(settings, reporter)
    function = function_name(settings, target, reporter)
    client = target.session.client("lambda", region_name=target.region,
                                   endpoint_url=target.endpoint_url,
                                   config=pruning.retry_config())
    store = record_store.for_settings(settings, target)
    with reporter.step("prune"):
        result = pruning.prune(client, function, keep,
                               passing=lambda among: store.passing_versions(function, among),
                               keep_history=settings.keep_history, dry_run=dry_run,
                               log=reporter.detail)
    reporter.summary(result.summary(), ok=True)


@task(help={
    "alias": "The merged branch's alias to delete (required).",
    "env": "Environment (default: lambda_gate.environment).",
})
@exits
def cleanup(c, alias=None, env=None):
    """Delete a merged branch's alias; protected aliases are refused.

    The versions it pointed at stay until `invoke prune` removes them.
    """
    if not alias:
        raise ConfigError("pass --alias NAME: the alias of the merged branch to delete.")
    alias = aliases.validate_alias(alias)
    settings = settings_from(c, env)
    if protected(settings, alias):
        raise ConfigError(f"alias {alias} is protected (lambda_gate.aliases.protected) and "
                          "is never deleted by cleanup; nothing was changed.")
    reporter = Reporter()
    target = _target(settings, reporter)
    function = function_name(settings, target, reporter)
    client = target.client("lambda")
    with reporter.step("cleanup"):
        removed = aliases.delete(client, function, alias)
    reporter.summary(f"deleted alias {alias} (it pointed at {aliases.describe(removed)})",
                     ok=True)


def run_canary_promotion(c, settings: Settings, target: AwsTarget,
                         published: publish.Published, alias: str, reporter: Reporter, *,
                         weights: str, interval: str | float | None,
                         smoke_alias: bool, create_alias: bool = False
                         ) -> aliases.AliasChange:
    """``invoke promote --canary``: the checks from the settings, then the canary.

    ``create_alias`` (``--create-alias``) lets a canary onto an alias that does not
    exist yet create it wholly on the version; without it that is refused.
    """
    steps = canary.parse_weights(weights)
    seconds = canary.validate_interval(DEFAULT_INTERVAL if interval is None else interval)
    function = published.function_name
    checks: list[canary.Check] = []
    watch = canary.parse_alarms(settings.alarms, alias=alias, function=function)
    if watch:
        checks.append(canary.alarm_check(target.client("cloudwatch"), watch))
    before = list(checks)  # the smoke tests would only test the old version yet
    if smoke_alias:
        checks.append(_alias_smoke_check(settings, target, published, alias, reporter))
    return canary.run_canary(target.client("lambda"), function, alias, published.version,
                             steps, interval=seconds, checks=checks, before=before,
                             wait=lambda s: reporter.wait(s, "before checking"),
                             log=reporter.detail, create_alias=create_alias)


def _alias_smoke_check(settings: Settings, target: AwsTarget,
                       published: publish.Published, alias: str,
                       reporter: Reporter) -> canary.Check:
    alias_arn = f"{published.qualified_arn.rsplit(':', 1)[0]}:{alias}"
    runs = iter(range(1, 1_000))

    def check() -> str | None:
        junit = settings.reports_dir / f"smoke-{alias}-canary-{next(runs)}.xml"
        result = smoke.run_smoke([settings.smoke_path], alias_arn, junit=junit,
                                 env=target.env, cwd=settings.root,
                                 extra=settings.smoke_args, log=reporter.detail,
                                 allow_alias=True, timeout=settings.smoke_timeout)
        if result.timed_out_after is not None:
            return f"the smoke tests against {alias} timed out"
        if result.exit_code != 0 or result.passed == 0:
            failed = ", ".join(result.failed_tests[:3]) or f"pytest exited {result.exit_code}"
            return f"the smoke tests against {alias} failed ({failed})"
        return None

    return check
