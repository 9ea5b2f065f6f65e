"""Has anything in a function's source changed since its fingerprint was taken? Asked by stat alone.

An unchanged tree is the common case (a redeploy, a CI job rerun), so recognising it
must cost little next to a build. Hashing every file's content does not qualify, and
neither does walking the tree again in Python: a directory listing and a few Python
objects per entry cost more than the stat calls themselves.

A snapshot keeps, from the walk that computed a fingerprint, the paths it visited
(each directory, stat'ed before it was listed, and each file it kept) and one digest of
their stat signatures. Stat'ing the same paths again and getting the same digest means:
no entry was added to, removed from or renamed in any walked directory (each changes
the directory's mtime) and no kept file was written (each write changes its ctime,
which no tool can set back, even where the mtime is restored). The fingerprint then
still holds, and nothing had to be listed or read. Any other answer, or any error, only
means "walk and hash as usual": a snapshot can make a build faster, never wrong.

Entries changed within the last two seconds are never recorded: a second write within
one timestamp tick of the first would leave the signature as it was.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import time
from array import array
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path

from .. import atomic

#: Entries whose ctime is this recent are too fresh to vouch for (see the docstring).
RACY_NS = 2_000_000_000

_SIGNATURE = operator.attrgetter("st_mode", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")


#: A visited path and the stat it had when it was walked.
Entry = tuple[str, os.stat_result]


def _now_ns() -> int:
    return time.time_ns()


def _digest(stats: Iterable[os.stat_result]) -> str:
    # Every step a C loop: this runs on every cache hit, over thousands of files.
    signature = array("q")
    signature.extend(chain.from_iterable(map(_SIGNATURE, stats)))
    return hashlib.sha256(signature).hexdigest()


def _path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"tree-{key}.json"


def lookup(cache_dir: Path, key: str) -> str | None:
    """The fingerprint recorded under ``key`` if no recorded path's stat changed since."""
    try:
        snapshot = json.loads(_path(cache_dir, key).read_bytes())
        paths, digest, fingerprint = (
            snapshot["paths"], snapshot["digest"], snapshot["fingerprint"])
        current = _digest(map(os.stat, paths))
    except (OSError, ValueError, KeyError, TypeError, OverflowError):
        return None  # none recorded, a path is gone, or a snapshot this version cannot read
    return fingerprint if current == digest else None


def record(cache_dir: Path, key: str, entries: Sequence[Entry], fingerprint: str) -> bool:
    """Remember ``fingerprint`` for the tree as ``entries`` saw it; False if too fresh.

    ``entries`` must hold the stats taken while walking (directories before listing
    them, files before hashing them), not new ones: a change made in between then makes
    the next lookup miss instead of vouching for content that was never hashed.
    """
    newest = max((st.st_ctime_ns for _, st in entries), default=0)
    if _now_ns() - newest <= RACY_NS:
        return False
    try:
        digest = _digest([st for _, st in entries])
    except OverflowError:  # an inode number beyond 63 bits: this filesystem goes unsnapped
        return False
    atomic.write_json(_path(cache_dir, key),
                      {"paths": [path for path, _ in entries], "digest": digest,
                       "fingerprint": fingerprint})
    return True


def prune(cache_dir: Path, keep: int) -> None:
    """Keep the ``keep`` most recently recorded snapshots (one per set of build settings)."""

    def recorded(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    for old in sorted(cache_dir.glob("tree-*.json"), key=recorded, reverse=True)[keep:]:
        old.unlink(missing_ok=True)
