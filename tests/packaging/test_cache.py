"""The build cache: unchanged inputs reuse the package, any change rebuilds it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from builds import Built, MakeSettings

from lambda_gate import build
from lambda_gate.build import build_package
from lambda_gate.errors import BuildError


def quiet(_line: str) -> None:
    pass


def test_unchanged_inputs_reuse_the_artifact_as_it_is(source: Path,
                                                      make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    first = build_package(settings, log=quiet)
    before = os.stat(first.path)
    lines: list[str] = []

    again = build_package(settings, log=lines.append)

    after = os.stat(again.path)
    assert again.cached and again.code_sha256 == first.code_sha256
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert lines == [f"build: cache hit, reusing {first.path} ({first.size:,} bytes, 1 file, "
                     f"CodeSha256 {first.code_sha256})"]


def test_a_cache_hit_does_not_run_pip(python_function_x86_64: Built,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # With no index and no configuration, any real pip run fails to find MarkupSafe.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    settings = python_function_x86_64.settings

    reused = build_package(settings, log=quiet)

    assert reused.cached
    assert reused.code_sha256 == python_function_x86_64.result.code_sha256
    with pytest.raises(BuildError, match="pip could not install"):
        build_package(settings, force=True, log=quiet)


def test_force_rebuilds_when_nothing_changed(source: Path,
                                             make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    first = build_package(settings, log=quiet)
    inode = os.stat(first.path).st_ino

    forced = build_package(settings, force=True, log=quiet)

    assert not forced.cached
    assert os.stat(forced.path).st_ino != inode
    assert forced.code_sha256 == first.code_sha256


def test_a_changed_source_file_rebuilds(source: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    first = build_package(settings, log=quiet)
    (source / "app.py").write_text("def handler(event, context):\n    return None\n")

    second = build_package(settings, log=quiet)

    assert not second.cached and second.code_sha256 != first.code_sha256


def test_an_edit_that_keeps_size_and_mtime_still_rebuilds(
        source: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    app = source / "app.py"
    first = build_package(settings, log=quiet)
    st = os.stat(app)
    app.write_text(app.read_text().replace("event", "EVENT"))
    os.utime(app, ns=(st.st_atime_ns, st.st_mtime_ns))

    second = build_package(settings, log=quiet)

    assert not second.cached and second.code_sha256 != first.code_sha256


@pytest.mark.parametrize("change", [
    {"architecture": "arm64"}, {"runtime": "python3.12"}, {"handler": "app.main"},
    {"exclude": ("*.md",)},
])
def test_a_changed_build_setting_rebuilds(source: Path, make_settings: MakeSettings,
                                          change: dict) -> None:
    (source / "app.py").write_text("def handler(e, c):\n    pass\n\n\nmain = handler\n")
    first = build_package(make_settings(source), log=quiet)

    second = build_package(make_settings(source, **change), log=quiet)

    assert not second.cached and second.fingerprint != first.fingerprint


def test_a_deleted_artifact_is_put_back_from_the_cache(source: Path,
                                                       make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    first = build_package(settings, log=quiet)
    original = first.path.read_bytes()
    first.path.unlink()

    again = build_package(settings, log=quiet)

    assert again.cached and again.path.read_bytes() == original


def test_a_tampered_artifact_is_replaced_by_the_cached_bytes(
        source: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    first = build_package(settings, log=quiet)
    original = first.path.read_bytes()
    first.path.write_bytes(b"not the zip we built")

    again = build_package(settings, log=quiet)

    assert again.cached and again.path.read_bytes() == original


def test_a_damaged_cache_entry_is_rebuilt_not_shipped(source: Path,
                                                      make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    first = build_package(settings, log=quiet)
    original = first.path.read_bytes()
    first.path.unlink()
    cached = settings.cache_dir / f"{first.fingerprint}.zip"
    cached.write_bytes(bytes(len(original)))  # same size, wrong bytes

    again = build_package(settings, log=quiet)

    assert not again.cached and again.path.read_bytes() == original


def test_the_cache_keeps_only_the_most_recently_used_builds(
        source: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    for i in range(build.CACHE_KEEP + 2):
        (source / "app.py").write_text(f"def handler(e, c):\n    return {i}\n")
        build_package(settings, log=quiet)

    assert len(list(settings.cache_dir.glob("*.zip"))) == build.CACHE_KEEP


def test_a_source_file_edited_during_the_build_gives_a_warning_and_no_cache_entry(
        tmp_path: Path, make_settings: MakeSettings) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.js").write_text("exports.handler = async () => 1;\n")
    settings = make_settings(src, runtime="nodejs20.x", handler="index.handler",
                             command="node -e 0")

    def edit_when_the_build_step_starts(line: str) -> None:
        if line == "build: node -e 0":
            (src / "index.js").write_text("exports.handler = async () => 2;\n")

    result = build_package(settings, log=edit_when_the_build_step_starts)

    assert result.warnings == (
        "source files changed while the package was built (index.js), so it may not match "
        "the tree as it is now; it was not cached. Build again once they are saved.",)
    assert not list(settings.cache_dir.glob("*.zip"))
