"""Making the version an apply reports be the artifact, whatever an earlier apply left.

terraform records the artifact's hash in its state as soon as it has updated the
function's code, before it publishes the version. An apply interrupted (Ctrl-C, a killed
CI job) or failed (a PublishVersion error) between the two leaves ``$LATEST`` holding
the new code, no version holding it, and a state that sees nothing left to do: every
later apply reports the old version. So after each apply the reported version's
CodeSha256 is compared with the artifact's, and when they differ lambda-gate finishes
what terraform started, through the same API calls terraform makes, each guarded so it
acts only on the state it read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from ..errors import LambdaApiError

#: How long to wait for Lambda to finish a code update before publishing it.
UPDATE_WAIT_SECONDS = 300.0
#: Lambda takes a zip of at most 50 MB in the request itself.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024


@dataclass(frozen=True)
class Converged:
    version: str
    qualified_arn: str
    #: What was done, for the output: None when the reported version was already right.
    action: str | None


def _api(what: str, call: Callable[[], dict]) -> dict:
    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise LambdaApiError(f"{what} failed: {error.get('Code', 'error')}: "
                             f"{error.get('Message', exc)}. Nothing was promoted; run the "
                             "deploy again.") from None


def _revision(config: dict) -> dict[str, str]:
    """The RevisionId guard, when Lambda reported one (it always does; moto does not)."""
    return {"RevisionId": config["RevisionId"]} if config.get("RevisionId") else {}


def _wait_until_updated(client, function: str) -> dict:
    deadline = time.monotonic() + UPDATE_WAIT_SECONDS
    while True:
        config = _api(f"reading {function}",
                      lambda: client.get_function_configuration(FunctionName=function))
        if config.get("LastUpdateStatus") in (None, "Successful"):
            return config
        if config.get("LastUpdateStatus") == "Failed" or time.monotonic() > deadline:
            raise LambdaApiError(
                f"the code update of {function} did not finish "
                f"({config.get('LastUpdateStatus')}: "
                f"{config.get('LastUpdateStatusReason', 'no reason given')}).")
        time.sleep(1)


def _newest_version(client, function: str) -> dict | None:
    """The highest numbered version of ``function`` (Lambda lists 50 a page)."""
    newest: dict | None = None
    for page in client.get_paginator("list_versions_by_function").paginate(
            FunctionName=function):
        for version in page.get("Versions", []):
            number = str(version.get("Version", ""))
            if number.isdigit() and (newest is None or int(number) > int(newest["Version"])):
                newest = version
    return newest


def converge(client, function: str, reported_version: str, reported_code_sha256: str | None,
             artifact: Path, artifact_sha: str, *, reporter_warn: Callable[[str], None]
             ) -> Converged:
    """A published version of ``function`` whose code is the artifact.

    The version terraform reported when it holds the artifact; else ``$LATEST`` is
    published when it holds it (PublishVersion guarded by CodeSha256 and RevisionId);
    else the artifact is uploaded to ``$LATEST`` first (guarded by RevisionId), as
    terraform's state already believes it was.
    """
    if reported_code_sha256 == artifact_sha:
        return Converged(reported_version, "", None)
    latest = _wait_until_updated(client, function)
    newest = _newest_version(client, function)
    if (newest is not None and latest.get("CodeSha256") == artifact_sha
            and newest.get("CodeSha256") == artifact_sha):
        # Finished before (by an earlier deploy): terraform's state, which a plan without
        # changes does not refresh, still reports the version before it.
        version = str(newest["Version"])
        action = (f"terraform's state reports version {reported_version}, whose code is "
                  f"not the artifact; version {version}, the newest, holds it (published by "
                  "an earlier deploy that finished an interrupted apply)")
        reporter_warn(action)
        return Converged(version, str(newest.get("FunctionArn") or ""), action)
    uploaded = False
    if latest.get("CodeSha256") != artifact_sha:
        size = artifact.stat().st_size
        if size > DIRECT_UPLOAD_LIMIT:
            raise LambdaApiError(
                f"version {reported_version} of {function} does not hold the artifact and "
                "terraform's state believes the function is up to date (an earlier apply "
                f"was interrupted); the artifact is {size} bytes, too large to upload "
                "directly: run `terraform apply -replace=...` or taint the function.")
        _api(f"UpdateFunctionCode of {function}", lambda: client.update_function_code(
            FunctionName=function, ZipFile=artifact.read_bytes(), **_revision(latest)))
        latest = _wait_until_updated(client, function)
        uploaded = True
        if latest.get("CodeSha256") != artifact_sha:
            raise LambdaApiError(f"{function}'s $LATEST changed while lambda-gate uploaded "
                                 "the artifact (another deploy?): run the deploy again.")
    published = _api(f"PublishVersion of {function}", lambda: client.publish_version(
        FunctionName=function, CodeSha256=artifact_sha, **_revision(latest)))
    version = str(published["Version"])
    how = ("uploaded the artifact to $LATEST and published it" if uploaded
           else "published $LATEST, which holds the artifact,")
    action = (f"terraform reported version {reported_version}, whose code is not the "
              "artifact (an earlier apply stopped after updating the code and before "
              f"publishing it): {how} as version {version} with PublishVersion")
    reporter_warn(action)
    return Converged(version, str(published.get("FunctionArn") or ""), action)
