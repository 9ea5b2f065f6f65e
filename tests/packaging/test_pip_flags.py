"""pip is asked for wheels of Lambda's platform, never this machine's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambda_gate.build import pip
from lambda_gate.errors import BuildError


@pytest.mark.parametrize(("runtime", "architecture", "platforms", "version"), [
    ("python3.11", "x86_64", ["manylinux2014_x86_64"], "3.11"),
    ("python3.9", "arm64", ["manylinux2014_aarch64"], "3.9"),
    ("python3.12", "arm64",
     ["manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64"], "3.12"),
    ("python3.13", "x86_64",
     ["manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"], "3.13"),
])
def test_platform_flags_follow_runtime_and_architecture(runtime: str, architecture: str,
                                                        platforms: list[str],
                                                        version: str) -> None:
    flags = pip.platform_flags(runtime, architecture)

    assert [flags[i + 1] for i, f in enumerate(flags) if f == "--platform"] == platforms
    assert flags[-5:] == ("--implementation", "cp", "--python-version", version,
                          "--only-binary=:all:")


def test_an_architecture_lambda_does_not_offer_is_refused() -> None:
    with pytest.raises(BuildError, match=r"architecture 'i386' is not one Lambda offers: "
                                         r"use x86_64 or arm64"):
        pip.platform_flags("python3.11", "i386")


def test_the_install_targets_a_directory_with_this_interpreters_pip_and_no_bytecode() -> None:
    argv = pip.install_command(Path("/src/requirements.txt"), Path("/stage/python"),
                               "python3.11", "x86_64")

    assert argv[:4] == [sys.executable, "-m", "pip", "install"]
    assert argv[argv.index("--target") + 1] == "/stage/python"
    assert argv[argv.index("--requirement") + 1] == "/src/requirements.txt"
    assert "--no-compile" in argv


def test_a_runtime_that_is_not_python3_n_is_refused() -> None:
    with pytest.raises(BuildError, match=r"runtime 'python3' is not a Python runtime of the "
                                         r"form python3\.N"):
        pip.platform_flags("python3", "x86_64")


def test_a_failure_message_keeps_pips_error_lines_only() -> None:
    output = ("Looking in indexes: https://example.invalid\n"
              "ERROR: Could not find a version that satisfies the requirement nope==1\n"
              "ERROR: No matching distribution found for nope==1\n")

    message = pip.failure_message(Path("requirements.txt"), "python3.11", "arm64", output)

    assert message.splitlines()[1:3] == [
        "ERROR: Could not find a version that satisfies the requirement nope==1",
        "ERROR: No matching distribution found for nope==1",
    ]
    assert "Looking in indexes" not in message
