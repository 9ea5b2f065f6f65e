"""The pipeline's steps as tasks: build, plan, apply, smoke, promote and deploy."""

from __future__ import annotations

import os

from invoke import task

from .. import aliases, git, publish, record_store, records
from ..errors import Error, GateClosed
from ..pipeline.deploy import DeployOptions
from ..pipeline.deploy import deploy as run_deploy
from ..pipeline.evidence import expected_code, last_applied_version
from ..pipeline.moves import check_promotion_order, record_move
from ..pipeline.steps import (
    build_step,
    existing_artifact,
    require_approval,
    save_record,
    smoke_step,
    terminal_confirm,
)
from ..pipeline.targets import aws_target, deploying_branch, function_name
from ..publish import plan_guard
from ..report import Reporter
from ..settings import Settings
from ..smoke import evaluate
from . import unit
from ._common import exits, is_unit, settings_from

__all__ = ["build", "plan", "apply", "smoke", "promote", "deploy"]


FUNCTION_HELP = "Only this function of a service (a key of lambda_gate.functions)."


@task(help={"force": "Rebuild even when every input is unchanged (ignore the build cache).",
            "function": FUNCTION_HELP})
@exits
def build(c, force=False, function=None):
    """Build the function's zip, byte-for-byte reproducible.

    Honours lambda_gate.function.* (source_dir, runtime, handler, architecture) and
    lambda_gate.build.* (artifact, requirements, command, output_dir, exclude); with
    lambda_gate.functions, builds every function (two at a time).
    """
    settings = settings_from(c)
    if is_unit(settings, function):
        return unit.build(settings, function, force)
    result = build_step(settings, Reporter(), force=force)
    print(f"{result.path} {result.code_sha256}")


@task(help={
    "env": "Environment to plan for (default: lambda_gate.environment).",
    "adopt_state": "Plan this configuration onto a state another configuration made.",
})
@exits
def plan(c, env=None, adopt_state=False):
    """Show the terraform plan for the built artifact, and a table of it; changes nothing."""
    settings = settings_from(c, env)
    if is_unit(settings, None):
        return unit.plan(settings)
    reporter = Reporter(verbose=True)  # the plan is what was asked for: all of it
    publish.check_configuration(settings, reporter)
    publish.check_state_origin(settings, adopt=adopt_state)
    target = aws_target(settings, reporter)
    existing_artifact(settings)
    tf = publish.terraform_for(settings, target, reporter, settings.build.artifact)
    with reporter.step("plan"):
        planfile = tf.data_dir / f"lambda-gate-plan-{os.getpid()}.tfplan"
        try:
            result = tf.plan(out=planfile)
            planned = tf.show_plan(planfile) if result.changes else {}
        finally:
            planfile.unlink(missing_ok=True)
        for line in plan_guard.table(plan_guard.changes(planned)):
            reporter.detail(line)
        for danger in plan_guard.dangers(planned):
            reporter.warn(f"an apply refuses this without --allow-replace: {danger.line()}")
    reporter.summary("plan: changes pending" if result.changes else "plan: no changes", True)


@task(help={
    "env": "Environment to apply to (default: lambda_gate.environment).",
    "full": "Run terraform even when nothing changed since the last successful apply.",
    "verbose": "Show all of terraform's output (by default: the resources it changes, its waits).",
    "allow_replace": "Let the plan replace or destroy the function, an alias or its role.",
    "adopt_state": "Apply this configuration onto a state another configuration made.",
    "import_function": "Import a function Lambda already has but terraform's state lacks "
                       "(after an apply killed during the first create), instead of stopping.",
})
@exits
def apply(c, env=None, full=False, verbose=False, allow_replace=False, adopt_state=False,
          import_function=False):
    """Publish the built artifact as a new numbered version with terraform.

    Skips terraform when the artifact and every terraform input are unchanged since the
    last successful apply and Lambda confirms it (--full forces it). Applies a saved
    plan, which is refused when it replaces or destroys the function, an alias or the
    role it runs with, unless --allow-replace (lambda_gate.terraform.allow_replace) or
    a yes on the terminal.
    """
    settings = settings_from(c, env)
    if is_unit(settings, None):
        return unit.apply(settings, full)
    reporter = Reporter(verbose=verbose)
    publish.check_configuration(settings, reporter)
    target = aws_target(settings, reporter)
    sha = existing_artifact(settings)
    published = publish.apply_step(settings, target, reporter, artifact_sha=sha, full=full,
                                   allow_replace=allow_replace, adopt_state=adopt_state,
                                   confirm=terminal_confirm,
                                   import_function=import_function)
    reporter.summary(f"version {published.version}: {published.qualified_arn}", ok=True)


