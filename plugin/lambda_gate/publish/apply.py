"""The apply step: publish the built artifact as a numbered version with terraform.

Before terraform runs, the configuration is checked (:mod:`.preflight`) and so is the
state's origin (:mod:`.state_origin`); terraform then applies a saved plan the plan
guard (:mod:`.plan_guard`) has read. An apply is skipped when nothing it depends on
changed since the last successful one, as AWS shows it (:mod:`.noop`), because an
unchanged package must publish nothing and a no-op deploy should cost a second, not
terraform's ten, on any machine.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from .. import record_store
from ..aws import AwsTarget
from ..errors import LambdaApiError, StaleLock, StateLocked, TerraformError
from ..report import Reporter
from ..settings import Settings
from . import local_backend, noop, plan_guard, unmanaged
from .converge import converge
from .outputs import OutputNames
from .preflight import check_configuration
from .state_lock import LockWatch
from .state_origin import check_state_origin, record_state_origin
from .terraform import StalePlan, Terraform, TerraformOutputs


@dataclass(frozen=True)
class Published:
    """The numbered version an apply published (or left in place), as Lambda has it."""

    function_name: str
    version: str
    qualified_arn: str
    code_sha256: str
    applied: bool


def working_dir(settings: Settings) -> Path:
    """Where terraform runs: the configuration, or its copy with a local backend."""
    if local_backend.overrides_backend(settings):
        return local_backend.prepare(settings.terraform.dir,
                                     settings.env_state_dir / "tf-config")
    return settings.terraform.dir


def terraform_for(settings: Settings, target: AwsTarget, reporter: Reporter,
                  artifact: Path, *, variables: Mapping[str, str] | None = None) -> Terraform:
    """terraform for the environment, given the artifact; ``variables`` replace the
    single function's (artifact_path, runtime, handler, architecture) when set."""
    config_dir = working_dir(settings)
    env = dict(target.env)
    env.update(noop.IGNORE_TAGS_ENV)
    tf_vars = dict(variables) if variables is not None else {
        # Relative to terraform's working directory: the state records it as given, and
        # a clone at another path must plan no change.
        "artifact_path": os.path.relpath(artifact, config_dir),
        "runtime": settings.function.runtime,
        "handler": settings.function.handler,
        "architecture": settings.function.architecture,
    }
    tf_vars.update(settings.terraform.vars)
    if settings.function.name and variables is None:
        tf_vars.setdefault("function_name", settings.function.name)
    env.update({f"TF_VAR_{k}": v for k, v in tf_vars.items()})
    environment = settings.environment
    data_dir = settings.env_state_dir / "tf-data"
    state_path = None if environment.backend_config else settings.state_path
    return Terraform(
        config_dir,
        data_dir=data_dir,
        binary=settings.terraform.binary,
        env=env,
        plugin_dir=settings.terraform.plugin_dir,
        state_path=state_path,
        backend_config=environment.backend_config,
        var_files=environment.var_files,
        color=reporter.color,
        log=reporter.detail,
        verbose=reporter.verbose,
        log_dir=settings.env_state_dir / "logs",
        timeout=settings.terraform.timeout,
        lock_timeout=settings.terraform.lock_timeout,
        lock_watch=LockWatch(data_dir, state_path, env, environment.name,
                             stale_after=settings.terraform.stale_lock_after),
    )


#: Files terraform or its users leave in a configuration directory that are not inputs:
#: state (ours lives elsewhere), its lock and backups, plans, crash logs, the lock file
#: that the first init writes.
_VOLATILE = (".tfstate", ".tfstate.backup", ".tfplan", ".lock.info", ".terraform.lock.hcl",
             "crash.log")


