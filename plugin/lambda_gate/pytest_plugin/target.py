"""The version under test as Lambda describes it: checked once, before any test runs.

:func:`resolve_target` asks Lambda (``GetFunction`` with the qualifier) whether the
version the settings name exists and returns a :class:`LambdaTarget` describing it; a
missing or unreachable one is a :class:`TargetError` naming where the bad value came
from, which the plugin turns into a usage error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .target_settings import (
    ENV_VARS,
    VERSION_NUMBER,
    Sourced,
    TargetError,
    TargetSettings,
    check_qualifier,
    parse_arn,
)


@dataclass(frozen=True)
class LambdaTarget:
    """One published version of a function, as Lambda describes it.

    Only the *names* of the function's environment variables are kept: their values may
    be secrets and must never reach a test report.
    """

    function_name: str
    version: str
    qualified_arn: str
    code_sha256: str
    runtime: str | None
    memory_size: int
    timeout: int
    region: str
    environment_variable_names: tuple[str, ...] = ()
    alias: str | None = None
    endpoint_url: str | None = field(default=None, compare=False)
    #: Through a weighted alias (a canary), the other version it routes a share to.
    routed_versions: tuple[str, ...] = ()

    @property
    def qualifier(self) -> str:
        """What to invoke: the alias when testing through one, else the version."""
        return self.alias or self.version



def make_client(settings: TargetSettings) -> Any:
    """A boto3 Lambda client for the settings' profile, region and endpoint.

    Without an endpoint setting, boto3 applies its own ``AWS_ENDPOINT_URL`` handling.
    Invocations are never retried by botocore: a retried Invoke runs the code twice.
    """
    import boto3
    import botocore.config
    import botocore.exceptions

    profile = settings.profile
    try:
        session = boto3.Session(profile_name=profile.value if profile else None)
    except botocore.exceptions.ProfileNotFound:
        assert profile is not None
        raise TargetError(
            f"AWS profile {profile.value!r} from {profile.source} is not configured: "
            "check ~/.aws/config, or drop the setting to use the default credentials."
        ) from None
    region = settings.region.value if settings.region else None
    if region is None and settings.arn is not None:
        region = parse_arn(settings.arn.value, settings.arn.source).region
    region = region or session.region_name
    if not region:
        raise TargetError(
            "no AWS region for the Lambda target: pass --lambda-region "
            f"({ENV_VARS['region']}, ini lambda_region) or set AWS_REGION."
        )
    config = botocore.config.Config(
        read_timeout=910,  # longer than Lambda's 900 s maximum function timeout
        connect_timeout=10,
        retries={"total_max_attempts": 1},
    )
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    if settings.endpoint_url is not None:
        kwargs["endpoint_url"] = settings.endpoint_url.value
        if _is_loopback(settings.endpoint_url.value) and session.get_credentials() is None:
            # A local AWS accepts any key; asking for one would make LAMBDA_GATE_* alone
            # not enough to test against it (tox's passenv, a fresh shell).
            kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    return session.client("lambda", **kwargs)


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def _describe_function(client: Any, settings: TargetSettings) -> dict[str, Any]:
    import botocore.exceptions

    function, version = settings.function, settings.version
    assert function is not None and version is not None
    where = (f"function {function.value!r} (from {function.source}) "
             f"version {version.value!r} (from {version.source}) "
             f"in {client.meta.region_name}")
    try:
        return client.get_function(FunctionName=function.value, Qualifier=version.value)
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code != "ResourceNotFoundException":
            first_line = " ".join(message.split())[:200]
            raise TargetError(
                f"cannot look up {where}: {code or 'error'}: {first_line}. Check the "
                "credentials, region and permissions (lambda:GetFunction), and the "
                f"endpoint {client.meta.endpoint_url}."
            ) from None
    except botocore.exceptions.NoCredentialsError:
        raise TargetError(
            f"cannot look up {where}: no AWS credentials found. Configure credentials "
            "or pass --lambda-profile."
        ) from None
    except botocore.exceptions.EndpointConnectionError as exc:
        raise TargetError(
            f"cannot look up {where}: {exc}. Check --lambda-endpoint-url "
            f"({ENV_VARS['endpoint_url']}) or AWS_ENDPOINT_URL."
        ) from None
    raise TargetError(_not_found_message(client, function, version, where))


def _not_found_message(client: Any, function: Sourced, version: Sourced, where: str) -> str:
    import botocore.exceptions

    try:
        client.get_function(FunctionName=function.value)
        pages = client.get_paginator("list_versions_by_function").paginate(
            FunctionName=function.value)
        versions = [v["Version"] for page in pages for v in page["Versions"]]
    except botocore.exceptions.ClientError:
        return (f"{where} does not exist: there is no function {function.value!r}. "
                "Check the name, region and account, and that terraform apply succeeded.")
    published = sorted((v for v in versions if VERSION_NUMBER.match(v)), key=int)
    listed = ", ".join(published[-10:]) or "none"
    return (f"{where} does not exist: the function's published versions are {listed}. "
            "Pass one of those (terraform output `version`).")


def resolve_target(client: Any, settings: TargetSettings) -> tuple[LambdaTarget, frozenset[str]]:
    """Look the target up and describe it, with the secret values to keep out of reports.

    Returns the :class:`LambdaTarget` and the function's environment variable values (a
    set used only to redact them from log tails; never stored on the target).
    """
    check_qualifier(settings)
    response = _describe_function(client, settings)
    cfg = response["Configuration"]
    version = settings.version
    assert version is not None
    alias = version.value if version.value != cfg["Version"] else None
    routed: tuple[str, ...] = ()
    if alias is not None:
        found = client.get_alias(FunctionName=cfg["FunctionName"], Name=alias)
        weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        routed = tuple(sorted(weights))
    variables = (cfg.get("Environment") or {}).get("Variables") or {}
    base_arn = cfg["FunctionArn"].split(":function:")[0]
    target = LambdaTarget(
        function_name=cfg["FunctionName"],
        version=cfg["Version"],
        qualified_arn=f"{base_arn}:function:{cfg['FunctionName']}:{version.value}",
        code_sha256=cfg.get("CodeSha256", ""),
        runtime=cfg.get("Runtime"),
        memory_size=int(cfg.get("MemorySize", 128)),
        timeout=int(cfg.get("Timeout", 3)),
        region=client.meta.region_name,
        environment_variable_names=tuple(sorted(variables)),
        alias=alias,
        endpoint_url=client.meta.endpoint_url,
        routed_versions=routed,
    )
    return target, frozenset(str(v) for v in variables.values())
