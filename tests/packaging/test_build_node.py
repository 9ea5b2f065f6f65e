"""Node.js functions: a clean install from the lockfile, the build step, production deps only."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from builds import NODE_FUNCTION, Built, MakeSettings, zip_names

from lambda_gate.build import build_package, npm
from lambda_gate.errors import BuildError


def quiet(_line: str) -> None:
    pass


def node_source(root: Path, code: str, package: dict | None = None) -> Path:
    root.mkdir()
    (root / "index.js").write_text(code)
    if package is not None:
        (root / "package.json").write_text(json.dumps(package))
    return root


def test_the_package_holds_the_build_output_production_modules_and_package_json(
        node_function: Built) -> None:
    assert node_function.names == [
        "dist/main.js",
        "node_modules/is-number/LICENSE",
        "node_modules/is-number/README.md",
        "node_modules/is-number/index.js",
        "node_modules/is-number/package.json",
        "package.json",
    ]


def test_dev_dependencies_used_by_the_build_step_are_not_packaged(node_function: Built) -> None:
    with zipfile.ZipFile(node_function.result.path) as zf:
        built = zf.read("dist/main.js").decode()
    assert built.startswith("// built from src/main.js (string)")  # kind-of ran
    assert not [n for n in node_function.names if "kind-of" in n]


def test_the_build_runs_a_full_install_then_the_step_then_a_production_install(
        node_function: Built) -> None:
    assert node_function.lines[:3] == [
        "build: npm ci (all dependencies)",
        "build: npm run build",
        "build: npm ci (production dependencies for linux-x64)",
    ]


def test_the_build_leaves_the_source_tree_as_it_was(node_function: Built) -> None:
    src = node_function.settings.source_dir
    assert sorted(p.name for p in src.iterdir()) == sorted(p.name for p in NODE_FUNCTION.iterdir())


def test_the_packaged_handler_runs_under_node(node_function: Built, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    with zipfile.ZipFile(node_function.result.path) as zf:
        zf.extractall(tmp_path)
    script = ("import(process.argv[1]).then(m => m.handler({value: 7}))"
              ".then(r => console.log(JSON.stringify(r)))")

    out = subprocess.run([node, "-e", script, str(tmp_path / "dist" / "main.js")],
                         capture_output=True, text=True, check=True)

    assert json.loads(out.stdout) == {"isNumber": True}


def test_a_function_without_dependencies_needs_no_npm(tmp_path: Path,
                                                      make_settings: MakeSettings,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    src = node_source(tmp_path / "src", "exports.handler = async () => 1;\n",
                      {"name": "fn", "version": "1.0.0"})
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    result = build_package(make_settings(src, runtime="nodejs20.x",
                                         handler="index.handler"), log=quiet)

    assert zip_names(result.path) == ["index.js", "package.json"]


def test_npm_missing_says_to_install_node(tmp_path: Path, make_settings: MakeSettings,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    shutil.copytree(NODE_FUNCTION, src)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    settings = make_settings(src, runtime="nodejs20.x", handler="dist/main.handler",
                             command="npm run build", output_dir="dist")

    with pytest.raises(BuildError, match=r"npm was not found on PATH, and this function's "
                                         r"runtime is Node\.js: install Node\.js"):
        build_package(settings, log=quiet)
    assert not settings.artifact.exists()


def test_dependencies_without_a_lockfile_say_to_commit_one(tmp_path: Path,
                                                           make_settings: MakeSettings) -> None:
    src = node_source(tmp_path / "src", "exports.handler = async () => 1;\n",
                      {"name": "fn", "version": "1.0.0", "dependencies": {"is-number": "7"}})

    with pytest.raises(BuildError, match=r"no package-lock\.json next to package\.json .* run "
                                         r"`npm install` once and commit package-lock\.json"):
        build_package(make_settings(src, runtime="nodejs20.x", handler="index.handler"),
                      log=quiet)


def test_a_failing_build_step_shows_its_exit_code_and_output(
        tmp_path: Path, make_settings: MakeSettings) -> None:
    src = node_source(tmp_path / "src", "exports.handler = async () => 1;\n")
    command = "node -e \"console.error('transpile failed: bad.ts'); process.exit(3)\""
    settings = make_settings(src, runtime="nodejs20.x", handler="index.handler",
                             command=command)

    with pytest.raises(BuildError) as raised:
        build_package(settings, log=quiet)

    assert str(raised.value).startswith(f"{command!r} failed with exit code 3 in ")
    assert "transpile failed: bad.ts" in str(raised.value)
    assert not settings.artifact.exists()


def test_a_build_step_that_writes_no_output_dir_says_so(tmp_path: Path,
                                                        make_settings: MakeSettings) -> None:
    src = node_source(tmp_path / "src", "exports.handler = async () => 1;\n")
    settings = make_settings(src, runtime="nodejs20.x", handler="dist/index.handler",
                             command="node -e 0", output_dir="dist")

    with pytest.raises(BuildError, match=r"dist/ was not found in .* after 'node -e 0': make "
                                         r"the build step write it, or set "
                                         r"lambda_gate\.build\.output_dir"):
        build_package(settings, log=quiet)


def test_a_build_command_that_is_not_installed_is_named(tmp_path: Path,
                                                        make_settings: MakeSettings) -> None:
    src = node_source(tmp_path / "src", "exports.handler = async () => 1;\n")
    settings = make_settings(src, runtime="nodejs20.x", handler="index.handler",
                             command="lambda-gate-no-such-tool build")

    with pytest.raises(BuildError, match=r"could not run 'lambda-gate-no-such-tool build': "
                                         r"lambda-gate-no-such-tool was not found"):
        build_package(settings, log=quiet)


@pytest.mark.parametrize(("architecture", "cpu"), [("x86_64", "x64"), ("arm64", "arm64")])
def test_the_production_install_picks_optional_dependencies_for_lambdas_platform(
        architecture: str, cpu: str) -> None:
    argv = npm.ci_command("npm", production=True, architecture=architecture)

    assert argv[:3] == ["npm", "ci", "--omit=dev"]
    assert argv[-2:] == ["--os=linux", f"--cpu={cpu}"]


@pytest.mark.parametrize(("content", "message"), [
    ("{ name: fn }", r"package\.json is not valid JSON \(.*\): fix it"),
    ('["is-number"]', r"package\.json must hold a JSON object: fix it"),
])
def test_a_package_json_npm_cannot_read_is_named(tmp_path: Path, make_settings: MakeSettings,
                                                 content: str, message: str) -> None:
    src = node_source(tmp_path / "src", "exports.handler = async () => 1;\n")
    (src / "package.json").write_text(content)

    with pytest.raises(BuildError, match=message):
        build_package(make_settings(src, runtime="nodejs20.x", handler="index.handler"),
                      log=quiet)


@pytest.mark.parametrize(("section", "command"), [
    ("dependencies", None), ("devDependencies", "npm run build"),
])
def test_a_local_path_dependency_is_refused_before_npm_runs(
        tmp_path: Path, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch,
        section: str, command: str | None) -> None:
    monkeypatch.setenv("PATH", "")  # npm would fail differently; it must not be reached
    src = node_source(tmp_path / "src", "exports.handler = async () => 1;\n",
                      {"name": "fn", "version": "1.0.0",
                       section: {"shared": "file:../shared", "is-number": "7.0.0"}})
    settings = make_settings(src, runtime="nodejs20.x", handler="index.handler",
                             command=command)

    with pytest.raises(BuildError) as raised:
        build_package(settings, log=quiet)

    assert str(raised.value) == (
        f"{src / 'package.json'}: shared (file:../shared) is a local path, which the build "
        "cannot install: it runs `npm ci` in a clean staging directory, where paths "
        "relative to your source do not resolve. Publish the package to a registry "
        "(a private one will do) or depend on it by git URL.")
    assert not settings.artifact.exists()


def test_a_local_dev_dependency_is_fine_without_a_build_step(
        tmp_path: Path, make_settings: MakeSettings) -> None:
    src = node_source(tmp_path / "src", "exports.handler = async () => 1;\n",
                      {"name": "fn", "version": "1.0.0",
                       "devDependencies": {"shared": "file:../shared"}})

    built = build_package(make_settings(src, runtime="nodejs20.x", handler="index.handler"),
                          log=quiet)

    assert zip_names(built.path) == ["index.js", "package.json"]
