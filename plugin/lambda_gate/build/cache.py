"""The build cache: content hashes remembered by stat signature, and built zips by fingerprint.

A file's content hash is kept with its stat signature (size, mtime, ctime, inode) and
read again only when the signature changes; a built zip and its :class:`BuildResult`
are kept under the fingerprint of every input, so an unchanged function is never built
twice. Both are only ever a shortcut: anything unreadable means build.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import atomic
from ..settings import BuildSettings
from . import archive
from . import snapshot as tree_snapshot
from .files import SourceFile

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


def fingerprint(cache_dir: Path, inputs: Mapping[str, Any],
                files: Mapping[str, SourceFile]) -> str:
    """sha256 over everything that can change the zip's bytes.

    ``files``: the source files by archive path, and the requirements and what they
    pull in under keys starting with NUL (paths, content, execute bit); ``inputs``: the
    runtime, architecture, handler and build settings, the tools' platform flags, the
    archive format and lambda-gate's own version. Contents are read only for files whose
    stat signature the cache does not know.
    """
    digests = content_hashes(cache_dir, files.values())
    content = hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode())
    content.update("\n".join(
        f"{key}\0{bool(f.st.st_mode & 0o111)}\0{digests[f.path]}"
        for key, f in sorted(files.items())
    ).encode())
    return content.hexdigest()


def signature(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def content_hashes(cache_dir: Path, files: Iterable[SourceFile]) -> dict[str, str]:
    """sha256 of each file, read only when its stat signature is not remembered."""
    memo_path = cache_dir / _STAT_CACHE
    try:
        memo: dict[str, list[Any]] = json.loads(memo_path.read_bytes())
    except (OSError, ValueError):
        memo = {}
    if not isinstance(memo, dict):
        memo = {}  # not what this version writes: every file is hashed again
    now = time.time_ns()
    result: dict[str, str] = {}
    kept: dict[str, list[Any]] = {}  # only this tree's files: the memo cannot grow stale
    for path, st in files:
        sig = signature(st)
        known = memo.get(path)
        if isinstance(known, list) and len(known) == 5 and known[:4] == sig:
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


def store(settings: BuildSettings, result: BuildResult) -> None:
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
    meta["artifact_signature"] = signature(os.stat(settings.artifact))
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


def reuse(settings: BuildSettings, fp: str, log: Callable[[str], None]) -> BuildResult | None:
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
        current = signature(os.stat(settings.artifact))
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
    log(f"build: cache hit, reusing {describe(result)}")
    return result


def mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def describe(result: BuildResult) -> str:
    files = "1 file" if result.file_count == 1 else f"{result.file_count:,} files"
    return (f"{result.path} ({result.size:,} bytes, {files}, "
            f"CodeSha256 {result.code_sha256})")
