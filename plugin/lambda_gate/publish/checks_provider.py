"""The aws provider must leave the target to the environment lambda-gate sets up.

lambda-gate picks each environment's account, region and endpoint (a profile, a role it
assumes, the local AWS's ``AWS_ENDPOINT_URL``) and then talks to Lambda there itself. A
provider that pins any of them sends terraform elsewhere: the apply publishes a version
in one place and lambda-gate looks for it in another (or, worse, the local environment
deploys into a real account). Aliased providers (``alias = "..."``) are left alone:
they are how a configuration reaches a second region on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence

from .hcl import TfFile, blocks, expr, unquote
from .problems import Problem

#: Arguments that choose where terraform goes or who it is there.
_ENDPOINT = ("endpoints",)
_CREDENTIALS = ("access_key", "secret_key", "token", "profile", "shared_credentials_files",
                "shared_config_files", "assume_role", "assume_role_with_web_identity")


def _literal(value: object) -> str | None:
    text = expr(value)
    if isinstance(value, str) and "${" not in value and text.startswith('"'):
        return unquote(text)
    return None


def check_providers(files: Sequence[TfFile], *, region: str | None,
                    environment: str) -> tuple[list[Problem], list[str]]:
    problems: list[Problem] = []
    warnings: list[str] = []
    for provider in blocks(files, "provider"):
        if provider.labels[0] != "aws" or "alias" in provider.body:
            continue
        pinned = provider.body.get("region")
        if pinned is not None:
            written = _literal(pinned)
            if written is not None and region is not None and written != region:
                problems.append(Problem(
                    provider.where("region"),
                    f'provider "aws" pins region = "{written}", but environment '
                    f"{environment!r} deploys to {region}: terraform would publish in "
                    f"{written} and lambda-gate look for the version in {region}",
                    'remove region from the provider (lambda-gate sets AWS_REGION), or set '
                    f"lambda_gate.environments.{environment}.region to {written}"))
            else:
                warnings.append(
                    f'{provider.where("region")}: provider "aws" sets region = '
                    f"{expr(pinned)}: lambda-gate's environments cannot move it; prefer a "
                    'plain provider "aws" {} and lambda_gate.environments.<name>.region')
        for name in _ENDPOINT + _CREDENTIALS:
            if name not in provider.body:
                continue
            kind = "endpoint" if name in _ENDPOINT else "credentials"
            problems.append(Problem(
                provider.where(name),
                f'provider "aws" pins its {kind} ({name}): terraform would ignore the '
                f"{'AWS_ENDPOINT_URL' if kind == 'endpoint' else 'profile and role'} "
                f"lambda-gate sets for environment {environment!r}, and publish where "
                "lambda-gate does not look",
                f"remove {name} from the provider; set the environment's "
                + ("local_aws settings or AWS_ENDPOINT_URL" if kind == "endpoint" else
                   "profile or role_arn under lambda_gate.environments") + " instead"))
    return problems, warnings
