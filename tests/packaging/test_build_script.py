"""bin/build_lambda_package.sh: CI's entry point is the developer's `invoke build`."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bin" / "build_lambda_package.sh"


def test_the_script_runs_invoke_build_from_the_repository_root_whatever_the_cwd(
        tmp_path: Path) -> None:
    out = subprocess.run([str(SCRIPT), "--help"], cwd=tmp_path, capture_output=True,
                         text=True, check=True)

    assert out.stdout.startswith("Usage: inv[oke] [--core-opts] build [--options]")
    assert "--force" in out.stdout
