"""Which files go into a package: walking the source tree and pip's or npm's output.

Kept apart from :mod:`.build`: it runs on every build whose tree the last build's
:mod:`.tree_snapshot` does not vouch for, so it is kept lean: one ``scandir`` walk,
plain strings, stat taken once.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..errors import BuildError
from ..settings import BuildSettings

# Never part of a package: caches, bytecode, VCS and tool directories. node_modules in
# the source tree is the developer's own install; the package gets a clean one.
_SKIP_NAMES = frozenset({
    "__pycache__", ".git", ".hg", ".svn", ".venv", ".tox", ".nox", ".pytest_cache",
    ".mypy_cache", ".ruff_cache", ".DS_Store", "node_modules", ".lambda-gate",
})
_SKIP_SUFFIXES = (".pyc", ".pyo")
# pip writes these with host paths or install-time details; Lambda needs none of them.
_PIP_HOST_FILES = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})

class SourceFile(NamedTuple):
    """A file to package: its path and its stat (taken once, while walking)."""

    path: str
    st: os.stat_result


#: ``skip(rel, name, is_dir)``: True to leave a file or directory out of the package.
Filter = Callable[[str, str, bool], bool]


def collect(root: Path, skip: Filter, prefix: str = "",
            dirs: list[SourceFile] | None = None,
            link_roots: tuple[Path, ...] | None = None) -> dict[str, SourceFile]:
    """Archive path -> file for every file under ``root`` that ``skip`` keeps.

    Symlinks are followed: the zip holds a copy of the file they point to, under the
    link's path (zip has no portable links, and Lambda unpacks none), and a directory
    reached twice through links is walked once. With ``link_roots`` (a source tree's
    walk), a symlink must resolve inside ``root`` or one of those directories, and one
    that resolves elsewhere is refused, naming it: following it would package whatever
    it points at (``/etc/passwd``, a home directory's ``.aws``). Plain strings rather
    than Paths: pathlib costs more than the walk itself. ``dirs``, if given, receives
    each directory walked with its stat taken before it was listed (what
    :mod:`.tree_snapshot` needs).
    """
    found: dict[str, SourceFile] = {}
    linked: set[tuple[int, int]] = set()
    is_regular = stat.S_ISREG
    allowed = tuple(os.path.realpath(p) for p in (root, *(link_roots or ())))

    def inside(entry: os.DirEntry[str]) -> None:
        if link_roots is None:
            return
        target = os.path.realpath(entry.path)
        if not any(target == a or target.startswith(a.rstrip(os.sep) + os.sep)
                   for a in allowed):
            raise BuildError(
                f"{entry.path} is a symlink to {target}, outside the source tree {root}: "
                "a package holds only what its tree holds. Copy what the function needs "
                "into the tree, exclude the link with lambda_gate.build.exclude, or list "
                "the directory it points into in lambda_gate.build.link_roots."
            )

    def walk(directory: str, rel: str, st: os.stat_result | None) -> None:
        if dirs is not None:
            dirs.append(SourceFile(directory, st or os.stat(directory)))
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if not name.isascii():
                    _check_name(entry)
                child = rel + name
                if entry.is_dir():
                    if skip(child, name, True):
                        continue
                    st = None
                    if entry.is_symlink():
                        inside(entry)
                        st = entry.stat()
                        if (st.st_dev, st.st_ino) in linked:
                            continue  # a link loop, or the same directory twice
                        linked.add((st.st_dev, st.st_ino))
                    walk(entry.path, child + "/", st)
                    continue
                if skip(child, name, False):
                    continue
                if entry.is_symlink():
                    inside(entry)
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    raise BuildError(
                        f"{entry.path} is a symlink to something that does not exist: "
                        "remove it, or exclude it with lambda_gate.build.exclude."
                    ) from None
                if is_regular(st.st_mode):
                    found[prefix + child] = SourceFile(entry.path, st)

    walk(str(root), "", None)
    return found


def _check_name(entry: os.DirEntry[str]) -> None:
    """A name that is not UTF-8 (Python keeps its bytes as surrogates) cannot be stored
    in a zip that Lambda unpacks, nor printed: refuse it, naming it readably."""
    try:
        entry.name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(entry.path).decode("utf-8", "backslashreplace")
        raise BuildError(f"{shown}: the file name is not valid UTF-8; rename it, or exclude "
                         "it with lambda_gate.build.exclude.") from None


def _matches(rel: str, name: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if "/" in pattern:
            if fnmatch.fnmatchcase(rel, pattern.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def repository_excludes(settings: BuildSettings) -> tuple[str, ...]:
    """The repository's non-function paths inside the source directory, relative to it.

    With the source directory at the repository's root (Node.js as it is usually laid
    out: package.json at the root, src/ compiled to dist/), the terraform configuration,
    smoke tests, tests, CI files and lambda-gate's state would otherwise be build inputs:
    editing a smoke test would rebuild the package and rerun ``npm ci``.
    """
    root = settings.source_dir.resolve()
    found = []
    for path in settings.repository_paths:
        try:
            rel = path.resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        if rel != ".":
            found.append(rel)
    return tuple(sorted(set(found)))


def source_filter(settings: BuildSettings, language: str, *,
                  root: Path | None = None) -> Filter:
    """What of the source tree goes in: not caches, not build outputs, not excludes,
    not the repository's own files (:func:`repository_excludes`).

    User patterns work like .gitignore's: one without a slash matches a file or
    directory name at any depth (``*.md``, ``tests``); one with a slash matches the path
    from the source directory (``/tests``, ``docs/*.png``). A trailing slash is ignored.
    ``root`` is the tree walked, when not the source directory (an included one).
    """
    source = settings.source_dir.resolve()
    root = (root or settings.source_dir).resolve()
    own: set[str] = set(repository_excludes(settings)) if root == source else set()
    for generated in (settings.artifact, settings.cache_dir):
        try:
            own.add(generated.resolve().relative_to(root).as_posix())
        except ValueError:
            pass
    if language == "node" and settings.command and settings.output_dir:
        own.add(settings.output_dir.strip("/"))  # rebuilt by the build step

    exclude = settings.exclude

    def skip(rel: str, name: str, is_dir: bool) -> bool:
        return (
            name in _SKIP_NAMES
            or (not is_dir and name.endswith(_SKIP_SUFFIXES))
            or rel in own
            or (bool(exclude) and _matches(rel, name, exclude))
        )

    return skip


def pip_filter(rel: str, name: str, is_dir: bool) -> bool:
    """Leave out of pip's target: bytecode, console scripts (their shebangs name this
    machine's Python) and dist-info files that record the install, not the package."""
    parent = rel[:-len(name) - 1] if "/" in rel else ""
    if is_dir:
        return name == "__pycache__" or rel == "bin"
    if name.endswith(_SKIP_SUFFIXES):
        return True
    return parent.endswith(".dist-info") and "/" not in parent and name in _PIP_HOST_FILES


def npm_filter(rel: str, name: str, is_dir: bool) -> bool:
    """Leave out of node_modules: npm's links to executables and its own bookkeeping."""
    return (is_dir and name == ".bin") or rel == ".package-lock.json"


def local_project_filter(rel: str, name: str, is_dir: bool) -> bool:
    """Leave out of a local project a requirements file names: caches, and what
    building it writes into it (build/, dist/, *.egg-info), which is no input."""
    if is_dir and (rel in ("build", "dist") or name.endswith(".egg-info")):
        return True
    return name in _SKIP_NAMES or (not is_dir and name.endswith(_SKIP_SUFFIXES))
