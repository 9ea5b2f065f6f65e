"""Where terraform installs providers from, and what to say when one is missing.

Without registry access, terraform installs every registry provider from a filesystem
mirror (``lambda_gate.terraform.plugin_dir``). When it cannot, the hint names the
providers terraform reported missing (a module's ``hashicorp/null`` is as likely as the
aws provider) and where in the mirror each must be.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: What terraform says when it could not install a provider from where it looked.
_INSTALL_FAILURES = (
    "Failed to query available provider packages",
    "could not connect to registry",
    "Failed to install provider",
    "no available releases match",
    "provider registry.terraform.io",
)


def cli_config_for_mirror(plugin_dir: Path) -> str:
    """A terraform CLI config that installs every registry provider from a mirror.

    A filesystem mirror (unlike ``init -plugin-dir``) links the provider instead of
    copying its 700 MB into every working directory.
    """
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(plugin_dir))}\n"
        '    include = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )


_MISSING_PROVIDER = re.compile(
    r"(?:versions for provider|installing|provider registry\.terraform\.io/)\s*"
    r"(?:registry\.terraform\.io/)?([a-z0-9][\w-]*/[a-z0-9][\w-]*)")


def missing_providers(output: str) -> list[str]:
    """The providers (``hashicorp/null``) terraform says it could not install."""
    text = " ".join(_ANSI.sub("", output).split())
    return list(dict.fromkeys(_MISSING_PROVIDER.findall(text)))


def provider_hint(plugin_dir: Path | None, providers: Sequence[str] = ()) -> str:
    """What to do when terraform could not install a provider, given where it looked."""
    named = ", ".join(providers) if providers else "the aws provider"
    paths = " and ".join(f"registry.terraform.io/{p}/<version>/<os>_<arch>/"
                         for p in providers) or (
        "registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/")
    if plugin_dir is not None:
        return (
            f"terraform could not install {named} from the mirror {plugin_dir} "
            f"(lambda_gate.terraform.plugin_dir): it must hold {paths} with a version the "
            "configuration's required_providers allows. Add it to the mirror (`terraform "
            "providers mirror DIR` on a machine with registry access copies every provider "
            "a configuration needs), fix the setting (or "
            "INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR), or unset it to use the registry."
        )
    return (
        f"terraform could not install {named}. On a machine without registry "
        "access, point lambda-gate at a provider mirror: set "
        "lambda_gate.terraform.plugin_dir in invoke.yaml, or export "
        "INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR=/path/to/mirror (the directory holding "
        "registry.terraform.io/)."
    )


def install_failure_hint(output: str, plugin_dir: Path | None) -> str | None:
    """:func:`provider_hint` for the providers named, when terraform's ``output`` says it
    could not install one; ``None`` when it failed for another reason."""
    if not any(marker in output for marker in _INSTALL_FAILURES):
        return None
    return provider_hint(plugin_dir, missing_providers(output))
