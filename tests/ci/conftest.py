"""One deploy, run the way a CI job runs it, shared by the CI tests.

The deploy's output is piped (as in every CI system) with the variables CI systems
set to force colour, and its reports go to a ``reports_dir`` of its own. What it left
in that directory is copied right away, so later steps (a dry run writes its own
record) cannot change what the reports tests read.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FUNCTION = "gate-ci"
REPORTS = "ci-reports"

#: Set by CI systems (or by users) to force colour in tools that would not colour a pipe.
FORCED_COLOUR = {"PY_COLORS": "1", "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1",
                 "TERM": "xterm-256color"}


@dataclass(frozen=True)
class CiDeploy:
    function: str
    project: object
    result: subprocess.CompletedProcess[str]
    reports: dict[str, str]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def ci_env(project) -> dict[str, str]:
    """The project's environment as a CI job has it: piped, colour forced, no NO_COLOR."""
    env = {k: v for k, v in project.env.items() if k != "NO_COLOR"}
    env.update(FORCED_COLOUR, INVOKE_LAMBDA_GATE_REPORTS_DIR=REPORTS)
    return env


@pytest.fixture(scope="session")
def ci_deploy(make_project) -> CiDeploy:
    project = make_project(FUNCTION)
    project.env = ci_env(project)
    result = project.invoke("deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    reports_dir = Path(project.root) / REPORTS
    reports = {path.name: path.read_text() for path in sorted(reports_dir.iterdir())}
    return CiDeploy(function=FUNCTION, project=project, result=result, reports=reports)