@task(help={
    "env": "Environment (default: lambda_gate.environment).",
    "version": "Version to test (default: the one the last apply published).",
    "function": FUNCTION_HELP,
})
@exits
def smoke(c, env=None, version=None, function=None):
    """Run the smoke tests (lambda_gate.smoke.path) against one unaliased version."""
    settings = settings_from(c, env)
    if is_unit(settings, function):
        return unit.smoke(settings, function, version)
    reporter = Reporter()
    target = aws_target(settings, reporter, start_local=False)
    store = record_store.for_settings(settings, target)
    published = _published(settings, target, version)
    artifact = expected_code(settings, store, published)
    if artifact.code_sha256 != published.code_sha256:
        raise GateClosed(
            f"version {published.version} runs CodeSha256 {published.code_sha256}, but "
            f"{artifact.source} is {artifact.code_sha256}: testing it would vouch for code "
            f"this job did not build. Nothing was tested or recorded. Test the version "
            "that published this build (`invoke apply` prints it), or build the commit "
            "that published this version.")
    result = smoke_step(settings, target, published, reporter)
    decision = evaluate(result, published_arn=published.qualified_arn,
                        published_version=published.version,
                        artifact_code_sha256=artifact.code_sha256,
                        live_code_sha256=published.code_sha256)
    if not decision.open:
        raise GateClosed(decision.reason)
    rec = records.DeployRecord(environment=settings.environment.name,
                               function=published.function_name, version=published.version,
                               qualified_arn=published.qualified_arn,
                               code_sha256=published.code_sha256,
                               artifact_sha256=artifact.code_sha256,
                               tests_passed=result.passed,
                               tests_skipped=result.skipped, smoke_passed=True,
                               outcome="tested", durations=dict(reporter.durations))
    rec.git_commit = git.git_commit(settings.root)
    rec.git_branch = deploying_branch(settings)
    save_record(settings, rec, target)
    reporter.summary(decision.reason, ok=True)


def _published(settings: Settings, target, version: str | None) -> publish.Published:
    if version is None:
        version = last_applied_version(settings, record_store.for_settings(settings, target))
        if version is None:
            raise Error(f"no apply recorded for environment {settings.environment.name!r}: "
                        "run `invoke apply` (or `invoke deploy`) first, or pass --version.")
    version = str(version)
    if not (version.isascii() and version.isdigit()):  # isdigit alone takes "٣"
        raise Error(f"--version {version!r} is not a version number.", exit_code=2)
    function = function_name(settings, target)
    client = target.client("lambda")
    sha = publish.live_code_sha256(client, function, version)
    if sha is None:
        raise Error(f"version {version} of {function} does not exist.", exit_code=2)
    arn = client.get_function_configuration(FunctionName=function,
                                            Qualifier=version)["FunctionArn"]
    return publish.Published(function, version, arn, sha, applied=False)


@task(help={
    "version": "Version to promote (default: the one the last apply published; on a "
               "machine that applied nothing, the one this commit's smoke run passed).",
    "alias": "Alias to move (default: named after the git branch).",
    "env": "Environment (default: lambda_gate.environment).",
    "approve": "Approve moving a protected alias (CI's manual approval step).",
    "force": "Promote even when no deploy record shows the version passed its smoke tests, "
             "or the alias was rolled back from it.",
    "allow_older": "Move the alias to a version older than the one it serves (prefer "
                   "`invoke rollback --to N`).",
    "canary": "Shift traffic in steps first, e.g. 10,50 (percent to the new version).",
    "interval": "Seconds to wait after each canary step before its checks (default 60).",
    "smoke_alias": "After each canary step, also run the smoke tests against the alias.",
    "create_alias": "With --canary: if the alias does not exist yet, create it pointing "
                    "wholly at the version (there is no old version to keep traffic on); "
                    "without it such a canary is refused.",
    "function": FUNCTION_HELP,
})
@exits
def promote(c, version=None, alias=None, env=None, approve=False, force=False,
            canary=None, interval=None, smoke_alias=False, create_alias=False,
            function=None, allow_older=False):
    """Move the alias to exactly one version, guarded by its RevisionId.

    Refuses a version that no deploy record shows passing its smoke tests, or one the
    alias was rolled back from, unless --force; refuses a version older than the one the
    alias serves, which a late promote would silently step back to, unless --allow-older
    (or `invoke rollback --to N`). A protected alias (lambda_gate.aliases.protected)
    needs --approve or a yes on the terminal. With --canary, the CloudWatch alarms in
    lambda_gate.aliases.alarms are checked after each step; one in ALARM sends all
    traffic back to the old version. A canary onto an alias that does not exist yet is
    refused unless --create-alias.
    """
    if canary is not None:
        from ..aliases import canary as canaries

        canaries.parse_weights(canary)  # a bad --canary changes nothing
        canaries.validate_interval(60 if interval is None else interval)
    settings = settings_from(c, env)
    if is_unit(settings, function):
        return unit.promote(c, settings, alias=alias, function=function, version=version,
                            approve=approve, force=force, weights=canary,
                            interval=interval, smoke_alias=smoke_alias,
                            create_alias=create_alias)
    reporter = Reporter()
    alias = aliases.resolve_alias(alias, cwd=settings.root)
    target = aws_target(settings, reporter, start_local=False)
    store = record_store.for_settings(settings, target)
    if version is None and not settings.last_apply_path.exists():
        version = _tested_version_of_this_commit(settings, target, store)
    published = _published(settings, target, version)
    if not force:
        _require_evidence(store, published)
    client = target.client("lambda")
    current = aliases.get_alias(client, published.function_name, alias)
    check_promotion_order(settings, target, published.function_name, current,
                          published.version, allow_older=allow_older,
                          allow_rolled_back=force)
    if canary is not None:  # before approval: nobody approves a canary that cannot start
        canaries.require_old_version(client, published.function_name,
                                     alias, published.version, create_alias=create_alias)
    require_approval(settings, alias, published.version, approve=approve,
                     confirm=terminal_confirm)
    with reporter.step("promote"):
        if canary is not None:
            from .lifecycle import run_canary_promotion

            change = run_canary_promotion(c, settings, target, published, alias, reporter,
                                          weights=canary, interval=interval,
                                          smoke_alias=smoke_alias,
                                          create_alias=create_alias)
        else:
            change = aliases.promote(client, published.function_name, alias,
                                     published.version, expected=current)
    if change.before != change.after:
        record_move(settings, target, reporter, function=published.function_name,
                    change=change, outcome="promoted", code_sha256=published.code_sha256,
                    qualified_arn=published.qualified_arn)
    summary = change.summary()
    if canary is not None and change.created:
        summary += " " + canaries.CREATED_NOTE
    reporter.summary(summary, ok=True)


