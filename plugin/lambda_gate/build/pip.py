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

from ..errors import BuildError

_MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda's names -> wheel tags
# Python 3.12 and later run on Amazon Linux 2023 (glibc 2.34), earlier ones on Amazon
# Linux 2 (glibc 2.26). pip does not widen a manylinux_2_N tag to older ones, so each
# tag the runtime can load is named, newest first (pip prefers earlier --platform tags).
_AL2023_FROM = (3, 12)
_AL2023_TAGS = ("manylinux_2_34", "manylinux_2_28", "manylinux2014")
_AL2_TAGS = ("manylinux2014",)


def python_version(runtime: str) -> str:
    """``"3.11"`` for ``"python3.11"``: the interpreter version Lambda runs."""
    match = re.fullmatch(r"python(3\.\d+)", runtime)
    if not match:
        raise BuildError(
            f"runtime {runtime!r} is not a Python runtime of the form python3.N: "
            "set lambda_gate.function.runtime to e.g. python3.12."
        )
    return match.group(1)


def platforms(runtime: str, architecture: str) -> tuple[str, ...]:
    """The wheel platform tags Lambda's runtime can load, preferred first."""
    if architecture not in _MACHINES:
        raise BuildError(
            f"architecture {architecture!r} is not one Lambda offers: use x86_64 or arm64."
        )
    major, minor = (int(part) for part in python_version(runtime).split("."))
    tags = _AL2023_TAGS if (major, minor) >= _AL2023_FROM else _AL2_TAGS
    return tuple(f"{tag}_{_MACHINES[architecture]}" for tag in tags)


def platform_flags(runtime: str, architecture: str) -> tuple[str, ...]:
    """pip's flags that select wheels for Lambda's runtime and architecture.

    Part of the build's fingerprint: a change here must rebuild.
    """
    return (
        *(flag for tag in platforms(runtime, architecture) for flag in ("--platform", tag)),
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
        f"({architecture}: {' or '.join(platforms(runtime, architecture))} wheels)")
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
        f"{' or '.join(platforms(runtime, architecture))} and Python "
        f"{python_version(runtime)}."
    )


# -- what a requirements file pulls in ---------------------------------------------------

_INCLUDE = re.compile(r"(-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+|(?<=-r|-c))(\S.*)")
_EDITABLE = re.compile(r"(?:-e|--editable)(?:\s*=\s*|\s+)(\S.*)")
_LOCAL = re.compile(r"(?:[^@;\s]+\s*@\s*)?(file:\S+|\.{1,2}[/\\]\S*|/\S+)")


def _logical_lines(text: str) -> list[str]:
    """Lines as pip reads them: continuations joined, comments and blanks dropped."""
    lines, pending = [], ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = re.sub(r"(^|\s)#.*", "", pending + raw).strip()
        pending = ""
        if line:
            lines.append(line)
    return lines


def _local_path(spec: str, cwd: Path) -> Path | None:
    match = _LOCAL.match(spec)
    if match is None:
        return None
    location = re.split(r"[;\[#]", match.group(1), maxsplit=1)[0].strip()
    if location.startswith("file:"):
        location = re.sub(r"^file:(//)?", "", location)
    return cwd / location


def pyproject_dependencies(pyproject: Path) -> list[str]:
    """``[project].dependencies`` of a pyproject.toml, what pip installs from it."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildError(f"{pyproject} is not valid TOML ({exc}): fix it.") from None
    project = data.get("project", {})
    deps = project.get("dependencies", []) if isinstance(project, dict) else None
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise BuildError(f"{pyproject}: [project].dependencies must be a list of strings.")
    return deps


def referenced_paths(requirements: Path, cwd: Path | None = None) -> list[Path]:
    """Files and directories outside the requirements file that pip would read.

    ``-r`` and ``-c`` includes (relative to the file naming them, followed through),
    and local requirements: wheels, archives and project directories, given as a path
    or a ``file:`` URL, plain or editable (relative to pip's working directory, the top
    file's directory). A pyproject.toml's dependencies can name local ones too
    (``name @ file:///...``). Part of the build's fingerprint: editing an included file
    or replacing a local wheel must rebuild. Missing ones are left for pip to report.
    """
    cwd = cwd or requirements.parent
    if requirements.suffix == ".toml":
        local = (_local_path(dep, cwd) for dep in pyproject_dependencies(requirements))
        return [path for path in local if path is not None]
    found: list[Path] = []
    seen = {requirements.resolve()}
    pending = [requirements]
    while pending:
        current = pending.pop()
        try:
            text = current.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # pip reports it
        for line in _logical_lines(text):
            include = _INCLUDE.match(line)
            if include:
                path = current.parent / include.group(2).strip()
                if path.resolve() not in seen:
                    seen.add(path.resolve())
                    found.append(path)
                    pending.append(path)
                continue
            editable = _EDITABLE.match(line)
            local = _local_path(editable.group(1) if editable else line, cwd)
            if local is not None and local.resolve() not in seen:
                seen.add(local.resolve())
                found.append(local)
    return found
