"""Checks of the Terraform configuration, before terraform runs.

The pipeline is only safe when terraform publishes a new numbered version exactly when
the artifact changes and tells us which one. These are the mistakes that break it
silently (a missing ``publish``, a hash that does not follow the artifact, a hard-coded
``../lambda.zip``, absent outputs), so each is caught here, from the parsed HCL, with a
message naming the file and what to add.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

ARTIFACT_VARIABLE = "artifact_path"
REQUIRED_OUTPUTS = ("function_name", "version", "qualified_arn")


@dataclass(frozen=True)
class FunctionResource:
    file: Path
    name: str
    body: Mapping[str, Any]

    @property
    def address(self) -> str:
        return f"aws_lambda_function.{self.name}"


@dataclass(frozen=True)
class PreflightReport:
    function: FunctionResource
    warnings: tuple[str, ...]
    backend: str | None


def _unquote(label: str) -> str:
    return label.strip('"')


def _labels(entry: Mapping[str, Any]) -> list[str]:
    """A block's labels as python-hcl2 gives them, without its ``__is_block__`` markers."""
    return [key for key in entry if not key.startswith("__")]


def _expr(value: Any) -> str:
    """The text of an HCL expression as python-hcl2 gives it (``${...}`` stripped)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text


def parse_dir(config_dir: Path) -> dict[Path, dict[str, Any]]:
    """Every ``*.tf`` file of the directory, parsed; a syntax error names its file."""
    if not config_dir.is_dir():
        raise ConfigError(
            f"terraform directory {config_dir} does not exist: set lambda_gate.terraform.dir "
            "to the directory holding your .tf files."
        )
    files = sorted(config_dir.glob("*.tf"))
    if not files:
        raise ConfigError(f"no .tf files in {config_dir}: set lambda_gate.terraform.dir.")
    import hcl2  # its grammar takes a while to load: only when a check really parses

    parsed: dict[Path, dict[str, Any]] = {}
    for path in files:
        text = path.read_text(errors="replace")
        try:
            parsed[path] = hcl2.loads(text)
        except Exception as exc:  # lark raises several unrelated types
            raise ConfigError(syntax_error_message(path, text, exc)) from None
    return parsed


#: The parser's names for the tokens a syntax error most often lacks.
_PUNCTUATION = {"RBRACE": "`}`", "LBRACE": "`{`", "RSQB": "`]`", "RPAR": "`)`", "EQ": "`=`",
                "COMMA": "`,`", "DBLQUOTE": '`"`'}


def syntax_error_message(path: Path, text: str, exc: Exception) -> str:
    """``FILE:LINE:COLUMN: not valid HCL``, the line itself, and what the parser expected."""
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    if not isinstance(line, int) or line < 1:
        detail = str(exc).strip().splitlines()
        return f"{path}: not valid HCL: {detail[0] if detail else type(exc).__name__}"
    lines = text.splitlines()
    expected = set(getattr(exc, "expected", None) or ())
    hint = ""
    if expected and expected <= _PUNCTUATION.keys():
        hint = " (expected " + " or ".join(sorted(_PUNCTUATION[t] for t in expected)) + ")"
    if line > len(lines):
        shown = "    the file ends before the block or expression is closed\n"
    else:
        shown = f"    {line} | {lines[line - 1]}\n"
    return (f"{path}:{line}:{column}: not valid HCL{hint}:\n{shown}"
            "Fix the syntax (`terraform validate` shows the same spot), then run again.")


def _blocks(parsed: Mapping[Path, Mapping[str, Any]], kind: str):
    for path, doc in parsed.items():
        for entry in doc.get(kind, []) or []:
            yield path, entry


def find_function(parsed: Mapping[Path, Mapping[str, Any]], config_dir: Path) -> FunctionResource:
    found = []
    for path, entry in _blocks(parsed, "resource"):
        for rtype in _labels(entry):
            if _unquote(rtype) != "aws_lambda_function":
                continue
            for name in _labels(entry[rtype]):
                found.append(FunctionResource(path, _unquote(name), entry[rtype][name]))
    if not found:
        raise ConfigError(
            f"no aws_lambda_function resource in {config_dir}: lambda-gate publishes the "
            "function terraform manages there (see lambda-gate's terraform/main.tf)."
        )
    if len(found) > 1:
        names = ", ".join(f.address for f in found)
        raise ConfigError(
            f"{config_dir} declares several Lambda functions ({names}): lambda-gate deploys "
            "one function per configuration; split them into separate directories."
        )
    return found[0]


def check(config_dir: Path, *, local_state: bool, shared_environment: bool) -> PreflightReport:
    """Parse and check the configuration; raise :class:`ConfigError` on a mistake.

    ``local_state`` is whether lambda-gate keeps this environment's state in a local file
    (then the configuration must not declare another backend); ``shared_environment``
    is whether branches other than the protected ones deploy to this environment (then a
    role shared by every version deserves a warning).
    """
    parsed = parse_dir(config_dir)
    fn = find_function(parsed, config_dir)
    where = f"{config_dir.name}/{fn.file.name}"
    body = fn.body

    publish = body.get("publish")
    if publish is not True and _unquote(str(publish)).lower() != "true":
        found = "does not set publish" if publish is None else (
            f"sets publish = {_expr(publish)}")
        raise ConfigError(
            f"{where}: {fn.address} {found}: set `publish = true` so every apply that "
            "changes the function publishes a numbered version to test and promote."
        )

    var_ref = f"var.{ARTIFACT_VARIABLE}"
    filename = _expr(body.get("filename", ""))
    if not filename:
        raise ConfigError(
            f"{where}: {fn.address} has no filename: set `filename = {var_ref}` so terraform "
            "uploads the package lambda-gate built."
        )
    if var_ref not in filename:
        raise ConfigError(
            f"{where}: {fn.address} takes filename from {filename!r}, not from the artifact "
            f"lambda-gate builds: set `filename = {var_ref}` (and declare "
            f'variable "{ARTIFACT_VARIABLE}").'
        )
    code_hash = _expr(body.get("source_code_hash", ""))
    if not code_hash:
        raise ConfigError(
            f"{where}: {fn.address} has no source_code_hash: add `source_code_hash = "
            f"filebase64sha256({var_ref})`, or a changed package is not published."
        )
    if not re.search(rf"filebase64sha256\(\s*{re.escape(var_ref)}\s*\)", code_hash):
        raise ConfigError(
            f"{where}: {fn.address} source_code_hash is {code_hash!r}, which does not follow "
            f"the artifact: use `source_code_hash = filebase64sha256({var_ref})`."
        )
    declared = {
        _unquote(name) for _, entry in _blocks(parsed, "variable") for name in _labels(entry)
    }
    if ARTIFACT_VARIABLE not in declared:
        raise ConfigError(
            f"{config_dir}: variable \"{ARTIFACT_VARIABLE}\" is not declared: add "
            f'`variable "{ARTIFACT_VARIABLE}" {{ type = string }}`; lambda-gate sets it to '
            "the artifact it built."
        )

    outputs = {
        _unquote(name): _expr(entry[name].get("value", ""))
        for _, entry in _blocks(parsed, "output") for name in _labels(entry)
    }
    for name in REQUIRED_OUTPUTS:
        expected = f"{fn.address}.{name}"
        if name not in outputs:
            raise ConfigError(
                f"{config_dir}: output \"{name}\" is missing: add "
                f'`output "{name}" {{ value = {expected} }}`; lambda-gate reads it after '
                "each apply."
            )
        if expected not in outputs[name]:
            raise ConfigError(
                f"{config_dir}: output \"{name}\" is {outputs[name]!r}: it must be "
                f"{expected}."
            )

    backend = None
    for _, entry in _blocks(parsed, "terraform"):
        for backend_block in entry.get("backend", []) or []:
            backend = _unquote(_labels(backend_block)[0])
    if not local_state and backend is None:
        raise ConfigError(
            f"{config_dir} declares no backend, but this environment has a backend_config "
            "file: add `terraform { backend \"s3\" {} }` to the configuration (the file "
            "fills in its settings), or drop backend_config to keep a local state file."
        )
    if local_state and backend not in (None, "local"):
        raise ConfigError(
            f"{config_dir} declares a {backend!r} backend, but this environment keeps its "
            "state in a local file: give the environment a backend_config file "
            "(lambda_gate.environments.<name>.backend_config), or use a configuration "
            "without a backend block."
        )

    warnings: list[str] = []
    role = _expr(body.get("role", ""))
    if shared_environment and role.startswith("aws_iam_role."):
        role_name = ".".join(role.split(".")[:2])
        warnings.append(
            f"{where}: every version of {fn.address} uses {role_name}, whichever branch "
            "published it: a permission change deployed from a branch also reaches the "
            "version production's alias points at. Deploy branches to another environment, "
            "or limit this one with lambda_gate.environments.<name>.branches."
        )
    return PreflightReport(function=fn, warnings=tuple(warnings), backend=backend)
