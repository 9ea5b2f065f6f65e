"""``lambda-gate init``: a working starting point in a new or existing repository.

It writes what a repository needs to deploy one function with lambda-gate: tasks.py,
invoke.yaml with the function's settings, the reference terraform configuration (the
function's name filled in), a smoke test, a tox.ini with a ``smoke`` environment, a
Makefile and a CI template; for a repository with no function yet, a starter one that
the smoke test passes against. The templates ship in the package (``templates/``), so an
installed lambda-gate needs no clone of its repository.

It never overwrites a file without ``force``: when any file it would write exists, it
writes nothing and names them. ``.gitignore`` is the exception: the lines lambda-gate
needs are added to it, the rest kept.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import ConfigError

#: CI templates, by the name ``--ci`` takes: (template, where it goes).
CI_TEMPLATES = {
    "github": ("ci/github-deploy.yml", ".github/workflows/deploy.yml"),
    "circleci": ("ci/circleci-config.yml", ".circleci/config.yml"),
    "none": None,
}
TERRAFORM_FILES = ("versions.tf", "main.tf", "variables.tf", "outputs.tf",
                   "backend/s3.hcl.example")
NODE_RUNTIME = "nodejs20.x"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def default_python_runtime() -> str:
    """The runtime of the Python running this: the local AWS then runs the function
    with the same Python, and the same packages."""
    minor = min(max(sys.version_info.minor, 10), 13)
    return f"python3.{minor}"


@dataclass(frozen=True)
class Options:
    """What ``init`` was asked for; :func:`options` fills in the defaults."""

    function_name: str
    runtime: str
    handler: str
    source_dir: str
    ci: str = "github"
    force: bool = False

    @property
    def node(self) -> bool:
        return self.runtime.startswith("nodejs")


def options(root: Path, *, runtime: str | None = None, handler: str | None = None,
            source_dir: str | None = None, function_name: str | None = None,
            ci: str = "github", force: bool = False) -> Options:
    """Check the choices and fill in the rest: Python's layout is src/app.py with
    ``app.handler``; Node.js's is the usual babel one, package.json at the root and
    src/ compiled to dist/, with ``dist/main.handler``."""
    runtime = (runtime or "python").strip()
    if runtime in ("python", "python3"):
        runtime = default_python_runtime()
    elif runtime in ("node", "nodejs"):
        runtime = NODE_RUNTIME
    if not re.fullmatch(r"python3\.\d+|nodejs\d+\.x", runtime):
        raise ConfigError(f"--runtime {runtime!r} is not a Lambda runtime lambda-gate "
                          "builds: use python3.x (e.g. python3.12) or nodejsNN.x (e.g. "
                          f"{NODE_RUNTIME}), or just python or nodejs.")
    node = runtime.startswith("nodejs")
    name = function_name or re.sub(r"[^A-Za-z0-9_-]+", "-", root.resolve().name)[:64]
    if not _NAME.match(name):
        raise ConfigError(f"--function-name {name!r} is not a Lambda function name: use "
                          "1 to 64 letters, digits, hyphens and underscores.")
    handler = handler or ("dist/main.handler" if node else "app.handler")
    if "." not in handler.rsplit("/", 1)[-1]:
        raise ConfigError(f"--handler {handler!r} must be module.function, e.g. "
                          + ("dist/main.handler." if node else "app.handler."))
    if ci not in CI_TEMPLATES:
        raise ConfigError(f"--ci {ci!r} is not one of {', '.join(CI_TEMPLATES)}.")
    return Options(function_name=name, runtime=runtime, handler=handler,
                   source_dir=source_dir or ("." if node else "src"), ci=ci, force=force)


def _template(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text("utf-8")


def invoke_yaml(opts: Options) -> str:
    lines = [
        f"# lambda-gate's settings for {opts.function_name} (README: Configuration "
        "reference).",
        "# Every setting can also come from an INVOKE_LAMBDA_GATE_... variable.",
        "lambda_gate:",
        "  function:",
        f"    name: {opts.function_name}",
        f'    source_dir: "{opts.source_dir}"',
        f"    runtime: {opts.runtime}",
        f"    handler: {opts.handler}",
        "  build:",
        "    artifact: build/lambda.zip",
    ]
    if opts.node:
        lines += ["    # package.json's build script compiles src/ to dist/ (babel);",
                  "    # the package holds dist/ and the production node_modules.",
                  "    command: npm run build",
                  "    output_dir: dist"]
    lines += ["  terraform:", "    dir: terraform", "  smoke:", "    path: smoke"]
    if opts.ci != "none":
        lines += [
            "  # The CI template deploys to environments dev and prod: put in your own",
            "  # accounts and roles, and uncomment (README: Running it from CI).",
            "  # reports_dir: reports",
            "  # environments:",
            "  #   dev:",
            "  #     region: eu-west-1",
            "  #     role_arn: arn:aws:iam::111111111111:role/lambda-gate-deploy",
            "  #     backend_config: terraform/dev.s3.tfbackend",
            "  #   prod:",
            "  #     region: eu-west-1",
            "  #     role_arn: arn:aws:iam::222222222222:role/lambda-gate-deploy",
            "  #     backend_config: terraform/prod.s3.tfbackend",
            "  #     branches: main",
            "  #     protected: main",
        ]
    return "\n".join(lines) + "\n"


def _variables_tf(opts: Options) -> str:
    text = _template("terraform/variables.tf")
    block = re.compile(r'(variable "function_name" \{.*?default\s*=\s*)"[^"]*"', re.S)
    filled, count = block.subn(lambda m: f'{m.group(1)}"{opts.function_name}"', text, 1)
    if count != 1:  # the reference configuration changed shape: better loud than wrong
        raise ConfigError("the packaged terraform/variables.tf has no function_name "
                          "default to fill in; this is a bug in lambda-gate.")
    return filled


def _starter(root: Path, opts: Options) -> dict[str, str]:
    """A function to deploy, for a repository that has none yet (else nothing)."""
    source = root / opts.source_dir
    module, _, _function = opts.handler.rpartition(".")
    if not opts.node:
        if (source / f"{module}.py").exists() or "/" in module:
            return {}
        return {f"{opts.source_dir}/{module}.py".removeprefix("./"): _template("python/app.py")}
    if (source / "package.json").exists() or not module.startswith("dist/"):
        return {}
    base = "" if opts.source_dir in (".", "") else opts.source_dir.rstrip("/") + "/"
    return {f"{base}package.json": _template("node/package.json"),
            f"{base}src/{module.removeprefix('dist/')}.js": _template("node/main.js")}


def files_for(root: Path, opts: Options) -> dict[str, str]:
    """Relative path -> contents of every file ``init`` writes (not .gitignore)."""
    files = {"tasks.py": _template("tasks.py"), "invoke.yaml": invoke_yaml(opts)}
    for name in TERRAFORM_FILES:
        files[f"terraform/{name}"] = (_variables_tf(opts) if name == "variables.tf"
                                      else _template(f"terraform/{name}"))
    files["smoke/test_function.py"] = _template("smoke/test_function.py")
    files["tox.ini"] = _template("tox.ini")
    files["Makefile"] = _template("Makefile")
    ci = CI_TEMPLATES[opts.ci]
    if ci is not None:
        files[ci[1]] = _template(ci[0])
    files.update(_starter(root, opts))
    return {path: text.replace("@FUNCTION@", opts.function_name)
            for path, text in files.items()}


@dataclass(frozen=True)
class Written:
    files: tuple[str, ...]
    gitignore: tuple[str, ...]  # the lines added to .gitignore
    starter: bool


def init(root: Path, opts: Options) -> Written:
    """Write the files into ``root``; a ConfigError, and nothing written, when one
    exists and ``opts.force`` is false."""
    if not root.is_dir():
        raise ConfigError(f"{root} is not a directory: create it first, or run "
                          "`lambda-gate init` inside the repository.")
    files = files_for(root, opts)
    starter = bool(_starter(root, opts))
    existing = [path for path in files if (root / path).exists()]
    if existing and not opts.force:
        raise ConfigError(
            f"lambda-gate init would overwrite {', '.join(existing)} in {root.resolve()}: "
            "nothing "
            "was written. Move them aside, or pass --force to overwrite them.")
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    added = _extend_gitignore(root / ".gitignore", node=opts.node)
    return Written(files=tuple(files), gitignore=tuple(added), starter=starter)


def _extend_gitignore(path: Path, *, node: bool) -> list[str]:
    wanted = [line for line in _template("gitignore").splitlines()
              if line and not line.startswith("#")]
    if node:
        wanted += ["node_modules/", "dist/"]
    present = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    missing = [line for line in wanted if line not in present]
    if missing:
        text = "\n".join(present)
        if present:
            text += "\n\n"
        text += _template("gitignore").splitlines()[0] + "\n" + "\n".join(missing) + "\n"
        path.write_text(text, encoding="utf-8")
    return missing


def next_steps(root: Path, opts: Options, written: Written) -> list[str]:
    """What to run after ``init``, in order."""
    steps = []
    if opts.node and not (root / opts.source_dir / "package-lock.json").exists():
        steps.append("npm install          # writes package-lock.json, which the build's "
                     "`npm ci` installs from")
    if written.starter:
        steps.append("# the starter function answers GET /health; replace it with yours "
                     "and extend smoke/test_function.py")
    steps += [
        "invoke deploy        # build, publish a version, smoke-test it, move the alias "
        "(local AWS; needs lambda-gate[local])",
        "make help            # the same steps as make targets (ENV=, ALIAS=)",
        "git add -A && git commit   # with terraform/.terraform.lock.hcl after the first "
        "deploy",
    ]
    return steps
