"""Staging a function: its source plus dependencies installed for Lambda's platform.

Python dependencies come from pip (:mod:`.pip`), Node.js ones from ``npm ci``
(:mod:`.npm`), each installed into a clean staging directory so nothing of the
developer's machine reaches the package; a Node.js build command runs there too.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from ..errors import BuildError
from ..settings import BuildSettings
from . import npm, pip
from .files import SourceFile, collect, npm_filter, pip_filter, source_filter


def requirements_file(settings: BuildSettings) -> Path | None:
    if settings.requirements is not None:
        if not settings.requirements.is_file():
            raise BuildError(
                f"requirements file {settings.requirements} does not exist: fix "
                "lambda_gate.build.requirements, or remove it to use requirements.txt "
                "or pyproject.toml from the source directory."
            )
        return settings.requirements
    for name in ("requirements.txt", "pyproject.toml"):
        candidate = settings.source_dir / name
        if candidate.is_file():
            return candidate
    return None


def stage_python(settings: BuildSettings, sources: dict[str, SourceFile],
                  requirements: Path | None, staging: Path,
                  log: Callable[[str], None]) -> tuple[dict[str, SourceFile], list[str]]:
    files = dict(sources)
    warnings: list[str] = []
    if requirements is None:
        return files, warnings
    requirements_path = requirements
    if requirements.suffix == ".toml":
        deps = pip.pyproject_dependencies(requirements)
        if not deps:
            return files, warnings
        requirements_path = staging / "requirements-from-pyproject.txt"
        requirements_path.write_text("\n".join(deps) + "\n", encoding="utf-8")
    target = staging / "python"
    pip.install(requirements_path, target, runtime=settings.runtime,
                architecture=settings.architecture, cwd=requirements.parent, log=log)
    shadowed = []
    for arcname, installed in collect(target, pip_filter).items():
        if arcname in files:
            shadowed.append(arcname)
        else:
            files[arcname] = installed
    if shadowed:
        warnings.append(
            f"source files shadow files of installed dependencies: {', '.join(shadowed[:5])}"
            f"{' ...' if len(shadowed) > 5 else ''}; the source files were packaged. "
            "Rename them if that was not intended."
        )
    return files, warnings


def _has_dependencies(package_json: Path, command: str | None) -> tuple[bool, bool]:
    """Whether package.json lists dependencies and devDependencies; a BuildError for a
    local-path dependency the staged install would need (devDependencies only matter
    with a build command)."""
    try:
        data = json.loads(package_json.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BuildError(f"{package_json} is not valid JSON ({exc}): fix it.") from None
    if not isinstance(data, dict):
        raise BuildError(f"{package_json} must hold a JSON object: fix it.")
    sections = ("dependencies", "devDependencies") if command else ("dependencies",)
    local = npm.local_dependencies(data, sections)
    if local:
        raise BuildError(
            f"{package_json}: {', '.join(local)} "
            f"{'is a local path' if len(local) == 1 else 'are local paths'}, which the "
            "build cannot install: it runs `npm ci` in a clean staging directory, where "
            "paths relative to your source do not resolve. Publish the package to a "
            "registry (a private one will do) or depend on it by git URL."
        )
    return bool(data.get("dependencies")), bool(data.get("devDependencies"))


def _no_package_json(settings: BuildSettings) -> None:
    """A BuildError when an npm build command would run where there is no package.json.

    The usual cause is the layout of a babel or TypeScript build, package.json at the
    repository's root and the code in src/, with source_dir set to src: the build copies
    only the source directory, so npm finds no package.json.
    """
    command = settings.command or ""
    if command.split(" ", 1)[0] not in ("npm", "npx", "yarn", "pnpm"):
        return
    source = settings.source_dir.resolve()
    above = next((d for d in source.parents if (d / "package.json").is_file()), None)
    message = (f"the build command {command!r} runs in a copy of the source directory "
               f"{settings.source_dir}, which has no package.json.")
    if above is not None:
        rel = os.path.relpath(source, above)
        message += (
            f" package.json is in {above}: make that the source directory "
            f"(lambda_gate.function.source_dir: \".\" when it is the repository's root), "
            f"and let the build compile {rel}/ into build.output_dir (e.g. \"dist\", "
            "with the handler dist/main.handler). The repository's terraform/, smoke/ "
            "and tests/ are left out of the package by default.")
    else:
        message += " Add package.json there, or change lambda_gate.build.command."
    raise BuildError(message)


def stage_node(settings: BuildSettings, sources: dict[str, SourceFile], staging: Path,
                log: Callable[[str], None]) -> tuple[dict[str, SourceFile], list[str]]:
    package_json = sources.get("package.json")
    deps, dev_deps = (_has_dependencies(Path(package_json.path), settings.command)
                      if package_json else (False, False))
    output_dir = settings.output_dir.strip("/") if settings.output_dir else None

    if settings.command:
        if package_json is None:
            _no_package_json(settings)
        workdir = staging / "build"
        for arcname, source in sources.items():
            dest = workdir / arcname
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source.path, dest)
        if deps or dev_deps:
            npm.ci(workdir, production=False, log=log, source=settings.source_dir)
        npm.run_build(settings.command, workdir, log=log, source=settings.source_dir)
        output_root = workdir
    else:
        output_root = settings.source_dir

    if output_dir:
        out = output_root / output_dir
        if not out.is_dir():
            raise BuildError(
                f"{output_dir}/ was not found in {output_root} "
                + (f"after {settings.command!r}: make the build step write it, or "
                   if settings.command else ": ")
                + "set lambda_gate.build.output_dir to the directory holding the code."
            )
        files = collect(out, source_filter(settings, "node"), prefix=output_dir + "/",
                        link_roots=None if settings.command else settings.link_roots)
        if package_json:  # its "type": "module" tells Node how to load .js files
            path = str(output_root / "package.json")
            files["package.json"] = SourceFile(path, os.stat(path))
    elif settings.command:
        files = collect(output_root, source_filter(settings, "node"))
    else:
        files = dict(sources)

    if deps:
        prod = staging / "production"
        prod.mkdir()
        for name in ("package.json", "package-lock.json"):
            if name in sources:
                shutil.copyfile(sources[name].path, prod / name)
        npm.ci(prod, production=True, architecture=settings.architecture, log=log,
               source=settings.source_dir)
        files.update(collect(prod / "node_modules", npm_filter,
                              prefix="node_modules/"))
    return files, []
