"""npm, for Node.js functions: clean installs from the lockfile and the build step.

``npm ci`` installs exactly what package-lock.json records, so two builds of the same
lockfile get the same ``node_modules``. This module owns npm's subprocesses, their
output and turning their failures into :class:`~lambda_gate.errors.BuildError`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import BuildError

_QUIET = ("--no-audit", "--no-fund", "--loglevel=error")
_CPUS = {"x86_64": "x64", "arm64": "arm64"}  # Lambda's names -> Node's process.arch


def npm_binary(path: str | None = None) -> str:
    """Where npm is, or a BuildError saying how to get it (``path`` overrides $PATH)."""
    found = shutil.which("npm", path=path)
    if not found:
        raise BuildError(
            "npm was not found on PATH, and this function's runtime is Node.js: "
            "install Node.js (which ships npm), e.g. `apt-get install nodejs npm` or "
            "from nodejs.org, and make sure `npm --version` works in this shell."
        )
    return found


def ci_command(npm: str, *, production: bool, architecture: str | None = None) -> list[str]:
    """argv of a clean install; ``production`` leaves out devDependencies.

    With ``architecture``, optional dependencies are chosen for Lambda's platform
    (``--os``/``--cpu``, npm 10.2 and later): packages such as esbuild or sharp ship
    their native code as per-platform optional dependencies, and the build machine's
    would not load in Lambda.
    """
    argv = [npm, "ci", *(["--omit=dev"] if production else []), *_QUIET]
    if architecture is not None:
        argv += ["--os=linux", f"--cpu={_CPUS[architecture]}"]
    return argv


_LOCAL_SPECS = ("file:", "link:", "./", "../", "/", "~/")


def local_dependencies(manifest: dict, sections: Sequence[str]) -> list[str]:
    """``name (spec)`` of each dependency in ``sections`` given as a local path.

    The build installs dependencies with ``npm ci`` in a clean staging directory, where
    a path relative to the source tree does not resolve; npm's own error then would
    name a missing package.json in a temporary directory. The build asks first.
    """
    found = []
    for section in sections:
        deps = manifest.get(section) or {}
        if isinstance(deps, dict):
            found += [f"{name} ({spec})" for name, spec in deps.items()
                      if isinstance(spec, str) and spec.startswith(_LOCAL_SPECS)]
    return found


def ci(directory: Path, *, production: bool, architecture: str | None = None,
       log: Callable[[str], None] = print, source: Path | None = None) -> None:
    """Run ``npm ci`` in ``directory``, which holds package.json and package-lock.json.

    ``source`` is the directory ``directory`` is a staged copy of: a failure names it,
    as the copy is gone by the time anyone reads the message.
    """
    if not (directory / "package-lock.json").is_file():
        raise BuildError(
            f"no package-lock.json next to package.json in {directory}: npm ci installs "
            "only from a lockfile, so run `npm install` once and commit package-lock.json."
        )
    kind = "production dependencies" if production else "all dependencies"
    where = f" for linux-{_CPUS[architecture]}" if architecture else ""
    log(f"build: npm ci ({kind}{where})")
    argv = ci_command(npm_binary(), production=production, architecture=architecture)
    _run(argv, directory, "npm ci", source)


def install(directory: Path) -> None:
    """``npm install`` in ``directory``: resolves package.json's dependencies and
    writes package-lock.json, for a new project (the build itself only runs ``npm ci``)."""
    _run([npm_binary(), "install", *_QUIET], directory, "npm install")


def run_build(command: str, directory: Path, *, log: Callable[[str], None] = print,
              source: Path | None = None) -> None:
    """Run the function's build step (e.g. ``npm run build``) in ``directory``.

    The command is split like a shell would but run without one, so it cannot depend
    on shell features that differ between a laptop and CI.
    """
    argv = shlex.split(command)
    if not argv:
        raise BuildError("lambda_gate.build.command is empty: remove it or set e.g. "
                         "'npm run build'.")
    if argv[0] == "npm":
        argv[0] = npm_binary()
    log(f"build: {command}")
    _run(argv, directory, command, source)


def _run(argv: Sequence[str], cwd: Path, what: str, source: Path | None = None) -> None:
    # NODE_ENV=production would make the full install skip devDependencies, which the
    # build step needs; --omit=dev says what the production install leaves out.
    env = {k: v for k, v in os.environ.items() if k != "NODE_ENV"}
    env["npm_config_update_notifier"] = "false"
    try:
        proc = subprocess.run(list(argv), cwd=cwd, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except FileNotFoundError as exc:
        raise BuildError(
            f"could not run {what!r}: {argv[0]} was not found. Install it, or change "
            "lambda_gate.build.command."
        ) from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-20:])
        if source is None:
            where, rerun = f"in {cwd}", "Run it there yourself"
        else:
            where = (f"in a staged copy of {source} (the build runs in a clean "
                     "directory, removed afterwards)")
            rerun = f"Run it in {source} yourself"
        raise BuildError(
            f"{what!r} failed with exit code {proc.returncode} {where}:\n{tail}\n"
            f"{rerun} to see the whole output, fix it, and build again."
        )
