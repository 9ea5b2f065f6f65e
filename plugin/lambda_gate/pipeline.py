"""The deploy pipeline: build, apply, smoke, promote, each a step of its own.

Data flows one way: settings give a build, the build's artifact goes to terraform,
terraform's published version goes to the smoke tests, and only the gate's verdict on
all of that reaches the alias. Each step is a function the tasks call on their own too,
so CI can run them one job at a time; :func:`deploy` runs them all and writes the record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
from botocore.exceptions import ClientError

from . import aliases, gate, preflight, records, smoke
from .archive import code_sha256
from .aws import AwsTarget, local_target, remote_target, require_branch
from .build import BuildResult, build_package
from .config import Settings
from .errors import (
    ApprovalRequired,
    ConfigError,
    Error,
    GateClosed,
    LambdaApiError,
    LocalAwsError,
    TerraformError,
)
from .report import Reporter
from .terraform import Terraform, TerraformOutputs

LAST_APPLY = "last-apply.json"


@dataclass(frozen=True)
class Published:
    """The numbered version an apply published (or left in place), as Lambda has it."""

    function_name: str
    version: str
    qualified_arn: str
    code_sha256: str
    applied: bool


# -- where the deploy goes -------------------------------------------------------------

def aws_target(settings: Settings, reporter: Reporter, *, branch: str | None = None,
               start_local: bool = True) -> AwsTarget:
    """The AWS endpoint of the settings' environment.

    For ``local`` it starts the embedded local AWS when it is not running, and when that
    server is a new, empty one it resets the environment's terraform state and deploy
    records, which describe functions the server no longer has.

    An environment limited to ``branches`` is checked against the git branch being
    deployed, whatever alias the deploy targets: ``--alias`` picks the alias, never the
    permission to deploy.
    """
    env = settings.environment
    if not env.local or env.branches:
        branch = branch or deploying_branch(settings)
        require_branch(env, branch)
    if not env.local:
        return remote_target(env, branch=branch)
    url, instance_id = _local_endpoint(settings, reporter, start=start_local)
    marker = settings.env_state_dir / "local-aws-instance"
    known = marker.read_text().strip() if marker.exists() else None
    if known != instance_id:
        if known is not None or any(_local_state_files(settings)):
            reporter.warn("the local AWS was restarted empty: reset the local environment's "
                          "terraform state and deploy records")
            for path in _local_state_files(settings):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(instance_id)
    return local_target(env.region, url)


def deploying_branch(settings: Settings) -> str | None:
    """The git branch being deployed, or ``None`` when it cannot be told."""
    try:
        return aliases.current_branch(cwd=settings.root)
    except ConfigError:
        return None


def _local_endpoint(settings: Settings, reporter: Reporter, *, start: bool) -> tuple[str, str]:
    """URL and instance id of the local AWS: the configured one, else our daemon."""
    from .local_aws import daemon

    if settings.local_url:
        try:
            answer = requests.get(f"{settings.local_url}/_lambda_gate/instance", timeout=5)
            answer.raise_for_status()
            return settings.local_url, str(answer.json()["instance_id"])
        except (requests.RequestException, ValueError, KeyError):
            raise LocalAwsError(
                f"no lambda-gate local AWS answers at {settings.local_url} "
                "(lambda_gate.local_aws.url): start it with `invoke local-aws`, or unset "
                "the setting to let deploy start one."
            ) from None
    status = daemon.status(settings.state_dir)
    if status is None:
        if not start:
            raise LocalAwsError("the local AWS is not running: start it with "
                                "`invoke local-aws`.")
        status = daemon.start(settings.state_dir, settings.local_host, settings.local_port)
        reporter.detail(f"started the local AWS at {status.url} "
                        "(stop it with `invoke local-aws --stop`)")
    return status.url, status.instance_id


def _local_state_files(settings: Settings) -> list[Path]:
    base = settings.env_state_dir
    candidates = [state_path(settings), base / LAST_APPLY, base / "records"]
    candidates.append(state_path(settings).with_suffix(".tfstate.backup"))
    return [p for p in candidates if p.exists()]


def state_path(settings: Settings) -> Path:
    env = settings.environment
    if env.state_path is not None:
        return env.state_path
    return settings.env_state_dir / "terraform.tfstate"


def records_dir(settings: Settings) -> Path:
    return settings.env_state_dir / "records"


def function_name(settings: Settings) -> str:
    """The function the alias tasks work on: the environment's last apply, else config."""
    last = settings.env_state_dir / LAST_APPLY
    if last.exists():
        try:
            name = json.loads(last.read_text())["outputs"]["function_name"]
        except (ValueError, KeyError, TypeError):
            name = None
        if name:
            return str(name)
    if settings.function.name:
        return settings.function.name
    raise ConfigError(
        f"no function to work on in environment {settings.environment.name!r}: no apply "
        "is recorded there and lambda_gate.function.name is not set. Run `invoke apply`, "
        "or set the name in invoke.yaml (lambda_gate: {function: {name: ...}}) or "
        "INVOKE_LAMBDA_GATE_FUNCTION_NAME."
    )


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


