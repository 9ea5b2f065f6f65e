"""A function whose source directory is the repository's root (Node.js as usually laid
out): the repository's own files are not build inputs, and a source_dir that misses
package.json is told where it is."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from builds import zip_names

from lambda_gate import config
from lambda_gate.build import build_package
from lambda_gate.errors import BuildError

HANDLER = "export const handler = async (event) => ({ ok: true, event });\n"


def settings_at(root: Path, **function):
    raw = copy.deepcopy(config.DEFAULTS)
    raw["function"].update(runtime="nodejs20.x", handler="dist/main.handler", **function)
    raw["build"].update(output_dir="dist")
    return config.load({"lambda_gate": raw}, root=root).build


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The article's layout, already compiled: package.json at the root, dist/, and the
    repository's terraform/, smoke/, tests/ and lambda-gate's state beside them."""
    root = tmp_path / "api-backend"
    files = {
        "package.json": json.dumps({"name": "api-backend", "type": "module"}),
        "src/main.js": HANDLER,
        "dist/main.js": HANDLER,
        "terraform/main.tf": "# configuration\n",
        "smoke/test_api.py": "def test_it():\n    pass\n",
        "tests/test_unit.py": "def test_unit():\n    pass\n",
        ".lambda-gate/env/local/last-apply.json": "{}",
        "build/notes.txt": "build output\n",
        "tasks.py": "from lambda_gate.tasks import ns\n",
        "invoke.yaml": "lambda_gate: {}\n",
        "Makefile": "deploy:\n\tinvoke deploy\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_repository_s_own_files_are_not_packaged(repository: Path) -> None:
    result = build_package(settings_at(repository, source_dir="."), log=lambda _: None)
    assert zip_names(result.path) == ["dist/main.js", "package.json"]


def test_editing_smoke_tests_or_terraform_does_not_rebuild(repository: Path,
                                                           settled: None) -> None:
    settings = settings_at(repository, source_dir=".")
    first = build_package(settings, log=lambda _: None)
    (repository / "smoke/test_api.py").write_text("def test_it():\n    assert True\n")
    (repository / "terraform/main.tf").write_text("# changed\n")
    (repository / "tests/test_new.py").write_text("def test_new():\n    pass\n")
    (repository / "Makefile").write_text("deploy:\n\tinvoke deploy --verbose\n")
    lines: list[str] = []

    again = build_package(settings, log=lines.append)

    assert lines and lines[0].startswith("build: cache hit")
    assert again.code_sha256 == first.code_sha256


def test_a_source_dir_without_the_root_s_package_json_is_told_where_it_is(
        repository: Path) -> None:
    settings = settings_at(repository, source_dir="src")
    settings = type(settings)(**{**settings.__dict__, "command": "npm run build"})

    with pytest.raises(BuildError) as raised:
        build_package(settings, log=lambda _: None)

    message = raised.value.message
    assert message.startswith(
        f"the build command 'npm run build' runs in a copy of the source directory "
        f"{repository / 'src'}, which has no package.json. package.json is in "
        f"{repository}: make that the source directory")
    assert 'source_dir: "."' in message
    assert "lambda-gate-build-" not in message  # no temporary directory, long gone
