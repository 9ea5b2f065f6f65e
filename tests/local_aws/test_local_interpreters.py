"""Each runtime runs under its exact interpreter, found and checked, or fails saying so."""

from __future__ import annotations

import base64
import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_gate.config_values import parse_interpreters
from lambda_gate.errors import ConfigError
from lambda_gate.local_aws import runtimes
from lambda_gate.local_aws.daemon import runtime_problem
from lambda_gate.local_aws.runtimes import RuntimeUnavailable, find_interpreter

MakeFunction = Callable[..., str]
VERSION_PY = {"app.py": "import sys\ndef handler(e, c):\n"
                        "    return '%d.%d' % sys.version_info[:2]\n"}


def failing_shim(directory: Path, name: str) -> Path:
    """What pyenv puts on PATH for a version that is not installed."""
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / name
    shim.write_text(f"#!/bin/sh\necho 'pyenv: {name}: command not found' >&2\nexit 127\n")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return shim


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No interpreter manager, and only a broken python3.13 shim on PATH."""
    runtimes._found.clear()
    shims = tmp_path / "shims"
    failing_shim(shims, "python3.13")
    monkeypatch.setenv("PATH", str(shims))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(runtimes, "_candidates", _without_system_dirs(runtimes._candidates))
    yield shims
    runtimes._found.clear()


def _without_system_dirs(candidates):
    def only_ours(want):
        return [(source, exe) for source, exe in candidates(want)
                if source not in ("/usr/local/bin", "/usr/bin")]
    return only_ours


def test_a_shim_that_does_not_run_is_not_an_interpreter(bare_machine: Path) -> None:
    with pytest.raises(RuntimeUnavailable) as raised:
        find_interpreter("python3.13")
    message = str(raised.value)
    assert message.startswith("no Python 3.13 interpreter found for runtime python3.13")
    assert f"{bare_machine / 'python3.13'} (PATH): does not run, exit status 127" in message
    assert f"{sys.executable} (the Python running the local AWS): is " in message
    assert "pyenv install 3.13" in message
    assert "lambda_gate.local_aws.interpreters" in message


def test_an_interpreter_of_another_minor_version_is_never_used(bare_machine: Path) -> None:
    other = f"python3.{sys.version_info.minor + 1}"
    with pytest.raises(RuntimeUnavailable):
        find_interpreter(other, {})


def test_a_configured_interpreter_is_the_only_candidate(tmp_path: Path) -> None:
    shim = failing_shim(tmp_path, "python3.12")
    with pytest.raises(RuntimeUnavailable) as raised:
        find_interpreter("python3.12", {"python3.12": str(shim)})
    assert str(raised.value).startswith(
        "the python3.12 interpreter set in lambda_gate.local_aws.interpreters cannot run it: "
        f"{shim} (the setting): does not run, exit status 127")


def test_a_configured_interpreter_of_the_wrong_version_is_refused() -> None:
    runtime = f"python3.{sys.version_info.minor + 1}"
    with pytest.raises(RuntimeUnavailable) as raised:
        find_interpreter(runtime, {runtime: sys.executable})
    assert f"is {sys.version_info.major}.{sys.version_info.minor}." in str(raised.value)


def test_the_interpreters_setting_reads_a_mapping_or_pairs() -> None:
    assert dict(parse_interpreters("python3.12=/opt/py312/bin/python3.12, "
                                   "nodejs22.x=/opt/node22/bin/node")) == {
        "python3.12": "/opt/py312/bin/python3.12", "nodejs22.x": "/opt/node22/bin/node"}
    assert dict(parse_interpreters({"python3.12": "/x"})) == {"python3.12": "/x"}
    with pytest.raises(ConfigError, match="is not runtime=executable"):
        parse_interpreters("python3.12")


def test_without_its_interpreter_the_invoke_fails_as_lambda_does_for_a_broken_runtime(
        other_local_aws, make_function: MakeFunction, tmp_path: Path) -> None:
    shim = failing_shim(tmp_path, "python3.12")
    server, client = other_local_aws(interpreters={"python3.12": str(shim)})
    name = make_function(VERSION_PY, runtime="python3.12")
    response = client.invoke(FunctionName=name, LogType="Tail")
    payload = json.loads(response["Payload"].read())
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.InvalidEntrypoint"
    assert "the python3.12 interpreter set in lambda_gate.local_aws.interpreters" in \
        payload["errorMessage"]
    log = base64.b64decode(response["LogResult"]).decode()
    assert "[ERROR] the python3.12 interpreter set in" in log
    problem = runtime_problem(server.url, "python3.12")
    assert problem is not None and problem.startswith("the python3.12 interpreter set in")


def test_with_its_interpreter_configured_the_function_runs_under_it(
        other_local_aws, make_function: MakeFunction) -> None:
    runtimes._found.clear()
    try:
        python312 = find_interpreter("python3.12").executable
    except RuntimeUnavailable:
        pytest.skip("this machine has no Python 3.12 to configure")
    server, client = other_local_aws(interpreters={"python3.12": python312})
    name = make_function(VERSION_PY, runtime="python3.12")
    response = client.invoke(FunctionName=name)
    assert json.loads(response["Payload"].read()) == "3.12"
    assert runtime_problem(server.url, "python3.12") is None
