"""``lambda-gate init`` (the console script) and ``invoke init``: start a repository.

The console script works in any directory, because the repository it starts has no
tasks.py yet for invoke to find; ``invoke init`` is the same scaffold once it has one
(``--force`` to write it again). Like every task, it is where errors become exit codes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from invoke import task

from ..build import npm
from ..errors import Error
from ..scaffold import CI_TEMPLATES, Options, Written, init, next_steps, options
from ._common import exits

__all__ = ["init_task"]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="lambda-gate",
        description="Ship AWS Lambda functions with Terraform, safely. The pipeline's "
                    "steps are invoke tasks (invoke --list); this command starts a "
                    "repository.")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    sub = commands.add_parser(
        "init", help="write tasks.py, invoke.yaml, terraform/, smoke/, tox.ini, a "
                     "Makefile and a CI template into a repository",
        description="Write a working starting point for deploying one function with "
                    "lambda-gate. Never overwrites a file without --force.")
    add_init_arguments(sub)
    return top


def add_init_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--runtime", default="python",
                     help="python3.x, nodejsNN.x, or just python or nodejs "
                          "(default: python, this Python's version)")
    sub.add_argument("--handler", help="module.function (default: app.handler for "
                                       "Python, dist/main.handler for Node.js)")
    sub.add_argument("--source-dir", help="the function's source (default: src for "
                                          "Python; . for Node.js, package.json at the "
                                          "root and src/ compiled to dist/)")
    sub.add_argument("--function-name", help="the Lambda function's name (default: the "
                                             "directory's name)")
    sub.add_argument("--ci", choices=sorted(CI_TEMPLATES), default="github",
                     help="CI template to write (default: github)")
    sub.add_argument("--force", action="store_true",
                     help="overwrite files that exist")
    sub.add_argument("--dir", type=Path, default=Path("."),
                     help="the repository (default: the current directory)")


def report(root: Path, opts: Options, written: Written, out=None, *,
           installed: str | None = None) -> None:
    """Say what was written (and installed) and what to run next."""
    out = out or sys.stdout
    print(f"lambda-gate init: {opts.function_name} ({opts.runtime}, handler "
          f"{opts.handler}, source {opts.source_dir}) in {root.resolve()}", file=out)
    for path in written.files:
        print(f"  wrote {path}", file=out)
    if written.gitignore:
        print(f"  added {', '.join(written.gitignore)} to .gitignore", file=out)
    if installed:
        print(f"  {installed}", file=out)
    print("next:", file=out)
    for step in next_steps(root, opts, written):
        print(f"  {step}", file=out)


def run_init(root: Path, **choices) -> None:
    opts = options(root, **choices)
    written = init(root, opts)
    report(root, opts, written, installed=_install_starter(root, opts, written))


def _install_starter(root: Path, opts: Options, written: Written) -> str | None:
    """``npm install`` for a Node.js starter, so a deploy works right after init: it
    writes package-lock.json (the build's ``npm ci`` needs one) and installs babel.

    A failure (no npm, no registry) is said, not raised: the files are written, and
    the next steps then begin with ``npm install``.
    """
    source = root / opts.source_dir
    if not (written.starter and opts.node) or (source / "package-lock.json").exists():
        return None
    try:
        npm.install(source)
    except Error as exc:
        return f"did not run npm install: {exc.message.splitlines()[0]}"
    return "ran npm install (wrote package-lock.json)"


@task(name="init", help={
    "runtime": "python3.x, nodejsNN.x, or just python or nodejs (default: python).",
    "handler": "module.function (default: app.handler; Node.js: dist/main.handler).",
    "source_dir": "The function's source (default: src; Node.js: '.').",
    "function_name": "The Lambda function's name (default: the directory's name).",
    "ci": "CI template: github, circleci or none (default: github).",
    "force": "Overwrite files that exist.",
})
@exits
def init_task(c, runtime="python", handler=None, source_dir=None, function_name=None,
              ci="github", force=False):
    """Write tasks.py, invoke.yaml, terraform/, smoke/, tox.ini, a Makefile, a CI template.

    The same as `lambda-gate init`, in the directory of this tasks.py.
    """
    prefix = getattr(c.config, "_project_prefix", None)
    run_init(Path(prefix) if prefix else Path.cwd(), runtime=runtime, handler=handler,
             source_dir=source_dir, function_name=function_name, ci=ci, force=force)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: returns the exit code (the entry point exits with it)."""
    args = parser().parse_args(argv)
    if args.command != "init":
        parser().print_help()
        return 2
    try:
        run_init(args.dir, runtime=args.runtime, handler=args.handler,
                 source_dir=args.source_dir, function_name=args.function_name,
                 ci=args.ci, force=args.force)
    except Error as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    return 0
