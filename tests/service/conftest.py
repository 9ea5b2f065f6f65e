"""The example service (example/: an HTTP API and a worker sharing common/), copied per
test module and deployed with real invoke and terraform to the session's local AWS.

Its smoke tests run only when a deploy runs them, so pytest does not collect them here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

collect_ignore = ["example"]

EXAMPLE = Path(__file__).resolve().parent / "example"


@pytest.fixture(scope="session")
def make_service(make_project):
    """``make_service(prefix)``: a project (see ``make_project``) holding the example
    service instead of the single function; its functions are ``<prefix>-api`` and
    ``<prefix>-worker``."""

    def make(prefix: str):
        project = make_project(prefix)
        for part in ("src", "smoke", "terraform"):
            shutil.rmtree(project.root / part)
        shutil.copytree(EXAMPLE, project.root, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".terraform*", "__pycache__"))
        project.write("invoke.yaml",
                      f"lambda_gate:\n  terraform:\n    vars: {{prefix: {prefix}}}\n")
        return project

    return make
