"""terraform's output, condensed to what a person acts on.

A plan or apply prints every attribute of every resource it touches: dozens of lines
between the step headers, in which the lines that matter (which resources change, how
long the provider waits for Lambda) are hard to find. By default a deploy shows only
those; ``--verbose`` streams everything, and the full output is always kept in a log
file under the state directory, which a failure names.

terraform's errors are not shown as they stream: the error lambda-gate raises quotes
them (:func:`diagnostics`), and an error should be printed once. Nor is terraform's
warning about ``-state``, which concerns lambda-gate's choice and not the user's
configuration (:func:`without_state_flag_warning`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: ``  # aws_lambda_function.this will be updated in-place`` and its kin in a plan.
_RESOURCE = re.compile(
    r"^# (?P<address>\S+) (?P<action>will be (created|updated in-place|destroyed|read "
    r"during apply)|must be replaced|has changed|has been deleted)\b.*$")
#: ``aws_lambda_function.this: Still modifying... [10s elapsed]`` and the final line of
#: each resource's change; the lines that start a change say less than these.
_PROGRESS = re.compile(
    r"^(?P<address>[^\s:]+): (Still \w+\.\.\. \[[^\]]*elapsed\]|\w+ complete after \S+)")
_TOTALS = ("Plan: ", "Apply complete!", "No changes.", "Destroy complete!")


def _plain(line: str) -> str:
    return _ANSI.sub("", line).strip().lstrip("│╷╵").strip()


def condensed(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log``, given only the lines of a plan or apply a person needs.

    Kept: each resource the plan creates, changes, replaces or destroys (one line each,
    no attributes), the totals, the provider's waits and each change's completion, and
    warnings' headlines. Dropped: attributes, refreshes, outputs, terraform's advice,
    and errors (the raised error quotes them).
    """
    state = {"in_error": False}

    def show(line: str) -> None:
        plain = _plain(line)
        if plain.startswith("Error:"):
            state["in_error"] = True
        if state["in_error"]:
            return
        resource = _RESOURCE.match(plain)
        if resource is not None:
            log(f"{resource['address']} {resource['action']}")
        elif _PROGRESS.match(plain) or plain.startswith(_TOTALS):
            log(plain)
        elif plain.startswith("Warning:"):
            log(f"terraform {plain[0].lower()}{plain[1:]}")

    return show


def without_state_flag_warning(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log``, minus terraform's deprecation warning for ``-state``.

    lambda-gate keeps each environment's local state outside the configuration directory
    with ``-state``: the only way to do that without a backend block, which would then
    apply to every environment of the configuration. terraform 1.10+ warns about the flag
    on every run; the warning concerns lambda-gate's choice, not the user's
    configuration, so it is not shown (the captured output keeps it).
    """
    held: list[str] = []  # a blank line or box opener that may start the warning
    state = {"hiding": False, "closing": False}

    def show(line: str) -> None:
        plain = _ANSI.sub("", line).strip()
        if state["hiding"]:
            if "backends/local" in plain:
                state.update(hiding=False, closing=True)
            return
        if state["closing"]:
            state["closing"] = False
            if plain == "\u2575":  # the closer of the warning's box (colour output)
                return
        if "Deprecated flag: -state" in plain:
            held.clear()
            state["hiding"] = True
            return
        if plain in ("", "\u2577"):
            held.append(line)
            return
        for pending in held:
            log(pending)
        held.clear()
        log(line)

    return show


def diagnostics(output: str) -> str:
    """terraform's ``Error:`` blocks (they close its output), else its last lines."""
    lines = [line.lstrip("│╷╵ ").rstrip() for line in _ANSI.sub("", output).splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            return "\n".join(lines[index:]).strip()
    return "\n".join([line for line in lines if line.strip()][-15:])
