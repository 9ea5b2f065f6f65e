"""Build the function's deployment package: a reproducible zip, reused when unchanged.

:func:`build_package` stages the function (the source tree plus dependencies installed
for Lambda's platform by pip or npm), checks the handler exists and the package fits
Lambda's limits, and writes the zip with :mod:`lambda_gate.archive`. The same inputs
give the same bytes, so the CodeSha256 Terraform sees changes only when the code does,
and an unchanged function is not published again.

Every input that can change the zip goes into a fingerprint; a zip built from the same
fingerprint before is reused from the cache without running pip or npm. Content hashes
of source files are remembered by their stat signature (size, mtime, ctime, inode), so
a changed tree reads only the files that changed; an unchanged one is recognised from
a :mod:`.tree_snapshot` by stat alone, without listing a directory or reading a file.
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
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import __version__, archive, atomic, npm, pip, tree_snapshot
from .config import BuildSettings
from .errors import BuildError
from .handler_check import check_handler
from .package_files import (
    SourceFile,
    collect,
    local_project_filter,
    npm_filter,
    pip_filter,
    source_filter,
)

#: Lambda rejects a zip larger than this uploaded directly (it can still come from S3).
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
#: Lambda rejects a package whose unzipped contents are larger than this, however sent.
UNZIPPED_LIMIT = 250 * 1024 * 1024
#: How many built zips the cache keeps (the most recently used).
CACHE_KEEP = 8

_STAT_CACHE = "file-hashes.json"


@dataclass(frozen=True)
class BuildResult:
    """The built (or reused) package, as the pipeline needs it."""

    path: Path
    #: Lambda's CodeSha256: base64 of the sha256 digest of the zip's bytes.
    code_sha256: str
    size: int
    unzipped_size: int
    file_count: int
    cached: bool
    fingerprint: str
    warnings: tuple[str, ...] = ()


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
        reused = _reuse(settings, known, log) if known else None
        if reused is not None:
            return reused

    with _gc_paused():
        dirs: list[SourceFile] = []
        sources = collect(source_dir, source_filter(settings, language), dirs=dirs)
        _check_unzipped_size(sources)  # before hashing a tree that cannot be deployed
        requirements = _requirements_file(settings) if language == "python" else None
        pulled_in = _requirement_files(requirements, dirs)
        fp = fingerprint(settings.cache_dir, inputs, {**sources, **pulled_in})
        if tree_snapshot.record(settings.cache_dir, tree_key,
                                [*dirs, *sources.values(), *pulled_in.values()], fp):
            tree_snapshot.prune(settings.cache_dir, CACHE_KEEP)

    if not force:
        reused = _reuse(settings, fp, log)
        if reused is not None:
            return reused

    with tempfile.TemporaryDirectory(prefix="lambda-gate-build-") as tmp:
        staging = Path(tmp)
        files, warnings = (
            _stage_python(settings, sources, requirements, staging, log)
            if language == "python"
            else _stage_node(settings, sources, staging, log)
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
            f"{settings.artifact} is {_mb(stats.size)} zipped, over Lambda's "
            f"{_mb(DIRECT_UPLOAD_LIMIT)} limit for direct upload, so deploying it as "
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
        _store(settings, result)
    for warning in result.warnings:
        log(f"build: warning: {warning}")
    log(f"build: wrote {_describe(result)}")
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


def _changed_since(sources: Mapping[str, SourceFile]) -> list[str]:
    """Archive paths of source files whose stat signature is not the one fingerprinted."""
    changed = []
    for arcname, f in sources.items():
        try:
            current = os.stat(f.path)
        except OSError:
            changed.append(arcname)
            continue
        if _signature(current) != _signature(f.st):
            changed.append(arcname)
    return sorted(changed)


def _check_unzipped_size(files: Mapping[str, SourceFile]) -> None:
    unzipped = sum(f.st.st_size for f in files.values())
    if unzipped > UNZIPPED_LIMIT:
        raise BuildError(
            f"the package would be {_mb(unzipped)} unzipped, over Lambda's "
            f"{_mb(UNZIPPED_LIMIT)} limit for a function: leave files out with "
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
    }
    text = json.dumps([inputs, where], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def fingerprint(cache_dir: Path, inputs: Mapping[str, Any],
                files: Mapping[str, SourceFile]) -> str:
    """sha256 over everything that can change the zip's bytes.

    ``files``: the source files by archive path, and the requirements and what they
    pull in under keys starting with NUL (paths, content, execute bit); ``inputs``: the
    runtime, architecture, handler and build settings, the tools' platform flags, the
    archive format and lambda-gate's own version. Contents are read only for files whose
    stat signature the cache does not know.
    """
    digests = _content_hashes(cache_dir, files.values())
    content = hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode())
    content.update("\n".join(
        f"{key}\0{bool(f.st.st_mode & 0o111)}\0{digests[f.path]}"
        for key, f in sorted(files.items())
    ).encode())
    return content.hexdigest()


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


# -- staging ----------------------------------------------------------------------------

def _requirements_file(settings: BuildSettings) -> Path | None:
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


def _stage_python(settings: BuildSettings, sources: dict[str, SourceFile],
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


def _stage_node(settings: BuildSettings, sources: dict[str, SourceFile], staging: Path,
                log: Callable[[str], None]) -> tuple[dict[str, SourceFile], list[str]]:
    package_json = sources.get("package.json")
    deps, dev_deps = (_has_dependencies(Path(package_json.path), settings.command)
                      if package_json else (False, False))
    output_dir = settings.output_dir.strip("/") if settings.output_dir else None

    if settings.command:
        workdir = staging / "build"
        for arcname, source in sources.items():
            dest = workdir / arcname
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source.path, dest)
        if deps or dev_deps:
            npm.ci(workdir, production=False, log=log)
        npm.run_build(settings.command, workdir, log=log)
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
        files = collect(out, source_filter(settings, "node"), prefix=output_dir + "/")
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
        npm.ci(prod, production=True, architecture=settings.architecture, log=log)
        files.update(collect(prod / "node_modules", npm_filter,
                              prefix="node_modules/"))
    return files, []


# -- cache ------------------------------------------------------------------------------

def _signature(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _content_hashes(cache_dir: Path, files: Iterable[SourceFile]) -> dict[str, str]:
    """sha256 of each file, read only when its stat signature is not remembered."""
    memo_path = cache_dir / _STAT_CACHE
    try:
        memo: dict[str, list[Any]] = json.loads(memo_path.read_bytes())
    except (OSError, ValueError):
        memo = {}
    now = time.time_ns()
    result: dict[str, str] = {}
    kept: dict[str, list[Any]] = {}  # only this tree's files: the memo cannot grow stale
    for path, st in files:
        sig = _signature(st)
        known = memo.get(path)
        if known is not None and known[:4] == sig:
            result[path] = known[4]
            kept[path] = known
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)
        result[path] = digest.hexdigest()
        # A file written within the filesystem's timestamp granularity of this read
        # could change again without its signature changing: hash it again next time.
        if now - st.st_ctime_ns > tree_snapshot.RACY_NS:
            kept[path] = [*sig, result[path]]
    if kept != memo:
        atomic.write_json(memo_path, kept)
    return result


def _store(settings: BuildSettings, result: BuildResult) -> None:
    """Keep a copy of the zip and its BuildResult under the fingerprint."""
    cache = settings.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    zip_path = cache / f"{result.fingerprint}.zip"
    tmp = cache / f".{result.fingerprint}.{os.getpid()}.tmp"
    try:
        # A copy, not a hard link: a tool that rewrites the artifact in place must not
        # be able to damage the cached bytes too.
        shutil.copyfile(result.path, tmp)
        os.replace(tmp, zip_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_meta(settings, result)
    _prune(cache)


def _write_meta(settings: BuildSettings, result: BuildResult) -> None:
    meta = {k: v for k, v in asdict(result).items() if k not in ("path", "cached")}
    meta["warnings"] = list(result.warnings)
    meta["artifact"] = str(settings.artifact)
    meta["artifact_signature"] = _signature(os.stat(settings.artifact))
    atomic.write_json(settings.cache_dir / f"{result.fingerprint}.json", meta)


def _prune(cache: Path) -> None:
    """Keep the :data:`CACHE_KEEP` most recently used builds (by their .json's mtime)."""

    def last_used(zip_path: Path) -> int:
        try:
            return zip_path.with_suffix(".json").stat().st_mtime_ns
        except OSError:
            return 0

    for old in sorted(cache.glob("*.zip"), key=last_used, reverse=True)[CACHE_KEEP:]:
        old.with_suffix(".json").unlink(missing_ok=True)
        old.unlink(missing_ok=True)


def _reuse(settings: BuildSettings, fp: str, log: Callable[[str], None]) -> BuildResult | None:
    """The cached build for ``fp`` placed at the artifact path, or None to build."""
    zip_path = settings.cache_dir / f"{fp}.zip"
    try:
        meta = json.loads((settings.cache_dir / f"{fp}.json").read_text())
        zip_st = zip_path.stat()
        result = BuildResult(
            path=settings.artifact, code_sha256=meta["code_sha256"], size=meta["size"],
            unzipped_size=meta["unzipped_size"], file_count=meta["file_count"],
            cached=True, fingerprint=fp, warnings=tuple(meta["warnings"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no entry, or one this version cannot read: build
    try:
        current = _signature(os.stat(settings.artifact))
    except OSError:
        current = None
    if not (meta.get("artifact") == str(settings.artifact)
            and current == meta.get("artifact_signature")):
        # The artifact is missing or was touched since: put the cached bytes back,
        # checking them, so a damaged cache entry is rebuilt rather than shipped.
        if zip_st.st_size != result.size:
            return None
        settings.artifact.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=settings.artifact.parent,
                                   prefix=f".{settings.artifact.name}.", suffix=".tmp")
        os.close(fd)
        try:
            shutil.copyfile(zip_path, tmp)
            if archive.code_sha256(tmp) != result.code_sha256:
                Path(tmp).unlink()
                return None
            os.replace(tmp, settings.artifact)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _write_meta(settings, result)
    # Most recently used, for pruning.
    os.utime(settings.cache_dir / f"{fp}.json")
    for warning in result.warnings:
        log(f"build: warning: {warning}")
    log(f"build: cache hit, reusing {_describe(result)}")
    return result


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _describe(result: BuildResult) -> str:
    files = "1 file" if result.file_count == 1 else f"{result.file_count:,} files"
    return (f"{result.path} ({result.size:,} bytes, {files}, "
            f"CodeSha256 {result.code_sha256})")
