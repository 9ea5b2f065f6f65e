"""What git and the CI say about the checkout being deployed: branch, commit, changes.

Shared by the alias names (an alias is named after the branch), the branch guard of an
environment and the deploy records, so each asks the same question the same way.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .errors import ConfigError

#: CI systems' branch variables, in the order they are consulted.
BRANCH_VARIABLES = (
    "GIT_BRANCH",
    "CIRCLE_BRANCH",
    "GITHUB_HEAD_REF",
    "GITHUB_REF_NAME",
    "CI_COMMIT_REF_NAME",
    "BUILDKITE_BRANCH",
)


def current_branch(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    """The branch being deployed: a CI variable, else git; a detached HEAD is an error."""
    environ = os.environ if environ is None else environ
    for var in BRANCH_VARIABLES:
        value = environ.get(var, "").strip()
        if value:
            return value.removeprefix("refs/heads/").removeprefix("origin/")
    try:
        proc = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", "HEAD"],
                              cwd=cwd, capture_output=True, text=True, check=False)
    except OSError:
        raise ConfigError("cannot tell the branch: git is not installed and no CI branch "
                          "variable is set; pass --alias NAME.") from None
    if proc.returncode != 0 or not proc.stdout.strip():
        raise ConfigError(
            "cannot tell the branch: HEAD is detached (or this is not a git checkout) and "
            f"none of {', '.join(BRANCH_VARIABLES)} is set; pass --alias NAME or set "
            "GIT_BRANCH."
        )
    return proc.stdout.strip()


def git_commit(cwd: Path) -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, check=False)
    except OSError:
        return None
    return proc.stdout.strip() or None


def uncommitted_files(cwd: Path) -> list[str] | None:
    """Paths git sees as changed or untracked (ignored files are not), or None outside
    a git checkout: a deploy from a dirty tree ships code no commit holds."""
    try:
        proc = subprocess.run(["git", "status", "--porcelain=v1", "-z",
                               "--untracked-files=normal"],
                              cwd=cwd, capture_output=True, text=True, check=False)
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    entries = proc.stdout.split("\0")
    paths: list[str] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":  # a rename or copy: the next field is its old path
            index += 1
    return paths
