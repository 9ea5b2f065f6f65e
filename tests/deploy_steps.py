"""One CLI step of a deploy's life, with what Lambda holds after it."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Step:
    result: subprocess.CompletedProcess[str]
    versions: list[str]
    aliases: dict[str, str]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def versions_and_aliases(client, function: str) -> tuple[list[str], dict[str, str]]:
    """Published versions and alias -> version of ``function`` (empty when it is absent)."""
    try:
        versions = [v["Version"] for v in client.list_versions_by_function(
            FunctionName=function)["Versions"] if v["Version"] != "$LATEST"]
        aliases = {a["Name"]: a["FunctionVersion"]
                   for a in client.list_aliases(FunctionName=function)["Aliases"]}
    except client.exceptions.ResourceNotFoundException:
        return [], {}
    return versions, aliases


def artifact_sha256(root: Path) -> str:
    """The CodeSha256 Lambda reports for the package a deploy in ``root`` built."""
    data = (root / "build" / "lambda.zip").read_bytes()
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def code_sha256(client, function: str, version: str) -> str:
    """The CodeSha256 of one version of ``function``, as Lambda has it."""
    return client.get_function_configuration(FunctionName=function,
                                             Qualifier=version)["CodeSha256"]


def step_runner(project, client, default_function: str) -> Callable[..., Step]:
    """``run("deploy", "--alias", "x", extra_env={...}, function=...)`` -> :class:`Step`."""

    def run(*args: str, extra_env: dict[str, str] | None = None,
            function: str = default_function) -> Step:
        result = project.invoke(*args, extra_env=extra_env)
        return Step(result, *versions_and_aliases(client, function))

    return run
