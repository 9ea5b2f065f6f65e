"""Which Lambda version a test session runs against, and where that choice came from.

Smoke tests are only worth something when they exercise exactly the version that is
about to be promoted, so the target is settled once, before any test runs:

1. :func:`resolve_settings` merges command-line options, ``LAMBDA_GATE_*`` environment
   variables and ini options (in that order of precedence) into a
   :class:`TargetSettings`, recording for every value the place it came from, so an
   error can say "from --lambda-version" or "from LAMBDA_GATE_ARN".
2. :func:`~lambda_gate.pytest_plugin.target.resolve_target` then asks Lambda whether
   that version exists.

Both raise :class:`TargetError` with a message naming the source of the bad value. The
module does not import pytest; the plugin turns :class:`TargetError` into a usage error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: Environment variables, by setting name.
ENV_VARS: dict[str, str] = {
    "function": "LAMBDA_GATE_FUNCTION",
    "version": "LAMBDA_GATE_VERSION",
    "arn": "LAMBDA_GATE_ARN",
    "terraform_output": "LAMBDA_GATE_TERRAFORM_OUTPUT",
    "region": "LAMBDA_GATE_REGION",
    "profile": "LAMBDA_GATE_PROFILE",
    "endpoint_url": "LAMBDA_GATE_ENDPOINT_URL",
    "allow_alias": "LAMBDA_GATE_ALLOW_ALIAS",
    "fresh_environments": "LAMBDA_GATE_FRESH_ENVIRONMENTS",
}

#: Command-line options, by setting name.
CLI_OPTIONS: dict[str, str] = {
    "function": "--lambda-function",
    "version": "--lambda-version",
    "arn": "--lambda-arn",
    "terraform_output": "--lambda-terraform-output",
    "region": "--lambda-region",
    "profile": "--lambda-profile",
    "endpoint_url": "--lambda-endpoint-url",
    "allow_alias": "--lambda-allow-alias",
    "fresh_environments": "--lambda-fresh-environments",
}

#: Settings that are flags (store_true on the command line, true/false elsewhere).
BOOLEAN_SETTINGS = ("allow_alias", "fresh_environments")

#: ini options, by setting name.
INI_OPTIONS: dict[str, str] = {name: f"lambda_{name}" for name in CLI_OPTIONS}
INI_OPTIONS["http_event_format"] = "lambda_http_event_format"

NO_TARGET_REASON = (
    "no Lambda target: pass --lambda-function/--lambda-version, --lambda-arn or "
    "--lambda-terraform-output (or LAMBDA_GATE_* env vars)"
)

HTTP_EVENT_FORMATS = ("v2", "v1")

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(-[a-z]+)+-\d+):"
    r"(?P<account>\d{12}):function:(?P<name>[a-zA-Z0-9_-]{1,64})"
    r"(:(?P<qualifier>[a-zA-Z0-9$_-]+))?$"
)
VERSION_NUMBER = re.compile(r"^[1-9][0-9]*$")
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class TargetError(ConfigError):
    """The Lambda target is missing, malformed or does not exist; no test has run."""


@dataclass(frozen=True)
class Sourced:
    """A setting's value and where it came from, for error messages and the report."""

    value: str
    source: str

    def __str__(self) -> str:
        return f"{self.value} (from {self.source})"


@dataclass(frozen=True)
class TargetSettings:
    """The merged settings; ``None`` where nothing set a value.

    ``function`` and ``version`` are filled from whichever source named the target (an
    ARN or a terraform output file included), so callers need not care which it was.
    """

    function: Sourced | None = None
    version: Sourced | None = None
    arn: Sourced | None = None
    terraform_output: Sourced | None = None
    region: Sourced | None = None
    profile: Sourced | None = None
    endpoint_url: Sourced | None = None
    allow_alias: bool = False
    allow_alias_source: str | None = None
    http_event_format: str = "v2"
    fresh_environments: bool = False

    @property
    def has_target(self) -> bool:
        """Whether any source named a function; without one, the fixtures skip."""
        return self.function is not None


@dataclass(frozen=True)
class ParsedArn:
    region: str
    account: str
    function_name: str
    qualifier: str | None


def parse_arn(arn: str, source: str) -> ParsedArn:
    """Split a Lambda function ARN, or say what is wrong with it."""
    match = _ARN.match(arn.strip())
    if not match:
        raise TargetError(
            f"{arn!r} from {source} is not a Lambda function ARN: expected "
            "arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION, "
            "e.g. arn:aws:lambda:us-east-1:123456789012:function:orders:7."
        )
    return ParsedArn(
        region=match["region"],
        account=match["account"],
        function_name=match["name"],
        qualifier=match["qualifier"],
    )


