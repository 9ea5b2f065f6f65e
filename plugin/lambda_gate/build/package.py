"""Build the function's deployment package: a reproducible zip, reused when unchanged.

:func:`build_package` stages the function (the source tree plus dependencies installed
for Lambda's platform by pip or npm), checks the handler exists and the package fits
Lambda's limits, and writes the zip with :mod:`.archive`. The same inputs
give the same bytes, so the CodeSha256 Terraform sees changes only when the code does,
and an unchanged function is not published again.

Every input that can change the zip goes into a fingerprint; a zip built from the same
fingerprint before is reused from the cache without running pip or npm. Content hashes
of source files are remembered by their stat signature (size, mtime, ctime, inode), so
a changed tree reads only the files that changed; an unchanged one is recognised from
a :mod:`.snapshot` by stat alone, without listing a directory or reading a file.
ctime is in every signature because no tool can set it back, so any write to a file is
noticed even if its mtime is restored; files changed in the last two seconds are never
remembered, as a second write within one timestamp tick would leave no trace.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import BuildError
from ..settings import BuildSettings
from . import archive, cache, npm, pip, staging
from . import snapshot as tree_snapshot
from .cache import BuildResult
from .files import (
    SourceFile,
    collect,
    local_project_filter,
    repository_excludes,
    source_filter,
)
from .handler_check import check_handler

#: Lambda rejects a zip larger than this uploaded directly (it can still come from S3).
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
#: Lambda rejects a package whose unzipped contents are larger than this, however sent.
UNZIPPED_LIMIT = 250 * 1024 * 1024


def build_package(settings: BuildSettings, *, force: bool = False,
                  log: Callable[[str], None] = print) -> BuildResult:
    """Build ``settings.artifact``, or reuse the cached zip when no input changed.

    ``force`` rebuilds even when the cache holds this fingerprint. On any failure a
    BuildError says what to fix, no partial artifact is left and a previous artifact at
    the same path is left as it was.
    """
    source_dir = settings.source_dir
    if not source_dir.is_dir():
        raise BuildError(
            f"source directory {source_dir} does not exist: set "
            "lambda_gate.function.source_dir to the directory holding the function's code."
        )
    language = "python" if settings.runtime.startswith("python") else "node"
    date_time = archive.zip_date_time()
    inputs = _build_inputs(settings, language, date_time)
    tree_key = _tree_key(settings, inputs)
    if not force:
        known = tree_snapshot.lookup(settings.cache_dir, tree_key)
        reused = cache.reuse(settings, known, log) if known else None
        if reused is not None:
            return reused

    with _gc_paused():
        dirs: list[SourceFile] = []
        sources = collect(source_dir, source_filter(settings, language), dirs=dirs,
                          link_roots=settings.link_roots)
        sources.update(_included(settings, language, sources, dirs))
        _check_unzipped_size(sources)  # before hashing a tree that cannot be deployed
        requirements = staging.requirements_file(settings) if language == "python" else None
        pulled_in = _requirement_files(requirements, dirs)
        fp = cache.fingerprint(settings.cache_dir, inputs, {**sources, **pulled_in})
        if tree_snapshot.record(settings.cache_dir, tree_key,
                                [*dirs, *sources.values(), *pulled_in.values()], fp):
            tree_snapshot.prune(settings.cache_dir, cache.CACHE_KEEP)

    if not force:
        reused = cache.reuse(settings, fp, log)
        if reused is not None:
            return reused

    with tempfile.TemporaryDirectory(prefix="lambda-gate-build-") as tmp:
        workdir = Path(tmp)
        files, warnings = (
            staging.stage_python(settings, sources, requirements, workdir, log)
            if language == "python"
            else staging.stage_node(settings, sources, workdir, log)
        )
        check_handler(settings.handler, language, {a: f.path for a, f in files.items()})
        _check_unzipped_size(files)
        members = [archive.Member(arcname, f.path) for arcname, f in files.items()]
        try:
            stats = archive.write_zip(members, settings.artifact, date_time=date_time)
        except OSError as exc:
            raise BuildError(
                f"could not write {settings.artifact}: {exc.strerror or exc} "
                f"({exc.filename}). Check that lambda_gate.build.artifact is a path you "
                "can write, and that the source tree does not change during the build."
            ) from exc

    if stats.size > DIRECT_UPLOAD_LIMIT:
        warnings.append(
            f"{settings.artifact} is {cache.mb(stats.size)} zipped, over Lambda's "
            f"{cache.mb(DIRECT_UPLOAD_LIMIT)} limit for direct upload, so deploying it as "
            "filename will fail: ship it through S3 instead (s3_bucket and s3_key on "
            "aws_lambda_function)."
        )
    changed = _changed_since(sources)
    if changed:
        warnings.append(
            f"source files changed while the package was built ({', '.join(changed[:5])}"
            f"{' ...' if len(changed) > 5 else ''}), so it may not match the tree as it is "
            "now; it was not cached. Build again once they are saved."
        )
    result = BuildResult(
        path=settings.artifact, code_sha256=stats.code_sha256, size=stats.size,
        unzipped_size=stats.unzipped_size, file_count=stats.file_count, cached=False,
        fingerprint=fp, warnings=tuple(warnings),
    )
    if not changed:  # else the cache would file these bytes under the wrong fingerprint
        cache.store(settings, result)
    for warning in result.warnings:
        log(f"build: warning: {warning}")
    log(f"build: wrote {cache.describe(result)}")
    return result


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Walking a tree allocates an object or two per file and none of them form cycles;
    the collector's passes over them were a third of a cache hit's time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _included(settings: BuildSettings, language: str, sources: Mapping[str, SourceFile],
              dirs: list[SourceFile]) -> dict[str, SourceFile]:
    """The ``include`` directories' files, each directory under its own name: code
    several functions share, in each one's package and so in each one's fingerprint."""
    found: dict[str, SourceFile] = {}
    for directory in settings.include:
        if not directory.is_dir():
            raise BuildError(f"included directory {directory} does not exist: fix the "
                             "function's include setting.")
        prefix = directory.name + "/"
        clash = next((name for name in sources if name.startswith(prefix)), None)
        if clash is not None:
            raise BuildError(
                f"{clash} is both in the source directory and in the included directory "
                f"{directory}: rename one of them, so the package holds one {prefix}."
            )
        found.update(collect(directory, source_filter(settings, language, root=directory),
                             prefix=prefix, dirs=dirs, link_roots=settings.link_roots))
    return found


def _changed_since(sources: Mapping[str, SourceFile]) -> list[str]:
    """Archive paths of source files whose stat signature is not the one fingerprinted."""
    changed = []
    for arcname, f in sources.items():
        try:
            current = os.stat(f.path)
        except OSError:
            changed.append(arcname)
            continue
        if cache.signature(current) != cache.signature(f.st):
            changed.append(arcname)
    return sorted(changed)


def _check_unzipped_size(files: Mapping[str, SourceFile]) -> None:
    unzipped = sum(f.st.st_size for f in files.values())
    if unzipped > UNZIPPED_LIMIT:
        raise BuildError(
            f"the package would be {cache.mb(unzipped)} unzipped, over Lambda's "
            f"{cache.mb(UNZIPPED_LIMIT)} limit for a function: leave files out with "
            "lambda_gate.build.exclude, drop unused dependencies, or move large "
            "ones to a Lambda layer or a container image."
        )


def _build_inputs(settings: BuildSettings, language: str,
                  date_time: tuple[int, ...]) -> dict[str, Any]:
    """Every setting that can change the zip's bytes, besides the files themselves."""
    tools: tuple[str, ...]
    if language == "python":
        tools = pip.platform_flags(settings.runtime, settings.architecture)
    else:
        tools = tuple(npm.ci_command("npm", production=True,
                                     architecture=settings.architecture)[1:])
    return {
        "lambda_gate": __version__,
        "runtime": settings.runtime,
        "architecture": settings.architecture,
        "handler": settings.handler,
        "command": settings.command,
        "output_dir": settings.output_dir,
        "exclude": list(settings.exclude),
        "link_roots": [str(p) for p in settings.link_roots],
        **({"repository": list(repository)}
           if (repository := repository_excludes(settings)) else {}),
        "tools": list(tools),
        "zip": [archive.LEVEL, list(date_time)],
    }


