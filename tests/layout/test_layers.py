"""The package's layering, as setup.cfg's import-linter contracts write it down.

Tasks sit over the pipeline, the pipeline over the stages (build, publish, smoke,
aliases, local_aws), which do not import each other; shared ground (config, errors,
report, records, aws, git, handoff) imports none of them; the pytest plugin and the
deploy side never import each other. A change that reaches back across a layer fails
here, in CI, and not months later in a review.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "plugin" / "lambda_gate"

LAYERS = "Tasks over the pipeline over independent stages"
SHARED = "Shared ground imports no stage, pipeline, task or plugin"
PLUGIN_APART = "The pytest plugin never imports the deploy side"
DEPLOY_APART = "The deploy side never imports the pytest plugin"


def lint_imports(package_parent: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``lambda_gate`` found under ``package_parent``."""
    executable = shutil.which("lint-imports", path=os.path.dirname(sys.executable))
    if executable is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[test]'", pytrace=False)
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([executable, "--config", str(REPO / "setup.cfg"), "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_package_keeps_its_layers(tmp_path: Path) -> None:
    result = lint_imports(PACKAGE.parent, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "back_import", "contract"), [
    ("build/archive.py", "from lambda_gate.pipeline import steps", LAYERS),
    ("publish/preflight.py", "from lambda_gate.aliases import names", LAYERS),
    ("config.py", "from lambda_gate.build import package", SHARED),
    ("pytest_plugin/invoker.py", "from lambda_gate.smoke import run", PLUGIN_APART),
    ("smoke/run.py", "from lambda_gate.pytest_plugin import target", DEPLOY_APART),
])
def test_an_import_that_reaches_back_breaks_a_contract(tmp_path: Path, module: str,
                                                       back_import: str, contract: str) -> None:
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "lambda_gate",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "lambda_gate" / module
    target.write_text(target.read_text() + f"\n{back_import}\n")

    result = lint_imports(copy, tmp_path)

    assert result.returncode != 0
    report = " ".join(result.stdout.split())  # lint-imports wraps long lines
    assert f"{contract} BROKEN" in report, result.stdout
