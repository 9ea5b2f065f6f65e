"""Building a service: each function on its own inputs, shared code in each package."""

from __future__ import annotations

import copy
import time
import zipfile
from pathlib import Path

import pytest

from lambda_gate import config
from lambda_gate.build import snapshot as tree_snapshot
from lambda_gate.build.service import build_service
from lambda_gate.errors import BuildError


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two functions and the code they share; files count as settled (older than the
    tree snapshot's racy window), so unchanged trees are known by stat alone."""
    monkeypatch.setattr(tree_snapshot, "_now_ns", lambda: time.time_ns() + 3_000_000_000)
    for key, handler in (("api", "app"), ("worker", "worker")):
        source = tmp_path / "services" / key
        source.mkdir(parents=True)
        (source / f"{handler}.py").write_text(
            "import common\n\ndef handler(event, context):\n    return common.VALUE\n")
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("VALUE = 1\n")
    return tmp_path


def functions(root: Path):
    raw = copy.deepcopy(config.DEFAULTS)
    raw["functions"] = {
        "api": {"source_dir": "services/api", "include": "common"},
        "worker": {"source_dir": "services/worker", "handler": "worker.handler",
                   "include": "common"},
    }
    return config.load({"lambda_gate": raw}, root=root).functions


def build(root: Path, lines: list[str] | None = None):
    return build_service(functions(root), log=(lines if lines is not None else []).append)


def test_each_function_gets_its_own_package_with_the_shared_code(service):
    built = build(service)

    for key, handler in (("api", "app.py"), ("worker", "worker.py")):
        with zipfile.ZipFile(built[key].path) as archive:
            assert sorted(archive.namelist()) == sorted(["common/__init__.py", handler])


def test_a_change_to_shared_code_rebuilds_every_function_that_includes_it(service):
    first = build(service)
    (service / "common" / "__init__.py").write_text("VALUE = 2\n")

    second = build(service)

    for key in ("api", "worker"):
        assert not second[key].cached
        assert second[key].code_sha256 != first[key].code_sha256


def test_a_change_to_one_function_rebuilds_that_one_alone(service):
    first = build(service)
    (service / "services" / "api" / "app.py").write_text(
        "import common\n\ndef handler(event, context):\n    return 2\n")

    second = build(service)

    assert not second["api"].cached and second["api"].code_sha256 != first["api"].code_sha256
    assert second["worker"].cached and second["worker"].code_sha256 == first["worker"].code_sha256


def test_a_new_file_in_shared_code_is_seen(service):
    first = build(service)
    (service / "common" / "extra.py").write_text("X = 1\n")

    second = build(service)

    assert second["worker"].code_sha256 != first["worker"].code_sha256


def test_each_line_of_the_builds_names_its_function(service):
    lines: list[str] = []
    build(service, lines)

    assert any(line.startswith("[api] build: wrote ") for line in lines)
    assert any(line.startswith("[worker] build: wrote ") for line in lines)


def test_a_source_directory_holding_the_included_name_is_refused(service):
    (service / "services" / "api" / "common").mkdir()
    (service / "services" / "api" / "common" / "own.py").write_text("")

    with pytest.raises(BuildError, match=r"common/own.py is both in the source directory "
                                         r"and in the included directory"):
        build(service)
