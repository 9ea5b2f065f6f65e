"""Problems found in a Terraform configuration, reported all at once.

A check that stopped at its first finding made a user run the whole deploy once per
mistake (and, before the check ran first, build each time). Every check appends what it
finds instead; the report numbers them, each with where it is (``file:line``) and the
fix, and is raised as one :class:`ConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Problem:
    where: str  # "terraform/main.tf:12", or the directory when no line applies
    what: str
    fix: str


class ConfigProblems(ConfigError):
    """The configuration has problems; each is in ``problems``, in the order found."""

    def __init__(self, config_shown: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(format_problems(config_shown, self.problems))


def format_problems(config_shown: str, problems: Sequence[Problem]) -> str:
    count = "a problem" if len(problems) == 1 else f"{len(problems)} problems"
    parts = [f"the terraform configuration in {config_shown} has {count}; nothing was "
             "changed. Fix them all, then run again:"]
    for number, problem in enumerate(problems, 1):
        indent = " " * (len(str(number)) + 2)
        what = problem.what.replace("\n", "\n" + indent)
        fix = problem.fix.replace("\n", "\n" + indent + "  ")
        parts.append(f"{number}. {problem.where}: {what}\n{indent}fix: {fix}")
    return "\n\n".join(parts)
