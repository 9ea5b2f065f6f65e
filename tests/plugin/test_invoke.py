"""Invoking the target version: what comes back, and refusing results from other code."""

from __future__ import annotations

import pytest

from lambda_gate.pytest_plugin.invoker import LambdaInvoker, WrongVersionExecuted
from lambda_gate.pytest_plugin.target import make_client, resolve_target
from lambda_gate.pytest_plugin.target_settings import resolve_settings


def test_the_result_carries_the_decoded_payload_and_the_executed_version(invoker_for,
                                                                         versioned):
    result = invoker_for(versioned, "2")({"order": 17})

    assert (result.status_code, result.function_error, result.executed_version) == (
        200, None, "2")
    assert result.payload == {"code_version": "two", "event": {"order": 17}}
    assert result.raw == b'{"code_version": "two", "event": {"order": 17}}'


def test_targeting_version_1_runs_version_1s_code(invoker_for, versioned):
    result = invoker_for(versioned, "1")({})

    assert result.payload["code_version"] == "one"


def test_raw_bytes_are_sent_as_they_are(invoker_for, versioned):
    result = invoker_for(versioned, "1")(raw=b'{"from": "raw"}')

    assert result.payload["event"] == {"from": "raw"}


def test_no_payload_sends_an_empty_object(invoker_for, versioned):
    result = invoker_for(versioned, "1")()

    assert result.payload["event"] == {}


def test_a_payload_and_raw_bytes_together_are_refused(invoker_for, versioned):
    with pytest.raises(TypeError, match="either payload or raw"):
        invoker_for(versioned, "1")({"a": 1}, raw=b"{}")


def test_the_log_tail_is_decoded_text(invoker_for, versioned):
    result = invoker_for(versioned, "1")({})

    assert "running code one" in result.log_tail.splitlines()


def test_no_log_tail_is_returned_when_not_asked_for(invoker_for, versioned):
    result = invoker_for(versioned, "1")({}, log_tail=False)

    assert result.log_tail == ""


def test_an_unhandled_exception_is_a_function_error_with_its_message(invoker_for, versioned):
    result = invoker_for(versioned, "1")({"fail": True})

    assert result.function_error == "Unhandled"
    assert (result.payload["errorType"], result.payload["errorMessage"]) == (
        "ValueError", "asked to fail")
    assert not result.ok


def test_running_past_the_timeout_is_a_function_error(invoker_for, versioned):
    result = invoker_for(versioned, "1")({"sleep": 3})

    assert result.function_error == "Unhandled"
    assert "Task timed out after 1.00 seconds" in result.payload["errorMessage"]


def test_an_event_invocation_is_accepted_without_a_result(invoker_for, versioned):
    result = invoker_for(versioned, "1")({}, invocation_type="Event")

    assert (result.status_code, result.payload) == (202, None)


def test_an_unknown_invocation_type_is_refused(invoker_for, versioned):
    with pytest.raises(ValueError, match="invocation_type must be one of RequestResponse"):
        invoker_for(versioned, "1")({}, invocation_type="Later")


@pytest.fixture
def aliased(make_function, lambda_client):
    """A function with versions 1 and 2 and alias ``live`` -> 1, for moving the alias."""
    function = make_function("def handler(e, c):\n    return 1\n",
                             "def handler(e, c):\n    return 2\n", prefix="aliased")
    lambda_client.create_alias(FunctionName=function.name, Name="live", FunctionVersion="1")
    return function


def test_a_result_from_another_version_is_refused(aliased, lambda_client, local_aws):
    settings = resolve_settings({"arn": aliased.arn("live"), "allow_alias": True}, {}, {})
    client = make_client(settings)
    target, _ = resolve_target(client, settings)
    invoke = LambdaInvoker(client, target)
    lambda_client.update_alias(FunctionName=aliased.name, Name="live", FunctionVersion="2")

    with pytest.raises(WrongVersionExecuted, match=(
            f"Lambda executed version '2' of {aliased.name}, but the target is version '1' "
            r"\(.*:live\). The alias moved during the run")):
        invoke({})


def test_through_a_weighted_alias_either_routed_version_is_accepted(aliased, lambda_client):
    lambda_client.update_alias(FunctionName=aliased.name, Name="live", FunctionVersion="1",
                               RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    settings = resolve_settings({"arn": aliased.arn("live"), "allow_alias": True}, {}, {})
    client = make_client(settings)
    target, _ = resolve_target(client, settings)
    invoke = LambdaInvoker(client, target)

    seen = {invoke({}).executed_version for _ in range(20)}

    assert target.routed_versions == ("2",)
    assert seen == {"1", "2"}


def test_the_fixture_fails_the_test_when_another_version_ran(pytester, run_pytest, aliased):
    pytester.makepyfile(f"""
        import boto3

        def test_moves_the_alias(lambda_invoke):
            boto3.client("lambda").update_alias(
                FunctionName={aliased.name!r}, Name="live", FunctionVersion="2")
            lambda_invoke({{}})
    """)

    result = run_pytest(f"--lambda-arn={aliased.arn('live')}", "--lambda-allow-alias")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        f"*Lambda executed version '2' of {aliased.name}, but the target is version '1' *"])


def test_the_fixture_invokes_the_target_version(pytester, run_pytest, versioned):
    pytester.makepyfile("""
        def test_invokes(lambda_invoke, lambda_target):
            result = lambda_invoke({"hello": "world"})
            assert result.executed_version == lambda_target.version == "1"
            assert result.payload == {"code_version": "one", "event": {"hello": "world"}}
    """)

    result = run_pytest(f"--lambda-arn={versioned.arn('1')}")

    result.assert_outcomes(passed=1)


COUNTER = """
COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    return COUNT
"""


@pytest.fixture(scope="module")
def counter(make_function):
    return make_function(COUNTER, prefix="counter")


def test_invocations_in_a_test_share_a_warm_environment(pytester, run_pytest, counter):
    pytester.makepyfile("""
        def test_warm(lambda_invoke):
            first, second = lambda_invoke().payload, lambda_invoke().payload
            assert second == first + 1
    """)
    run_pytest(f"--lambda-arn={counter.arn('1')}").assert_outcomes(passed=1)


def test_the_fresh_environment_marker_gives_each_invocation_a_new_one(pytester, run_pytest,
                                                                     counter):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.lambda_fresh_environment
        def test_cold(lambda_invoke):
            assert [lambda_invoke().payload for _ in range(2)] == [1, 1]
            assert "Init Duration" in lambda_invoke().log_tail
    """)
    run_pytest(f"--lambda-arn={counter.arn('1')}", "--strict-markers").assert_outcomes(passed=1)


def test_the_fresh_environments_option_applies_to_every_test(pytester, run_pytest, counter):
    pytester.makepyfile("""
        def test_cold(lambda_invoke):
            assert [lambda_invoke().payload for _ in range(2)] == [1, 1]
    """)
    result = run_pytest(f"--lambda-arn={counter.arn('1')}", "--lambda-fresh-environments")
    result.assert_outcomes(passed=1)