def inputs_fingerprint(settings: Settings, artifact_sha: str,
                       tf_vars: Mapping[str, str]) -> str:
    """Everything an apply depends on, so an unchanged deploy can skip terraform.

    The configuration directory's files (a ``file()`` may read any of them), the
    environment's tfvars and state location, and every ``TF_VAR_`` value terraform would
    get (``tf_vars``, from :meth:`Terraform.input_variables`). Nothing volatile: no state,
    no timestamps, no endpoint URL, and paths relative to the repository, so an unchanged
    deploy has an unchanged fingerprint on every machine. Values are hashed, never stored.
    """
    digest = hashlib.sha256()
    tf_dir = settings.terraform.dir
    for path in sorted(tf_dir.rglob("*")):
        relative = path.relative_to(tf_dir)
        if (not path.is_file() or path.name.endswith(_VOLATILE)
                or any(part in (".terraform", "terraform.tfstate.d")
                       for part in relative.parts[:-1])):
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    env = settings.environment
    for path in env.var_files:
        digest.update(b"var-file\0" + (path.read_bytes() if path.is_file() else b"missing"))
    if env.backend_config is not None:
        digest.update(b"backend\0" + (env.backend_config.read_bytes()
                                        if env.backend_config.is_file() else b"missing"))
    digest.update(json.dumps({
        "artifact": artifact_sha,
        "tf_vars": dict(tf_vars),
        "env": [env.name, env.region, env.profile, env.role_arn,
                _portable(settings, env.backend_config or settings.state_path),
                [_portable(settings, p) for p in env.var_files]],
    }, sort_keys=True).encode())
    return digest.hexdigest()


def _portable(settings: Settings, path: Path) -> str:
    """``path`` as the same on every clone: relative to the repository when inside it."""
    try:
        return str(path.relative_to(settings.root))
    except ValueError:
        return str(path)


def live_code_sha256(client, function: str, qualifier: str) -> str | None:
    try:
        config = client.get_function_configuration(FunctionName=function, Qualifier=qualifier)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise LambdaApiError(f"cannot read {function}:{qualifier}: {exc}") from None
    return config.get("CodeSha256")


def unchanged_outputs(settings: Settings, target: AwsTarget, fingerprint: str,
                      artifact_sha: str) -> TerraformOutputs | None:
    """The last apply's outputs when nothing changed since, as AWS shows it; else None.

    The function is looked for under the names this machine knows (its last apply, the
    settings): a fresh clone has no memory of its own, and needs none.
    """
    return noop.unchanged_in_aws(target.client("lambda"), function_candidates(settings),
                                 fingerprint, artifact_sha)


