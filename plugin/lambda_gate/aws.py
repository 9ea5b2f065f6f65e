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
from collections.abc import Mapping
from dataclasses import dataclass, field

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .config import EnvironmentSettings
from .errors import ConfigError

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_SCRUBBED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID",
             "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA")


@dataclass(frozen=True)
class AwsTarget:
    """Where one deploy's calls go. ``env`` is the full environment for subprocesses."""

    region: str
    endpoint_url: str | None
    session: boto3.Session = field(repr=False)
    env: Mapping[str, str] = field(repr=False)

    def client(self, service: str):
        return self.session.client(service, region_name=self.region,
                                   endpoint_url=self.endpoint_url)


def session_name(branch: str | None) -> str:
    """An STS session name that says which branch deployed (``[\\w+=,.@-]``, 2-64)."""
    name = "lambda-gate-" + re.sub(r"[^\w+=,.@-]", "-", branch or "unknown")
    return name[:64]


def local_target(region: str, endpoint_url: str) -> AwsTarget:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(LOCAL_CREDENTIALS)
    env.update(AWS_ENDPOINT_URL=endpoint_url, AWS_REGION=region, AWS_DEFAULT_REGION=region)
    session = boto3.Session(region_name=region, **{
        "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    })
    return AwsTarget(region=region, endpoint_url=endpoint_url, session=session, env=env)


def remote_target(environment: EnvironmentSettings, *, branch: str | None = None) -> AwsTarget:
    """The account of a named environment: its profile, then the role it assumes."""
    env = dict(os.environ)
    env.update(AWS_REGION=environment.region, AWS_DEFAULT_REGION=environment.region)
    try:
        session = boto3.Session(profile_name=environment.profile,
                                region_name=environment.region)
    except BotoCoreError as exc:
        raise ConfigError(
            f"environment {environment.name!r}: AWS profile {environment.profile!r} "
            f"cannot be used ({exc}): check ~/.aws/config or the environment's profile."
        ) from None
    if environment.profile:
        env["AWS_PROFILE"] = environment.profile
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    if environment.role_arn:
        sts = session.client("sts", region_name=environment.region, endpoint_url=endpoint)
        try:
            creds = sts.assume_role(RoleArn=environment.role_arn,
                                    RoleSessionName=session_name(branch))["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise ConfigError(
                f"environment {environment.name!r}: cannot assume role "
                f"{environment.role_arn} ({exc}): check the role's trust policy allows "
                "the credentials this job runs with."
            ) from None
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=environment.region,
        )
        env.pop("AWS_PROFILE", None)
        env.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
                   AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                   AWS_SESSION_TOKEN=creds["SessionToken"])
    return AwsTarget(region=environment.region, endpoint_url=endpoint, session=session,
                     env=env)
