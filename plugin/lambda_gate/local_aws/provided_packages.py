"""The libraries a Python runtime provides besides the function's package: boto3.

Lambda's Python runtimes ship boto3 and botocore (with their dependencies), so a
function may import them without packaging them. Locally they come from a directory
the local AWS controls, ``<code cache>/python-runtime/<versions>/``, filled once with
the versions installed beside lambda-gate itself (hard links where the file system
allows, copies otherwise). A function never sees the host's site-packages or
lambda-gate's virtualenv: a package that forgot ``requests`` fails here as on Lambda.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

log = logging.getLogger("lambda_gate.local_aws.provided_packages")

#: boto3 and what it needs, as Lambda's Python runtimes provide them.
PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six",
            "urllib3")

_lock = threading.Lock()


def provided_versions() -> dict[str, str]:
    """{distribution: version} of the provided libraries installed beside lambda-gate."""
    versions = {}
    for name in PROVIDED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            log.warning("%s is not installed beside lambda-gate: Python functions on the "
                        "local AWS cannot import it unless they package it", name)
    return versions


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _fill(directory: Path) -> None:
    for name in PROVIDED:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for entry in dist.files or ():
            if entry.parts[0] == ".." or "__pycache__" in entry.parts:
                continue  # console scripts live outside site-packages; bytecode is rebuilt
            source = Path(str(entry.locate()))
            if source.is_file():
                _place(source, directory / Path(*entry.parts))


def python_runtime_dir(cache_dir: Path) -> Path:
    """The directory on every Python function's sys.path after its own package.

    Named after the versions it holds, so an upgrade of boto3 beside lambda-gate gets
    a new directory and a running function never sees files change under it.
    """
    versions = provided_versions()
    label = "-".join(f"{name}-{version}" for name, version in sorted(versions.items()))
    key = hashlib.sha256(label.encode()).hexdigest()[:16]
    target = Path(cache_dir) / "python-runtime" / key
    if target.is_dir():
        return target
    with _lock:
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fill-", dir=target.parent))
        try:
            _fill(staging)
            (staging / "PROVIDED.txt").write_text(
                "".join(f"{name}=={version}\n" for name, version in sorted(versions.items())),
                encoding="utf-8")
            os.replace(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():  # another server filled it first: use theirs
                raise
    return target
