"""The gate between a published version and its alias.

A pure decision over facts gathered by the earlier steps, so every way it can close is
tested without running anything. It opens only when all of these hold: the smoke run
exited 0, at least one test passed and invoked the version under test (the plugin
marks such tests in the JUnit XML), the version tested is the numbered version terraform
just published (not ``$LATEST``, not an alias), and that version's CodeSha256 is the
built artifact's.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..children import format_seconds
from .run import SmokeResult


@dataclass(frozen=True)
class GateDecision:
    open: bool
    reason: str


def evaluate(smoke: SmokeResult, *, published_arn: str, published_version: str,
             artifact_code_sha256: str, live_code_sha256: str) -> GateDecision:
    if smoke.timed_out_after is not None:
        return GateDecision(False, f"smoke tests timed out after "
                                   f"{format_seconds(smoke.timed_out_after)} "
                                   "(lambda_gate.smoke.timeout) and were stopped")
    if smoke.failed or smoke.errors:
        names = ", ".join(smoke.failed_tests) or "see the output above"
        count = smoke.failed + smoke.errors
        return GateDecision(False, f"{count} smoke test(s) failed: {names}")
    if smoke.exit_code == 5 or smoke.passed + smoke.skipped == 0:
        return GateDecision(False, "no smoke test ran: add tests under the smoke path")
    if smoke.exit_code != 0:
        return GateDecision(False, f"the smoke run exited {smoke.exit_code}")
    if smoke.passed == 0:
        return GateDecision(False, f"no smoke test passed ({smoke.skipped} skipped)")
    if not smoke.invoking_tests:
        return GateDecision(False, f"no passing smoke test invoked version "
                                   f"{published_version}: {smoke.passed} passed without "
                                   "calling it; call it through the lambda_invoke or "
                                   "lambda_http fixtures (or boto3's Invoke)")
    if not published_version.isdigit():
        return GateDecision(False, f"{published_version!r} is not a published version number")
    if smoke.tested_arn is None:
        return GateDecision(False, "the smoke run did not report its target: is the "
                                   "lambda-gate pytest plugin installed where pytest runs?")
    if smoke.tested_arn != published_arn or smoke.tested_version != published_version:
        return GateDecision(False, f"the smoke tests ran against {smoke.tested_arn}, not the "
                                   f"version just published ({published_arn})")
    if live_code_sha256 != artifact_code_sha256:
        return GateDecision(False, f"version {published_version}'s CodeSha256 "
                                   f"{live_code_sha256} is not the built artifact's "
                                   f"{artifact_code_sha256}")
    if smoke.tested_code_sha256 and smoke.tested_code_sha256 != artifact_code_sha256:
        return GateDecision(False, "the version the smoke tests ran against has CodeSha256 "
                                   f"{smoke.tested_code_sha256}, not the built artifact's")
    return GateDecision(True, f"{smoke.passed} smoke test(s) passed against version "
                              f"{published_version}")
