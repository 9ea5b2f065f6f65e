"""Canary promotion: traffic moves in steps, alarms stop it, a rerun finishes it.

``wait`` is where the product pauses between a step and its checks; here it records
what Lambda's alias holds at that moment (and, for some tests, sets an alarm), so no
test sleeps.
"""

from __future__ import annotations

import re
import uuid

import pytest

from lambda_gate import aliases
from lambda_gate.aliases import canary
from lambda_gate.errors import AliasConflict, ConfigError


@pytest.fixture
def function(lambda_client, make_function):
    """A function whose alias ``main`` serves version 1; versions 2 and 3 are new."""
    name = make_function(versions=3, prefix="canary")
    aliases.promote(lambda_client, name, "main", "1")
    return name


@pytest.fixture
def observed(lambda_state, function):
    """A ``wait`` that records (primary, weights) of ``main`` at each pause."""
    seen: list[tuple[str, dict[str, float]]] = []

    def wait(seconds: float) -> None:
        assert seconds == 0
        seen.append(lambda_state.alias(function, "main"))

    wait.seen = seen  # type: ignore[attr-defined]
    return wait


def alarm_name() -> str:
    return f"canary-errors-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(("text", "weights"), [
    ("10,50", (10, 50)), ("1", (1,)), ("5, 25, 99", (5, 25, 99)),
])
def test_canary_steps_are_increasing_percentages(text, weights):
    assert canary.parse_weights(text) == weights


@pytest.mark.parametrize(("text", "message"), [
    ("0,50", "0 is outside 1 to 99"),
    ("10,100", "100 is outside 1 to 99"),
    ("-5", "-5 is outside 1 to 99"),
    ("50,10", "steps must increase \\(50 then 10\\)"),
    ("10,10", "steps must increase \\(10 then 10\\)"),
    ("ten", "'ten' is not a whole percentage"),
    ("12.5", "'12.5' is not a whole percentage"),
    ("", "--canary is empty: pass increasing steps"),
])
def test_bad_canary_steps_are_a_clear_error(text, message):
    with pytest.raises(ConfigError, match=message):
        canary.parse_weights(text)


def test_a_negative_interval_is_a_clear_error():
    with pytest.raises(ConfigError, match="--interval -1 is negative"):
        canary.validate_interval("-1")


def test_traffic_moves_step_by_step_then_wholly_to_the_new_version(
        lambda_client, lambda_state, function, observed):
    change = canary.run_canary(lambda_client, function, "main", "2", [10, 50], interval=0,
                               wait=observed, log=lambda line: None)

    assert observed.seen == [("1", {"2": 0.1}), ("1", {"2": 0.5})]
    assert lambda_state.alias(function, "main") == ("2", {})
    assert (change.before, change.after) == ("1", "2")


def test_a_finished_canary_records_the_old_version_for_rollback(
        lambda_client, function, observed):
    canary.run_canary(lambda_client, function, "main", "2", [50], interval=0,
                      wait=observed, log=lambda line: None)

    assert aliases.get_alias(lambda_client, function, "main").history == ("1",)


def test_an_alarm_going_off_sends_all_traffic_back_and_names_the_alarm(
        lambda_client, lambda_state, cloudwatch, make_alarm, function):
    alarm = make_alarm(alarm_name())
    watch = canary.parse_alarms(alarm, alias="main", function=function)
    pauses = []

    def wait(seconds: float) -> None:
        pauses.append(lambda_state.alias(function, "main"))
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM",
                                   StateReason="errors after the shift")

    with pytest.raises(canary.CanaryRolledBack,
                       match=f"stopped at 10%: CloudWatch alarm {alarm} is in ALARM. All "
                             "traffic is back on version 1"):
        canary.run_canary(lambda_client, function, "main", "2", [10, 50], interval=0,
                          checks=[canary.alarm_check(cloudwatch, watch)], wait=wait,
                          log=lambda line: None)

    assert pauses == [("1", {"2": 0.1})]
    assert lambda_state.alias(function, "main") == ("1", {})


def test_a_canary_does_not_start_while_an_alarm_is_in_alarm(
        lambda_client, lambda_state, cloudwatch, make_alarm, function, observed):
    alarm = make_alarm(alarm_name())
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="already")
    watch = canary.parse_alarms(alarm, alias="main", function=function)

    with pytest.raises(canary.CanaryRolledBack, match="not started: .* Nothing was changed"):
        canary.run_canary(lambda_client, function, "main", "2", [10], interval=0,
                          checks=[canary.alarm_check(cloudwatch, watch)], wait=observed,
                          log=lambda line: None)

    assert observed.seen == []
    assert lambda_state.alias(function, "main") == ("1", {})


def test_alarms_in_ok_let_the_canary_finish(
        lambda_client, lambda_state, cloudwatch, make_alarm, function, observed):
    prefix = f"canary-{uuid.uuid4().hex[:6]}-"
    make_alarm(prefix + "errors")
    make_alarm(prefix + "latency")
    watch = canary.parse_alarms(prefix + "*", alias="main", function=function)

    canary.run_canary(lambda_client, function, "main", "2", [10], interval=0,
                      checks=[canary.alarm_check(cloudwatch, watch)], wait=observed,
                      log=lambda line: None)

    assert lambda_state.alias(function, "main") == ("2", {})


