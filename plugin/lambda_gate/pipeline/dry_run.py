"""``invoke deploy --dry-run``: the plan and the alias change a deploy would make."""

from __future__ import annotations

import os

from .. import aliases, records
from ..aws import AwsTarget
from ..errors import TerraformError
from ..publish import (
    OutputNames,
    TerraformOutputs,
    check_configuration,
    inputs_fingerprint,
    plan_guard,
    terraform_for,
    unchanged_outputs,
)
from ..report import Reporter
from ..settings import Settings
from .steps import protected


def dry_run_step(settings: Settings, target: AwsTarget, reporter: Reporter,
                 record: records.DeployRecord, *, full: bool = False,
                 allow_replace: bool = False) -> None:
    """Show the plan and the alias change a deploy would make; change nothing.

    Saves a ``terraform plan`` (never applies it), reads it as the plan guard does and
    prints what it would do as a short table; reads the alias; publishes no version,
    writes no alias, and leaves a record with outcome ``dry-run`` that vouches for no
    version. The summary follows what a deploy would do: when nothing changed since the
    last apply a deploy skips terraform, so a plan that only shows drift publishes
    nothing; a plan that replaces the function is said to, never "would publish".
    """
    alias = record.alias
    assert alias is not None and record.artifact_sha256 is not None
    names = OutputNames.from_settings(settings.terraform.outputs)
    with reporter.step("plan"):
        check_configuration(settings, reporter)
        tf = terraform_for(settings, target, reporter, settings.build.artifact)
        planfile = tf.data_dir / f"lambda-gate-dry-run-{os.getpid()}.tfplan"
        try:
            plan = tf.plan(out=planfile)
            planned = tf.show_plan(planfile) if plan.changes else {}
        finally:
            planfile.unlink(missing_ok=True)
        changes = plan_guard.changes(planned)
        dangers = plan_guard.dangers(planned)
        for line in plan_guard.table(changes):
            reporter.detail(line)
        try:
            outputs: TerraformOutputs | None = tf.outputs(names)
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
    if dangers and skipped is None:
        allowed = allow_replace or settings.terraform.allow_replace
        summary = "; ".join(d.line() for d in dangers) + (
            "; a deploy would do that, as allowed" if allowed else
            "; a deploy refuses that without --allow-replace")
    else:
        publishes = any(c.type == "aws_lambda_function" and c.action in ("create", "update")
                        for c in changes)
        summary = dry_run_summary(alias, changes=plan.changes and skipped is None,
                                  alias_version=record.alias_before,
                                  deployed_version=outputs.version if outputs else None,
                                  publishes=publishes or not changes)
    if protected(settings, alias) and not summary.startswith(("no change", "no new")):
        summary += f"; {alias} is protected, so promotion also needs approval"
    reporter.summary(f"dry run: {summary}. Nothing was changed.", ok=True)


def configured_function(settings: Settings) -> str | None:
    """The function's name as configured, for when no apply has recorded it yet."""
    return settings.terraform.vars.get("function_name") or settings.function.name


def dry_run_summary(alias: str, *, changes: bool, alias_version: str | None,
                    deployed_version: str | None, publishes: bool = True) -> str:
    """What a deploy would do to ``alias``, from the plan and the alias as it is.

    A plan with changes publishes a version whose number Lambda assigns only at apply,
    so the summary cannot name it; a plan whose changes leave the function alone
    (``publishes`` false) publishes none.
    """
    if changes and not publishes and deployed_version is not None:
        if alias_version == deployed_version:
            return (f"no new version: the plan changes other resources only; {alias} "
                    f"stays at {deployed_version}")
        return (f"the plan changes other resources only, then {alias} would move to "
                f"version {deployed_version} after the smoke tests")
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
