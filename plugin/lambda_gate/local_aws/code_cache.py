"""Unpacked function code, one directory per CodeSha256.

A version's package is unpacked the first time it runs and reused afterwards, so only
the first invocation of a package pays for the unzip. Entries that would land outside
the directory (``..`` parts or absolute paths) make the whole package unusable: Lambda
rejects such archives, and we must never write outside the cache.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path, PurePosixPath

from .api_errors import ApiFault

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def cache_key(code: bytes, code_sha256: str) -> str:
    """A file-name-safe form of CodeSha256 (base64 in Lambda's API) as hex."""
    try:
        return base64.b64decode(code_sha256, validate=True).hex()
    except (binascii.Error, ValueError):
        return hashlib.sha256(code).hexdigest()


def unsafe_entry(name: str) -> bool:
    """True for an archive entry that would be written outside the unpack directory."""
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    return (normalised.startswith("/") or ".." in path.parts
            or (len(normalised) > 1 and normalised[1] == ":"))


def _invalid(reason: str) -> ApiFault:
    return ApiFault(502, "InvalidZipFileException",
                    f"Lambda was unable to unzip the deployment package: {reason}. "
                    "Rebuild the package with paths relative to its root and publish "
                    "a new version.")


def unpacked(code: bytes, code_sha256: str, cache_dir: Path) -> Path:
    """Return the directory holding ``code`` unpacked, unpacking it on first use."""
    key = cache_key(code, code_sha256)
    target = cache_dir / key
    if target.is_dir():
        return target
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if target.is_dir():
            return target
        try:
            archive = zipfile.ZipFile(io.BytesIO(code))
        except zipfile.BadZipFile:
            raise _invalid("it is not a zip archive") from None
        with archive:
            bad = [info.filename for info in archive.infolist() if unsafe_entry(info.filename)]
            if bad:
                raise _invalid(f"entry {bad[0]!r} points outside the package")
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache_dir))
            try:
                for info in archive.infolist():
                    archive.extract(info, tmp)
                    mode = (info.external_attr >> 16) & 0o777
                    if mode and not info.is_dir():
                        os.chmod(tmp / info.filename, mode | 0o400)
                os.replace(tmp, target)
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
                if not target.is_dir():
                    raise
    return target
