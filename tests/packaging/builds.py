"""Helpers shared by the build tests: where the example functions are, settings for them."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from lambda_gate.build import BuildResult
from lambda_gate.settings import BuildSettings

FIXTURES = Path(__file__).parent / "fixtures"
PYTHON_FUNCTION = FIXTURES / "python_fn"
NODE_FUNCTION = FIXTURES / "node_fn"

MakeSettings = Callable[..., BuildSettings]


def settings_for(source_dir: Path, work: Path, **overrides) -> BuildSettings:
    """BuildSettings for ``source_dir`` with artifact and cache under ``work``."""
    values = dict(
        source_dir=source_dir, artifact=work / "out" / "lambda.zip", runtime="python3.11",
        handler="app.handler", architecture="x86_64", cache_dir=work / "cache",
    )
    values.update(overrides)
    return BuildSettings(**values)


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


class Built:
    """A package built once for the session, with the log lines its build wrote."""

    def __init__(self, settings: BuildSettings, result: BuildResult,
                 lines: list[str]) -> None:
        self.settings = settings
        self.result = result
        self.lines = lines
        self.names = zip_names(result.path)


