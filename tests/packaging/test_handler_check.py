"""The handler setting must name code that is in the package, checked without running it."""

from __future__ import annotations

from pathlib import Path

import pytest
from builds import MakeSettings

from lambda_gate.build import build_package
from lambda_gate.build.handler_check import check_handler, split_handler
from lambda_gate.errors import BuildError


def files_of(root: Path, tree: dict[str, str]) -> dict[str, Path]:
    files = {}
    for name, text in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files[name] = path
    return files


@pytest.mark.parametrize(("handler", "expected"), [
    ("app.handler", ("app", "handler")),
    ("pkg/mod.func", ("pkg/mod", "func")),
    ("pkg.mod.func", ("pkg.mod", "func")),
    ("dist/main.handler", ("dist/main", "handler")),
])
def test_a_handler_splits_into_module_and_function(handler: str,
                                                   expected: tuple[str, str]) -> None:
    assert split_handler(handler) == expected


@pytest.mark.parametrize("handler", ["handler", ".handler", "app."])
def test_a_handler_without_module_and_function_is_refused(handler: str) -> None:
    with pytest.raises(BuildError, match=r"is not of the form module\.function: set "
                                         r"lambda_gate\.function\.handler"):
        split_handler(handler)


@pytest.mark.parametrize(("handler", "tree"), [
    ("app.handler", {"app.py": "def handler(event, context):\n    pass\n"}),
    ("app.handler", {"app.py": "async def handler(event, context):\n    pass\n"}),
    ("app.handler", {"app.py": "from .impl import handler\n"}),
    ("app.handler", {"app.py": "handler = make_handler()\n"}),
    ("app.handler", {"app.py": "handler: Handler = make_handler()\n"}),
    ("app.handler", {"app.py": "class handler:\n    pass\n"}),
    ("pkg.mod.handler", {"pkg/mod.py": "def handler(e, c):\n    pass\n"}),
    ("pkg/mod.handler", {"pkg/mod.py": "def handler(e, c):\n    pass\n"}),
    ("pkg.handler", {"pkg/__init__.py": "def handler(e, c):\n    pass\n"}),
])
def test_python_handlers_found_by_reading_the_module(tmp_path: Path, handler: str,
                                                     tree: dict[str, str]) -> None:
    files = files_of(tmp_path, tree)

    assert check_handler(handler, "python", files) == next(iter(tree))


def test_python_handler_code_is_never_run(tmp_path: Path) -> None:
    files = files_of(tmp_path, {"app.py": "raise SystemExit('imported!')\n"
                                          "def handler(e, c):\n    pass\n"})

    assert check_handler("app.handler", "python", files) == "app.py"


def test_a_missing_python_module_names_the_file_looked_for(tmp_path: Path) -> None:
    files = files_of(tmp_path, {"main.py": "def handler(e, c):\n    pass\n"})

    with pytest.raises(BuildError, match=r"handler 'app\.handler': no app\.py \(or "
                                         r"app/__init__\.py\) in the package\. Check "
                                         r"lambda_gate\.function\.handler"):
        check_handler("app.handler", "python", files)


def test_a_function_defined_only_inside_another_is_not_a_handler(tmp_path: Path) -> None:
    files = files_of(tmp_path, {"app.py": "def outer():\n    def handler(e, c):\n"
                                          "        pass\n"})

    with pytest.raises(BuildError, match=r"handler 'app\.handler': app\.py defines no "
                                         r"top-level 'handler'\. Define `def handler\(event, "
                                         r"context\):` there"):
        check_handler("app.handler", "python", files)


def test_a_handler_module_with_a_syntax_error_says_where(tmp_path: Path) -> None:
    files = files_of(tmp_path, {"app.py": "def handler(e, c):\n    return (\n"})

    with pytest.raises(BuildError, match=r"handler 'app\.handler': app\.py line \d+ is not "
                                         r"valid Python"):
        check_handler("app.handler", "python", files)


@pytest.mark.parametrize("code", [
    "exports.handler = async (event) => event;",
    "module.exports.handler = async (event) => event;",
    "module.exports = { handler, other };",
    "export const handler = async (event) => event;",
    "export async function handler(event) { return event; }",
    "export function handler(event) { return event; }",
    "const handler = async () => 1;\nexport { handler };",
    "const main = async () => 1;\nexport { other, main as handler };",
])
def test_node_export_forms_are_recognised(tmp_path: Path, code: str) -> None:
    files = files_of(tmp_path, {"dist/main.js": code})

    assert check_handler("dist/main.handler", "node", files) == "dist/main.js"


@pytest.mark.parametrize("suffix", [".mjs", ".cjs"])
def test_node_modules_may_be_mjs_or_cjs(tmp_path: Path, suffix: str) -> None:
    files = files_of(tmp_path, {f"index{suffix}": "exports.handler = () => 1;"})

    assert check_handler("index.handler", "node", files) == f"index{suffix}"


def test_a_node_file_without_the_export_says_how_to_export_it(tmp_path: Path) -> None:
    files = files_of(tmp_path, {"index.js": "const handler = async () => 1;\n"
                                            "export const handlerTwo = handler;\n"})

    with pytest.raises(BuildError, match=r"handler 'index\.handler': index\.js does not "
                                         r"export 'handler'\. Add `export const handler"):
        check_handler("index.handler", "node", files)


def test_a_missing_node_module_lists_the_files_looked_for(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"handler 'dist/main\.handler': none of "
                                         r"dist/main\.js, dist/main\.mjs, dist/main\.cjs is in "
                                         r"the package\. .*lambda_gate\.build\.output_dir"):
        check_handler("dist/main.handler", "node", {})


def test_a_build_with_a_wrong_handler_fails_and_writes_no_artifact(
        source: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(source, handler="app.main")

    with pytest.raises(BuildError, match=r"handler 'app\.main': app\.py defines no top-level "
                                         r"'main'"):
        build_package(settings, log=lambda _: None)
    assert not settings.artifact.exists()
