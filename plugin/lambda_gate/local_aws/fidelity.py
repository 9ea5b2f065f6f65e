"""Alias and version rules Lambda enforces and moto 5.2.1 does not.

Each check raises the :class:`~.api_errors.ApiFault` Lambda answers with, so the
middleware can run it before handing the request to moto. They are plain functions of
the request and the stored state, kept apart from HTTP routing so each rule reads alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .api_errors import ApiFault

ALIAS_NAME_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
_ALIAS_NAME = re.compile(rf"^{ALIAS_NAME_PATTERN}$")
VERSION_PATTERN = r"(\$LATEST|[0-9]+)"
_VERSION = re.compile(rf"^{VERSION_PATTERN}$")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 10000
MAX_ENVIRONMENT_BYTES = 4096
#: Variables Lambda sets itself and refuses in a function's configuration.
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})


def _validation(value: object, field: str, constraint: str) -> ApiFault:
    return ApiFault(400, "ValidationException",
                    f"1 validation error detected: Value '{value}' at '{field}' failed to "
                    f"satisfy constraint: {constraint}")


def validate_alias_name(name: str, field: str = "name") -> None:
    """Alias names: 1-128 characters of the pattern, and not all digits (a version)."""
    if not 1 <= len(name) <= 128:
        raise _validation(name, field, "Member must have length between 1 and 128")
    if not _ALIAS_NAME.match(name):
        raise _validation(name, field, "Member must satisfy regular expression pattern: "
                          f"{ALIAS_NAME_PATTERN}")


def validate_function_version(version: object) -> None:
    """An alias points at ``$LATEST`` or a version number, never at another alias."""
    if not isinstance(version, str) or not _VERSION.match(version):
        raise _validation(version, "functionVersion", "Member must satisfy regular "
                          f"expression pattern: {VERSION_PATTERN}")


def validate_routing(routing_config: dict | None, primary: str,
                     versions: dict[str, Any], function_arn: str) -> None:
    """RoutingConfig: one additional published version, weight in [0, 1], not the primary.

    ``versions`` maps the function's published version numbers to moto's stored versions.
    """
    weights = (routing_config or {}).get("AdditionalVersionWeights") or {}
    if not isinstance(weights, dict):
        raise _validation(weights, "routingConfig.additionalVersionWeights",
                          "Member must be a map of version to weight")
    if not weights:
        return
    for version, weight in weights.items():
        # Lambda's messages show the map as Java prints it: {2=2.0}.
        shown = f"{{{version}={float(weight)}}}" if isinstance(weight, (int, float)) else \
            f"{{{version}={weight}}}"
        if not re.match(r"^[0-9]+$", str(version)):
            raise _validation(shown,
                              "routingConfig.additionalVersionWeights",
                              "Map keys must satisfy constraint: [Member must satisfy "
                              "regular expression pattern: [0-9]+]")
        if not isinstance(weight, (int, float)) or not 0.0 <= float(weight) <= 1.0:
            raise _validation(shown, "routingConfig.additionalVersionWeights",
                              "Map value must satisfy constraint: [Member must have value "
                              "less than or equal to 1.0, Member must have value greater "
                              "than or equal to 0.0, Member must not be null]")
    if len(weights) > 1:
        raise ApiFault(400, "InvalidParameterValueException",
                       "Number of items in AdditionalVersionWeights cannot be greater than 1")
    if primary == "$LATEST":
        raise ApiFault(400, "InvalidParameterValueException",
                       "$LATEST is not supported for an alias pointing to more than 1 "
                       "version")
    (additional,) = (str(v) for v in weights)
    if additional == primary:
        raise ApiFault(400, "InvalidParameterValueException",
                       f"Invalid function version {additional}. Function version "
                       f"{additional} is already included in routing configuration.")
    if additional not in versions:
        raise ApiFault(404, "ResourceNotFoundException",
                       f"Function not found: {function_arn}:{additional}")
    if primary in versions and versions[primary].role != versions[additional].role:
        raise ApiFault(400, "InvalidParameterValueException",
                       "Specified versions must be associated with the same execution role")


def check_revision(current: str, given: str | None) -> None:
    """A RevisionId, when given, must be the current one (optimistic locking)."""
    if given is not None and given != current:
        raise ApiFault(412, "PreconditionFailedException",
                       "The Revision Id provided does not match the latest Revision Id. "
                       "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


def check_code_sha(latest: str, given: str | None) -> None:
    """PublishVersion's CodeSha256, when given, must be $LATEST's."""
    if given and given != latest:
        raise ApiFault(400, "InvalidParameterValueException",
                       f"CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST "
                       f"({latest}). Please try again with the CodeSHA256 in $LATEST.")


def validate_environment(params: dict[str, Any]) -> None:
    """A function's variables: no reserved names, at most 4 KB as Lambda measures them."""
    variables = (params.get("Environment") or {}).get("Variables")
    if not isinstance(variables, dict):
        return
    reserved = [key for key in variables if key in RESERVED_VARIABLES]
    if reserved:
        raise ApiFault(400, "InvalidParameterValueException",
                       "Lambda was unable to configure your environment variables because "
                       "the environment variables you have provided contains reserved keys "
                       "that are currently not supported for modification. Reserved keys "
                       f"used in this request: {', '.join(reserved)}")
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode("utf-8")) > MAX_ENVIRONMENT_BYTES:
        raise ApiFault(400, "InvalidParameterValueException",
                       "Lambda was unable to configure your environment variables because "
                       "the environment variables you have provided exceeded the 4KB limit. "
                       f"String measured: {measured}")


