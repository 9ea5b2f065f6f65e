"""A function that lives in a module: finding it, and checking what can be seen through it.

Teams often call a module (their own, or terraform-aws-modules/lambda) instead of
declaring ``aws_lambda_function`` themselves. Such a root is accepted when its outputs
give the function's name and version (and qualified ARN) from that module. What can be
checked through the call is: for a local module, its own ``aws_lambda_function`` with
the module's variables resolved from the call's arguments; for terraform-aws-modules/
lambda, the arguments that make it publish the package lambda-gate built
(``publish = true``, ``create_package = false``, ``local_existing_package``). Of any
other module only the call can be read, so it must at least pass the artifact on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .checks_resource import VAR_REF, follows_artifact
from .hcl import Block, TfFile, blocks, expr, is_true, parse_dir, unquote
from .problems import Problem

LAMBDA_MODULE = re.compile(r"^(registry\.terraform\.io/)?terraform-aws-modules/lambda/aws"
                           r"(//.*)?$")
#: terraform-aws-modules/lambda's outputs for the three values lambda-gate reads.
LAMBDA_MODULE_OUTPUTS = {"function_name": "lambda_function_name",
                         "version": "lambda_function_version",
                         "qualified_arn": "lambda_function_qualified_arn"}


@dataclass(frozen=True)
class ModuleFunction:
    """The module call that holds the function, and what could be read of it."""

    call: Block
    kind: str  # "local", "lambda-module" (terraform-aws-modules/lambda) or "other"
    inner: Block | None = None  # the aws_lambda_function inside a local module
    files: tuple[TfFile, ...] = ()  # the local module's files

    @property
    def name(self) -> str:
        return self.call.labels[0]

    @property
    def address(self) -> str:
        return f"module.{self.name}"

    @property
    def source(self) -> str:
        return unquote(expr(self.call.body.get("source", "")))

    def output_for(self, key: str) -> str:
        """The module output a root output should take ``key`` from."""
        if self.kind == "lambda-module":
            return f"{self.address}.{LAMBDA_MODULE_OUTPUTS[key]}"
        if self.inner is not None:
            wanted = f"aws_lambda_function.{self.inner.labels[1]}.{key}"
            for output in blocks(self.files, "output"):
                if wanted in expr(output.body.get("value", "")):
                    return f"{self.address}.{output.labels[0]}"
        return f"{self.address}.<its output giving the function's {key}>"


def is_local(source: str) -> bool:
    return source.startswith(("./", "../"))


def find_module(files: Sequence[TfFile], config_dir: Path, referenced: set[str]
                ) -> tuple[ModuleFunction | None, list[Problem]]:
    """The module call holding the function, else ``None``.

    ``referenced`` holds the module names the root's outputs read from: a module of
    unknown source counts only when the outputs name it.
    """
    found: list[ModuleFunction] = []
    problems: list[Problem] = []
    for call in blocks(files, "module"):
        source = unquote(expr(call.body.get("source", "")))
        if is_local(source):
            module_dir = Path(os.path.normpath(config_dir / source))
            if not module_dir.is_dir():
                problems.append(Problem(call.where("source"),
                                        f'module "{call.labels[0]}" has source "{source}", '
                                        f"which is not a directory", "fix the source path"))
                continue
            try:
                inner_files, errors = parse_dir(module_dir, root=config_dir)
            except ConfigError as exc:
                problems.append(Problem(call.where("source"), exc.message,
                                        "point source at the module's directory"))
                continue
            problems += [Problem(where, what, fix) for where, what, fix in errors]
            inner = [b for b in blocks(inner_files, "resource")
                     if b.labels[0] == "aws_lambda_function"]
            if len(inner) == 1:
                found.append(ModuleFunction(call, "local", inner[0], tuple(inner_files)))
            elif call.labels[0] in referenced:
                found.append(ModuleFunction(call, "other", None, tuple(inner_files)))
        elif LAMBDA_MODULE.match(source):
            found.append(ModuleFunction(call, "lambda-module"))
        elif call.labels[0] in referenced:
            found.append(ModuleFunction(call, "other"))
    if len(found) > 1:
        preferred = [m for m in found if m.name in referenced]
        if len(preferred) == 1:
            return preferred[0], problems
        names = ", ".join(m.address for m in found)
        problems.append(Problem(found[1].call.where(),
                                f"several modules may hold the function ({names})",
                                "lambda-gate deploys one function per configuration: make "
                                "the function_name and version outputs read from one of "
                                "them, or split them into separate directories"))
    return (found[0] if found else None), problems


def _argument(call: Block, name: str) -> str | None:
    value = call.body.get(name)
    return None if value is None else expr(value)


def _variable_default(files: Sequence[TfFile], name: str) -> object:
    for variable in blocks(files, "variable"):
        if variable.labels[0] == name:
            return variable.body.get("default")
    return None


def _passed(module: ModuleFunction, value: str) -> tuple[str | None, str | None]:
    """For a module expression using ``var.X``: X and what the call (or default) gives."""
    match = re.search(r"\bvar\.([A-Za-z_][\w-]*)", value)
    if match is None:
        return None, None
    name = match.group(1)
    given = _argument(module.call, name)
    if given is None:
        default = _variable_default(module.files, name)
        given = None if default is None else expr(default)
    return name, given


def check_module(module: ModuleFunction) -> tuple[list[Problem], list[str]]:
    """Problems and warnings about publishing the package through ``module``."""
    if module.kind == "lambda-module":
        return _lambda_module(module), []
    if module.kind == "local" and module.inner is not None:
        return _local_module(module), []
    return _other_module(module)


def _lambda_module(module: ModuleFunction) -> list[Problem]:
    call, problems = module.call, []
    wanted = {"publish": ("true", "so each change publishes a numbered version (the "
                                  "module's default is false)"),
              "create_package": ("false", "so the module uploads lambda-gate's package "
                                          "instead of building its own"),
              "local_existing_package": (VAR_REF, "the package lambda-gate built")}
    for name, (value, why) in wanted.items():
        given = _argument(call, name)
        ok = (is_true(call.body.get(name)) if value == "true" else
              given is not None and given.strip('"').lower() == "false" if value == "false"
              else given is not None and VAR_REF in given)
        if not ok:
            said = "does not set" if given is None else f"sets {name} = {given}, not"
            problems.append(Problem(call.where(name if given is not None else None),
                                    f"{module.address} {said} {name}"
                                    + ("" if given is None else f" = {value}"),
                                    f"set `{name} = {value}` in {module.address}: {why}"))
    return problems


def _local_module(module: ModuleFunction) -> list[Problem]:
    assert module.inner is not None
    inner, call, problems = module.inner, module.call, []
    inner_address = f"aws_lambda_function.{inner.labels[1]} in {module.address}"
    publish = inner.body.get("publish")
    name, given = _passed(module, expr(publish)) if publish is not None else (None, None)
    if name is not None:
        if given is None or not is_true(given):
            problems.append(Problem(call.where(name if _argument(call, name) else None),
                                    f"{module.address} passes {name} = {given or 'nothing'}"
                                    f", which the module's function uses as publish",
                                    f"set `{name} = true` in {module.address}"))
    elif not is_true(publish):
        problems.append(Problem(inner.where("publish" if publish is not None else None),
                                f"{inner_address} does not publish versions",
                                "set `publish = true` (or pass it in as a variable)"))
    filename = expr(inner.body.get("filename", ""))
    name, given = _passed(module, filename)
    if name is None:
        problems.append(Problem(inner.where("filename" if filename else None),
                                f"{inner_address} takes filename from "
                                f"{filename or 'nothing'}, which the call cannot set",
                                "take it from a variable the call sets to "
                                f"{VAR_REF}"))
    elif given is None or VAR_REF not in given:
        problems.append(Problem(call.where(name if _argument(call, name) else None),
                                f"{module.address} passes {name} = {given or 'nothing'}, "
                                "not the package lambda-gate builds",
                                f"set `{name} = {VAR_REF}` in {module.address}"))
    code_hash = expr(inner.body.get("source_code_hash", ""))
    if not re.search(r"filebase64sha256\(\s*var\.", code_hash):
        hash_var, hash_given = _passed(module, code_hash)
        if hash_var is None or not follows_artifact("source_code_hash", hash_given or ""):
            problems.append(Problem(inner.where("source_code_hash" if code_hash else None),
                                    f"{inner_address} has source_code_hash = "
                                    f"{code_hash or 'nothing'}, which does not follow the "
                                    "package it uploads",
                                    "use `source_code_hash = filebase64sha256(var.X)` "
                                    "with X the variable its filename comes from"))
    return problems


def _other_module(module: ModuleFunction) -> tuple[list[Problem], list[str]]:
    call, problems, warnings = module.call, [], []
    arguments: Mapping[str, object] = {k: v for k, v in call.body.items()
                                       if not k.startswith("__")}
    if not any(VAR_REF in expr(value) for value in arguments.values()):
        problems.append(Problem(call.where(),
                                f"no argument of {module.address} passes {VAR_REF}",
                                "pass the package lambda-gate built to the module's "
                                f"package argument, e.g. `package = {VAR_REF}`"))
    if "publish" in arguments and not is_true(arguments["publish"]):
        problems.append(Problem(call.where("publish"),
                                f"{module.address} sets publish = "
                                f"{expr(arguments['publish'])}",
                                f"set `publish = true` in {module.address}"))
    elif "publish" not in arguments:
        warnings.append(f"{call.where()}: lambda-gate cannot see inside {module.address} "
                        f'(source "{module.source}"): make sure it publishes a version on '
                        "each change (publish = true), or the smoke tests and alias would "
                        "see $LATEST's code under an old number")
    return problems, warnings
