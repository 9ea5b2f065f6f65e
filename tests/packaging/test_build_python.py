"""Python functions: what goes in the package, dependencies for Lambda's platform."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from builds import PYTHON_FUNCTION, Built, MakeSettings, zip_names

from lambda_gate.build import build_package
from lambda_gate.errors import BuildError


def quiet(_line: str) -> None:
    pass


def test_pycache_and_pyc_files_never_go_in(source: Path, make_settings: MakeSettings) -> None:
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00")
    (source / "stale.pyc").write_bytes(b"\x00")

    result = build_package(make_settings(source), log=quiet)

    assert zip_names(result.path) == ["app.py"]


def test_vcs_tool_caches_and_local_node_modules_are_left_out(
        source: Path, make_settings: MakeSettings) -> None:
    for junk in (".git/HEAD", ".venv/bin/python", ".pytest_cache/v", "node_modules/x/i.js",
                 ".DS_Store"):
        (source / junk).parent.mkdir(parents=True, exist_ok=True)
        (source / junk).write_text("junk")

    result = build_package(make_settings(source), log=quiet)

    assert zip_names(result.path) == ["app.py"]


def test_exclude_patterns_match_names_at_any_depth_or_paths_with_a_slash(
        source: Path, make_settings: MakeSettings) -> None:
    for name in ("README.md", "lib/NOTES.md", "lib/keep.py", "tests/test_app.py",
                 "lib/tests/keep_me.py"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("x")

    result = build_package(make_settings(source, exclude=("*.md", "/tests")), log=quiet)

    assert zip_names(result.path) == ["app.py", "lib/keep.py", "lib/tests/keep_me.py"]


def test_an_artifact_and_cache_inside_the_source_dir_are_not_packaged(
        source: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(source, artifact=source / "build" / "lambda.zip",
                             cache_dir=source / ".cache")
    build_package(settings, log=quiet)

    result = build_package(settings, force=True, log=quiet)

    assert zip_names(result.path) == ["app.py"]


def test_the_log_gives_the_artifact_path_size_file_count_and_code_sha256(
        source: Path, make_settings: MakeSettings) -> None:
    lines: list[str] = []

    result = build_package(make_settings(source), log=lines.append)

    assert lines == [f"build: wrote {result.path} ({result.size:,} bytes, 1 file, "
                     f"CodeSha256 {result.code_sha256})"]


def test_dependencies_from_pyproject_are_installed(
        source: Path, make_settings: MakeSettings) -> None:
    (source / "pyproject.toml").write_text(
        '[project]\nname = "fn"\nversion = "1"\ndependencies = ["markupsafe==2.1.5"]\n')

    result = build_package(make_settings(source), log=quiet)

    assert "markupsafe/__init__.py" in zip_names(result.path)


# -- the example function, built once per platform -----------------------------------------

def test_x86_64_package_holds_the_manylinux_x86_64_extension_for_the_runtime(
        python_function_x86_64: Built) -> None:
    assert "markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so" in python_function_x86_64.names


def test_arm64_package_holds_the_aarch64_extension_for_its_python_version(
        python_function_arm64: Built) -> None:
    names = python_function_arm64.names
    assert "markupsafe/_speedups.cpython-312-aarch64-linux-gnu.so" in names
    assert not [n for n in names if "x86_64" in n]


def test_pip_leaves_no_bytecode_scripts_or_host_install_records(
        python_function_x86_64: Built) -> None:
    names = python_function_x86_64.names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert not [n for n in names if n.startswith("bin/")]
    dist_info = sorted(n.rpartition("/")[2] for n in names if ".dist-info/" in n)
    assert dist_info == ["LICENSE.rst", "METADATA", "WHEEL", "top_level.txt"]


def test_the_x86_64_package_runs_its_handler_with_the_compiled_dependency(
        python_function_x86_64: Built, tmp_path: Path) -> None:
    if sys.version_info[:2] != (3, 11) or os.uname().machine != "x86_64":
        pytest.skip("runs the python3.11 x86_64 package with this interpreter")
    with zipfile.ZipFile(python_function_x86_64.result.path) as zf:
        zf.extractall(tmp_path)
    code = "import json, app; print(json.dumps(app.handler({'text': '<i>'}, None)))"

    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                          f"{str(tmp_path)!r}); {code}"],
                         capture_output=True, text=True, check=True, cwd=tmp_path)

    assert json.loads(out.stdout) == {"escaped": "&lt;i&gt;"}


def test_the_build_logs_what_pip_installed(python_function_x86_64: Built) -> None:
    assert python_function_x86_64.lines[:2] == [
        "build: pip install -r requirements.txt for python3.11 (x86_64: manylinux2014_x86_64 "
        "wheels)",
        "build: Successfully installed markupsafe-2.1.5",
    ]


# -- what the user is told ------------------------------------------------------------------

def test_a_missing_source_dir_says_which_setting_to_fix(tmp_path: Path,
                                                         make_settings: MakeSettings) -> None:
    with pytest.raises(BuildError, match=r"source directory .*/nowhere does not exist: set "
                                         r"lambda_gate\.function\.source_dir"):
        build_package(make_settings(tmp_path / "nowhere"), log=quiet)


def test_a_requirement_pip_cannot_resolve_shows_pips_own_error(
        source: Path, make_settings: MakeSettings) -> None:
    (source / "requirements.txt").write_text("lambda-gate-no-such-distribution==1.0\n")
    settings = make_settings(source)

    with pytest.raises(BuildError) as raised:
        build_package(settings, log=quiet)

    message = str(raised.value)
    assert message.startswith(f"pip could not install {source / 'requirements.txt'} for "
                              "Lambda (python3.11, x86_64, binary wheels only):\nERROR: ")
    assert "lambda-gate-no-such-distribution==1.0" in message
    assert "publishes a wheel for manylinux2014_x86_64 and Python 3.11" in message
    assert not settings.artifact.exists()


def test_a_configured_requirements_file_that_does_not_exist_is_named(
        source: Path, make_settings: MakeSettings) -> None:
    missing = source / "reqs" / "prod.txt"

    with pytest.raises(BuildError, match=r"requirements file .*/reqs/prod\.txt does not "
                                         r"exist: fix lambda_gate\.build\.requirements"):
        build_package(make_settings(source, requirements=missing), log=quiet)


def test_a_broken_symlink_in_the_source_is_named(source: Path,
                                                  make_settings: MakeSettings) -> None:
    (source / "config.json").symlink_to(source / "gone.json")

    with pytest.raises(BuildError, match=r"config\.json is a symlink to something that does "
                                         r"not exist: remove it, or exclude it"):
        build_package(make_settings(source), log=quiet)


def test_a_symlink_to_a_file_outside_the_tree_is_refused_and_never_zipped(
        source: Path, tmp_path: Path, make_settings: MakeSettings) -> None:
    secret = tmp_path / "home" / ".aws" / "credentials"
    secret.parent.mkdir(parents=True)
    secret.write_text("[default]\naws_secret_access_key = not-for-lambda\n")
    (source / "passwd").symlink_to("/etc/passwd")
    (source / "conf").mkdir()
    (source / "conf" / "credentials").symlink_to(secret)
    settings = make_settings(source)

    with pytest.raises(BuildError) as raised:
        build_package(settings, log=quiet)

    assert "is a symlink to" in raised.value.message
    assert "outside the source tree" in raised.value.message
    assert "passwd" in raised.value.message or "credentials" in raised.value.message
    assert not settings.artifact.exists()
    (source / "passwd").unlink()
    with pytest.raises(BuildError, match=r"conf/credentials is a symlink to .*/home/\.aws/"
                                         r"credentials, outside the source tree"):
        build_package(settings, log=quiet)
    assert not settings.artifact.exists()


def test_a_symlinked_directory_outside_the_tree_is_refused(
        source: Path, tmp_path: Path, make_settings: MakeSettings) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("secret\n")
    (source / "home").symlink_to(home, target_is_directory=True)

    with pytest.raises(BuildError, match=r"/home is a symlink to .*outside the source tree"):
        build_package(make_settings(source), log=quiet)


def test_links_inside_the_tree_are_stored_as_copies_of_their_targets(
        source: Path, tmp_path: Path, make_settings: MakeSettings) -> None:
    (source / "data").mkdir()
    (source / "data" / "words.txt").write_text("hello\n")
    (source / "words.txt").symlink_to("data/words.txt")
    (source / "more").symlink_to("data", target_is_directory=True)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "common.py").write_text("X = 1\n")
    (source / "common.py").symlink_to(shared / "common.py")

    result = build_package(make_settings(source, link_roots=(shared,)), log=quiet)

    with zipfile.ZipFile(result.path) as zf:
        assert zf.read("words.txt") == b"hello\n"
        assert zf.read("more/words.txt") == b"hello\n"
        assert zf.read("common.py") == b"X = 1\n"
        assert all(not (info.external_attr >> 16) & 0o170000 == 0o120000
                   for info in zf.infolist())


def test_a_package_over_250_mb_unzipped_is_refused_before_zipping(
        source: Path, make_settings: MakeSettings) -> None:
    with open(source / "model.bin", "wb") as f:
        f.truncate(251 * 1024 * 1024)  # sparse: no disk, no time
    settings = make_settings(source)

    with pytest.raises(BuildError, match=r"the package would be 251\.0 MiB unzipped, over "
                                         r"Lambda's 250\.0 MiB limit .* lambda_gate\.build"
                                         r"\.exclude"):
        build_package(settings, log=quiet)
    assert not settings.artifact.parent.exists() or not os.listdir(settings.artifact.parent)


def test_a_zip_over_50_mb_is_built_with_a_warning_to_ship_it_through_s3(
        source: Path, make_settings: MakeSettings) -> None:
    (source / "weights.bin").write_bytes(os.urandom(51 * 1024 * 1024))
    lines: list[str] = []

    result = build_package(make_settings(source), log=lines.append)

    assert result.size > 50 * 1024 * 1024
    assert len(result.warnings) == 1
    assert "over Lambda's 50.0 MiB limit for direct upload" in result.warnings[0]
    assert "s3_bucket and s3_key on aws_lambda_function" in result.warnings[0]
    assert f"build: warning: {result.warnings[0]}" in lines


def test_a_failed_build_leaves_the_previous_artifact_untouched(
        source: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(source)
    good = build_package(settings, log=quiet)
    before = settings.artifact.read_bytes()
    (source / "app.py").write_text("def other(event, context):\n    return 1\n")

    with pytest.raises(BuildError):
        build_package(settings, log=quiet)

    assert settings.artifact.read_bytes() == before
    assert os.listdir(settings.artifact.parent) == [good.path.name]


def test_an_artifact_path_that_cannot_be_written_is_named(
        source: Path, make_settings: MakeSettings, tmp_path: Path) -> None:
    (tmp_path / "build").write_text("a file where a directory should be")

    with pytest.raises(BuildError, match=r"could not write .*/build/lambda\.zip: .* Check "
                                         r"that lambda_gate\.build\.artifact is a path you "
                                         r"can write"):
        build_package(make_settings(source, artifact=tmp_path / "build" / "lambda.zip"),
                      log=quiet)


def test_a_pyproject_that_is_not_toml_is_named(source: Path,
                                                make_settings: MakeSettings) -> None:
    (source / "pyproject.toml").write_text("[project\n")

    with pytest.raises(BuildError, match=r"pyproject\.toml is not valid TOML \(.*\): fix it"):
        build_package(make_settings(source), log=quiet)


@pytest.mark.parametrize("pyproject", [
    '[project]\ndependencies = "markupsafe"\n', 'project = "lambda-fn"\n',
])
def test_pyproject_dependencies_that_are_not_a_list_of_strings_are_refused(
        source: Path, make_settings: MakeSettings, pyproject: str) -> None:
    (source / "pyproject.toml").write_text(pyproject)

    with pytest.raises(BuildError, match=r"pyproject\.toml: \[project\]\.dependencies must "
                                         r"be a list of strings"):
        build_package(make_settings(source), log=quiet)


def test_a_source_file_shadowing_a_dependency_wins_with_a_warning(
        tmp_path: Path, make_settings: MakeSettings) -> None:
    src = tmp_path / "src"
    shutil.copytree(PYTHON_FUNCTION, src)
    (src / "markupsafe").mkdir()
    (src / "markupsafe" / "_native.py").write_text("# ours\n")
    lines: list[str] = []

    result = build_package(make_settings(src), log=lines.append)

    assert result.warnings == (
        "source files shadow files of installed dependencies: markupsafe/_native.py; the "
        "source files were packaged. Rename them if that was not intended.",)
    assert f"build: warning: {result.warnings[0]}" in lines
    with zipfile.ZipFile(result.path) as zf:
        assert zf.read("markupsafe/_native.py") == b"# ours\n"


def test_a_file_name_that_is_not_utf8_is_refused_naming_it(
        source: Path, make_settings: MakeSettings) -> None:
    with open(os.path.join(os.fsencode(source), b"caf\xe9.txt"), "w") as f:
        f.write("latin-1 name\n")
    settings = make_settings(source)

    with pytest.raises(BuildError, match=r"caf\\xe9\.txt: the file name is not valid UTF-8; "
                                         r"rename it, or exclude it"):
        build_package(settings, log=quiet)
    assert not settings.artifact.exists()
