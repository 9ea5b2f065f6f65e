"""The smoke stage and the gate: a published version in, a verdict on promoting it out.

Takes the smoke tests' paths and the qualified ARN of the version under test; gives a
:class:`SmokeResult` read back from pytest's JUnit XML, and :func:`evaluate` turns it
into a :class:`GateDecision`. pytest runs in a process of its own (:mod:`.run`), and
the plugin that runs inside it (:mod:`lambda_gate.pytest_plugin`) is not imported here.
"""

from .gate import GateDecision, evaluate
from .run import SmokeResult, SmokeRun, parse_junit, pytest_command, run_smoke

__all__ = ["GateDecision", "SmokeResult", "SmokeRun", "evaluate", "parse_junit",
           "pytest_command", "run_smoke"]
