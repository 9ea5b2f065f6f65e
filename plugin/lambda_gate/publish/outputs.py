"""Which of a configuration's outputs give the function's name, version and qualified ARN.

Configurations name them differently: lambda-gate's reference uses ``function_name``,
``version`` and ``qualified_arn``; the article this workflow comes from has
``lambda_name`` and ``lambda_version``; a root wrapping terraform-aws-modules/lambda
passes on ``lambda_function_name`` and friends. Each is found by the first of its names
the configuration has; ``lambda_gate.terraform.outputs.<key>`` replaces a key's list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import TerraformError

DEFAULT_NAMES: Mapping[str, tuple[str, ...]] = {
    "function_name": ("function_name", "lambda_name", "lambda_function_name"),
    "version": ("version", "lambda_version", "lambda_function_version"),
    "qualified_arn": ("qualified_arn", "lambda_qualified_arn",
                      "lambda_function_qualified_arn"),
}
#: Without a qualified ARN output lambda-gate asks Lambda for it; the others it needs.
REQUIRED = ("function_name", "version")


@dataclass(frozen=True)
class OutputNames:
    """The output names accepted for each value lambda-gate reads."""

    function_name: tuple[str, ...] = DEFAULT_NAMES["function_name"]
    version: tuple[str, ...] = DEFAULT_NAMES["version"]
    qualified_arn: tuple[str, ...] = DEFAULT_NAMES["qualified_arn"]

    @classmethod
    def from_settings(cls, configured: Mapping[str, Sequence[str]]) -> OutputNames:
        """Names from ``lambda_gate.terraform.outputs``; an unset key keeps its defaults."""
        return cls(**{key: tuple(configured.get(key) or ()) or DEFAULT_NAMES[key]
                      for key in DEFAULT_NAMES})

    def names(self, key: str) -> tuple[str, ...]:
        return getattr(self, key)

    def pick(self, key: str, available: Mapping[str, object]) -> str | None:
        """The first of ``key``'s names that ``available`` has (with a value), if any."""
        for name in self.names(key):
            if available.get(name) not in (None, ""):
                return name
        return None

    def describe(self, key: str) -> str:
        names = self.names(key)
        if len(names) == 1:
            return f'output "{names[0]}"'
        return "an output named " + " or ".join(f'"{name}"' for name in names)

    def values(self, raw: Mapping[str, object]) -> dict[str, object]:
        """``raw`` (output name -> value) as the three keys lambda-gate reads."""
        found = {}
        for key in DEFAULT_NAMES:
            name = self.pick(key, raw)
            if name is not None:
                found[key] = raw[name]
        return found


#: The default names, for callers that take no setting.
DEFAULT_OUTPUTS = OutputNames()


@dataclass(frozen=True)
class TerraformOutputs:
    """What the pipeline needs from terraform after an apply."""

    function_name: str
    version: str
    qualified_arn: str
    raw: Mapping[str, object] = field(default_factory=dict, repr=False)


def outputs_from(raw: Mapping[str, object], *, source: str,
                 names: OutputNames = DEFAULT_OUTPUTS) -> TerraformOutputs:
    """Check and type the outputs the pipeline depends on, found by any of their names."""
    values = names.values(raw)
    missing = [f"{key} ({names.describe(key)})" for key in ("function_name", "version")
               if key not in values]
    if missing:
        raise TerraformError(
            f"terraform's outputs ({source}) lack {' and '.join(missing)}: the "
            "configuration must output the function's name and version (and qualified "
            "ARN; see terraform/outputs.tf in lambda-gate's reference configuration, or "
            "set lambda_gate.terraform.outputs to the names yours uses)."
        )
    version = str(values["version"])
    if not version.isdigit():
        raise TerraformError(
            f"terraform output version is {version!r} ({source}), not a published version "
            "number: set publish = true on the aws_lambda_function."
        )
    name = str(values["function_name"])
    arn = str(values.get("qualified_arn") or "")
    return TerraformOutputs(function_name=name, version=version, qualified_arn=arn, raw=raw)
