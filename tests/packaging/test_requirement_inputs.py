"""What a requirements file pulls in is an input of the build, wherever it lies.

A team keeps shared pins in ``-r ../requirements/common.txt`` or vendors a wheel next to
the requirements; editing either must rebuild the package, never reuse a stale one.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest
from builds import MakeSettings, zip_names

from lambda_gate.build import build_package
from lambda_gate.build.pip import referenced_paths


def quiet(_line: str) -> None:
    pass


@pytest.mark.parametrize("line, expected", [
    ("-r common.txt", "common.txt"),
    ("--requirement common.txt", "common.txt"),
    ("--requirement=common.txt", "common.txt"),
    ("-rcommon.txt", "common.txt"),
    ("-c constraints.txt", "constraints.txt"),
    ("--constraint = constraints.txt", "constraints.txt"),
    ("./wheels/tiny-1.0-py3-none-any.whl", "wheels/tiny-1.0-py3-none-any.whl"),
    ("../libs/shared  # vendored", "../libs/shared"),
    ("-e ../libs/shared", "../libs/shared"),
    ("--editable=./libs/own", "libs/own"),
    ("shared @ file:///opt/shared", "/opt/shared"),
    ("./libs/own[extra] ; python_version >= '3.9'", "libs/own"),
])
def test_a_requirement_line_that_names_a_local_file(tmp_path: Path, line: str,
                                                    expected: str) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"markupsafe==2.1.5\n{line}\n")

    assert referenced_paths(requirements) == [tmp_path / expected]


@pytest.mark.parametrize("line", [
    "markupsafe==2.1.5", "requests[socks]>=2 ; python_version > '3'",
    "https://example.com/tiny-1.0-py3-none-any.whl", "# -r commented-out.txt",
    "--only-binary :all:", "--index-url https://pypi.example.com/simple",
])
def test_a_line_that_names_no_local_file(tmp_path: Path, line: str) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(line + "\n")

    assert referenced_paths(requirements) == []


def test_a_pyprojects_dependency_on_a_local_file_is_found(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "fn"\ndependencies = [\n'
                         '  "markupsafe==2.1.5",\n'
                         f'  "tiny @ file://{tmp_path}/wheels/tiny-1.0-py3-none-any.whl",\n]\n')

    assert referenced_paths(pyproject) == [tmp_path / "wheels" / "tiny-1.0-py3-none-any.whl"]


def test_includes_are_followed_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    top = tmp_path / "requirements.txt"
    top.write_text("-r requirements/prod.txt\n")
    (tmp_path / "requirements" / "prod.txt").write_text("-r base.txt\n-r ../requirements.txt\n")
    (tmp_path / "requirements" / "base.txt").write_text("-c pins.txt\n")

    assert referenced_paths(top) == [
        tmp_path / "requirements" / "prod.txt", tmp_path / "requirements" / "base.txt",
        tmp_path / "requirements" / "pins.txt",
    ]


def test_a_continued_line_is_read_whole(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("-r \\\n  common.txt\n")

    assert referenced_paths(requirements) == [tmp_path / "common.txt"]


def write_wheel(path: Path, greeting: str) -> None:
    """A pure-Python wheel holding ``tiny.GREETING``, as pip would accept it."""
    files = {
        "tiny/__init__.py": f"GREETING = {greeting!r}\n",
        "tiny-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n",
        "tiny-1.0.dist-info/WHEEL": ("Wheel-Version: 1.0\nGenerator: hand\n"
                                     "Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())
        record.append(f"{name},sha256={digest.rstrip(b'=').decode()},{len(text.encode())}")
    record.append("tiny-1.0.dist-info/RECORD,,")
    files["tiny-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository whose requirements sit beside the function, not in its source."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "import tiny\n\ndef handler(event, context):\n    return tiny.GREETING\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "common.txt").write_text("# shared by every function\n")
    (tmp_path / "requirements.txt").write_text(
        "-r requirements/common.txt\n./wheels/tiny-1.0-py3-none-any.whl\n")
    write_wheel(tmp_path / "wheels" / "tiny-1.0-py3-none-any.whl", "hello")
    return tmp_path


@pytest.fixture(params=["hashed", "snapshot"])
def recognised_by(request: pytest.FixtureRequest) -> str:
    """Run each case twice: the tree too fresh for a snapshot, and settled."""
    if request.param == "snapshot":
        request.getfixturevalue("settled")
    return request.param


def test_an_edited_include_outside_the_source_rebuilds(
        project: Path, make_settings: MakeSettings, recognised_by: str) -> None:
    settings = make_settings(project / "src", requirements=project / "requirements.txt")
    first = build_package(settings, log=quiet)
    assert build_package(settings, log=quiet).cached

    (project / "requirements" / "common.txt").write_text("# shared, and reviewed\n")
    second = build_package(settings, log=quiet)

    assert not second.cached and second.fingerprint != first.fingerprint


def test_a_replaced_local_wheel_rebuilds_with_its_new_content(
        project: Path, make_settings: MakeSettings, recognised_by: str) -> None:
    settings = make_settings(project / "src", requirements=project / "requirements.txt")
    first = build_package(settings, log=quiet)
    assert "tiny/__init__.py" in zip_names(first.path)

    write_wheel(project / "wheels" / "tiny-1.0-py3-none-any.whl", "howdy")
    second = build_package(settings, log=quiet)

    assert not second.cached and second.code_sha256 != first.code_sha256
    with zipfile.ZipFile(second.path) as zf:
        assert zf.read("tiny/__init__.py") == b"GREETING = 'howdy'\n"


def test_a_local_project_is_rebuilt_when_its_code_changes_not_when_pip_builds_it(
        project: Path, make_settings: MakeSettings, settled: None) -> None:
    # Settled, so a snapshot is taken before pip writes build/ into the project.
    shared = project / "libs" / "shared"
    (shared / "shared").mkdir(parents=True)
    (shared / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "shared"\nversion = "1.0"\n')
    (shared / "shared" / "__init__.py").write_text("NAME = 'one'\n")
    (project / "requirements.txt").write_text("./libs/shared\n")
    settings = make_settings(project / "src", requirements=project / "requirements.txt")
    first = build_package(settings, log=quiet)
    assert (shared / "build").is_dir()  # pip built it in place, as it does

    unchanged = build_package(settings, log=quiet)
    (shared / "shared" / "__init__.py").write_text("NAME = 'two'\n")
    changed = build_package(settings, log=quiet)

    assert unchanged.cached and unchanged.code_sha256 == first.code_sha256
    assert not changed.cached
    with zipfile.ZipFile(changed.path) as zf:
        assert zf.read("shared/__init__.py") == b"NAME = 'two'\n"


def test_a_replaced_wheel_a_pyproject_names_rebuilds(
        project: Path, make_settings: MakeSettings, recognised_by: str) -> None:
    wheel = project / "wheels" / "tiny-1.0-py3-none-any.whl"
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "fn"\nversion = "1"\ndependencies = ["tiny @ file://{wheel}"]\n')
    settings = make_settings(project / "src", requirements=project / "pyproject.toml")
    first = build_package(settings, log=quiet)

    write_wheel(wheel, "howdy")
    second = build_package(settings, log=quiet)

    assert not second.cached and second.code_sha256 != first.code_sha256
    with zipfile.ZipFile(second.path) as zf:
        assert zf.read("tiny/__init__.py") == b"GREETING = 'howdy'\n"
