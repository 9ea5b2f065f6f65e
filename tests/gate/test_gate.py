"""The gate's decision: every way it closes, and the one way it opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gate.smoke import SmokeResult, evaluate

ARN = "arn:aws:lambda:us-east-1:123456789012:function:api-backend:5"
SHA = "c2hhMjU2LW9mLXRoZS1hcnRpZmFjdA=="


def smoke(**overrides) -> SmokeResult:
    values = dict(exit_code=0, passed=3, failed=0, skipped=0, errors=0, failed_tests=(),
                  tested_arn=ARN, tested_version="5", tested_code_sha256=SHA,
                  junit_path=Path("junit.xml"),
                  invoking_tests=("smoke/test_api.py::test_health",))
    values.update(overrides)
    return SmokeResult(**values)


def decide(result: SmokeResult, **overrides):
    facts = dict(published_arn=ARN, published_version="5", artifact_code_sha256=SHA,
                 live_code_sha256=SHA)
    facts.update(overrides)
    return evaluate(result, **facts)


def test_opens_when_tests_passed_against_the_published_version():
    decision = decide(smoke())

    assert decision.open
    assert decision.reason == "3 smoke test(s) passed against version 5"


@pytest.mark.parametrize(("result", "facts", "reason"), [
    (smoke(exit_code=1, passed=2, failed=1, failed_tests=("smoke/test_api.py::test_health",)),
     {}, "1 smoke test(s) failed: smoke/test_api.py::test_health"),
    (smoke(exit_code=1, passed=2, errors=1, failed_tests=("smoke/test_api.py::test_x",)),
     {}, "1 smoke test(s) failed: smoke/test_api.py::test_x"),
    (smoke(exit_code=5, passed=0), {}, "no smoke test ran: add tests under the smoke path"),
    (smoke(passed=0, skipped=2), {}, "no smoke test passed (2 skipped)"),
    (smoke(invoking_tests=()), {}, "no passing smoke test invoked version 5: 3 passed "
                                   "without calling it"),
    (smoke(exit_code=3), {}, "the smoke run exited 3"),
    (smoke(tested_arn=None), {}, "the smoke run did not report its target"),
    (smoke(tested_arn=ARN.replace(":5", ":main"), tested_version="main"), {},
     "the smoke tests ran against arn:aws:lambda:us-east-1:123456789012:function:"
     "api-backend:main, not the version just published"),
    (smoke(), {"published_version": "$LATEST"}, "'$LATEST' is not a published version number"),
    (smoke(), {"live_code_sha256": "b3RoZXI="}, "version 5's CodeSha256 b3RoZXI= is not the "
                                               "built artifact's"),
    (smoke(tested_code_sha256="b3RoZXI="), {}, "the version the smoke tests ran against has "
                                              "CodeSha256 b3RoZXI="),
], ids=["failed", "error", "none-ran", "only-skipped", "never-invoked", "exit-code", "no-target",
        "alias-tested", "latest", "code-mismatch", "tested-code-mismatch"])
def test_closes_and_names_the_condition(result, facts, reason):
    decision = decide(result, **facts)

    assert not decision.open
    assert reason in decision.reason