def _tree_key(settings: BuildSettings, inputs: Mapping[str, Any]) -> str:
    """What a tree snapshot is filed under: the inputs, and what decides which files
    are walked (where the tree is, the artifact and cache left out of it, the
    requirements named outside it)."""
    where = {
        "source_dir": str(settings.source_dir.resolve()),
        "artifact": str(settings.artifact.resolve()),
        "cache_dir": str(settings.cache_dir.resolve()),
        "requirements": str(settings.requirements) if settings.requirements else None,
        "include": [str(p.resolve()) for p in settings.include],
    }
    text = json.dumps([inputs, where], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _requirement_files(requirements: Path | None,
                       dirs: list[SourceFile]) -> dict[str, SourceFile]:
    """The requirements file and the files it pulls in (``-r`` and ``-c`` includes,
    local wheels and project directories), for the fingerprint: a change to any of them
    must rebuild even where they lie outside the source tree. Keys start with NUL, so
    they never meet an archive path; directories walked go to ``dirs``."""
    if requirements is None:
        return {}
    files = {"\0requirements": SourceFile(str(requirements), os.stat(requirements))}
    for path in pip.referenced_paths(requirements):
        key = "\0" + os.path.relpath(path, requirements.parent)
        if path.is_file():
            files[key] = SourceFile(str(path), os.stat(path))
        elif path.is_dir():
            for name, f in collect(path, local_project_filter, dirs=dirs).items():
                files[f"{key}/{name}"] = f
    return files


