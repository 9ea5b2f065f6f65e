"""Checks of the Terraform configuration, before anything is built or applied.

The pipeline is only safe when terraform publishes a new numbered version exactly when
the package changes, in the account lambda-gate looks in, and says which version it
was. The mistakes that break that silently are caught here from the parsed HCL, every
one of them in one run (:mod:`.problems`): the function itself (:mod:`.checks_resource`,
or through a module, :mod:`.checks_module`), the outputs lambda-gate reads
(:mod:`.outputs`), the provider (:mod:`.checks_provider`) and the backend.
:func:`check_configuration` runs it once per change of the files it read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..report import Reporter
from ..settings import Settings
from . import local_backend
from .checks_module import ModuleFunction, check_module, find_module
from .checks_provider import check_providers
from .checks_resource import ARTIFACT_VARIABLE, check_resource
from .hcl import Block, TfFile, blocks, expr, parse_dir, shown_path
from .outputs import DEFAULT_OUTPUTS, REQUIRED, OutputNames
from .problems import ConfigProblems, Problem

__all__ = ["ARTIFACT_VARIABLE", "ConfigProblems", "FunctionSource", "PreflightReport",
           "Problem", "check", "check_configuration"]


@dataclass(frozen=True)
class FunctionSource:
    """Where the function is declared: a resource, or the module call holding it."""

    address: str  # "aws_lambda_function.this" or "module.lambda"
    block: Block
    module: ModuleFunction | None = None


@dataclass(frozen=True)
class PreflightReport:
    function: FunctionSource
    warnings: tuple[str, ...]
    backend: str | None
    #: Every file the check read (a local module's too): what a passed check depends on.
    files: tuple[Path, ...] = ()


def check(config_dir: Path, *, local_state: bool, shared_environment: bool,
          outputs: OutputNames = DEFAULT_OUTPUTS, region: str | None = None,
          environment: str = "local", runtime: str | None = None,
          handler: str | None = None) -> PreflightReport:
    """Parse and check the configuration; raise :class:`ConfigProblems` listing all.

    ``local_state`` is whether lambda-gate keeps this environment's state in a local file
    (then the configuration must not declare another backend); ``shared_environment``
    is whether branches other than the protected ones deploy to this environment (then a
    role shared by every version deserves a warning); ``region`` is the environment's,
    which a provider must not contradict; ``runtime`` and ``handler`` are what the
    package is built for, which a hard-coded value must not contradict.
    """
    files, syntax = parse_dir(config_dir)
    shown = shown_path(config_dir, config_dir) + "/"
    if syntax:
        raise ConfigProblems(shown, [Problem(*error) for error in syntax])
    problems: list[Problem] = []
    warnings: list[str] = []
    output_blocks = {b.labels[0]: b for b in blocks(files, "output")}
    read = [tf.path for tf in files]

    function = None
    resources = [b for b in blocks(files, "resource") if b.labels[0] == "aws_lambda_function"]
    if resources:
        function = FunctionSource(f"aws_lambda_function.{resources[0].labels[1]}",
                                  resources[0])
        problems += check_resource(resources[0], runtime=runtime, handler=handler)
        if len(resources) > 1:
            names = ", ".join(f"aws_lambda_function.{r.labels[1]}" for r in resources)
            problems.append(Problem(resources[1].where(),
                                    f"{shown} declares several Lambda functions ({names})",
                                    "lambda-gate deploys one function per configuration; "
                                    "split them into separate directories"))
    else:
        referenced = _modules_read(output_blocks, outputs)
        module, found = find_module(files, config_dir, referenced)
        problems += found
        if module is not None:
            function = FunctionSource(module.address, module.call, module)
            read += [tf.path for tf in module.files]
            more, notes = check_module(module)
            problems += more
            warnings += notes
    if function is None:
        raise ConfigProblems(shown, problems + [Problem(
            shown, "no aws_lambda_function resource, and no module call holding one",
            "declare the function (see lambda-gate's terraform/main.tf), or call a "
            "module that does and output its function_name and version (README: "
            "Bringing your own Terraform)")])

    declared = {b.labels[0] for b in blocks(files, "variable")}
    if ARTIFACT_VARIABLE not in declared:
        problems.append(Problem(shown, f'variable "{ARTIFACT_VARIABLE}" is not declared',
                                f'add `variable "{ARTIFACT_VARIABLE}" {{ type = string }}`; '
                                "lambda-gate sets it to the package it built"))
    problems += _output_problems(shown, output_blocks, outputs, function)
    more, notes = check_providers(files, region=region, environment=environment)
    problems += more
    warnings += notes
    backend, found = _backend(files, shown, local_state=local_state)
    problems += found
    if problems:
        raise ConfigProblems(shown, problems)
    if shared_environment and function.module is None:
        warnings += _shared_role_warning(function)
    return PreflightReport(function=function, warnings=tuple(warnings), backend=backend,
                           files=tuple(read))


def _modules_read(output_blocks: dict[str, Block], outputs: OutputNames) -> set[str]:
    names = set()
    for key in REQUIRED:
        for name in outputs.names(key):
            if name in output_blocks:
                value = expr(output_blocks[name].body.get("value", ""))
                if value.startswith("module."):
                    names.add(value.split(".")[1])
    return names


def _output_problems(shown: str, output_blocks: dict[str, Block], outputs: OutputNames,
                     function: FunctionSource) -> list[Problem]:
    problems = []
    for key in ("function_name", "version", "qualified_arn"):
        present = [name for name in outputs.names(key) if name in output_blocks]
        if function.module is not None:
            expected, fits = function.module.output_for(key), f"{function.address}."
        else:
            expected = fits = f"{function.address}.{key}"
        if not present:
            if key not in REQUIRED:
                continue  # lambda-gate asks Lambda for the ARN instead
            name = outputs.names(key)[0]
            problems.append(Problem(shown, f"{outputs.describe(key)} is missing",
                                    f'add `output "{name}" {{ value = {expected} }}`; '
                                    "lambda-gate reads it after each apply"))
            continue
        block = output_blocks[present[0]]
        value = expr(block.body.get("value", ""))
        if fits not in value:
            problems.append(Problem(block.where("value"),
                                    f'output "{present[0]}" is {value}, not the '
                                    f"function's {key}", f"make it `value = {expected}`"))
    return problems


def _backend(files: Sequence[TfFile], shown: str, *, local_state: bool
             ) -> tuple[str | None, list[Problem]]:
    backend, where = None, shown
    for block in blocks(files, "terraform"):
        for entry in block.body.get("backend", []) or []:
            backend = next(k for k in entry if not k.startswith("__")).strip('"')
            where = block.where("backend")
    if not local_state and backend is None:
        return None, [Problem(shown, "the configuration declares no backend, but this "
                                     "environment has a backend_config file",
                              'add `terraform { backend "s3" {} }` to the configuration '
                              "(the file fills in its settings), or drop backend_config to "
                              "keep a local state file")]
    if local_state and backend not in (None, "local"):
        return backend, [Problem(where, f"the configuration declares a {backend!r} backend, "
                                        "but this environment keeps its state in a local "
                                        "file",
                                 "give the environment a backend_config file "
                                 "(lambda_gate.environments.<name>.backend_config), or use "
                                 "a configuration without a backend block")]
    return backend, []


def _shared_role_warning(function: FunctionSource) -> list[str]:
    role = expr(function.block.body.get("role", ""))
    if not role.startswith("aws_iam_role."):
        return []
    role_name = ".".join(role.split(".")[:2])
    return [f"{function.block.where('role')}: every version of {function.address} uses "
            f"{role_name}, whichever branch published it: a permission change deployed "
            "from a branch also reaches the version production's alias points at. Deploy "
            "branches to another environment, or limit this one with "
            "lambda_gate.environments.<name>.branches."]


def _memo_key(settings: Settings, parameters: list, dirs: Sequence[Path]) -> str:
    digest = hashlib.sha256(json.dumps(parameters).encode())
    for path in sorted({p for d in {settings.terraform.dir, *dirs} for p in d.glob("*.tf")}):
        if path.is_file():
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _check_settings(settings: Settings, *, local_state: bool, shared: bool,
                    names: OutputNames) -> PreflightReport:
    env = settings.environment
    return check(settings.terraform.dir, local_state=local_state, shared_environment=shared,
                 outputs=names, region=env.region, environment=env.name,
                 runtime=settings.function.runtime, handler=settings.function.handler)


def check_configuration(settings: Settings, reporter: Reporter, *,
                        check: Callable[..., PreflightReport] | None = None
                        ) -> PreflightReport | None:
    """Preflight the terraform configuration; print its warnings, raise its problems.

    Parsing HCL costs about half a second, on every deploy; a configuration that passed
    is remembered by the hash of every file it read (a local module's too) and the
    checks' parameters, so an unchanged one is not parsed again (and ``None`` is
    returned). A failing one is never remembered. ``check`` replaces the single
    function's preflight (a service of several functions has its own); it is given
    ``local_state`` and ``shared_environment``.
    """
    env = settings.environment
    # The local environment runs a configuration that declares a backend with a local
    # one in its place (:mod:`.local_backend`).
    local_state = env.backend_config is None and not local_backend.overrides_backend(settings)
    shared = not env.local and not env.branches
    names = OutputNames.from_settings(settings.terraform.outputs)
    parameters = [local_state, shared, env.region, env.name, names.function_name,
                  names.version, names.qualified_arn, settings.function.runtime,
                  settings.function.handler, check.__module__ if check else None]
    memo = settings.state_dir / "preflight-passed.json"
    try:
        remembered = json.loads(memo.read_text())
    except (OSError, ValueError):
        remembered = {}
    dirs = [Path(p) for p in remembered.get("dirs", [])]
    report = None
    if remembered.get("key") == _memo_key(settings, parameters, dirs):
        warnings = list(remembered.get("warnings", []))
    else:
        if check is not None:
            report = check(settings.terraform.dir, local_state=local_state,
                           shared_environment=shared)
        else:
            report = _check_settings(settings, local_state=local_state, shared=shared,
                                     names=names)
        warnings = list(report.warnings)
        memo.parent.mkdir(parents=True, exist_ok=True)
        dirs = sorted({path.parent for path in report.files})
        memo.write_text(json.dumps({"key": _memo_key(settings, parameters, dirs),
                                    "dirs": [str(d) for d in dirs], "warnings": warnings}))
    for warning in warnings:
        reporter.warn(warning)
    return report
