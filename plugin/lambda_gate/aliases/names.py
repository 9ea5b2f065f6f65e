"""Alias names: the branch's name for a version, mapped onto Lambda's rules."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..errors import ConfigError
from ..git import current_branch

MAX_ALIAS = 128
_INVALID = re.compile(r"[^A-Za-z0-9_-]+")
_VALID = re.compile(r"(?![0-9]+\Z)[A-Za-z0-9_-]{1,128}")
_HASH_LENGTH = 8


def alias_for_branch(branch: str) -> str:
    """Map a git branch name onto Lambda's alias rules.

    ``/`` becomes ``-`` and nothing else changes for names Lambda would take as they are
    (``feature/ABC-123`` becomes ``feature-ABC-123``), so the alias stays readable. Any
    lossier mapping (other characters replaced, runs collapsed, a name over 128
    characters, an all-digit name, which Lambda reserves for versions) keeps a short hash
    of the original branch name, so two branches never share an alias. The one accepted
    collision is the readable one: ``feature/x`` and a branch literally named
    ``feature-x`` both map to ``feature-x``.
    """
    original = branch.strip()
    if not original:
        raise ConfigError("the branch name is empty: pass --alias NAME.")
    readable = original.replace("/", "-")
    mapped = _INVALID.sub("-", original).strip("-")
    if mapped == readable and len(mapped) <= MAX_ALIAS and not mapped.isdigit():
        return mapped
    suffix = hashlib.sha256(original.encode()).hexdigest()[:_HASH_LENGTH]
    keep = MAX_ALIAS - _HASH_LENGTH - 1
    head = mapped[:keep].rstrip("-") or "branch"
    return f"{head}-{suffix}"


def validate_alias(name: str) -> str:
    """``name`` when Lambda accepts it as an alias; else a ConfigError saying why."""
    if not _VALID.fullmatch(name):
        hint = ""
        if name.strip():
            hint = f" For a branch name, the alias would be {alias_for_branch(name)!r}."
        raise ConfigError(
            f"{name!r} is not a valid alias name: Lambda allows 1 to 128 letters, digits, "
            f"'-' and '_', not all digits.{hint}"
        )
    return name


def resolve_alias(explicit: str | None, *, cwd: Path | None = None) -> str:
    """``--alias`` as given (validated), else the mapped branch name."""
    if explicit is not None:  # "" too: an empty --alias is a mistake, not "the branch's"
        return validate_alias(explicit)
    return alias_for_branch(current_branch(cwd=cwd))