def test_a_failing_check_other_than_an_alarm_also_rolls_back(
        lambda_client, lambda_state, function, observed):
    with pytest.raises(canary.CanaryRolledBack, match="stopped at 10%: smoke failed"):
        canary.run_canary(lambda_client, function, "main", "2", [10, 50], interval=0,
                          checks=[lambda: "smoke failed" if observed.seen else None],
                          wait=observed, log=lambda line: None)

    assert lambda_state.alias(function, "main") == ("1", {})


def test_a_rerun_resumes_an_interrupted_canary_after_the_weight_reached(
        lambda_client, lambda_state, function, observed):
    state = aliases.get_alias(lambda_client, function, "main")
    aliases.shift_weight(lambda_client, function, state, "2", 0.1)  # left by a crash

    canary.run_canary(lambda_client, function, "main", "2", [10, 50], interval=0,
                      wait=observed, log=lambda line: None)

    assert observed.seen == [("1", {"2": 0.5})]
    assert lambda_state.alias(function, "main") == ("2", {})


def test_a_canary_of_another_version_in_progress_is_refused(
        lambda_client, lambda_state, function, observed):
    state = aliases.get_alias(lambda_client, function, "main")
    aliases.shift_weight(lambda_client, function, state, "3", 0.2)

    with pytest.raises(ConfigError, match="in the middle of a canary of version 3 \\(20% of "
                                          "traffic\\).*invoke rollback --alias main"):
        canary.run_canary(lambda_client, function, "main", "2", [50], interval=0,
                          wait=observed, log=lambda line: None)

    assert lambda_state.alias(function, "main") == ("1", {"3": 0.2})


def test_a_deploy_moving_the_alias_mid_canary_stops_it(lambda_client, lambda_state, function):
    def other_deploy(seconds: float) -> None:
        aliases.promote(lambda_client, function, "main", "3")

    with pytest.raises(AliasConflict, match="now points at version 3"):
        canary.run_canary(lambda_client, function, "main", "2", [10], interval=0,
                          wait=other_deploy, log=lambda line: None)

    assert lambda_state.alias(function, "main") == ("3", {})


def test_a_canary_onto_an_alias_that_does_not_exist_is_refused_and_creates_nothing(
        lambda_client, function, observed):
    with pytest.raises(ConfigError, match=re.escape(
            "alias fresh does not exist yet, so a canary has no old version to keep "
            "traffic on while version 2 gets part of it. Promote without --canary first "
            "(`invoke promote --version 2 --alias fresh`), or pass --create-alias to "
            "create fresh pointing wholly at version 2. Nothing was changed.")) as refused:
        canary.run_canary(lambda_client, function, "fresh", "2", [10], interval=0,
                          wait=observed, log=lambda line: None)

    assert refused.value.exit_code == 2
    assert observed.seen == []
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_alias(FunctionName=function, Name="fresh")


def test_with_create_alias_a_canary_onto_a_new_alias_creates_it_wholly_on_the_version(
        lambda_client, lambda_state, function, observed):
    lines: list[str] = []

    change = canary.run_canary(lambda_client, function, "fresh", "2", [10], interval=0,
                               wait=observed, log=lines.append, create_alias=True)

    assert change.created
    assert observed.seen == []  # no steps: there was no traffic to shift
    assert lambda_state.alias(function, "fresh") == ("2", {})
    assert lines == ["fresh does not exist yet, so there is no traffic to shift: creating "
                     "it pointing wholly at version 2 (--create-alias)"]


def test_create_alias_changes_nothing_for_an_alias_that_exists(
        lambda_client, lambda_state, function, observed):
    canary.run_canary(lambda_client, function, "main", "2", [10], interval=0,
                      wait=observed, log=lambda line: None, create_alias=True)

    assert observed.seen == [("1", {"2": 0.1})]
    assert lambda_state.alias(function, "main") == ("2", {})


def test_alarm_entries_may_name_the_alias_and_be_prefixes():
    watch = canary.parse_alarms("api-{alias}-errors, {function}-latency-*", alias="main",
                                function="api")

    assert watch == canary.AlarmWatch(names=("api-main-errors",), prefixes=("api-latency-",))


def test_an_alarm_that_does_not_exist_is_an_error_before_anything_moves(
        lambda_client, lambda_state, cloudwatch, function, observed):
    watch = canary.parse_alarms("no-such-alarm", alias="main", function=function)

    with pytest.raises(ConfigError, match="alarm 'no-such-alarm' .* does not exist"):
        canary.run_canary(lambda_client, function, "main", "2", [10], interval=0,
                          checks=[canary.alarm_check(cloudwatch, watch)], wait=observed,
                          log=lambda line: None)

    assert lambda_state.alias(function, "main") == ("1", {})


def test_an_alarm_prefix_matching_nothing_is_an_error(cloudwatch):
    watch = canary.AlarmWatch(prefixes=("nothing-starts-like-this-",))

    with pytest.raises(ConfigError, match="no CloudWatch alarm starts with "
                                          "'nothing-starts-like-this-'"):
        canary.firing_alarms(cloudwatch, watch)
