"""Adopting lambda-gate in a new repository: `lambda-gate init`, then deploy.

Each repository starts empty but for `git init`, as a team's new service would, and is
started by the console script; the deploys are real (invoke and make, terraform, the
local AWS) and what they did is read back through boto3. One repository per runtime,
walked through its steps by module-scoped fixtures, so each apply happens once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BRANCH_VARIABLES = ("GIT_BRANCH", "CIRCLE_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME",
                    "CI_COMMIT_REF_NAME", "BUILDKITE_BRANCH")


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail(f"{name} is not installed: the adoption tests need it", pytrace=False)
    return found


class Repository:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def run(self, *argv: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), cwd=self.root, text=True, capture_output=True,
                              env=env or self.env, timeout=timeout)

    def ok(self, *argv: str, **kwargs) -> subprocess.CompletedProcess[str]:
        result = self.run(*argv, **kwargs)
        assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"
        return result

    def commit(self, message: str) -> None:
        self.ok("git", "add", "-A")
        self.ok("git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit",
                "-q", "-m", message)

    def records(self) -> list[dict]:
        directory = self.root / ".lambda-gate/env/local/records"
        return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


@pytest.fixture(scope="module")
def new_repository(local_aws, terraform_binary, tmp_path_factory):
    """An empty git repository on branch main, with the environment a developer has:
    this Python's tools on PATH, the tests' local AWS, no CI branch variable."""

    def make(name: str) -> Repository:
        root = tmp_path_factory.mktemp(name)
        env = {k: v for k, v in os.environ.items() if k not in BRANCH_VARIABLES}
        env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", NO_COLOR="1",
                   INVOKE_LAMBDA_GATE_LOCAL_AWS_URL=local_aws.url)
        repo = Repository(root, env)
        repo.ok("git", "init", "-q", "-b", "main")
        return repo

    return make


def versions_and_aliases(client, function: str) -> tuple[list[str], dict[str, str]]:
    versions = [v["Version"] for v in client.list_versions_by_function(
        FunctionName=function)["Versions"] if v["Version"] != "$LATEST"]
    aliases = {a["Name"]: a["FunctionVersion"]
               for a in client.list_aliases(FunctionName=function)["Aliases"]}
    return versions, aliases


# -- Python -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def python_repo(new_repository):
    repo = new_repository("init-python")
    init = repo.ok(tool("lambda-gate"), "init", "--function-name", "init-python")
    repo.commit("lambda-gate init")
    return repo, init


@pytest.fixture(scope="module")
def python_deploy(python_repo):
    repo, _ = python_repo
    return repo.run(tool("invoke"), "deploy")


@pytest.fixture(scope="module")
def python_make_deploy(python_deploy, python_repo):
    repo, _ = python_repo
    app = repo.root / "src/app.py"
    repo.commit("terraform's lock file")  # what README says to do after the first deploy
    app.write_text(app.read_text().replace('"status": "ok"', '"status": "ok", "build": 2'))
    return repo.run("make", "deploy")  # with that edit not committed


def test_init_says_what_it_wrote_and_what_to_run_next(python_repo):
    _, init = python_repo
    for path in ("tasks.py", "invoke.yaml", "terraform/main.tf", "smoke/test_function.py",
                 "tox.ini", "Makefile", ".github/workflows/deploy.yml", "src/app.py"):
        assert f"  wrote {path}\n" in init.stdout
    assert "added .lambda-gate/, build/ to .gitignore" in init.stdout
    assert "next:\n" in init.stdout and "  invoke deploy " in init.stdout


def test_the_terraform_configuration_carries_the_function_s_name(python_repo):
    repo, _ = python_repo
    variables = (repo.root / "terraform/variables.tf").read_text()
    assert 'default     = "init-python"' in variables
    assert "api-backend" not in variables


def test_invoke_deploy_right_after_init_promotes_a_tested_version(python_deploy,
                                                                  lambda_client):
    assert python_deploy.returncode == 0, python_deploy.stdout + python_deploy.stderr
    assert versions_and_aliases(lambda_client, "init-python") == (["1"], {"main": "1"})


def test_make_deploy_publishes_and_promotes_the_next_version(python_make_deploy,
                                                             lambda_client):
    assert python_make_deploy.returncode == 0, (python_make_deploy.stdout
                                                + python_make_deploy.stderr)
    assert python_make_deploy.stdout.startswith("invoke deploy\n")  # make's echo, no flags
    assert versions_and_aliases(lambda_client, "init-python") == (["1", "2"], {"main": "2"})


def test_records_note_whether_the_working_tree_was_dirty(python_make_deploy, python_repo):
    repo, _ = python_repo
    first, second = repo.records()
    assert (first["git_dirty"], first["git_dirty_files"]) == (False, [])
    assert (second["git_dirty"], second["git_dirty_files"]) == (True, ["src/app.py"])
    assert "uncommitted changes in src/app.py: the record notes the tree was dirty" in (
        python_make_deploy.stdout)


def test_make_help_lists_the_targets(python_repo):
    repo, _ = python_repo
    listed = repo.ok("make", "help").stdout
    for target in ("build", "apply", "smoke", "promote", "deploy", "status", "rollback",
                   "prune"):
        assert f"  make {target} " in listed


def test_make_passes_env_and_alias_to_the_tasks(python_repo):
    repo, _ = python_repo
    dry = repo.ok("make", "-n", "deploy", "ENV=dev", "ALIAS=feature-x").stdout
    assert dry.strip() == "invoke deploy --env dev --alias feature-x"
    dry = repo.ok("make", "-n", "rollback", "ALIAS=main", "TO=1").stdout
    assert dry.strip() == "invoke rollback --alias main --to 1"


def test_init_twice_refuses_and_writes_nothing(python_make_deploy, python_repo):
    repo, _ = python_repo
    before = {p: p.read_bytes() for p in repo.root.rglob("*") if p.is_file()
              and ".git" not in p.parts and ".lambda-gate" not in p.parts}

    again = repo.run(tool("lambda-gate"), "init", "--function-name", "init-python")

    assert again.returncode == 2
    assert again.stderr.startswith("error: lambda-gate init would overwrite tasks.py, "
                                   "invoke.yaml, terraform/versions.tf")
    assert "Move them aside, or pass --force" in again.stderr
    assert again.stdout == ""
    assert {p: p.read_bytes() for p in before} == before


@pytest.fixture(scope="module")
def tox_env_dir(tmp_path_factory) -> Path:
    """tox's environments for this session; lambda-gate goes in editable, so it is the
    code under test."""
    return tmp_path_factory.mktemp("tox")


def test_the_scaffolded_tox_smoke_env_passes_with_lambda_gate_variables_only(
        python_make_deploy, python_repo, local_aws, lambda_client, tox_env_dir):
    repo, _ = python_repo
    arn = lambda_client.get_function_configuration(FunctionName="init-python",
                                                   Qualifier="2")["FunctionArn"]
    env = {k: v for k, v in repo.env.items() if not k.startswith(("AWS_", "INVOKE_"))}
    env.update(LAMBDA_GATE_ARN=arn, LAMBDA_GATE_ENDPOINT_URL=local_aws.url)

    result = repo.run(tool("tox"), "-e", "smoke", "--workdir", str(tox_env_dir),
                      "-x", f"testenv:smoke.deps=-e {REPO}", env=env, timeout=600)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert f"lambda-gate: init-python version 2 ({arn}), from LAMBDA_GATE_ARN" in (
        result.stdout)


# -- Node.js, as the article lays it out -------------------------------------------------

MAIN_WITH_A_DEPENDENCY = """\
import isNumber from "is-number";