def function_candidates(settings: Settings) -> list[str]:
    """The names the environment's function may have, without asking terraform."""
    names = [settings.function.name or "", settings.terraform.vars.get("function_name", "")]
    try:
        names.insert(0, json.loads(settings.last_apply_path.read_text())
                     ["outputs"]["function_name"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return [str(name) for name in names if name]


def _latest_modified(client, function: str) -> str | None:
    try:
        return client.get_function_configuration(FunctionName=function).get("LastModified")
    except ClientError:
        return None


def run_apply(tf: Terraform, target: AwsTarget, reporter: Reporter, *,
              settings: Settings, before: Callable[[], None] | None = None,
              allow_replace: bool = False,
              confirm: Callable[[str], bool] | None = None,
              after_init: Callable[[], None] | None = None) -> bool:
    """The guarded apply (:func:`guarded_apply`), its time in the durations.

    ``before`` runs first; the Lambda client is made in the background meanwhile.
    ``after_init`` runs once terraform is initialised, just before the plan.
    Returns whether anything was applied.
    """
    if before is not None:
        before()
    target.warm("lambda")
    tf.ensure_init()  # an init failure is not an apply that stopped half way
    if after_init is not None:
        after_init()
    try:
        return guarded_apply(settings, tf, reporter, allow_replace=allow_replace,
                             confirm=confirm)
    finally:
        reporter.durations["terraform"] = round(tf.seconds, 3)


def guarded_apply(settings: Settings, tf: Terraform, reporter: Reporter, *,
                  allow_replace: bool = False,
                  confirm: Callable[[str], bool] | None = None) -> bool:
    """Plan to a file, let the plan guard read it, then apply exactly that plan.

    Returns whether anything was applied: a plan without changes is not applied at
    all. Only a plan that destroys something (its summary counts replacements too) is
    read as JSON, which costs a provider start; creates and in-place updates cannot be
    dangerous. The saved plan holds the function's settings in the clear, so it is
    removed once applied or refused.

    terraform holds the state lock for the plan and again for the apply, not in between:
    a run that applied meanwhile makes the saved plan stale, and terraform refuses it.
    Then the plan is made again from the new state (and read by the guard again), a few
    times at most.
    """
    attempt = 1
    while True:
        try:
            return _plan_and_apply(settings, tf, reporter, allow_replace=allow_replace,
                                   confirm=confirm)
        except StalePlan:
            if attempt == _PLAN_ATTEMPTS:
                raise
            attempt += 1
            reporter.detail("another run applied to this state after the plan was made: "
                            "planning again from the state it left")


#: How many plans an apply makes at most when other runs keep applying in between.
_PLAN_ATTEMPTS = 3


def _plan_and_apply(settings: Settings, tf: Terraform, reporter: Reporter, *,
                    allow_replace: bool, confirm: Callable[[str], bool] | None) -> bool:
    planfile = tf.data_dir / f"lambda-gate-{os.getpid()}.tfplan"
    try:
        plan = tf.plan(out=planfile)
        if not plan.changes:
            return False
        if plan.destroys != 0:
            found = plan_guard.dangers(tf.show_plan(planfile))
            if found and (allow_replace or settings.terraform.allow_replace):
                for danger in found:
                    reporter.warn(f"allowed: {danger.line()}")
            elif found and not (confirm is not None and confirm(plan_guard.question(found))):
                raise plan_guard.refusal(found, hint=_name_hint(settings, found))
        try:
            tf.apply_plan(planfile)
        except (StalePlan, StateLocked, StaleLock):
            raise  # nothing was applied: no "fix the error" advice
        except TerraformError as exc:
            raise TerraformError(
                f"{exc.message}\n\nNothing was promoted. terraform stops at its first "
                "error and keeps what it changed before it (an updated function has "
                "published a version): fix the error and run again; `invoke plan` "
                "shows what is left to do.") from None
        return True
    finally:
        planfile.unlink(missing_ok=True)


def _name_hint(settings: Settings, found: list[plan_guard.Danger]) -> str:
    renamed = any("function_name" in d.change.replace_paths for d in found)
    if renamed and settings.function.name and "function_name" not in settings.terraform.vars:
        return (f"lambda_gate.function.name ({settings.function.name}) is passed to "
                "terraform as var.function_name: it renames the function terraform manages.")
    return ""


def apply_step(settings: Settings, target: AwsTarget, reporter: Reporter, *,
               artifact_sha: str, full: bool = False,
               before_terraform: Callable[[], None] | None = None,
               allow_replace: bool = False, adopt_state: bool = False,
               confirm: Callable[[str], bool] | None = None,
               import_function: bool = False) -> Published:
    """Publish the artifact through terraform, unless nothing changed since last time.

    ``before_terraform`` is called just before terraform runs (never when the apply is
    skipped): the deploy starts its smoke tests' pytest there, to overlap the two. The
    Lambda client is made meanwhile too, in the background. The plan guard
    (:func:`guarded_apply`) refuses replacing a function unless ``allow_replace`` or
    ``confirm`` says yes; a state another configuration made is refused unless
    ``adopt_state``. A function Lambda has and the state lacks stops the apply before
    terraform runs, unless ``import_function`` imports it.
    """
    with reporter.step("apply"):
        check_configuration(settings, reporter)
        check_state_origin(settings, adopt=adopt_state)
        tf = terraform_for(settings, target, reporter, settings.build.artifact)
        fingerprint = inputs_fingerprint(settings, artifact_sha, tf.input_variables())
        outputs = None if full else unchanged_outputs(settings, target, fingerprint, artifact_sha)
        applied = outputs is None
        if outputs is not None:
            reporter.detail(f"no change since the last apply (version {outputs.version}): "
                            "skipped terraform; --full forces it")
            if adopt_state:
                record_state_origin(settings)
        else:
            run_apply(tf, target, reporter, settings=settings, before=before_terraform,
                      allow_replace=allow_replace, confirm=confirm,
                      after_init=lambda: adopt_or_refuse(settings, tf, target, reporter,
                                                         adopt=import_function))
            record_state_origin(settings)
            outputs = tf.outputs(OutputNames.from_settings(settings.terraform.outputs))
        client = target.client("lambda")  # made during terraform's run, or in the no-op check
        if applied:
            outputs = converged_outputs(settings.build.artifact, client, outputs,
                                        artifact_sha, reporter)
            last = settings.last_apply_path
            last.parent.mkdir(parents=True, exist_ok=True)
            summary = {"fingerprint": fingerprint, "artifact_sha256": artifact_sha, "outputs": {
                "function_name": outputs.function_name, "version": outputs.version,
                "qualified_arn": outputs.qualified_arn},
                "latest_modified": _latest_modified(client, outputs.function_name)}
            last.write_text(json.dumps(summary))
            try:
                record_store.for_settings(settings, target).write_last_apply(summary)
            except record_store.RecordStoreError as exc:
                reporter.warn(exc.message)
            _remember_in_aws(target, reporter, outputs, fingerprint)
        published = published_version(client, outputs, applied)
        reporter.detail(f"version {outputs.version} of {outputs.function_name}: "
                        f"{published.qualified_arn}")
    return published


def adopt_or_refuse(settings: Settings, tf: Terraform, target: AwsTarget, reporter: Reporter,
                    *, adopt: bool) -> None:
    """Stop before terraform when Lambda has the function its state lacks, unless
    ``adopt``: then import it into the state first."""
    found = unmanaged.find(tf, target.client("lambda"), settings.terraform.dir)
    if found is None:
        return
    if not adopt:
        raise unmanaged.refusal(
            tf, *found, settings.build.artifact, environment=settings.environment.name,
            adopt_command=f"invoke deploy --import-function --env "
                          f"{settings.environment.name}")
    reporter.detail(f"importing function {found[1]} into the state as {found[0]}")
    tf.import_resource(*found)


def converged_outputs(artifact: Path, client, outputs: TerraformOutputs,
                      artifact_sha: str, reporter: Reporter) -> TerraformOutputs:
    """terraform's outputs, or the version lambda-gate published when the one terraform
    reports does not hold the artifact (see :mod:`.converge`)."""
    live = live_code_sha256(client, outputs.function_name, outputs.version)
    if live is None:
        return outputs  # published_version says so
    fixed = converge(client, outputs.function_name, outputs.version, live,
                     artifact, artifact_sha, reporter_warn=reporter.warn)
    if fixed.action is None:
        return outputs
    return TerraformOutputs(outputs.function_name, fixed.version, fixed.qualified_arn,
                            outputs.raw)


def published_version(client, outputs: TerraformOutputs, applied: bool) -> Published:
    """The version terraform reports, as Lambda has it (an error when it has none)."""
    live = live_code_sha256(client, outputs.function_name, outputs.version)
    if live is None:
        raise LambdaApiError(f"terraform reports version {outputs.version} of "
                             f"{outputs.function_name}, but Lambda has no such version.")
    arn = outputs.qualified_arn or client.get_function_configuration(
        FunctionName=outputs.function_name, Qualifier=outputs.version)["FunctionArn"]
    return Published(outputs.function_name, outputs.version, arn, live, applied)


def _remember_in_aws(target: AwsTarget, reporter: Reporter, outputs: TerraformOutputs,
                     fingerprint: str) -> None:
    """Tag the function so any machine can tell the next unchanged deploy is a no-op."""
    try:
        noop.mark_applied(target.client("lambda"), outputs.function_name, outputs.version,
                          fingerprint)
    except (ClientError, BotoCoreError) as exc:
        reporter.warn(f"could not tag {outputs.function_name} with {noop.TAG} ({exc}): "
                      "the next deploy of unchanged code runs terraform (it publishes "
                      "nothing). Allow lambda:TagResource to let it skip terraform.")
