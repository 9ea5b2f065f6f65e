"""Which AWS account and endpoint a step talks to, for boto3 and for subprocesses.

terraform and the smoke tests run as subprocesses, so the target is expressed twice
from one decision: a boto3 session for lambda-gate's own calls, and environment
variables (``AWS_ENDPOINT_URL``, credentials, region) for the children. For the
embedded local AWS both point at the loopback endpoint with dummy credentials; for a
named environment they carry its profile or the credentials of the role it assumes.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .errors import ConfigError
from .settings import EnvironmentSettings

if TYPE_CHECKING:
    import boto3

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_SCRUBBED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID",
             "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA")
_STATIC_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                       "AWS_SECURITY_TOKEN")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


@dataclass(frozen=True)
class AwsTarget:
    """Where one deploy's calls go. ``env`` is the full environment for subprocesses.

    The boto3 session is made on first use: importing boto3 and making a client cost
    about half a second, which a deploy spends while terraform runs (:meth:`warm`)
    rather than before it starts.
    """

    region: str
    endpoint_url: str | None
    env: Mapping[str, str] = field(repr=False)
    new_session: Callable[[], boto3.Session] = field(repr=False)
    _made: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False,
                                   compare=False)

    @property
    def session(self) -> boto3.Session:
        with self._lock:
            if "session" not in self._made:
                self._made["session"] = self.new_session()
            return self._made["session"]

    def client(self, service: str):
        """One client per service for the whole deploy (each costs ~75 ms to make)."""
        with self._lock:
            if service not in self._made:
                self._made[service] = self.session.client(
                    service, region_name=self.region, endpoint_url=self.endpoint_url)
            return self._made[service]

    def warm(self, *services: str) -> threading.Thread:
        """Make the clients in a background thread, so a later :meth:`client` finds
        them ready. A failure is left for that later call to raise where it is handled."""

        def make() -> None:
            _lowest_cpu_priority()
            try:
                for service in services:
                    self.client(service)
            except Exception:  # noqa: BLE001, S110 - raised again by the real call
                pass

        thread = threading.Thread(target=make, name="lambda-gate-aws-warm-up")
        thread.start()
        return thread


def _lowest_cpu_priority() -> None:
    """Lower this thread's CPU priority, where threads have their own (Linux).

    A warm-up runs while terraform starts its provider, which is CPU-bound: on a
    two-core CI machine an equal share would slow terraform by what the warm-up saves.
    At the lowest priority it uses what terraform leaves idle (most of an apply is the
    provider waiting for Lambda).
    """
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:
            pass


def session_name(branch: str | None) -> str:
    """An STS session name that says which branch deployed (``[\\w+=,.@-]``, 2-64).

    CloudTrail shows it in the assumed-role ARN of every call the deploy makes, so an
    account's owners can tell which branch changed their function.
    """
    name = "lambda-gate-" + re.sub(r"[^\w+=,.@-]", "-", branch or "unknown")
    return name[:64]


def require_branch(environment: EnvironmentSettings, branch: str | None) -> None:
    """Stop a deploy from a branch the environment does not accept, before any change.

    ``branch`` is the git branch being deployed (``None``: it cannot be told). An
    environment without ``branches`` accepts every branch.
    """
    if not environment.branches:
        return
    allowed = ", ".join(environment.branches)
    if branch is None:
        raise ConfigError(
            f"environment {environment.name!r} accepts deploys only from branches "
            f"{allowed}, and the branch being deployed cannot be told (detached HEAD and "
            "no CI branch variable): set GIT_BRANCH. Nothing was changed."
        )
    if branch not in environment.branches:
        raise ConfigError(
            f"branch {branch!r} may not deploy to environment {environment.name!r} "
            f"(allowed: {allowed}); nothing was changed. Deploy it to another "
            "environment with --env, or merge it first."
        )


def validate_role_arn(environment: EnvironmentSettings) -> str:
    """The environment's role ARN, refused before any call when it is not one."""
    arn = environment.role_arn or ""
    if not _ROLE_ARN.match(arn):
        raise ConfigError(
            f"environment {environment.name!r}: role_arn {arn!r} is not an IAM role ARN: "
            "write it as arn:aws:iam::ACCOUNT_ID:role/NAME "
            f"(lambda_gate.environments.{environment.name}.role_arn)."
        )
    return arn


def local_target(region: str, endpoint_url: str) -> AwsTarget:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(LOCAL_CREDENTIALS)
    env.update(AWS_ENDPOINT_URL=endpoint_url, AWS_REGION=region, AWS_DEFAULT_REGION=region)

    def new_session() -> boto3.Session:
        import boto3

        return boto3.Session(region_name=region, **{
            "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        })

    return AwsTarget(region=region, endpoint_url=endpoint_url, env=env,
                     new_session=new_session)


def remote_target(environment: EnvironmentSettings, *, branch: str | None = None) -> AwsTarget:
    """The account of a named environment: its profile, then the role it assumes.

    boto3 and the subprocesses must use the same credentials. With a profile, static
    keys in the environment are left out of the children's environment: terraform's
    provider would otherwise prefer them to ``AWS_PROFILE`` and deploy to whichever
    account those keys belong to. An assumed role's keys replace both.
    """
    import boto3  # a remote account's credentials are needed before terraform starts

    env = dict(os.environ)
    env.update(AWS_REGION=environment.region, AWS_DEFAULT_REGION=environment.region)
    role_arn = validate_role_arn(environment) if environment.role_arn else None
    try:
        session = boto3.Session(profile_name=environment.profile,
                                region_name=environment.region)
    except BotoCoreError as exc:
        raise ConfigError(
            f"environment {environment.name!r}: AWS profile {environment.profile!r} "
            f"cannot be used ({exc}): check ~/.aws/config or the environment's profile."
        ) from None
    if environment.profile:
        for var in _STATIC_CREDENTIALS:
            env.pop(var, None)
        env["AWS_PROFILE"] = environment.profile
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    if role_arn:
        creds = _assume(session, environment, role_arn, session_name(branch), endpoint)
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=environment.region,
        )
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SECURITY_TOKEN", None)
        env.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
                   AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                   AWS_SESSION_TOKEN=creds["SessionToken"])
    return AwsTarget(region=environment.region, endpoint_url=endpoint, env=env,
                     new_session=lambda: session)


def _assume(session: boto3.Session, environment: EnvironmentSettings, role_arn: str,
            name: str, endpoint: str | None) -> Mapping[str, str]:
    """Temporary credentials of the role; a refusal says whose side must change."""
    where = f"environment {environment.name!r}: cannot assume role {role_arn}"
    sts = session.client("sts", region_name=environment.region, endpoint_url=endpoint)
    try:
        return sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    except NoCredentialsError:
        source = (f"profile {environment.profile!r} has" if environment.profile
                  else "this job has")
        raise ConfigError(
            f"{where}: {source} no AWS credentials to assume it with. Give the job "
            "credentials (a CI secret, OIDC, an instance role) or set the environment's "
            "profile; nothing was changed."
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, text = error.get("Code", "?"), error.get("Message", str(exc))
        hint = ("the role's trust policy must allow sts:AssumeRole by the credentials "
                "this job runs with" if code == "AccessDenied"
                else "check the role ARN and the credentials this job runs with")
        raise ConfigError(f"{where} ({code}: {text}): {hint}; nothing was changed.") from None
    except BotoCoreError as exc:
        raise ConfigError(f"{where} ({exc}); nothing was changed.") from None
