"""Running the smoke tests against one published version, through real pytest.

The tests run in a child pytest process with the version's qualified ARN as the
plugin's target and a JUnit XML report; what the gate needs (counts, failing tests'
names, and the target the plugin actually tested, with its CodeSha256) is read back
from that report, so the gate trusts what pytest ran rather than what we asked for.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..children import Child
from ..errors import ConfigError, GateClosed, Interrupted
from ..handoff import INVOKED_PROPERTY, TARGET_FD_VARIABLE

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
    #: Passing tests that invoked the version under test (the plugin's evidence).
    invoking_tests: tuple[str, ...] = ()
    #: The timeout that stopped the run, in seconds; None when it ended on its own.
    timed_out_after: float | None = None


def pytest_command(paths: Sequence[Path], qualified_arn: str | None, junit: Path,
                   extra: Sequence[str] = (), *, allow_alias: bool = False) -> list[str]:
    """The pytest argv; ``allow_alias`` lets the target be an alias (a canary's checks)."""
    target = [f"--lambda-arn={qualified_arn}"] if qualified_arn else []
    return [sys.executable, "-m", "pytest", *map(str, paths), *target,
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
    invoking: list[str] = []
    props: dict[str, str] = {}
    for suite in suites:
        # The suite's own properties only: a test's record_property cannot name a target.
        for prop in suite.findall("properties/property"):
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
                if any(p.get("name") == INVOKED_PROPERTY for p in case.iter("property")):
                    invoking.append(test_id)
    return SmokeResult(exit_code, passed, failed, skipped, errors, tuple(failing),
                       props.get("qualified_arn"), props.get("version"),
                       props.get("code_sha256"), path, tuple(invoking))


class SmokeRun:
    """A pytest process started ahead of time, waiting to be told what to test.

    Starting pytest costs one to three seconds (its plugins, boto3); a deploy starts it
    before ``terraform apply`` and hands it the new version's ARN through a pipe once
    terraform has published it, so that cost overlaps terraform's own waiting.
    """

    def __init__(self, paths: Sequence[Path], *, junit: Path, env: Mapping[str, str],
                 cwd: Path, extra: Sequence[str] = (), allow_alias: bool = False,
                 timeout: float | None = None) -> None:
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise ConfigError(
                f"smoke test path {missing[0]} does not exist: set lambda_gate.smoke.path "
                "to the directory of your smoke tests."
            )
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.unlink(missing_ok=True)
        self.junit = junit
        self.timeout = timeout
        read_end, self._write_end = os.pipe()
        argv = pytest_command(paths, None, junit, extra, allow_alias=allow_alias)
        try:
            # In its own process group: an interrupt reaches it once, forwarded by us.
            self.child: Child | None = Child(
                argv, grace=10.0, cwd=cwd, env={**env, TARGET_FD_VARIABLE: str(read_end)},
                text=True, errors="replace", stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, pass_fds=(read_end,))
        finally:
            os.close(read_end)

    def run(self, qualified_arn: str, *, log: Callable[[str], None] = print) -> SmokeResult:
        """Test ``qualified_arn``; stream pytest's output; read back what happened."""
        child = self.child
        assert child is not None, "a SmokeRun runs once"
        self.child = None
        try:
            os.write(self._write_end, qualified_arn.encode())
        except BrokenPipeError:
            pass  # pytest stopped before reading (a conftest error): its output says why
        finally:
            os.close(self._write_end)
        child.start_timeout(self.timeout)  # the tests start now, not when pytest did
        child.read(lambda line: log(line.rstrip("\n")))
        code = child.wait()
        if child.interrupted:
            raise Interrupted(f"the smoke tests were interrupted; pytest stopped (exit "
                              f"{code}). No alias was moved by them.")
        if child.timed_out:
            result = parse_junit(self.junit, code)
            return dataclasses.replace(result, timed_out_after=self.timeout)
        if not self.junit.exists() and code not in (0, 1, 5):
            raise GateClosed(f"the smoke tests could not run: pytest exited {code} "
                             "(see its output above).")
        return parse_junit(self.junit, code)

    def cancel(self) -> None:
        """Stop a run that will not be needed (the deploy stopped before the tests)."""
        child, self.child = self.child, None
        if child is None:
            return
        os.close(self._write_end)
        child.proc.kill()  # it has run no test: it only waited for a target
        child.proc.communicate()


def run_smoke(paths: Sequence[Path], qualified_arn: str, *, junit: Path,
              env: Mapping[str, str], cwd: Path, extra: Sequence[str] = (),
              log: Callable[[str], None] = print, allow_alias: bool = False,
              timeout: float | None = None) -> SmokeResult:
    """Run the smoke tests against ``qualified_arn`` and read back what happened."""
    prepared = SmokeRun(paths, junit=junit, env=env, cwd=cwd, extra=extra,
                        allow_alias=allow_alias, timeout=timeout)
    return prepared.run(qualified_arn, log=log)