def _pick(name: str, cli: Mapping[str, Any], env: Mapping[str, str],
          ini: Mapping[str, Any]) -> tuple[Sourced | None, int]:
    """The value of one setting and its rank (0 CLI, 1 env, 2 ini, 3 unset)."""
    layers = (
        (cli.get(name), CLI_OPTIONS.get(name)),
        (env.get(ENV_VARS[name]) if name in ENV_VARS else None, ENV_VARS.get(name)),
        (ini.get(name), f"ini {INI_OPTIONS[name]}"),
    )
    for rank, (value, source) in enumerate(layers):
        if value is not None and str(value).strip() != "":
            return Sourced(str(value).strip(), str(source)), rank
    return None, 3


def _as_bool(value: Sourced) -> bool:
    text = value.value.lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TargetError(
        f"{value.value!r} from {value.source} is not a yes/no value: use 1 or 0 "
        "(true/false, yes/no, on/off)."
    )


def _http_event_format(value: Sourced | None) -> str:
    if value is None:
        return "v2"
    text = {"2.0": "v2", "1.0": "v1"}.get(value.value, value.value.lower())
    if text not in HTTP_EVENT_FORMATS:
        raise TargetError(
            f"{value.value!r} from {value.source} is not an API Gateway payload format: "
            "use v2 (HTTP API, payload format 2.0) or v1 (REST API, payload format 1.0)."
        )
    return text


