"""Where a deploy goes: the environment's AWS endpoint, state and records.

For the ``local`` environment that is the embedded local AWS (started when needed); for
a named environment its account, after the branch guard. Each environment keeps its own
terraform state, last-apply summary and deploy records under its own directory.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from .. import git
from ..aws import AwsTarget, local_target, remote_target, require_branch
from ..errors import ConfigError, LocalAwsError, TerraformError
from ..publish import TerraformOutputs, terraform_for
from ..report import Reporter
from ..settings import Settings

if TYPE_CHECKING:
    from ..local_aws.environments import EnvironmentSettings


def warn_local_state(settings: Settings, reporter: Reporter) -> None:
    """A shared environment whose state is a file on this machine: say so, first."""
    env = settings.environment
    if not env.local and env.backend_config is None:
        reporter.warn(
            f"environment {env.name!r} keeps its terraform state in a file on this machine "
            f"({settings.state_path}): a deploy from any other machine (a CI job) will not "
            "see it and will try to create the function again. Give the environment a "
            f"backend_config (lambda_gate.environments.{env.name}.backend_config, an S3 "
            "backend with locking: see terraform/backend/s3.hcl.example).")


def aws_target(settings: Settings, reporter: Reporter, *, branch: str | None = None,
               start_local: bool = True, warn: bool = True) -> AwsTarget:
    """The AWS endpoint of the settings' environment.

    For ``local`` it starts the embedded local AWS when it is not running, and when that
    server is a new, empty one it resets the environment's terraform state and deploy
    records, which describe functions the server no longer has.

    An environment limited to ``branches`` is checked against the git branch being
    deployed, whatever alias the deploy targets: ``--alias`` picks the alias, never the
    permission to deploy.
    """
    env = settings.environment
    if warn:
        warn_local_state(settings, reporter)
    if not env.local or env.branches:
        branch = branch or deploying_branch(settings)
        require_branch(env, branch)
    if not env.local:
        return remote_target(env, branch=branch)
    url, instance_id = _local_endpoint(settings, reporter, start=start_local)
    marker = settings.env_state_dir / "local-aws-instance"
    known = marker.read_text().strip() if marker.exists() else None
    if known != instance_id:
        stale = _local_state_files(settings)
        if known is not None:
            reporter.warn("the local AWS was restarted empty: reset the local environment's "
                          "terraform state and deploy records")
        elif stale:  # e.g. the record of a deploy that failed before reaching a local AWS
            reporter.warn("the local environment's terraform state and deploy records "
                          "belong to no local AWS that is running: reset them")
        for path in stale:
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
        return git.current_branch(cwd=settings.root)
    except ConfigError:
        return None


def _local_endpoint(settings: Settings, reporter: Reporter, *, start: bool) -> tuple[str, str]:
    """URL and instance id of the local AWS: the configured one, else our daemon."""
    if settings.local_url:
        try:
            url = f"{settings.local_url}/_lambda_gate/instance"
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (loopback)
                return settings.local_url, str(json.loads(answer.read())["instance_id"])
        except (OSError, ValueError, KeyError):
            raise LocalAwsError(
                f"no lambda-gate local AWS answers at {settings.local_url} "
                "(lambda_gate.local_aws.url): start it with `invoke local-aws`, or unset "
                "the setting to let deploy start one."
            ) from None
    from ..local_aws import daemon

    status = daemon.status(settings.state_dir)
    if status is None:
        if not start:
            raise LocalAwsError("the local AWS is not running: start it with "
                                "`invoke local-aws`.")
        status = daemon.start(settings.state_dir, settings.local_host, settings.local_port,
                              local_environment_settings(settings))
        reporter.detail(f"started the local AWS at {status.url} "
                        "(stop it with `invoke local-aws --stop`)")
    elif start:
        daemon.configure(status.url, local_environment_settings(settings))
    return status.url, status.instance_id


def local_environment_settings(settings: Settings) -> EnvironmentSettings:
    """How our local AWS should run functions, from ``lambda_gate.local_aws``."""
    from ..local_aws.environments import EnvironmentSettings

    return EnvironmentSettings(interpreters=dict(settings.local_interpreters),
                               fresh=settings.local_fresh_environments,
                               max_environments=settings.local_max_environments,
                               idle_seconds=settings.local_idle_seconds)


def require_local_runtime(settings: Settings, target: AwsTarget) -> None:
    """Say before anything is published when the local AWS cannot run the runtime.

    Only for the local environment: a real account has every runtime.
    """
    if not settings.environment.local or not target.endpoint_url:
        return
    from ..local_aws import daemon
    from ..local_aws.runtimes import RuntimeUnavailable

    runtimes = sorted({f.function.runtime for f in settings.functions}
                      or {settings.function.runtime})
    for runtime in runtimes:
        problem = daemon.runtime_problem(target.endpoint_url, runtime)
        if problem:
            raise RuntimeUnavailable(f"the local AWS cannot run {runtime}: {problem}")


def _local_state_files(settings: Settings) -> list[Path]:
    candidates = [settings.state_path, settings.last_apply_path, settings.records_dir]
    candidates.append(settings.state_path.with_suffix(".tfstate.backup"))
    # The record of which configuration made the state goes with it.
    candidates.append(settings.state_path.with_name(settings.state_path.name
                                                    + ".configuration"))
    return [p for p in candidates if p.exists()]


def function_name(settings: Settings, target: AwsTarget | None = None,
                  reporter: Reporter | None = None) -> str:
    """The function the alias tasks work on, on any machine.

    ``lambda_gate.function.name``, else this machine's last apply, else terraform's
    outputs read from the environment's state (the backend's, when it has one, so a
    fresh clone in CI finds what another job applied), else an error naming the setting.
    """
    if settings.function.name:
        return settings.function.name
    last = settings.last_apply_path
    if last.exists():
        try:
            name = json.loads(last.read_text())["outputs"]["function_name"]
        except (ValueError, KeyError, TypeError):
            name = None
        if name:
            return str(name)
    state = ""
    if target is not None:
        try:
            return _state_outputs(settings, target, reporter or Reporter()).function_name
        except TerraformError:
            state = " (nor does terraform's state hold a function_name output)"
    raise ConfigError(
        f"no function to work on in environment {settings.environment.name!r}: no apply "
        f"is recorded there{state} and lambda_gate.function.name is not set. Set the name "
        "in invoke.yaml "
        "(lambda_gate: {function: {name: ...}}) or INVOKE_LAMBDA_GATE_FUNCTION_NAME, or "
        "run `invoke apply` first."
    )


def _state_outputs(settings: Settings, target: AwsTarget,
                   reporter: Reporter) -> TerraformOutputs:
    """terraform's outputs from the environment's state, without planning or applying."""
    tf = terraform_for(settings, target, reporter, settings.build.artifact)
    tf.ensure_init()
    return tf.outputs()
