"""An apply with nothing to do, recognised from AWS alone.

CI jobs start in fresh clones that remember no earlier apply, so what makes a deploy
skippable is written where every machine can read it: after each successful apply, a
tag on the function (:data:`TAG`) says which version that apply left newest, the
fingerprint of the inputs it applied, and ``$LATEST``'s LastModified at that moment.
A later deploy skips terraform only when all of it still holds: the same fingerprint,
the artifact's CodeSha256 on that version and on ``$LATEST``, and ``$LATEST`` not
modified since (a change made outside terraform, or another version published, moves
it). Anything unreadable or different means terraform runs.

terraform is told to leave the tag alone (``TF_AWS_IGNORE_TAGS_KEYS``), so it never
appears as drift in a plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from .terraform import TerraformOutputs

#: The function tag holding ``"<version> <fingerprint> <LastModified>"``.
TAG = "lambda-gate:applied"
#: terraform's environment: the AWS provider ignores this tag (no drift, no removal).
IGNORE_TAGS_ENV = {"TF_AWS_IGNORE_TAGS_KEYS": TAG}


@dataclass(frozen=True)
class Applied:
    """What the tag says the last successful apply left."""

    version: str
    fingerprint: str
    last_modified: str

    def tag_value(self) -> str:
        return f"{self.version} {self.fingerprint} {self.last_modified}"

    @classmethod
    def parse(cls, value: str | None) -> Applied | None:
        parts = (value or "").split(" ")
        if len(parts) != 3 or not parts[0].isdigit() or not all(parts):
            return None
        return cls(*parts)


def mark_applied(client, function: str, version: str, fingerprint: str) -> None:
    """Tag the function with what this apply left; raises botocore's errors."""
    latest = client.get_function_configuration(FunctionName=function)
    applied = Applied(version, fingerprint, str(latest["LastModified"]))
    arn = latest["FunctionArn"]
    client.tag_resource(Resource=arn, Tags={TAG: applied.tag_value()})


def unchanged_in_aws(client, candidates: Iterable[str], fingerprint: str,
                     artifact_sha: str) -> TerraformOutputs | None:
    """The outputs of the last apply, when AWS shows nothing changed since; else None.

    ``candidates`` are the names the function may have (the settings', the last local
    apply's): the first that exists and carries the tag decides.
    """
    for function in dict.fromkeys(name for name in candidates if name):
        try:
            found = client.get_function(FunctionName=function)
        except ClientError:
            continue  # absent (or not ours to read): nothing is shown
        except BotoCoreError:
            return None
        latest = found.get("Configuration") or {}
        applied = Applied.parse((found.get("Tags") or {}).get(TAG))
        if applied is None:
            continue
        if (applied.fingerprint != fingerprint or latest.get("CodeSha256") != artifact_sha
                or latest.get("LastModified") != applied.last_modified):
            return None
        try:
            version = client.get_function_configuration(FunctionName=function,
                                                        Qualifier=applied.version)
        except (ClientError, BotoCoreError):
            return None
        if version.get("CodeSha256") != artifact_sha:
            return None
        return TerraformOutputs(function_name=function, version=applied.version,
                                qualified_arn=str(version.get("FunctionArn") or ""))
    return None
