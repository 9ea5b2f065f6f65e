"""A function Lambda has that terraform's state does not know, found before terraform runs.

An apply killed during the function's first create, a lost or emptied state file, or a
second clone deploying the same function name with its own state: terraform then plans
to create a function that exists, retries CreateFunction for minutes and fails with
"Function already exist", having created a new IAM role on the way. Asking Lambda first
costs one GetFunction, and only when the state holds no function at all.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..errors import ConfigError, TerraformError
from . import hcl
from .terraform import Terraform

_VAR = re.compile(r"^var\.([A-Za-z_][A-Za-z0-9_-]*)$")


class UnmanagedFunction(TerraformError):
    """Lambda has the function, terraform's state does not: nothing was changed."""


def state_has_function(tf: Terraform) -> bool:
    """Whether the environment's state manages an ``aws_lambda_function``."""
    if tf.state_path is not None:
        try:
            text = tf.state_path.read_text()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise TerraformError(f"cannot read the terraform state {tf.state_path}: "
                                 f"{exc.strerror}.") from None
    else:
        text = tf.run(["state", "pull"], stream=False, what="terraform state pull").stdout
    try:
        state = json.loads(text) if text.strip() else {}
    except ValueError:
        raise TerraformError(f"the terraform state {tf.state_path or '(backend)'} is not "
                             "JSON: restore it from its .backup file or the backend's "
                             "history.") from None
    resources = state.get("resources") if isinstance(state, dict) else None
    return any(isinstance(r, dict) and r.get("type") == "aws_lambda_function"
               and r.get("mode") == "managed" and r.get("instances")
               for r in resources or [])


def _plain(value: Any) -> str:
    """A value as python-hcl2 gives it (strings keep their quotes), as terraform sees it."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _variable_value(name: str, files: list[hcl.TfFile], tf_vars: Mapping[str, str],
                    var_files: tuple[Path, ...], config_dir: Path) -> str | None:
    """The variable's value by terraform's precedence: -var-file (the last wins), then
    *.auto.tfvars (in lexical order), terraform.tfvars, TF_VAR_, the default."""
    import hcl2

    for path in [*reversed(var_files), *reversed(sorted(config_dir.glob("*.auto.tfvars"))),
                 config_dir / "terraform.tfvars"]:
        try:
            values = hcl2.loads(path.read_text())
        except Exception:  # noqa: BLE001 - missing or broken: terraform names it itself
            continue
        if name in values:
            return _plain(values[name])
    if f"TF_VAR_{name}" in tf_vars:
        return tf_vars[f"TF_VAR_{name}"]
    for block in hcl.blocks(files, "variable"):
        if block.labels == (name,):
            default = block.body.get("default")
            return None if default is None else _plain(default)
    return None


def configured_name(tf: Terraform, config_dir: Path) -> tuple[str, str] | None:
    """(resource address, function name) as terraform would create it, when it can be told
    without terraform: a literal, or a variable set by a var file, TF_VAR_ or a default."""
    files, errors = hcl.parse_dir(config_dir)
    functions = [b for b in hcl.blocks(files, "resource")
                 if b.labels[0] == "aws_lambda_function"]
    if errors or len(functions) != 1:
        return None  # the preflight check names what is wrong
    function = functions[0]
    expr = hcl.expr(function.body.get("function_name", ""))
    match = _VAR.match(expr)
    if match:
        name = _variable_value(match.group(1), files, tf.input_variables(), tf.var_files,
                               config_dir)
    elif expr and not any(c in expr for c in "${}()"):
        name = expr.strip('"')
    else:
        name = None
    return (f"aws_lambda_function.{function.labels[1]}", name) if name else None


def import_command(tf: Terraform, address: str, name: str, artifact: Path) -> str:
    """The ``terraform import`` that adopts the function into this environment's state."""
    args = ["import", "-input=false"]
    if tf.state_path is not None:
        args.append(f"-state={tf.state_path}")
    args += [f"-var-file={path}" for path in tf.var_files]
    words = [f"TF_DATA_DIR={shlex.quote(str(tf.data_dir))}",
             f"TF_VAR_artifact_path={shlex.quote(str(artifact))}",
             tf.binary, f"-chdir={shlex.quote(str(tf.config_dir))}",
             *map(shlex.quote, args), address, shlex.quote(name)]
    return " ".join(words)


def find(tf: Terraform, client, config_dir: Path) -> tuple[str, str] | None:
    """(address, name) of the configuration's function when Lambda has it and the
    state does not; None when the state manages it, Lambda lacks it, or its name
    cannot be told before terraform runs."""
    if state_has_function(tf):
        return None
    try:
        found = configured_name(tf, config_dir)
    except ConfigError:
        return None  # the preflight check reports configuration problems itself
    if found is None:
        return None
    try:
        client.get_function(FunctionName=found[1])
    except ClientError:
        # Not found, or not to be asked (no lambda:GetFunction): terraform finds out.
        return None
    return found


def refusal(tf: Terraform, address: str, name: str, artifact: Path, *, environment: str,
            adopt_command: str) -> UnmanagedFunction:
    return UnmanagedFunction(
        f"function {name} already exists in Lambda, but the terraform state of environment "
        f"{environment!r} does not manage it (an apply killed during the first create, a "
        "lost or emptied state, or another clone's function of the same name). terraform "
        "would try to create it again and fail after minutes of retries; nothing was "
        "changed. If it is this deployment's function, adopt it into the state with "
        f"`{adopt_command}`, or with:\n"
        f"    {import_command(tf, address, name, artifact)}\n"
        "(with the environment's AWS credentials). If it is another deployment's, give "
        "this one another function name.")