export const handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    numeric: isNumber(event.rawPath.slice(1)),
  }),
});
"""


@pytest.fixture(scope="module")
def node_repo(new_repository):
    """An empty repository, `lambda-gate init --runtime nodejs`, commit."""
    repo = new_repository("init-node")
    init = repo.ok(tool("lambda-gate"), "init", "--runtime", "nodejs", "--function-name",
                   "init-node", "--ci", "circleci", timeout=600)
    repo.commit("lambda-gate init")
    return repo, init


@pytest.fixture(scope="module")
def node_deploy(node_repo):
    repo, _ = node_repo
    return repo.run(tool("invoke"), "deploy")


@pytest.fixture(scope="module")
def node_dependency_deploy(node_deploy, node_repo):
    """The function's code imports one npm dependency; `make deploy`."""
    repo, _ = node_repo
    (repo.root / "src/main.js").write_text(MAIN_WITH_A_DEPENDENCY)
    repo.ok(tool("npm"), "install", "--no-audit", "--no-fund", "is-number@7.0.0",
            timeout=600)
    repo.commit("is-number")
    return repo.run("make", "deploy")


@pytest.fixture(scope="module")
def node_make_deploy(node_dependency_deploy, node_repo):
    """Edits to the repository's non-function files, then `make deploy` again."""
    repo, _ = node_repo
    smoke = repo.root / "smoke/test_function.py"
    smoke.write_text(smoke.read_text() + "\n\ndef test_more(lambda_target):\n"
                     "    assert lambda_target.version\n")
    (repo.root / "tests").mkdir()
    (repo.root / "tests/test_unit.py").write_text("def test_unit():\n    pass\n")
    repo.commit("another smoke test, a unit test")
    return repo.run("make", "deploy")


def invoke_health(client, path: str) -> dict:
    answer = client.invoke(FunctionName="init-node", Qualifier="main", Payload=json.dumps(
        {"rawPath": path, "requestContext": {"http": {"method": "GET"}}}))
    return json.loads(json.loads(answer["Payload"].read())["body"])


