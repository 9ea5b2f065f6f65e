"""An unchanged source tree is recognised by stat alone; any change to it is still noticed.

A snapshot is only recorded for a tree whose newest change is older than two seconds;
these tests use the ``settled`` fixture (conftest.py) instead of waiting.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from builds import MakeSettings, settings_for

from lambda_gate.build import CACHE_KEEP, build_package
from lambda_gate.build import package as build
from lambda_gate.settings import BuildSettings


def quiet(_line: str) -> None:
    pass


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A function with a package, a data file and a link to a shared directory."""
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "app.py").write_text("from pkg import greet\n\ndef handler(event, context):\n"
                                "    return greet.hello()\n")
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "greet.py").write_text("def hello():\n    return 'hello'\n")
    (src / "pkg" / "words.txt").write_text("hello\nworld\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "common.py").write_text("NAME = 'common'\n")
    (src / "common").symlink_to(shared, target_is_directory=True)
    return src


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings whose source may link into the shared directories beside it."""

    def make(source_dir: Path, **overrides) -> BuildSettings:
        overrides.setdefault("link_roots", (tmp_path / "shared", tmp_path / "other"))
        return settings_for(source_dir, tmp_path, **overrides)

    return make


def no_walk(*_args, **_kwargs):
    raise AssertionError("the tree was walked")


def test_an_unchanged_settled_tree_is_reused_without_walking_it(
        tree: Path, make_settings: MakeSettings, settled: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tree)
    first = build_package(settings, log=quiet)
    monkeypatch.setattr(build, "collect", no_walk)

    again = build_package(settings, log=quiet)

    assert again.cached and again.code_sha256 == first.code_sha256


def test_a_tree_changed_within_two_seconds_gets_no_snapshot(
        tree: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(tree)

    build_package(settings, log=quiet)

    assert not list(settings.cache_dir.glob("tree-*.json"))
    assert build_package(settings, log=quiet).cached  # by hashing, not by the snapshot


def _edit_in_place_keeping_size_and_mtime(src: Path) -> None:
    path = src / "pkg" / "greet.py"
    st = os.stat(path)
    path.write_text(path.read_text().replace("hello'", "HELLO'"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _rename(src: Path) -> None:
    (src / "pkg" / "words.txt").rename(src / "pkg" / "terms.txt")


def _make_executable(src: Path) -> None:
    (src / "pkg" / "words.txt").chmod(0o755)


def _add_a_file_in_a_subdirectory(src: Path) -> None:
    (src / "pkg" / "extra.py").write_text("X = 1\n")


def _delete_a_file(src: Path) -> None:
    (src / "pkg" / "words.txt").unlink()


def _edit_through_a_directory_link(src: Path) -> None:
    (src / "common" / "common.py").write_text("NAME = 'changed'\n")


def _point_the_link_elsewhere(src: Path) -> None:
    other = src.parent / "other"
    shutil.copytree(src.parent / "shared", other)
    (other / "common.py").write_text("NAME = 'other'\n")
    (src / "common").unlink()
    (src / "common").symlink_to(other, target_is_directory=True)


def _replace_a_file_by_rename(src: Path) -> None:
    fresh = src / "pkg" / ".greet.py.tmp"
    fresh.write_text("def hello():\n    return 'howdy'\n")
    fresh.replace(src / "pkg" / "greet.py")


@pytest.mark.parametrize("change", [
    _edit_in_place_keeping_size_and_mtime, _rename, _make_executable,
    _add_a_file_in_a_subdirectory, _delete_a_file, _edit_through_a_directory_link,
    _point_the_link_elsewhere, _replace_a_file_by_rename,
], ids=lambda change: change.__name__.strip("_").replace("_", " "))
def test_any_change_after_a_snapshot_rebuilds(
        tree: Path, make_settings: MakeSettings, settled: None,
        change: Callable[[Path], None]) -> None:
    settings = make_settings(tree)
    first = build_package(settings, log=quiet)
    assert list(settings.cache_dir.glob("tree-*.json"))

    change(tree)
    second = build_package(settings, log=quiet)

    assert not second.cached
    assert second.fingerprint != first.fingerprint
    assert second.code_sha256 != first.code_sha256


def test_a_change_to_a_requirements_file_outside_the_tree_rebuilds(
        tree: Path, tmp_path: Path, make_settings: MakeSettings, settled: None) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    settings = make_settings(tree, requirements=requirements)
    first = build_package(settings, log=quiet)

    requirements.write_text("# pinned elsewhere\n")
    second = build_package(settings, log=quiet)

    assert not second.cached and second.fingerprint != first.fingerprint


def test_a_file_left_out_of_the_package_may_change_freely(
        tree: Path, make_settings: MakeSettings, settled: None) -> None:
    settings = make_settings(tree, exclude=("*.txt",))
    first = build_package(settings, log=quiet)

    (tree / "pkg" / "words.txt").write_text("a different size entirely\n")
    (tree / "pkg" / "__pycache__").mkdir()
    again = build_package(settings, log=quiet)

    assert again.cached and again.code_sha256 == first.code_sha256


def test_a_damaged_snapshot_only_costs_a_walk(
        tree: Path, make_settings: MakeSettings, settled: None) -> None:
    settings = make_settings(tree)
    first = build_package(settings, log=quiet)
    for snapshot in settings.cache_dir.glob("tree-*.json"):
        snapshot.write_text('{"paths": ["/nonexistent"], "digest": 1')

    again = build_package(settings, log=quiet)

    assert again.cached and again.code_sha256 == first.code_sha256


def test_settings_that_change_which_files_are_walked_get_their_own_snapshot(
        tree: Path, make_settings: MakeSettings, settled: None) -> None:
    with_words = make_settings(tree)
    without_words = make_settings(tree, exclude=("*.txt",))
    a = build_package(with_words, log=quiet)
    b = build_package(without_words, log=quiet)

    assert a.fingerprint != b.fingerprint
    assert build_package(with_words, log=quiet).fingerprint == a.fingerprint
    assert build_package(without_words, log=quiet).fingerprint == b.fingerprint
    assert len(list(with_words.cache_dir.glob("tree-*.json"))) == 2


def test_old_snapshots_are_pruned_with_the_cache(
        tree: Path, make_settings: MakeSettings, settled: None) -> None:
    settings: BuildSettings | None = None
    for i in range(CACHE_KEEP + 2):
        settings = make_settings(tree, exclude=(f"nothing-{i}",))
        build_package(settings, log=quiet)

    assert settings is not None
    assert len(list(settings.cache_dir.glob("tree-*.json"))) == CACHE_KEEP
