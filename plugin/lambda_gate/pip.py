"""pip, run for Lambda's platform rather than this machine's.

Dependencies are installed into a staging directory with pip's cross-platform flags,
so a build on a Mac or an arm64 laptop still gets the manylinux wheels Lambda needs,
and a dependency with no wheel for that platform fails here (``--only-binary=:all:``)
instead of at import time in Lambda. This module owns pip's subprocess, its output and
turning its failures into :class:`~lambda_gate.errors.BuildError`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .errors import BuildError

_PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


def python_version(runtime: str) -> str:
    """``"3.11"`` for ``"python3.11"``: the interpreter version Lambda runs."""
    match = re.fullmatch(r"python(3\.\d+)", runtime)
    if not match:
        raise BuildError(
            f"runtime {runtime!r} is not a Python runtime of the form python3.N: "
            "set lambda_gate.function.runtime to e.g. python3.12."
        )
    return match.group(1)


def platform_flags(runtime: str, architecture: str) -> tuple[str, ...]:
    """pip's flags that select wheels for Lambda's runtime and architecture.

    Part of the build's fingerprint: a change here must rebuild.
    """
    if architecture not in _PLATFORMS:
        raise BuildError(
            f"architecture {architecture!r} is not one Lambda offers: use x86_64 or arm64."
        )
    return (
        "--platform", _PLATFORMS[architecture],
        "--implementation", "cp",
        "--python-version", python_version(runtime),
        "--only-binary=:all:",
    )


def install_command(requirements: Path, target: Path, runtime: str,
                    architecture: str) -> list[str]:
    """The full argv of the install (pure, so it is tested without running pip)."""
    return [
        sys.executable, "-m", "pip", "install",
        "--requirement", str(requirements),
        "--target", str(target),
        *platform_flags(runtime, architecture),
        "--no-compile",  # .pyc files are host-specific and would break reproducibility
        "--no-input",
        "--disable-pip-version-check",
        "--no-warn-script-location",
    ]


def install(requirements: Path, target: Path, *, runtime: str, architecture: str,
            cwd: Path | None = None, log: Callable[[str], None] = print) -> None:
    """Install ``requirements`` into ``target`` for Lambda; BuildError if pip fails.

    pip runs in ``cwd`` (default: the requirements file's directory), so relative
    references in it (``-r common.txt``, ``./libs/x.whl``) resolve as they do for a
    developer.
    """
    argv = install_command(requirements, target, runtime, architecture)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PIP_NO_INPUT": "1"}
    log(f"build: pip install -r {requirements.name} for {runtime} "
        f"({architecture}, {_PLATFORMS[architecture]})")
    try:
        proc = subprocess.run(argv, cwd=cwd or requirements.parent, env=env, text=True,
                              capture_output=True)
    except OSError as exc:  # pragma: no cover - sys.executable always exists
        raise BuildError(f"could not run pip ({exc}).") from exc
    if proc.returncode != 0:
        raise BuildError(failure_message(requirements, runtime, architecture,
                                         proc.stdout + proc.stderr))
    for line in proc.stdout.splitlines():
        if line.startswith("Successfully installed"):
            log(f"build: {line.strip()}")


def failure_message(requirements: Path, runtime: str, architecture: str,
                    output: str) -> str:
    """Explain a failed install with pip's own error lines and what to try."""
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    shown = "\n".join(errors or output.strip().splitlines()[-15:])
    return (
        f"pip could not install {requirements} for Lambda ({runtime}, {architecture}, "
        f"binary wheels only):\n{shown}\n"
        "Check the requirement's name and version, and that it publishes a wheel for "
        f"{_PLATFORMS[architecture]} and Python {python_version(runtime)}."
    )
