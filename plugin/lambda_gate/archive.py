"""Reproducible zip files, written fast.

The same members give the same bytes on any machine, whatever the files' mtimes, the
umask, the user or the order the filesystem lists them in: entries are sorted by archive
path, every timestamp is one fixed value (``SOURCE_DATE_EPOCH`` when set, else
1980-01-01 00:00:00, the earliest a zip can hold), permissions are reduced to 0o644 or
0o755, there are no directory entries and no extra fields, and every member is deflated
at one fixed level (or stored, when deflating would not make it smaller).

The zip format is written here directly rather than through :mod:`zipfile`, because
that is both the simplest way to control every byte and the way to use more than one
core: members are read and compressed in a thread pool (``zlib`` and file reads release
the GIL) and written in archive order as they complete.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

#: Deflate level for every member; 6 is zlib's and ``zip``'s default.
LEVEL = 6
#: The earliest timestamp a zip file can hold, used when SOURCE_DATE_EPOCH is unset.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Members whose head deflates to more than this share of its size are stored instead:
# already-compressed data (wheels, images, archives) costs time and gains nothing.
_INCOMPRESSIBLE = 0.97
_PROBE = 64 * 1024
_WINDOW = 64  # members read and compressed ahead of the writer, bounding memory

_STORED, _DEFLATED = 0, 8
_UTF8_FLAG = 0x800
_VERSION = 20  # 2.0: deflate
_UNIX = 3  # create_system: external attributes carry Unix permissions


@dataclass(frozen=True)
class Member:
    """One file to put in the archive: its path inside the zip and where it comes from."""

    arcname: str
    source: Path


@dataclass(frozen=True)
class ArchiveStats:
    """What was written: zipped size, the sum of the members' sizes, and their count."""

    size: int
    unzipped_size: int
    file_count: int


@dataclass(frozen=True)
class _Compressed:
    data: bytes
    method: int
    crc: int
    size: int
    mode: int


def code_sha256(path: Path | str) -> str:
    """Lambda's ``CodeSha256`` of a zip: base64 of the sha256 digest of its bytes.

    This is the value Lambda reports for a function's code, so comparing it tells
    whether a deployed version runs exactly this artifact.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


def zip_date_time(environ: dict[str, str] | None = None) -> tuple[int, ...]:
    """The timestamp stamped on every member: ``SOURCE_DATE_EPOCH`` (UTC) or 1980-01-01.

    Zip cannot hold dates before 1980 or after 2107, so values outside are clamped;
    zip's resolution is two seconds, so odd seconds are rounded down.
    """
    env = os.environ if environ is None else environ
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return ZIP_EPOCH
    try:
        epoch = int(raw)
    except ValueError:
        raise ConfigError(
            f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds since "
            "1970-01-01: set it to e.g. $(git log -1 --format=%ct) or unset it."
        ) from None
    t = time.gmtime(epoch)
    date_time = (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    return max(ZIP_EPOCH, min(date_time, (2107, 12, 31, 23, 59, 58)))


def normalised_mode(st_mode: int) -> int:
    """0o755 for a file with any execute bit, else 0o644: nothing else survives."""
    return 0o755 if st_mode & 0o111 else 0o644


def write_zip(members: Sequence[Member], dest: Path, *,
              date_time: tuple[int, ...] = ZIP_EPOCH, workers: int | None = None,
              on_written: Callable[[Path], None] | None = None) -> ArchiveStats:
    """Write ``members`` to ``dest`` as a reproducible zip, atomically.

    The zip is written to a temporary file beside ``dest`` and moved into place only
    once complete, so a failure (or an interrupt) leaves whatever was at ``dest``
    before untouched and no partial file behind. ``on_written`` sees the complete
    temporary file before it replaces ``dest`` (used to check it before publishing).
    """
    ordered = sorted(members, key=lambda m: m.arcname)
    _reject_duplicates(ordered)
    dos_time = ((date_time[3] << 11) | (date_time[4] << 5) | (date_time[5] // 2))
    dos_date = (((date_time[0] - 1980) << 9) | (date_time[1] << 5) | date_time[2])
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            stats = _write(out, ordered, dos_time, dos_date, workers or os.cpu_count() or 1)
        os.chmod(tmp, 0o644)
        if on_written is not None:
            on_written(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return stats


def _reject_duplicates(ordered: Sequence[Member]) -> None:
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.arcname == after.arcname:
            raise ValueError(
                f"two files for {before.arcname!r}: {before.source} and {after.source}"
            )


def _compress(member: Member) -> _Compressed:
    with open(member.source, "rb") as f:
        mode = normalised_mode(os.fstat(f.fileno()).st_mode)
        data = f.read()
    crc = zlib.crc32(data)
    if _worth_deflating(data):
        c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        packed = c.compress(data) + c.flush()
        if len(packed) < len(data):
            return _Compressed(packed, _DEFLATED, crc, len(data), mode)
    return _Compressed(data, _STORED, crc, len(data), mode)


def _worth_deflating(data: bytes) -> bool:
    if len(data) <= _PROBE:
        return True
    head = data[:_PROBE]
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    return len(c.compress(head) + c.flush()) < len(head) * _INCOMPRESSIBLE


def _in_order(members: Sequence[Member], workers: int) -> Iterator[_Compressed]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[_Compressed]] = deque()
        it = iter(members)
        try:
            for member in it:
                pending.append(pool.submit(_compress, member))
                if len(pending) >= _WINDOW:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()


def _write(out, members: Sequence[Member], dos_time: int, dos_date: int,
           workers: int) -> ArchiveStats:
    central = bytearray()
    offset = 0
    unzipped = 0
    for member, item in zip(members, _in_order(members, workers), strict=True):
        name = member.arcname.encode("utf-8")
        flags = 0 if name.isascii() else _UTF8_FLAG
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, _VERSION, flags, item.method, dos_time, dos_date,
            item.crc, len(item.data), item.size, len(name), 0,
        )
        out.write(header)
        out.write(name)
        out.write(item.data)
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (_UNIX << 8) | _VERSION, _VERSION, flags,
            item.method, dos_time, dos_date, item.crc, len(item.data), item.size,
            len(name), 0, 0, 0, 0, (0o100000 | item.mode) << 16, offset,
        )
        central += name
        offset += len(header) + len(name) + len(item.data)
        unzipped += item.size
        if offset > 0xFFFFFFFF:
            raise ValueError("archive larger than 4 GiB: zip64 offsets are not written")
    out.write(central)
    count = len(members)
    end = offset + len(central)
    if count > 0xFFFF:
        # Zip64 end records, needed only for the entry count (node_modules can exceed
        # 65,535 files); sizes and offsets stay below 4 GiB by Lambda's own limits.
        out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (_UNIX << 8) | 45, 45,
                              0, 0, count, count, len(central), offset))
        out.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
        end += 56 + 20
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF),
                          min(count, 0xFFFF), len(central), offset, 0))
    return ArchiveStats(size=end + 22, unzipped_size=unzipped, file_count=count)
