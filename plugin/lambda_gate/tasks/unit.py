"""What each task does for a service of several functions (``lambda_gate.functions``).

The tasks in :mod:`.steps` and :mod:`.lifecycle` call these when the settings
configure a unit, so one command line serves both; ``--function KEY`` limits a task to
one function. Errors are left to the calling task's :func:`~._common.exits`.
"""

from __future__ import annotations

import json

from .. import aliases, publish, record_store, records
from ..aliases import canary
from ..aliases import prune as pruning
from ..aliases import status as status_report
from ..aliases.unit import (
    Move,
    previous_set,
    promote_unit,
    require_old_versions,
    run_unit_canary,
)
from ..aws import AwsTarget
from ..build import code_sha256
from ..build.service import build_service
from ..errors import ConfigError, Error, GateClosed
from ..functions import select
from ..pipeline.deploy import DeployOptions
from ..pipeline.steps import require_approval, terminal_confirm
from ..pipeline.targets import aws_target
from ..pipeline.unit import UnitOptions, deploy_unit, plan_unit, require_unit_approval
from ..pipeline.unit_steps import prefixed, save_unit_records, smoke_all
from ..publish.unit import apply_unit, last_versions
from ..report import Reporter
from ..settings import ServiceFunction, Settings
from ..smoke import evaluate


def names(settings: Settings, chosen: tuple[ServiceFunction, ...]) -> dict[str, str]:
    """Each function's name: the environment's last apply, else its configured name."""
    applied = last_versions(settings)
    found = {}
    for fn in chosen:
        name = (applied.get(fn.key) or {}).get("function_name") or fn.function.name
        if not name:
            raise ConfigError(
                f"no name for function {fn.key!r} in environment "
                f"{settings.environment.name!r}: no apply is recorded there and "
                f"lambda_gate.functions.{fn.key}.name is not set. Run `invoke apply`, or "
                "set the name."
            )
        found[fn.key] = str(name)
    return found


def build(settings: Settings, function: str | None, force: bool) -> None:
    reporter = Reporter()
    with reporter.step("build"):
        results = build_service(select(settings.functions, function), force=force,
                                log=reporter.detail)
    for key, result in results.items():
        print(f"{key} {result.path} {result.code_sha256}")


def _artifact_shas(settings: Settings) -> dict[str, str]:
    shas = {}
    for fn in settings.functions:
        if not fn.build.artifact.is_file():
            raise ConfigError(f"no artifact for {fn.key} at {fn.build.artifact}: run "
                              "`invoke build` first (it builds every function).")
        shas[fn.key] = code_sha256(fn.build.artifact)
    return shas


def plan(settings: Settings) -> None:
    reporter = Reporter()
    target = aws_target(settings, reporter)
    _artifact_shas(settings)
    changes = plan_unit(settings, target, reporter)
    reporter.summary("plan: changes pending" if changes else "plan: no changes", True)


def apply(settings: Settings, full: bool) -> None:
    reporter = Reporter()
    target = aws_target(settings, reporter)
    published = apply_unit(settings, target, reporter, shas=_artifact_shas(settings),
                           full=full)
    where = ", ".join(f"{key} {pub.version}" for key, pub in published.items())
    reporter.summary(f"versions: {where}", ok=True)


def _published(settings: Settings, target: AwsTarget, chosen: tuple[ServiceFunction, ...],
               version: str | None) -> dict[str, publish.Published]:
    """The versions a task works on: the last apply's, or ``--version`` of one function."""
    if version is not None and len(chosen) != 1:
        raise ConfigError("--version names one function's version: pass --function KEY "
                          "with it.")
    applied = last_versions(settings)
    client = target.client("lambda")
    found = {}
    for fn, name in zip(chosen, names(settings, chosen).values(), strict=True):
        number = str(version or (applied.get(fn.key) or {}).get("version") or "")
        if not number.isdigit():
            raise ConfigError(f"no version of {fn.key} to work on: run `invoke apply` (or "
                              "`invoke deploy`) first, or pass --function KEY --version N.")
        sha = publish.live_code_sha256(client, name, number)
        if sha is None:
            raise ConfigError(f"version {number} of {name} ({fn.key}) does not exist.")
        arn = client.get_function_configuration(FunctionName=name,
                                                Qualifier=number)["FunctionArn"]
        found[fn.key] = publish.Published(name, number, arn, sha, applied=False)
    return found