# -- terraform ---------------------------------------------------------------------------

def terraform_for(settings: Settings, target: AwsTarget, reporter: Reporter,
                  artifact: Path) -> Terraform:
    env = dict(target.env)
    tf_vars = {
        "artifact_path": str(artifact),
        "runtime": settings.function.runtime,
        "handler": settings.function.handler,
        "architecture": settings.function.architecture,
        **settings.terraform.vars,
    }
    if settings.function.name:
        tf_vars.setdefault("function_name", settings.function.name)
    env.update({f"TF_VAR_{k}": v for k, v in tf_vars.items()})
    environment = settings.environment
    return Terraform(
        settings.terraform.dir,
        data_dir=settings.env_state_dir / "tf-data",
        binary=settings.terraform.binary,
        env=env,
        plugin_dir=settings.terraform.plugin_dir,
        state_path=None if environment.backend_config else state_path(settings),
        backend_config=environment.backend_config,
        var_files=environment.var_files,
        color=reporter.color,
        log=reporter.detail,
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
    no timestamps, no endpoint URL, so an unchanged deploy has an unchanged fingerprint.
    Values are hashed, never stored.
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
                str(env.backend_config or state_path(settings)),
                [str(p) for p in env.var_files]],
    }, sort_keys=True).encode())
    return digest.hexdigest()


def live_code_sha256(client, function: str, qualifier: str) -> str | None:
    try:
        config = client.get_function_configuration(FunctionName=function, Qualifier=qualifier)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise LambdaApiError(f"cannot read {function}:{qualifier}: {exc}") from None
    return config.get("CodeSha256")


def _unchanged(settings: Settings, client, fingerprint: str,
               artifact_sha: str) -> TerraformOutputs | None:
    """The last apply's outputs when nothing changed since and Lambda agrees."""
    last = settings.env_state_dir / LAST_APPLY
    if not last.exists():
        return None
    try:
        data = json.loads(last.read_text())
    except ValueError:
        return None
    if data.get("fingerprint") != fingerprint:
        return None
    outputs = TerraformOutputs(**data["outputs"])
    for qualifier in (outputs.version, "$LATEST"):
        if live_code_sha256(client, outputs.function_name, qualifier) != artifact_sha:
            return None
    # Same code is not enough: a configuration changed outside terraform (memory in the
    # console) moves $LATEST's LastModified, and terraform must put it back.
    if data.get("latest_modified") != _latest_modified(client, outputs.function_name):
        return None
    return outputs


def _latest_modified(client, function: str) -> str | None:
    try:
        return client.get_function_configuration(FunctionName=function).get("LastModified")
    except ClientError:
        return None


