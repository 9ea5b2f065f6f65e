"""Running the smoke tests against one published version, through real pytest.

The tests run in a child pytest process with the version's qualified ARN as the
plugin's target and a JUnit XML report; what the gate needs (counts, failing tests'
names, and the target the plugin actually tested, with its CodeSha256) is read back
from that report, so the gate trusts what pytest ran rather than what we asked for.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, GateClosed

PROPERTY_PREFIX = "lambda_gate."


@dataclass(frozen=True)
class SmokeResult:
    exit_code: int
    passed: int
    failed: int
    skipped: int
    errors: int
    failed_tests: tuple[str, ...]
    tested_arn: str | None
    tested_version: str | None
    tested_code_sha256: str | None
    junit_path: Path


def pytest_command(paths: Sequence[Path], qualified_arn: str, junit: Path,
                   extra: Sequence[str] = (), *, allow_alias: bool = False) -> list[str]:
    """The pytest argv; ``allow_alias`` lets the target be an alias (a canary's checks)."""
    return [sys.executable, "-m", "pytest", *map(str, paths), f"--lambda-arn={qualified_arn}",
            *(["--lambda-allow-alias"] if allow_alias else []),
            f"--junitxml={junit}", "-o", "junit_family=xunit2", "-p", "no:cacheprovider",
            "-rfEs", *extra]


def parse_junit(path: Path, exit_code: int) -> SmokeResult:
    """Counts, failing test ids and the plugin's target properties from JUnit XML."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return SmokeResult(exit_code, 0, 0, 0, 0, (), None, None, None, path)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    passed = failed = skipped = errors = 0
    failing: list[str] = []
    props: dict[str, str] = {}
    for suite in suites:
        for prop in suite.iter("property"):
            name = prop.get("name", "")
            if name.startswith(PROPERTY_PREFIX):
                props[name[len(PROPERTY_PREFIX):]] = prop.get("value", "")
        for case in suite.iter("testcase"):
            test_id = "::".join(p for p in (case.get("classname", ""), case.get("name", "")) if p)
            if case.find("failure") is not None:
                failed += 1
                failing.append(test_id)
            elif case.find("error") is not None:
                errors += 1
                failing.append(test_id)
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    return SmokeResult(exit_code, passed, failed, skipped, errors, tuple(failing),
                       props.get("qualified_arn"), props.get("version"),
                       props.get("code_sha256"), path)


def run_smoke(paths: Sequence[Path], qualified_arn: str, *, junit: Path,
              env: Mapping[str, str], cwd: Path, extra: Sequence[str] = (),
              log: Callable[[str], None] = print, allow_alias: bool = False) -> SmokeResult:
    """Run the smoke tests against ``qualified_arn`` and read back what happened."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise ConfigError(
            f"smoke test path {missing[0]} does not exist: set lambda_gate.smoke.path to "
            "the directory of your smoke tests."
        )
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    argv = pytest_command(paths, qualified_arn, junit, extra, allow_alias=allow_alias)
    proc = subprocess.Popen(argv, cwd=cwd, env=dict(env), text=True, errors="replace",
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for line in proc.stdout:
        log(line.rstrip("\n"))
    code = proc.wait()
    if not junit.exists() and code not in (0, 1, 5):
        raise GateClosed(f"the smoke tests could not run: pytest exited {code} "
                         "(see its output above).")
    return parse_junit(junit, code)