def smoke(settings: Settings, function: str | None, version: str | None) -> None:
    reporter = Reporter()
    target = aws_target(settings, reporter, start_local=False)
    chosen = select(settings.functions, function)
    published = _published(settings, target, chosen, version)
    results = smoke_all(settings, target, reporter, chosen, published, {})
    recs, closed = {}, []
    for fn in chosen:
        pub, result = published[fn.key], results[fn.key]
        decision = evaluate(result, published_arn=pub.qualified_arn,
                            published_version=pub.version,
                            artifact_code_sha256=pub.code_sha256,
                            live_code_sha256=pub.code_sha256)
        if not decision.open:
            closed.append(f"{fn.key}: {decision.reason}")
            continue
        recs[fn.key] = records.DeployRecord(
            environment=settings.environment.name, function=pub.function_name,
            version=pub.version, qualified_arn=pub.qualified_arn,
            code_sha256=pub.code_sha256, tests_passed=result.passed,
            tests_skipped=result.skipped, smoke_passed=True, outcome="tested",
            function_key=fn.key, durations=dict(reporter.durations))
    save_unit_records(settings, recs)
    if closed:
        raise GateClosed("; ".join(closed))
    reporter.summary("; ".join(f"{key}: version {published[key].version} passed"
                               for key in recs), ok=True)


def promote(c, settings: Settings, *, alias: str | None, function: str | None,
            version: str | None, approve: bool, force: bool, weights: str | None,
            interval, smoke_alias: bool, create_alias: bool = False) -> None:
    if smoke_alias:
        raise ConfigError("--smoke-alias is not available for a service of several "
                          "functions yet: watch the canary with alarms "
                          "(lambda_gate.aliases.alarms).")
    reporter = Reporter()
    alias = aliases.resolve_alias(alias, cwd=settings.root)
    target = aws_target(settings, reporter, start_local=False)
    chosen = select(settings.functions, function)
    published = _published(settings, target, chosen, version)
    client = target.client("lambda")
    moves = []
    for fn in chosen:
        pub = published[fn.key]
        if not force and records.passing_record(settings.records_dir, pub.function_name,
                                                pub.version) is None:
            raise Error(f"no deploy record shows version {pub.version} of {fn.key} passed "
                        "its smoke tests: run `invoke smoke` first, or pass --force.")
        current = aliases.get_alias(client, pub.function_name, alias)
        if current is None or current.version != pub.version or current.weights:
            moves.append(Move(fn.key, pub.function_name, pub.version, current))
    if not moves:
        reporter.summary(f"{alias} already at the last apply's versions: nothing to "
                         "promote", ok=True)
        return
    if weights is not None:  # before approval: nobody approves a canary that cannot start
        require_old_versions(alias, moves, create_alias=create_alias)
    require_unit_approval(settings, alias, approve=approve, confirm=terminal_confirm)
    with reporter.step("promote"):
        log = prefixed(reporter.detail, None)
        if weights is None:
            changes = promote_unit(client, alias, moves, log=log)
        else:
            from .lifecycle import DEFAULT_INTERVAL

            checks = []
            for m in moves:
                watch = canary.parse_alarms(settings.alarms, alias=alias, function=m.function)
                if watch:
                    checks.append(canary.alarm_check(target.client("cloudwatch"), watch))
            seconds = canary.validate_interval(DEFAULT_INTERVAL if interval is None
                                               else interval)
            changes = run_unit_canary(client, alias, moves, canary.parse_weights(weights),
                                      interval=seconds, checks=checks, log=log,
                                      create_alias=create_alias)
    moved = ", ".join(_moved(m.key, c, in_canary=weights is not None)
                      for m, c in zip(moves, changes, strict=True))
    reporter.summary(f"promoted {alias} as a unit: {moved}", ok=True)