def apply_step(settings: Settings, target: AwsTarget, reporter: Reporter, *,
               artifact_sha: str, full: bool = False) -> Published:
    """Publish the artifact through terraform, unless nothing changed since last time."""
    client = target.client("lambda")
    with reporter.step("apply"):
        report = preflight.check(
            settings.terraform.dir,
            local_state=settings.environment.backend_config is None,
            shared_environment=not settings.environment.local
            and not settings.environment.branches,
        )
        for warning in report.warnings:
            reporter.warn(warning)
        tf = terraform_for(settings, target, reporter, settings.build.artifact)
        fingerprint = inputs_fingerprint(settings, artifact_sha, tf.input_variables())
        outputs = None if full else _unchanged(settings, client, fingerprint, artifact_sha)
        applied = outputs is None
        if outputs is not None:
            reporter.detail(f"no change since the last apply (version {outputs.version}): "
                            "skipped terraform; --full forces it")
        else:
            try:
                tf.apply()
                outputs = tf.outputs()
            except TerraformError as exc:
                if not exc.message.startswith("terraform apply failed"):
                    raise
                raise TerraformError(
                    f"{exc.message}\n\nNothing was promoted. terraform stops at its first "
                    "error and keeps what it changed before it (an updated function has "
                    "published a version): fix the error and run again; `invoke plan` "
                    "shows what is left to do.") from None
            finally:
                reporter.durations["terraform"] = round(tf.seconds, 3)
            last = settings.env_state_dir / LAST_APPLY
            last.parent.mkdir(parents=True, exist_ok=True)
            last.write_text(json.dumps({"fingerprint": fingerprint, "outputs": {
                "function_name": outputs.function_name, "version": outputs.version,
                "qualified_arn": outputs.qualified_arn},
                "latest_modified": _latest_modified(client, outputs.function_name)}))
        live = live_code_sha256(client, outputs.function_name, outputs.version)
        if live is None:
            raise LambdaApiError(f"terraform reports version {outputs.version} of "
                                 f"{outputs.function_name}, but Lambda has no such version.")
        arn = outputs.qualified_arn or client.get_function_configuration(
            FunctionName=outputs.function_name, Qualifier=outputs.version)["FunctionArn"]
        reporter.detail(f"version {outputs.version} of {outputs.function_name}: {arn}")
    return Published(outputs.function_name, outputs.version, arn, live, applied)


# -- smoke -----------------------------------------------------------------------------

def smoke_step(settings: Settings, target: AwsTarget, published: Published,
               reporter: Reporter, *, junit: Path | None = None) -> smoke.SmokeResult:
    junit = junit or settings.reports_dir / f"smoke-{published.version}.xml"
    with reporter.step("smoke"):
        reporter.detail(f"testing {published.qualified_arn}")
        # pytest's output is piped through us, so it follows our terminal, not its own
        # (PY_COLORS or FORCE_COLOR in a CI job would colour it otherwise).
        color = "--color=yes" if reporter.color else "--color=no"
        started = time.perf_counter()
        result = smoke.run_smoke(
            [settings.smoke_path], published.qualified_arn, junit=junit,
            env=target.env, cwd=settings.root, extra=(color, *settings.smoke_args),
            log=reporter.detail,
        )
        reporter.durations["pytest"] = round(time.perf_counter() - started, 3)
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
    alias = record.alias
    assert alias is not None
    target = aws_target(settings, reporter, branch=record.git_branch)
    built = build_step(settings, reporter, force=options.force_build)
    record.artifact_sha256 = built.code_sha256
    if options.dry_run:
        dry_run_step(settings, target, reporter, record, full=options.full)
        return
    published = apply_step(settings, target, reporter, artifact_sha=built.code_sha256,
                           full=options.full)
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

    result = smoke_step(settings, target, published, reporter)
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
        report = preflight.check(
            settings.terraform.dir,
            local_state=settings.environment.backend_config is None,
            shared_environment=not settings.environment.local
            and not settings.environment.branches,
        )
        for warning in report.warnings:
            reporter.warn(warning)
        tf = terraform_for(settings, target, reporter, settings.build.artifact)
        plan = tf.plan()
        try:
            outputs: TerraformOutputs | None = tf.outputs()
        except TerraformError:
            outputs = None  # nothing applied yet in this environment
        fingerprint = inputs_fingerprint(settings, record.artifact_sha256,
                                         tf.input_variables())
        skipped = None if full else _unchanged(settings, target.client("lambda"),
                                               fingerprint, record.artifact_sha256)
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
