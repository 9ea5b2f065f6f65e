"""Checks of a terraform configuration that publishes a service of several functions.

The same mistakes break a service silently as break one function (see
:mod:`.preflight`), once per function: each ``aws_lambda_function`` must publish, take
its package from the artifact lambda-gate built for it and hash that same file. The
artifacts arrive in one map variable, ``functions``, keyed like
``lambda_gate.functions``; an output of the same name maps each key back to the
function's name, version and qualified ARN.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError
from .hcl import Block, blocks, expr, is_true, parse_dir
from .preflight import FunctionSource, PreflightReport
from .problems import ConfigProblems, Problem

#: The map variable lambda-gate sets (``TF_VAR_functions``) and the map output it reads.
FUNCTIONS = "functions"
#: Each entry of ``var.functions`` holds these.
ENTRY_KEYS = ("artifact_path", "runtime", "handler", "architecture")
OUTPUT_KEYS = ("function_name", "version", "qualified_arn")


def check(config_dir: Path, *, local_state: bool,
          shared_environment: bool) -> PreflightReport:
    """Parse and check a service's configuration; raise :class:`ConfigError` on a mistake.

    ``local_state`` and ``shared_environment`` are accepted for the same call as
    :func:`.preflight.check`; a service's configuration is checked for its functions.
    """
    files, syntax = parse_dir(config_dir)
    if syntax:
        raise ConfigProblems(f"{config_dir.name}/", [Problem(*error) for error in syntax])
    found = [b for b in blocks(files, "resource") if b.labels[0] == "aws_lambda_function"]
    if not found:
        raise ConfigError(
            f"no aws_lambda_function resource in {config_dir}: a service's configuration "
            f"publishes each function of var.{FUNCTIONS} (see \"Several functions\" in "
            "lambda-gate's README)."
        )
    for fn in found:
        _check_function(config_dir, fn)
    declared = {b.labels[0] for b in blocks(files, "variable")}
    if FUNCTIONS not in declared:
        entry = ", ".join(f"{k} = string" for k in ENTRY_KEYS)
        raise ConfigError(
            f"{config_dir}: variable \"{FUNCTIONS}\" is not declared: add `variable "
            f"\"{FUNCTIONS}\" {{ type = map(object({{ {entry} }})) }}`; lambda-gate sets it "
            "to each function's artifact and settings, by key."
        )
    outputs = {b.labels[0] for b in blocks(files, "output")}
    if FUNCTIONS not in outputs:
        raise ConfigError(
            f"{config_dir}: output \"{FUNCTIONS}\" is missing: add one mapping each key to "
            f"{{ {', '.join(OUTPUT_KEYS)} }} of its aws_lambda_function; lambda-gate reads "
            "it after each apply."
        )
    function = FunctionSource(f"aws_lambda_function.{found[0].labels[1]}", found[0])
    return PreflightReport(function=function, warnings=(), backend=None,
                           files=tuple(tf.path for tf in files))


def _check_function(config_dir: Path, fn: Block) -> None:
    where = f"{fn.where()}: aws_lambda_function.{fn.labels[1]}"
    if not is_true(fn.body.get("publish")):
        raise ConfigError(f"{where} does not set `publish = true`: without it no apply "
                          "publishes a numbered version to test and promote.")
    filename = expr(fn.body.get("filename", ""))
    if "artifact_path" not in filename:
        raise ConfigError(
            f"{where} takes filename from {filename or 'nowhere'}: set `filename = "
            f"each.value.artifact_path` (for_each = var.{FUNCTIONS}) so terraform uploads "
            "the package lambda-gate built for that function."
        )
    code_hash = expr(fn.body.get("source_code_hash", ""))
    if not re.search(rf"filebase64sha256\(\s*{re.escape(filename)}\s*\)", code_hash):
        raise ConfigError(
            f"{where} source_code_hash is {code_hash or 'not set'}, which does not follow "
            f"its artifact: use `source_code_hash = filebase64sha256({filename})`."
        )