def _moved(key: str, change: aliases.AliasChange, *, in_canary: bool) -> str:
    """One function's part of the summary; a canary says which alias it created whole."""
    note = f" {canary.CREATED_NOTE}" if in_canary and change.created else ""
    return f"{key} {change.before or 'new'} -> {change.after}{note}"


def deploy(settings: Settings, options: DeployOptions, reporter: Reporter, *,
           function: str | None, retest: bool) -> None:
    """It prints the summary line; the task's exits() prints the error."""
    deploy_unit(settings, options, reporter, unit=UnitOptions(function=function,
                                                              retest=retest))


def rollback(settings: Settings, *, alias: str | None, function: str | None,
             to: str | None, approve: bool) -> None:
    reporter = Reporter()
    alias = aliases.resolve_alias(alias, cwd=settings.root)
    chosen = select(settings.functions, function)
    by_key = names(settings, chosen)
    client = aws_target(settings, reporter, start_local=False).client("lambda")
    if function is not None:  # one function: its alias's own history, as always
        name = by_key[function]
        _, target_version = aliases.rollback_target(client, name, alias, to)
        require_approval(settings, alias, target_version, approve=approve,
                         confirm=terminal_confirm)
        with reporter.step("rollback"):
            change = aliases.rollback(client, name, alias, to)
        reporter.summary(f"rolled back {alias} of {function}: {change.before} -> "
                         f"{change.after}", ok=True)
        return
    if to is not None:
        raise ConfigError("--to names one function's version: pass --function KEY with it.")
    states = {key: aliases.get_alias(client, name, alias) for key, name in by_key.items()}
    live = {key: state.version if state else None for key, state in states.items()}
    deploy_id, versions = previous_set(records.load_all(settings.records_dir), alias, live)
    moves = [Move(key, by_key[key], version, states[key])
             for key, version in versions.items()]
    require_unit_approval(settings, alias, approve=approve, confirm=terminal_confirm)
    with reporter.step("rollback"):
        reporter.detail(f"undoing deploy {deploy_id}")
        changes = promote_unit(client, alias, moves, log=prefixed(reporter.detail, None),
                               rollback=True)
    moved = ", ".join(f"{m.key} {c.before} -> {c.after}"
                      for m, c in zip(moves, changes, strict=True))
    reporter.summary(f"rolled back {alias} as a unit: {moved}", ok=True)


def status(settings: Settings, *, function: str | None, as_json: bool) -> None:
    reporter = Reporter()
    chosen = select(settings.functions, function)
    client = aws_target(settings, reporter, start_local=False).client("lambda")
    found = {key: status_report.gather(client, name, settings.environment.name)
             for key, name in names(settings, chosen).items()}
    if as_json:
        print(json.dumps({"schema": status_report.SCHEMA,
                          "environment": settings.environment.name,
                          "functions": {key: s.as_json() for key, s in found.items()}},
                         indent=2, sort_keys=True))
        return
    print("\n".join(f"[{key}] {s.as_text()}" for key, s in found.items()))


def prune(settings: Settings, *, function: str | None, keep: int, dry_run: bool) -> None:
    reporter = Reporter()
    target = aws_target(settings, reporter, start_local=False)
    client = target.session.client("lambda", region_name=target.region,
                                   endpoint_url=target.endpoint_url,
                                   config=pruning.retry_config())
    store = record_store.for_settings(settings, target)
    summaries = []
    with reporter.step("prune"):
        for key, name in names(settings, select(settings.functions, function)).items():
            result = pruning.prune(
                client, name, keep, keep_history=settings.keep_history, dry_run=dry_run,
                passing=lambda among, name=name: store.passing_versions(name, among),
                log=prefixed(reporter.detail, key))
            summaries.append(f"{key}: {result.summary()}")
    reporter.summary("; ".join(summaries), ok=True)
