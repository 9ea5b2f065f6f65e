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
from .preflight import (
    FunctionResource,
    PreflightReport,
    _blocks,
    _expr,
    _labels,
    _unquote,
    parse_dir,
)

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
    parsed = parse_dir(config_dir)
    found = [
        FunctionResource(path, _unquote(name), entry[rtype][name])
        for path, entry in _blocks(parsed, "resource")
        for rtype in _labels(entry) if _unquote(rtype) == "aws_lambda_function"
        for name in _labels(entry[rtype])
    ]
    if not found:
        raise ConfigError(
            f"no aws_lambda_function resource in {config_dir}: a service's configuration "
            f"publishes each function of var.{FUNCTIONS} (see \"Several functions\" in "
            "lambda-gate's README)."
        )
    for fn in found:
        _check_function(config_dir, fn)
    declared = {_unquote(n) for _, entry in _blocks(parsed, "variable") for n in _labels(entry)}
    if FUNCTIONS not in declared:
        entry = ", ".join(f"{k} = string" for k in ENTRY_KEYS)
        raise ConfigError(
            f"{config_dir}: variable \"{FUNCTIONS}\" is not declared: add `variable "
            f"\"{FUNCTIONS}\" {{ type = map(object({{ {entry} }})) }}`; lambda-gate sets it "
            "to each function's artifact and settings, by key."
        )
    outputs = {_unquote(n) for _, entry in _blocks(parsed, "output") for n in _labels(entry)}
    if FUNCTIONS not in outputs:
        raise ConfigError(
            f"{config_dir}: output \"{FUNCTIONS}\" is missing: add one mapping each key to "
            f"{{ {', '.join(OUTPUT_KEYS)} }} of its aws_lambda_function; lambda-gate reads "
            "it after each apply."
        )
    return PreflightReport(function=found[0], warnings=(), backend=None)


def _check_function(config_dir: Path, fn: FunctionResource) -> None:
    where = f"{config_dir.name}/{fn.file.name}: {fn.address}"
    publish = fn.body.get("publish")
    if publish is not True and _unquote(str(publish)).lower() != "true":
        raise ConfigError(f"{where} does not set `publish = true`: without it no apply "
                          "publishes a numbered version to test and promote.")
    filename = _expr(fn.body.get("filename", ""))
    if "artifact_path" not in filename:
        raise ConfigError(
            f"{where} takes filename from {filename or 'nowhere'}: set `filename = "
            f"each.value.artifact_path` (for_each = var.{FUNCTIONS}) so terraform uploads "
            "the package lambda-gate built for that function."
        )
    code_hash = _expr(fn.body.get("source_code_hash", ""))
    if not re.search(rf"filebase64sha256\(\s*{re.escape(filename)}\s*\)", code_hash):
        raise ConfigError(
            f"{where} source_code_hash is {code_hash or 'not set'}, which does not follow "
            f"its artifact: use `source_code_hash = filebase64sha256({filename})`."
        )