def _tested_version_of_this_commit(settings: Settings, target,
                                   store: record_store.RecordStore) -> str | None:
    """On a machine that applied nothing: the version this commit's smoke run passed."""
    commit = git.git_commit(settings.root)
    if commit is None:
        return None
    record = store.passing_for_commit(function_name(settings, target), commit)
    return record.version if record else None


def _require_evidence(store: record_store.RecordStore, published: publish.Published) -> None:
    """A record of a passing smoke run of exactly this code, or no promotion."""
    where = store.url or str(store.directory)
    record = store.passing(published.function_name, published.version)
    if record is None:
        raise Error(f"no deploy record shows version {published.version} passed its smoke "
                    f"tests (looked in {where}): run `invoke smoke --version N` first, or "
                    "pass --force.")
    if record.code_sha256 != published.code_sha256:
        raise Error(f"the record of version {published.version}'s smoke run ({where}) shows "
                    f"CodeSha256 {record.code_sha256}, but the version has "
                    f"{published.code_sha256}: the tested code is not the code this version "
                    "runs. Test it again (`invoke smoke --version N`), or pass --force.")


@task(help={
    "alias": "Alias to move (default: named after the git branch).",
    "env": "Environment to deploy to (default: lambda_gate.environment, 'local').",
    "approve": "Approve moving a protected alias (also lambda_gate.aliases.approve).",
    "full": "Run terraform even when nothing changed since the last successful apply.",
    "force_build": "Rebuild the package even when the build cache is current.",
    "dry_run": "Build and show the terraform plan and the alias change; change nothing.",
    "verbose": "Show all of terraform's output (by default: the resources it changes, its waits).",
    "function": FUNCTION_HELP + " Every function is built and applied; this one is "
                "tested and promoted.",
    "retest": "Test (and promote) every function, also those whose alias is current.",
    "allow_replace": "Let the plan replace or destroy the function, an alias or its role.",
    "adopt_state": "Apply this configuration onto a state another configuration made.",
    "import_function": "Import a function Lambda already has but terraform's state lacks "
                       "(after an apply killed during the first create), instead of stopping.",
    "force": "Promote even a version the alias was rolled back from (`invoke rollback`).",
})
@exits
def deploy(c, alias=None, env=None, approve=False, full=False, force_build=False,
           dry_run=False, verbose=False, function=None, retest=False, allow_replace=False,
           adopt_state=False, import_function=False, force=False):
    """Build, apply, smoke-test the new version, and promote the alias if it passed.

    The alias moves only when the smoke run exited 0, at least one test passed, the
    version tested is the one terraform just published and its CodeSha256 is the built
    artifact's. Otherwise the version is left published but unaliased. --dry-run stops
    after the build: it shows the plan and what would happen to the alias. terraform's
    output is condensed to the resources it changes and its waits (--verbose shows all
    of it; the whole of it is kept under the state dir's env/<name>/logs/). The
    configuration is checked before anything is built; a plan that replaces or destroys
    the function, an alias or its role is refused unless --allow-replace.
    """
    settings = settings_from(c, env)
    reporter = Reporter(verbose=verbose)
    options = DeployOptions(alias=alias, approve=approve, full=full,
                            force_build=force_build, dry_run=dry_run,
                            allow_replace=allow_replace, adopt_state=adopt_state,
                            import_function=import_function, force=force)
    if is_unit(settings, function):
        return unit.deploy(settings, options, reporter, function=function, retest=retest)
    run_deploy(settings, options, reporter)  # it prints the summary; exits() the error


