"""The configuration's HCL, parsed, with the lines its blocks and attributes start on.

python-hcl2 gives values but no positions, and a problem a user has to fix is only
useful with its ``file:line``; so each block keeps its file's text, and lines are found
by scanning it (headers by their labels, attributes by name at the block's own depth).
A file that does not parse is a problem of its own, reported with the line the parser
stopped at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: How many labels each top-level block kind has.
_LABELS = {"resource": 2, "data": 2, "module": 1, "provider": 1, "output": 1,
           "variable": 1, "terraform": 0}


@dataclass(frozen=True)
class TfFile:
    path: Path
    shown: str  # the path as messages show it: relative to the configuration's parent
    text: str
    doc: Mapping[str, Any]


@dataclass(frozen=True)
class Block:
    """One top-level block: ``resource "aws_lambda_function" "this" { ... }``."""

    file: TfFile
    kind: str
    labels: tuple[str, ...]
    body: Mapping[str, Any]
    line: int

    def attr_line(self, name: str) -> int:
        """The line ``name = ...`` starts on in this block, else the block's own line."""
        return attribute_line(self.file.text, self.line, name) or self.line

    def where(self, name: str | None = None) -> str:
        return f"{self.file.shown}:{self.attr_line(name) if name else self.line}"

    def source_line(self, name: str) -> str | None:
        """The text of the line ``name = ...`` is on, as the user wrote it."""
        line = attribute_line(self.file.text, self.line, name)
        return self.file.text.splitlines()[line - 1] if line else None


def unquote(label: str) -> str:
    return label.strip('"')


def expr(value: Any) -> str:
    """The text of an HCL expression as python-hcl2 gives it (``${...}`` stripped)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text


def is_true(value: Any) -> bool:
    return value is True or unquote(str(value)).lower() == "true"


def _keys(entry: Mapping[str, Any]) -> list[str]:
    """A block's labels as python-hcl2 gives them, without its ``__is_block__`` markers."""
    return [key for key in entry if not key.startswith("__")]


def blocks(files: Sequence[TfFile], kind: str) -> Iterator[Block]:
    """Every top-level ``kind`` block of the files, in file order."""
    depth = _LABELS[kind]
    for tf in files:
        seen: dict[tuple[str, ...], int] = {}
        for entry in tf.doc.get(kind, []) or []:
            for labels, body in _unnest(entry, depth):
                nth = seen.get(labels, 0)
                seen[labels] = nth + 1
                yield Block(tf, kind, labels, body, header_line(tf.text, kind, labels, nth))


def _unnest(entry: Mapping[str, Any], depth: int) -> Iterator[tuple[tuple[str, ...], Any]]:
    if depth == 0:
        yield (), entry
        return
    for key in _keys(entry):
        for labels, body in _unnest(entry[key], depth - 1):
            yield (unquote(key), *labels), body


def header_line(text: str, kind: str, labels: Sequence[str], nth: int = 0) -> int:
    """The line of the ``nth`` block ``kind "label"... {``; 0 when it is not found."""
    pattern = re.compile(r"^[ \t]*" + re.escape(kind) + "".join(
        r'\s+"?' + re.escape(label) + '"?' for label in labels) + r"\s*\{", re.MULTILINE)
    matches = list(pattern.finditer(text))
    if len(matches) <= nth:
        return 0
    return text.count("\n", 0, matches[nth].start()) + 1


def attribute_line(text: str, block_line: int, name: str) -> int:
    """The line ``name =`` (or a ``name {`` block) starts on, at the block's own depth."""
    if block_line < 1:
        return 0
    lines = text.splitlines()
    depth = 0
    wanted = re.compile(r"^\s*" + re.escape(name) + r'(\s+"[^"]*")*\s*(=|\{)')
    for number in range(block_line - 1, len(lines)):
        line = lines[number]
        if depth == 1 and wanted.match(line):
            return number + 1
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            break
    return 0


def shown_path(path: Path, config_dir: Path) -> str:
    return os.path.relpath(path, config_dir.parent)


def parse_dir(config_dir: Path, *, root: Path | None = None
              ) -> tuple[list[TfFile], list[tuple[str, str, str]]]:
    """Every ``*.tf`` file of the directory, parsed, and the syntax errors found.

    A syntax error is ``(where, what, fix)``; the other files are still parsed, so one
    run names every file that does not parse. Paths are shown from ``root``'s parent
    (``root`` is the configuration, when this is one of its modules).
    """
    if not config_dir.is_dir():
        raise ConfigError(
            f"terraform directory {config_dir} does not exist: set lambda_gate.terraform.dir "
            "to the directory holding your .tf files."
        )
    paths = sorted(config_dir.glob("*.tf"))
    if not paths:
        raise ConfigError(f"no .tf files in {config_dir}: set lambda_gate.terraform.dir.")
    import hcl2  # its grammar takes a while to load: only when a check really parses

    files: list[TfFile] = []
    errors: list[tuple[str, str, str]] = []
    for path in paths:
        text = path.read_text(errors="replace")
        shown = shown_path(path, root or config_dir)
        try:
            files.append(TfFile(path, shown, text, hcl2.loads(text)))
        except Exception as exc:  # lark raises several unrelated types
            errors.append(syntax_error(shown, text, exc))
    return files, errors


#: The parser's names for the tokens a syntax error most often lacks.
_PUNCTUATION = {"RBRACE": "`}`", "LBRACE": "`{`", "RSQB": "`]`", "RPAR": "`)`", "EQ": "`=`",
                "COMMA": "`,`", "DBLQUOTE": '`"`'}


def syntax_error(shown: str, text: str, exc: Exception) -> tuple[str, str, str]:
    """``(FILE:LINE, "not valid HCL ...", fix)``, with the line itself when there is one."""
    fix = "fix the syntax (`terraform validate` shows the same spot)"
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    if not isinstance(line, int) or line < 1:
        detail = str(exc).strip().splitlines()
        return shown, f"not valid HCL: {detail[0] if detail else type(exc).__name__}", fix
    lines = text.splitlines()
    expected = set(getattr(exc, "expected", None) or ())
    hint = ""
    if expected and expected <= _PUNCTUATION.keys():
        hint = " (expected " + " or ".join(sorted(_PUNCTUATION[t] for t in expected)) + ")"
    if line > len(lines):
        shown_line = "the file ends before the block or expression is closed"
    else:
        shown_line = f"{line} | {lines[line - 1]}"
    return f"{shown}:{line}:{column}", f"not valid HCL{hint}:\n{shown_line}", fix