def alias_not_found(function_arn: str, alias: str) -> ApiFault:
    return ApiFault(404, "ResourceNotFoundException",
                    f"Alias not found: {function_arn}:{alias}")


def check_deletable_qualifier(qualifier: str) -> None:
    """DeleteFunction deletes a version, never the version behind an alias."""
    if qualifier != "$LATEST" and not re.fullmatch(r"[0-9]+", qualifier):
        raise ApiFault(400, "InvalidParameterValueException",
                       "Deletion of aliases is not currently supported.")


def aliases_referencing(aliases: Iterable[Any], version: str) -> list[str]:
    """Names of the aliases whose primary or additional version is ``version``."""
    names = []
    for alias in aliases:
        weights = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
        if str(alias.function_version) == version or version in {str(v) for v in weights}:
            names.append(alias.name)
    return sorted(names)


def check_version_deletable(aliases: Iterable[Any], qualifier: str) -> None:
    """A version cannot be deleted while an alias sends traffic to it; nor can $LATEST."""
    if qualifier == "$LATEST":
        raise ApiFault(400, "InvalidParameterValueException",
                       "$LATEST version cannot be deleted without deleting the function.")
    names = aliases_referencing(aliases, qualifier)
    if names:
        raise ApiFault(409, "ResourceConflictException",
                       "Unable to delete version because the following aliases reference "
                       f"it: [{', '.join(names)}]")


def page(items: Sequence[Any], marker: str | None, max_items: str | None
         ) -> tuple[list[Any], str | None]:
    """One page of a list API and the NextMarker for the rest (None on the last page)."""
    try:
        size = int(max_items) if max_items else DEFAULT_PAGE_SIZE
    except ValueError:
        raise _validation(max_items, "maxItems", "Member must be a number") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _validation(max_items, "maxItems", "Member must have value between 1 and "
                          f"{MAX_PAGE_SIZE}")
    start = 0
    if marker:
        if not marker.isdigit() or int(marker) > len(items):
            raise ApiFault(400, "InvalidParameterValueException",
                           f"Invalid marker {marker!r}: use the NextMarker of the previous "
                           "page.")
        start = int(marker)
    end = start + size
    return list(items[start:end]), (str(end) if end < len(items) else None)


def account_settings(functions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """GetAccountSettings for one region's stored functions, with Lambda's default quotas."""
    total_code = 0
    reserved = 0
    for group in functions.values():
        latest = group.get("latest")
        stored = [*group.get("versions", []), *([latest] if latest is not None else [])]
        total_code += sum(int(getattr(fn, "code_size", 0) or 0) for fn in stored)
        if latest is not None and latest.reserved_concurrency:
            reserved += int(latest.reserved_concurrency)
    return {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": 1000,
            "UnreservedConcurrentExecutions": 1000 - reserved,
        },
        "AccountUsage": {"TotalCodeSize": total_code, "FunctionCount": len(functions)},
    }
