"""Check, before anything is uploaded, that the handler setting names real code.

A handler that points at a missing module or function deploys fine and then fails on
every invocation with ``Runtime.ImportModuleError`` or ``Runtime.HandlerNotFound``;
catching it at build time costs nothing. The user's code is never imported or run:
Python files are parsed with :mod:`ast`, JavaScript files are searched for the usual
export forms.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import BuildError

_NODE_SUFFIXES = (".js", ".mjs", ".cjs")

#: Archive path -> the file that will be zipped under it.
Files = Mapping[str, "str | os.PathLike[str]"]


def split_handler(handler: str) -> tuple[str, str]:
    """``("pkg/mod", "func")`` for ``pkg/mod.func`` or ``pkg.mod.func``.

    Python's runtime accepts dots or slashes between packages; Node's uses slashes.
    """
    module, sep, name = handler.rpartition(".")
    if not sep or not module or not name:
        raise BuildError(
            f"handler {handler!r} is not of the form module.function: set "
            "lambda_gate.function.handler to e.g. app.handler (app.py, def handler)."
        )
    return module, name


def check_handler(handler: str, language: str, files: Files) -> str:
    """Return the archive path of the handler's file, or raise BuildError saying why.

    ``files`` maps archive paths to the files that will be zipped, so the check sees
    exactly what Lambda will.
    """
    module, name = split_handler(handler)
    if language == "python":
        return _check_python(handler, module.replace(".", "/"), name, files)
    return _check_node(handler, module, name, files)


def _check_python(handler: str, module: str, name: str, files: Files) -> str:
    candidates = (f"{module}.py", f"{module}/__init__.py")
    arcname = next((c for c in candidates if c in files), None)
    if arcname is None:
        raise BuildError(
            f"handler {handler!r}: no {candidates[0]} (or {candidates[1]}) in the package. "
            "Check lambda_gate.function.handler and lambda_gate.function.source_dir: the "
            "module path is relative to the source directory."
        )
    source = Path(files[arcname]).read_bytes()
    try:
        tree = ast.parse(source, filename=arcname)
    except SyntaxError as exc:
        raise BuildError(
            f"handler {handler!r}: {arcname} line {exc.lineno} is not valid Python "
            f"({exc.msg}); fix it before deploying."
        ) from None
    if name not in _python_top_level_names(tree):
        raise BuildError(
            f"handler {handler!r}: {arcname} defines no top-level {name!r}. Define "
            f"`def {name}(event, context):` there, or point lambda_gate.function.handler "
            "at the function that handles events."
        )
    return arcname


def _python_top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(_assigned(target))
        elif isinstance(node, ast.AnnAssign):
            names.update(_assigned(node.target))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
    return names


def _assigned(target: ast.expr) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {n for elt in target.elts for n in _assigned(elt)}
    return set()


def _node_exports(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(
        rf"(?:module\.)?exports\.{n}\s*="                                # exports.handler =
        rf"|module\.exports\s*=\s*\{{[^}}]*\b{n}\b"                     # module.exports = {h}
        rf"|export\s+(?:async\s+)?function\s*\*?\s*{n}\b"              # export function h
        rf"|export\s+(?:const|let|var)\s+{n}\b"                         # export const h
        rf"|export\s*\{{[^}}]*\b(?:{n}|\w+\s+as\s+{n})\s*(?:,[^}}]*)?\}}"  # export { h }
    )


def _check_node(handler: str, module: str, name: str, files: Files) -> str:
    candidates = [module + suffix for suffix in _NODE_SUFFIXES]
    arcname = next((c for c in candidates if c in files), None)
    if arcname is None:
        raise BuildError(
            f"handler {handler!r}: none of {', '.join(candidates)} is in the package. "
            "Check lambda_gate.function.handler, and for a build step that "
            "lambda_gate.build.output_dir names the directory it writes."
        )
    text = Path(files[arcname]).read_text(encoding="utf-8", errors="replace")
    if not _node_exports(name).search(text):
        raise BuildError(
            f"handler {handler!r}: {arcname} does not export {name!r}. Add "
            f"`export const {name} = async (event) => ...` (ES module) or "
            f"`exports.{name} = async (event) => ...` (CommonJS)."
        )
    return arcname