def test_node_init_lays_out_the_article_s_repository(node_repo):
    repo, init = node_repo
    settings = (repo.root / "invoke.yaml").read_text()
    assert 'source_dir: "."' in settings
    assert "handler: dist/main.handler" in settings
    assert "command: npm run build" in settings and "output_dir: dist" in settings
    package = json.loads((repo.root / "package.json").read_text())
    assert package["scripts"]["build"] == "babel src -d dist --copy-files"
    assert "  wrote .circleci/config.yml\n" in init.stdout
    assert "  ran npm install (wrote package-lock.json)\n" in init.stdout
    assert (repo.root / "package-lock.json").is_file()


def test_node_deploy_right_after_init_runs_the_babel_build(node_deploy, lambda_client):
    assert node_deploy.returncode == 0, node_deploy.stdout + node_deploy.stderr
    assert "build: npm run build" in node_deploy.stdout
    assert versions_and_aliases(lambda_client, "init-node") == (["1"], {"main": "1"})


def test_node_make_deploy_ships_the_code_and_its_dependency(node_dependency_deploy,
                                                            lambda_client):
    assert node_dependency_deploy.returncode == 0, (node_dependency_deploy.stdout
                                                    + node_dependency_deploy.stderr)
    assert versions_and_aliases(lambda_client, "init-node") == (["1", "2"], {"main": "2"})
    assert invoke_health(lambda_client, "/42") == {"version": "2", "numeric": True}


def test_node_package_holds_dist_and_production_modules_only(node_dependency_deploy,
                                                              node_repo):
    repo, _ = node_repo
    with zipfile.ZipFile(repo.root / "build/lambda.zip") as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist()}
        modules = {name.split("/")[1] for name in zf.namelist()
                   if name.startswith("node_modules/")}
    assert tops == {"dist", "node_modules", "package.json"}
    assert modules == {"is-number"}  # babel is a devDependency


def test_editing_non_function_files_does_not_rebuild(node_make_deploy, lambda_client):
    assert node_make_deploy.returncode == 0, node_make_deploy.stdout + node_make_deploy.stderr
    assert "build: cache hit" in node_make_deploy.stdout
    assert "npm ci" not in node_make_deploy.stdout
    assert "main already at version 2: nothing to deploy" in node_make_deploy.stdout
    assert versions_and_aliases(lambda_client, "init-node") == (["1", "2"], {"main": "2"})


# -- the installed package --------------------------------------------------------------

def test_init_works_from_a_built_wheel_in_any_directory(tmp_path):
    """The templates are package data, not files of this repository's checkout."""
    source = tmp_path / "source"  # built from a copy: a build writes build/ and egg-info
    for part in ("plugin", "terraform", "examples"):
        shutil.copytree(REPO / part, source / part, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info",
                                                      ".terraform*"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(wheel_dir), str(source)], check=True, capture_output=True,
                   timeout=300)
    (wheel,) = wheel_dir.glob("lambda_gate-*.whl")
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(installed)
        scripts = [name for name in zf.namelist() if name.endswith("entry_points.txt")]
        assert "lambda-gate = lambda_gate.tasks.scaffold:main" in zf.read(
            scripts[0]).decode()
    elsewhere = tmp_path / "service"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from lambda_gate.tasks.scaffold import main; "
         "sys.exit(main(['init', '--ci', 'none']))"], cwd=elsewhere, text=True,
        capture_output=True, env={**os.environ, "PYTHONPATH": str(installed)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "terraform/main.tf").read_text() == (REPO / "terraform/main.tf"
                                                             ).read_text()
    assert 'default     = "service"' in (elsewhere / "terraform/variables.tf").read_text()


def test_invoke_init_is_the_same_scaffold(tmp_path):
    (tmp_path / "tasks.py").write_text("from lambda_gate.tasks import ns  # noqa: F401\n")
    result = subprocess.run([sys.executable, "-m", "invoke", "init", "--ci", "none",
                             "--function-name", "from-invoke", "--force"], cwd=tmp_path,
                            text=True, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "name: from-invoke" in (tmp_path / "invoke.yaml").read_text()


def test_a_bad_runtime_is_refused_with_what_to_use(tmp_path):
    result = subprocess.run([tool("lambda-gate"), "init", "--runtime", "ruby3.3"],
                            cwd=tmp_path, text=True, capture_output=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        "error: --runtime 'ruby3.3' is not a Lambda runtime lambda-gate builds: use "
        "python3.x (e.g. python3.12) or nodejsNN.x (e.g. nodejs20.x), or just python or "
        "nodejs.\n")
    assert list(tmp_path.iterdir()) == []


def test_this_repository_s_makefile_has_the_same_targets():
    listed = subprocess.run(["make", "help"], cwd=REPO, text=True, capture_output=True,
                            check=True).stdout
    for target in ("build", "apply", "smoke", "promote", "deploy", "status", "rollback",
                   "prune", "test"):
        assert f"  make {target} " in listed
    dry = subprocess.run(["make", "-n", "promote", "ENV=prod", "ALIAS=main", "VERSION=5"],
                         cwd=REPO, text=True, capture_output=True, check=True).stdout
    assert dry.strip() == "invoke promote --env prod --alias main --version 5"
