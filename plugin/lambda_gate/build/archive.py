"""Reproducible zip files, written fast.

The same members give the same bytes on any machine, whatever the files' mtimes, the
umask, the user or the order the filesystem lists them in: entries are sorted by archive
path, every timestamp is one fixed value (``SOURCE_DATE_EPOCH`` when set, else
1980-01-01 00:00:00, the earliest a zip can hold), permissions are reduced to 0o644 or
0o755, there are no directory entries and no extra fields, and every member is deflated
at one fixed level, or stored when its content does not compress (judged from the
content alone, so the choice is the same everywhere).

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
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import ConfigError

#: Deflate level for every member. 4 is zlib's fastest level with lazy matching: on
#: Python sources its output was 4% larger than level 6 (zip's default) in 80% of the
#: time, and on the build benchmark's tree 3% larger in half the time.
LEVEL = 4
#: The earliest timestamp a zip file can hold, used when SOURCE_DATE_EPOCH is unset.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_INCOMPRESSIBLE = 0.97  # a head that deflates to more than this share: store the member
_PROBE = 4096  # bytes of a member's head judged for compressibility
_PROBE_OVER = 16 * 1024  # members no larger than this are simply deflated
_BATCH = 8  # members per worker task: fewer handoffs between threads
_WINDOW = 16  # batches compressed ahead of the writer, bounding memory

_STORED, _DEFLATED = 0, 8
_UTF8_FLAG = 0x800
_VERSION = 20  # 2.0: deflate
_UNIX = 3  # create_system: external attributes carry Unix permissions


@dataclass(frozen=True)
class Member:
    """One file to put in the archive: its path inside the zip and where it comes from."""

    arcname: str
    source: str | os.PathLike[str]


@dataclass(frozen=True)
class ArchiveStats:
    """What was written: sizes, member count, and the zip's CodeSha256."""

    size: int
    unzipped_size: int
    file_count: int
    #: Lambda's CodeSha256 of the written zip, hashed while writing.
    code_sha256: str


@dataclass(frozen=True)
class _Batch:
    """Consecutive members, compressed by one worker: their local entries as one blob,
    and for each member what its central directory record needs."""

    blob: bytes
    records: list[tuple[bytes, int, int, int, int, int, int, int]]


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
              date_time: tuple[int, ...] = ZIP_EPOCH,
              workers: int | None = None) -> ArchiveStats:
    """Write ``members`` to ``dest`` as a reproducible zip, atomically.

    The zip is written to a temporary file beside ``dest`` and moved into place only
    once complete, so a failure (or an interrupt) leaves whatever was at ``dest``
    before untouched and no partial file behind.
    """
    ordered = sorted(members, key=lambda m: m.arcname)
    _reject_duplicates(ordered)
    dos_time = (date_time[3] << 11) | (date_time[4] << 5) | (date_time[5] // 2)
    dos_date = ((date_time[0] - 1980) << 9) | (date_time[1] << 5) | date_time[2]
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb", buffering=0) as out:
            stats = _write(out, ordered, (dos_time, dos_date), workers or os.cpu_count() or 1)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return stats


def _reject_duplicates(ordered: Sequence[Member]) -> None:
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.arcname == after.arcname:
            raise ValueError(
                f"two files for {before.arcname!r}: {before.source} and {after.source}"
            )


def _deflate(data: bytes) -> tuple[int, bytes]:
    """(method, bytes) for one member: deflated, or stored when that is no smaller."""
    if len(data) > _PROBE_OVER:
        # Already-compressed data (wheels, images, archives) costs time and gains
        # nothing: judged from its head, which depends only on the content.
        c = zlib.compressobj(1, zlib.DEFLATED, -15)
        if len(c.compress(data[:_PROBE]) + c.flush()) >= _PROBE * _INCOMPRESSIBLE:
            return _STORED, data
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    packed = c.compress(data) + c.flush()
    return (_DEFLATED, packed) if len(packed) < len(data) else (_STORED, data)


def _compress_batch(batch: Sequence[Member], stamp: tuple[int, int]) -> _Batch:
    parts: list[bytes] = []
    records = []
    for member in batch:
        with open(member.source, "rb") as f:
            mode = normalised_mode(os.fstat(f.fileno()).st_mode)
            data = f.read()
        crc = zlib.crc32(data)
        method, packed = _deflate(data)
        name = member.arcname.encode("utf-8")
        flags = 0 if name.isascii() else _UTF8_FLAG
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, _VERSION, flags, method, *stamp,
                             crc, len(packed), len(data), len(name), 0)
        parts += (header, name, packed)
        records.append((name, flags, method, crc, len(packed), len(data), mode,
                        len(header) + len(name) + len(packed)))
    return _Batch(b"".join(parts), records)


def _batches(members: Sequence[Member]) -> Iterator[Sequence[Member]]:
    for i in range(0, len(members), _BATCH):
        yield members[i:i + _BATCH]


def _in_order(members: Sequence[Member], stamp: tuple[int, int],
              workers: int) -> Iterator[_Batch]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[_Batch]] = deque()
        try:
            for batch in _batches(members):
                pending.append(pool.submit(_compress_batch, batch, stamp))
                if len(pending) >= _WINDOW:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()


def _write(out: BinaryIO, members: Sequence[Member], stamp: tuple[int, int],
           workers: int) -> ArchiveStats:
    central = bytearray()
    digest = hashlib.sha256()
    offset = 0
    unzipped = 0
    for batch in _in_order(members, stamp, workers):
        out.write(batch.blob)
        digest.update(batch.blob)
        for name, flags, method, crc, csize, usize, mode, length in batch.records:
            central += struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, (_UNIX << 8) | _VERSION, _VERSION,
                flags, method, *stamp, crc, csize, usize, len(name), 0, 0, 0, 0,
                (0o100000 | mode) << 16, offset,
            )
            central += name
            offset += length
            unzipped += usize
        if offset > 0xFFFFFFFF:
            raise ValueError("archive larger than 4 GiB: zip64 offsets are not written")
    count = len(members)
    tail = bytearray(central)
    if count > 0xFFFF:
        # Zip64 end records, needed only for the entry count (node_modules can exceed
        # 65,535 files); sizes and offsets stay below 4 GiB by Lambda's own limits.
        tail += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (_UNIX << 8) | 45, 45, 0, 0,
                            count, count, len(central), offset)
        tail += struct.pack("<IIQI", 0x07064B50, 0, offset + len(central), 1)
    tail += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF),
                        min(count, 0xFFFF), len(central), offset, 0)
    out.write(tail)
    digest.update(tail)
    return ArchiveStats(size=offset + len(tail), unzipped_size=unzipped, file_count=count,
                        code_sha256=base64.b64encode(digest.digest()).decode("ascii"))
