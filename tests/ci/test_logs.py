"""Logs CI systems show well: no colour and no redraws unless a person is watching.

Colour goes to a terminal only, and never when NO_COLOR is set; that holds for
lambda-gate's own lines and for the tools it runs (terraform, the smoke tests' pytest),
even when the job sets the variables that force colour in those tools.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys

ESC = "\x1b["


def on_a_terminal(project, *args: str, env: dict[str, str]) -> str:
    """Run ``invoke ARGS`` with a pseudo-terminal as its stdin, stdout and stderr."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "invoke", *args], cwd=project.root,
                            env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
        proc.wait(timeout=120)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def test_a_piped_deploy_prints_no_colour_even_when_colour_is_forced(ci_deploy):
    assert "==> smoke" in ci_deploy.output
    assert "Apply complete!" in ci_deploy.output
    assert ESC not in ci_deploy.output


def test_a_piped_deploy_redraws_nothing(ci_deploy):
    assert "\r" not in ci_deploy.output


def test_a_terminal_gets_coloured_step_headers(ci_deploy):
    output = on_a_terminal(ci_deploy.project, "build", env=ci_deploy.project.env)

    assert f"{ESC}1;36m==> build" in output


def test_no_color_keeps_a_terminal_plain(ci_deploy):
    env = {**ci_deploy.project.env, "NO_COLOR": "1"}

    output = on_a_terminal(ci_deploy.project, "build", env=env)

    assert "==> build" in output
    assert ESC not in output
