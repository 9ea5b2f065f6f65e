"""Checks of an ``aws_lambda_function`` resource declared in the configuration itself.

The pipeline is only safe when terraform publishes a new numbered version exactly when
the package changes: ``publish = true``, the package lambda-gate built as ``filename``,
and a ``source_code_hash`` that follows it. A hard-coded ``"../lambda.zip"`` (as the
article this workflow comes from has) is the commonest miss; its fix is shown as the
lines to change, so it can be copied.
"""

from __future__ import annotations

import re

from .hcl import Block, expr, is_true, unquote
from .problems import Problem

ARTIFACT_VARIABLE = "artifact_path"
VAR_REF = f"var.{ARTIFACT_VARIABLE}"
WANTED = {"filename": VAR_REF, "source_code_hash": f"filebase64sha256({VAR_REF})"}


def follows_artifact(name: str, value: str) -> bool:
    """Whether ``filename``/``source_code_hash`` is written in terms of the artifact."""
    if name == "filename":
        return VAR_REF in value
    return bool(re.search(rf"filebase64sha256\(\s*{re.escape(VAR_REF)}\s*\)", value))


def publish_problem(fn: Block, address: str) -> Problem | None:
    publish = fn.body.get("publish")
    if is_true(publish):
        return None
    found = "does not set publish" if publish is None else f"sets publish = {expr(publish)}"
    return Problem(fn.where("publish" if publish is not None else None),
                   f"{address} {found}",
                   "set `publish = true`, so every apply that changes the function "
                   "publishes a numbered version to test and promote")


def artifact_problem(fn: Block, address: str) -> Problem | None:
    """One problem for ``filename`` and ``source_code_hash``, with the lines to change."""
    wrong = [name for name in WANTED
             if not follows_artifact(name, expr(fn.body.get(name, "")))]
    if not wrong:
        return None
    said = []
    for name in wrong:
        value = expr(fn.body.get(name, ""))
        if not value:
            said.append(f"has no {name}")
        elif name == "filename":
            said.append(f"uploads {value}, not the package lambda-gate builds")
        else:
            said.append(f"has source_code_hash = {value}, which does not follow that package")
    old, new = [], []
    for name in wrong:
        line = fn.source_line(name)
        if line is not None:
            old.append("- " + line.strip())
            new.append("+ " + line[:line.index("=") + 1].strip() + " " + WANTED[name])
        else:
            new.append(f"+ {name} = {WANTED[name]}")
    lines = "lines" if len(wrong) > 1 else "line"
    change = "\n".join(old + new)
    where = fn.where(wrong[0]) if fn.source_line(wrong[0]) else fn.where()
    return Problem(where, f"{address} " + " and ".join(said),
                   f"change the {lines} in {address} (lambda-gate sets "
                   f"{VAR_REF} to the package it built):\n{change}")


def setting_problems(fn: Block, address: str, *, runtime: str | None,
                     handler: str | None) -> list[Problem]:
    """A hard-coded runtime or handler that differs from what lambda-gate builds for."""
    problems = []
    for name, setting, value in (("runtime", "function.runtime", runtime),
                                 ("handler", "function.handler", handler)):
        raw = fn.body.get(name)
        if value is None or not isinstance(raw, str) or "${" in raw:
            continue
        written = unquote(raw)
        if written != value:
            problems.append(Problem(
                fn.where(name),
                f'{address} has {name} = "{written}", but lambda-gate builds and checks '
                f'the package for lambda_gate.{setting} = "{value}"',
                f'set lambda_gate.{setting} to "{written}", or write `{name} = '
                f"var.{name}` (lambda-gate passes its setting)"))
    return problems


def check_resource(fn: Block, *, runtime: str | None = None,
                   handler: str | None = None) -> list[Problem]:
    address = f"aws_lambda_function.{fn.labels[1]}"
    found = [publish_problem(fn, address), artifact_problem(fn, address)]
    return [p for p in found if p is not None] + setting_problems(
        fn, address, runtime=runtime, handler=handler)