def _output_value(outputs: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in outputs:
            entry = outputs[name]
            # `terraform output -json` wraps each value: {"value": ..., "type": ...}.
            if isinstance(entry, Mapping) and "value" in entry:
                entry = entry["value"]
            if entry is not None and str(entry) != "":
                return entry
    return None


def read_terraform_output(path: Path, source: str) -> tuple[str, str, str | None]:
    """``(function_name, version, qualified_arn or None)`` from ``terraform output -json``.

    Accepts ``function_name`` or ``lambda_name`` and ``version`` or ``lambda_version``,
    the names our module and common community modules use.
    """
    where = f"terraform output file {path}"
    if not path.is_file():
        raise TargetError(
            f"{where} (from {source}) does not exist: write it with "
            f"`terraform output -json > {path}` after `terraform apply`."
        )
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TargetError(
            f"{where} (from {source}) is not JSON ({exc}): write it with "
            "`terraform output -json`, not `terraform output`."
        ) from None
    if not isinstance(outputs, Mapping):
        raise TargetError(
            f"{where} (from {source}) is not a JSON object of outputs: write it with "
            "`terraform output -json`."
        )
    name = _output_value(outputs, "function_name", "lambda_name")
    version = _output_value(outputs, "version", "lambda_version")
    arn = _output_value(outputs, "qualified_arn")
    missing = [label for label, value in (("function_name", name), ("version", version))
               if value is None]
    if missing:
        found = ", ".join(sorted(outputs)) or "none"
        raise TargetError(
            f"{where} (from {source}) has no {' or '.join(missing)} output (outputs found: "
            f"{found}): add `output \"function_name\"` and `output \"version\"` "
            "(the published version, aws_lambda_function's .version) to the terraform module."
        )
    return str(name), str(version), (str(arn) if arn is not None else None)


def resolve_settings(cli: Mapping[str, Any], env: Mapping[str, str],
                     ini: Mapping[str, Any], *, ini_dir: Path | None = None,
                     cwd: Path | None = None) -> TargetSettings:
    """Merge the three sources into :class:`TargetSettings`; the one place precedence lives.

    Each setting is taken from the command line, else the environment, else the ini
    file. The target itself is named in one of three ways (an ARN, a terraform output
    file, or a function name with a version); the way given by the highest-precedence
    source wins, so ``--lambda-arn`` on the command line overrides a
    ``LAMBDA_GATE_FUNCTION`` left in the environment. Two ways at the same level are a
    contradiction and are refused. Relative paths from the ini file are taken from its
    directory (``ini_dir``); others from ``cwd``.
    """
    picked = {name: _pick(name, cli, env, ini) for name in [*CLI_OPTIONS, "http_event_format"]}
    value = {name: sourced for name, (sourced, _) in picked.items()}
    rank = {name: r for name, (_, r) in picked.items()}

    allow = value["allow_alias"]
    common: dict[str, Any] = {
        "region": value["region"],
        "profile": value["profile"],
        "endpoint_url": value["endpoint_url"],
        "allow_alias": _as_bool(allow) if allow else False,
        "allow_alias_source": allow.source if allow else None,
        "http_event_format": _http_event_format(value["http_event_format"]),
        "fresh_environments": (_as_bool(value["fresh_environments"])
                               if value["fresh_environments"] else False),
    }

    ways = {
        "arn": rank["arn"],
        "terraform_output": rank["terraform_output"],
        "function": min(rank["function"], rank["version"]),
    }
    best = min(ways.values())
    if best == 3:
        return TargetSettings(**common)
    chosen = [way for way, r in ways.items() if r == best]
    if len(chosen) > 1:
        named = []
        for way in chosen:
            names = ("function", "version") if way == "function" else (way,)
            named += [value[n].source for n in names if value[n] and rank[n] == best]
        raise TargetError(
            f"the Lambda target is given twice ({' and '.join(named)}): name it one way, "
            "with --lambda-arn, --lambda-terraform-output, or --lambda-function and "
            "--lambda-version."
        )

    way = chosen[0]
    if way == "arn":
        arn = value["arn"]
        assert arn is not None
        parsed = parse_arn(arn.value, arn.source)
        if parsed.qualifier is None:
            raise TargetError(
                f"{arn.value!r} from {arn.source} is an unqualified ARN, which means "
                "$LATEST: add the published version, e.g. "
                f"{arn.value}:7 (terraform output `qualified_arn`)."
            )
        return TargetSettings(
            function=Sourced(parsed.function_name, arn.source),
            version=Sourced(parsed.qualifier, arn.source),
            arn=arn,
            **common,
        )

    if way == "terraform_output":
        tf = value["terraform_output"]
        assert tf is not None
        base = ini_dir if tf.source.startswith("ini ") and ini_dir else (cwd or Path.cwd())
        path = Path(tf.value).expanduser()
        path = path if path.is_absolute() else base / path
        name, version, qualified_arn = read_terraform_output(path, tf.source)
        where = f"terraform output file {path}"
        arn_setting = None
        if qualified_arn is not None:
            parsed = parse_arn(qualified_arn, where)
            if (parsed.function_name, parsed.qualifier) != (name, version):
                raise TargetError(
                    f"{where} disagrees with itself: qualified_arn {qualified_arn!r} is not "
                    f"function {name!r} version {version!r}; re-run `terraform output -json` "
                    "after a complete apply."
                )
            arn_setting = Sourced(qualified_arn, where)
        return TargetSettings(
            function=Sourced(name, where),
            version=Sourced(version, where),
            arn=arn_setting,
            terraform_output=tf,
            **common,
        )

    function, version = value["function"], value["version"]
    if function is None:
        assert version is not None
        raise TargetError(
            f"version {version.value!r} from {version.source} names no function: add "
            f"--lambda-function NAME (or {ENV_VARS['function']}), or pass --lambda-arn."
        )
    if version is None:
        raise TargetError(
            f"function {function.value!r} from {function.source} has no version: add "
            f"--lambda-version N (or {ENV_VARS['version']}), the version terraform "
            "published (terraform output `version`)."
        )
    if function.value.startswith("arn:"):
        parsed = parse_arn(function.value, function.source)
        function = Sourced(parsed.function_name, function.source)
    elif not _FUNCTION_NAME.match(function.value):
        raise TargetError(
            f"{function.value!r} from {function.source} is not a Lambda function name: "
            "use 1 to 64 letters, digits, hyphens and underscores (or the function's ARN)."
        )
    return TargetSettings(function=function, version=version, **common)


def check_qualifier(settings: TargetSettings) -> None:
    """Refuse ``$LATEST`` and aliases unless the settings allow aliases.

    A smoke test result is evidence about one immutable piece of code; ``$LATEST`` and
    aliases move, so a pass through them says nothing about what will be promoted.
    """
    version = settings.version
    if version is None or VERSION_NUMBER.match(version.value) or settings.allow_alias:
        return
    what = ("$LATEST is the unpublished code, not a version"
            if version.value == "$LATEST"
            else f"{version.value!r} is not a version number (an alias, or a typo)")
    if version.value == "$LATEST" and version.source.startswith("terraform output file"):
        what += " (terraform published nothing: set publish = true on aws_lambda_function)"
    raise TargetError(
        f"the target version from {version.source} is refused: {what}. Smoke tests pin "
        "one published version so that a pass is evidence about exactly the code to be "
        "promoted. Pass the number terraform published (terraform output `version`), or, "
        "to test through a live alias after promotion, add --lambda-allow-alias "
        f"({ENV_VARS['allow_alias']}=1, ini lambda_allow_alias = true)."
    )
