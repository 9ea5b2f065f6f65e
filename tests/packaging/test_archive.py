"""The zip itself: the same inputs give the same bytes, and the bytes are a valid zip."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path

import pytest
from builds import MakeSettings, zip_names

from lambda_gate.build import archive, build_package
from lambda_gate.build.archive import Member, write_zip
from lambda_gate.errors import ConfigError

TREE = {
    "app.py": b"def handler(event, context):\n    return event\n",
    "lib/__init__.py": b"",
    "lib/util.py": b"VALUE = 42\n" * 200,
    "bin/tool": b"#!/bin/sh\necho hi\n",
    "data/blob.bin": bytes(range(256)) * 300,
}


def write_tree(root: Path, *, mtime: int, umask: int, reverse: bool) -> Path:
    """TREE under root, created in the given order with the given umask and mtimes."""
    previous = os.umask(umask)
    try:
        for name in sorted(TREE, reverse=reverse):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(TREE[name])
        (root / "bin/tool").chmod(0o777 & ~umask)
    finally:
        os.umask(previous)
    for path in root.rglob("*"):
        os.utime(path, (mtime, mtime))
    return root


def test_same_source_gives_identical_bytes_whatever_mtimes_umask_and_file_order(
        tmp_path: Path, make_settings: MakeSettings) -> None:
    a = write_tree(tmp_path / "a", mtime=1_000_000_000, umask=0o022, reverse=False)
    b = write_tree(tmp_path / "b", mtime=1_700_000_000, umask=0o077, reverse=True)

    first = build_package(make_settings(a, artifact=tmp_path / "a.zip",
                                        cache_dir=tmp_path / "cache-a"), log=lambda _: None)
    second = build_package(make_settings(b, artifact=tmp_path / "b.zip",
                                         cache_dir=tmp_path / "cache-b"), log=lambda _: None)

    assert not second.cached
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.code_sha256 == second.code_sha256


def test_one_changed_byte_gives_a_different_code_sha256(
        tmp_path: Path, make_settings: MakeSettings) -> None:
    a = write_tree(tmp_path / "a", mtime=1_000_000_000, umask=0o022, reverse=False)
    b = write_tree(tmp_path / "b", mtime=1_000_000_000, umask=0o022, reverse=False)
    (b / "lib/util.py").write_bytes(TREE["lib/util.py"].replace(b"42", b"43", 1))

    first = build_package(make_settings(a, artifact=tmp_path / "a.zip"), log=lambda _: None)
    second = build_package(make_settings(b, artifact=tmp_path / "b.zip"), log=lambda _: None)

    assert first.code_sha256 != second.code_sha256


def test_executables_stay_executable_and_other_files_are_0644(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "src", mtime=1_000_000_000, umask=0o077, reverse=False)
    dest = tmp_path / "out.zip"
    write_zip([Member(str(p.relative_to(tree)), p) for p in tree.rglob("*") if p.is_file()],
              dest)

    with zipfile.ZipFile(dest) as zf:
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
    assert modes["bin/tool"] == 0o100755
    assert {m for name, m in modes.items() if name != "bin/tool"} == {0o100644}


def test_entries_are_sorted_files_only_with_no_extra_fields(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "src", mtime=1_000_000_000, umask=0o022, reverse=True)
    dest = tmp_path / "out.zip"
    write_zip([Member(str(p.relative_to(tree)), p) for p in tree.rglob("*") if p.is_file()],
              dest)

    with zipfile.ZipFile(dest) as zf:
        infos = zf.infolist()
        assert zf.testzip() is None
        assert {i.filename: zf.read(i) for i in infos} == TREE
    assert [i.filename for i in infos] == sorted(TREE)
    assert all(i.extra == b"" and i.create_system == 3 for i in infos)


def test_every_timestamp_is_1980_without_source_date_epoch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    (tmp_path / "a.txt").write_text("a")
    dest = tmp_path / "out.zip"
    write_zip([Member("a.txt", tmp_path / "a.txt")], dest, date_time=archive.zip_date_time())

    with zipfile.ZipFile(dest) as zf:
        assert zf.getinfo("a.txt").date_time == (1980, 1, 1, 0, 0, 0)


def test_source_date_epoch_sets_every_timestamp(tmp_path: Path,
                                                make_settings: MakeSettings,
                                                source: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC

    result = build_package(make_settings(source), log=lambda _: None)

    with zipfile.ZipFile(result.path) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_malformed_source_date_epoch_is_refused_saying_what_to_set() -> None:
    with pytest.raises(ConfigError, match=r"SOURCE_DATE_EPOCH='yesterday' is not a whole "
                                          r"number .*git log -1 --format=%ct"):
        archive.zip_date_time({"SOURCE_DATE_EPOCH": "yesterday"})


def test_code_sha256_is_base64_of_the_sha256_of_the_zip_bytes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    dest = tmp_path / "out.zip"
    stats = write_zip([Member("a.txt", tmp_path / "a.txt")], dest)

    expected = base64.b64encode(hashlib.sha256(dest.read_bytes()).digest()).decode()
    assert archive.code_sha256(dest) == expected
    assert stats.code_sha256 == expected


def test_incompressible_members_are_stored_and_text_is_deflated(tmp_path: Path) -> None:
    (tmp_path / "random.gz").write_bytes(os.urandom(100_000))
    (tmp_path / "text.py").write_text("x = 1\n" * 20_000)
    dest = tmp_path / "out.zip"
    write_zip([Member(p.name, p) for p in tmp_path.iterdir() if p.is_file()], dest)

    with zipfile.ZipFile(dest) as zf:
        assert zf.getinfo("random.gz").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("text.py").compress_type == zipfile.ZIP_DEFLATED
        assert zf.testzip() is None


def test_more_than_65535_members_get_zip64_end_records(tmp_path: Path) -> None:
    one = tmp_path / "one.js"
    one.write_text("module.exports = 1;\n")
    count = 0x10000 + 5
    dest = tmp_path / "out.zip"
    write_zip([Member(f"node_modules/m{i:05d}.js", one) for i in range(count)], dest)

    assert len(zip_names(dest)) == count


def test_a_failed_write_leaves_the_previous_archive_and_no_temporary_file(
        tmp_path: Path) -> None:
    dest = tmp_path / "out.zip"
    dest.write_bytes(b"previous good artifact")
    (tmp_path / "a.txt").write_text("a")

    with pytest.raises(FileNotFoundError):
        write_zip([Member("a.txt", tmp_path / "a.txt"),
                   Member("b.txt", tmp_path / "missing.txt")], dest)

    assert dest.read_bytes() == b"previous good artifact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "out.zip"]
