"""Fixtures for the package build: settings factories and the example functions, built once.

The example functions under ``fixtures/`` are real: the Python one needs a compiled
wheel from PyPI, the Node.js one a build step and packages from npm. Building them is
the slow part, so each variant is built once per session and shared.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from builds import NODE_FUNCTION, PYTHON_FUNCTION, Built, MakeSettings, settings_for

from lambda_gate.build import build_package
from lambda_gate.build import snapshot as tree_snapshot
from lambda_gate.settings import BuildSettings


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings for a source tree, with this test's own artifact path and cache."""

    def make(source_dir: Path, **overrides) -> BuildSettings:
        return settings_for(source_dir, tmp_path, **overrides)

    return make


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as older than a tree snapshot's two-second racy window, whenever they
    were written: the snapshot's clock runs three seconds ahead, instead of the test
    waiting."""
    monkeypatch.setattr(tree_snapshot, "_now_ns", lambda: time.time_ns() + 3_000_000_000)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A minimal Python function's source directory, with a valid handler."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("def handler(event, context):\n    return event\n")
    return src


def _build_copy(tmp_path_factory: pytest.TempPathFactory, function: Path,
                **overrides) -> Built:
    work = tmp_path_factory.mktemp(function.name)
    src = work / "src"
    shutil.copytree(function, src)
    lines: list[str] = []
    settings = settings_for(src, work, **overrides)
    result = build_package(settings, log=lines.append)
    return Built(settings, result, lines)


@pytest.fixture(scope="session")
def python_function_x86_64(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """fixtures/python_fn for python3.11 on x86_64 (MarkupSafe's compiled wheel)."""
    return _build_copy(tmp_path_factory, PYTHON_FUNCTION)


@pytest.fixture(scope="session")
def python_function_arm64(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """fixtures/python_fn for python3.12 on arm64."""
    return _build_copy(tmp_path_factory, PYTHON_FUNCTION, runtime="python3.12",
                       architecture="arm64")


@pytest.fixture(scope="session")
def node_function(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """fixtures/node_fn: `npm run build` writes dist/, is-number is its one dependency."""
    return _build_copy(tmp_path_factory, NODE_FUNCTION, runtime="nodejs20.x",
                       handler="dist/main.handler", command="npm run build",
                       output_dir="dist")
