"""Promoting several functions' aliases as one unit, against the local AWS.

Functions with two versions each come from boto3 (``make_function``); the unit moves
their ``main`` aliases from 1 to 2, all or none.
"""

from __future__ import annotations

import re
import uuid

import pytest

from lambda_gate import aliases, records
from lambda_gate.aliases import canary
from lambda_gate.aliases.unit import (
    Move,
    UnitNotPromoted,
    previous_set,
    promote_unit,
    run_unit_canary,
)
from lambda_gate.errors import ConfigError


@pytest.fixture
def unit(lambda_client, make_function):
    """Two functions, ``main`` on version 1 of each, version 2 published."""
    names = {key: make_function(versions=2, prefix=f"unit-{key}") for key in ("api", "worker")}
    for name in names.values():
        lambda_client.create_alias(FunctionName=name, Name="main", FunctionVersion="1",
                                   Description=aliases.format_history([]))
    return names


def moves(lambda_client, names, version="2"):
    return [Move(key, name, version, aliases.get_alias(lambda_client, name, "main"))
            for key, name in names.items()]


def quiet(line: str) -> None:
    pass


def test_every_alias_moves_when_every_move_succeeds(lambda_client, lambda_state, unit):
    changes = promote_unit(lambda_client, "main", moves(lambda_client, unit), log=quiet)

    assert [(c.before, c.after) for c in changes] == [("1", "2"), ("1", "2")]
    assert {k: lambda_state.alias(n, "main") for k, n in unit.items()} == {
        "api": ("2", {}), "worker": ("2", {})}


def test_an_api_error_on_the_second_move_moves_the_first_back(lambda_client, lambda_state,
                                                               unit):
    planned = moves(lambda_client, unit)
    planned[1] = Move("worker", unit["worker"], "99", planned[1].before)  # no such version

    with pytest.raises(UnitNotPromoted) as failed:
        promote_unit(lambda_client, "main", planned, log=quiet)

    assert failed.value.exit_code == 1
    assert lambda_state.alias(unit["api"], "main") == ("1", {})
    assert aliases.get_alias(lambda_client, unit["api"], "main").history == ()
    assert failed.value.standing["api"] == "main -> version 1 (moved to 2, then back)"


def test_a_first_alias_moved_by_someone_else_meanwhile_is_left_alone(lambda_client, unit):
    planned = moves(lambda_client, unit)
    planned[1] = Move("worker", unit["worker"], "99", planned[1].before)

    def log(line: str) -> None:  # after the first move, another deploy moves it on
        if line.startswith("[api] promoted"):
            lambda_client.update_alias(FunctionName=unit["api"], Name="main",
                                       FunctionVersion="1")

    with pytest.raises(UnitNotPromoted) as failed:
        promote_unit(lambda_client, "main", planned, log=log)

    assert "moved by someone else after this promotion: left as it is" in (
        failed.value.standing["api"])


def test_a_created_alias_is_removed_again_when_the_unit_fails(lambda_client, unit,
                                                               make_function):
    fresh = make_function(versions=1, prefix="unit-fresh")
    planned = [Move("fresh", fresh, "1", None),
               Move("worker", unit["worker"], "99", None)]

    with pytest.raises(UnitNotPromoted):
        promote_unit(lambda_client, "main", planned, log=quiet)

    assert aliases.get_alias(lambda_client, fresh, "main") is None


def test_a_unit_canary_shifts_every_alias_step_by_step(lambda_client, lambda_state, unit):
    seen = []

    def wait(seconds: float) -> None:
        seen.append({k: lambda_state.alias(n, "main") for k, n in unit.items()})

    run_unit_canary(lambda_client, "main", moves(lambda_client, unit), [10, 50], interval=0,
                    wait=wait, log=quiet)

    assert seen == [{"api": ("1", {"2": 0.1}), "worker": ("1", {"2": 0.1})},
                    {"api": ("1", {"2": 0.5}), "worker": ("1", {"2": 0.5})}]
    assert {k: lambda_state.alias(n, "main") for k, n in unit.items()} == {
        "api": ("2", {}), "worker": ("2", {})}


def test_an_alarm_on_one_function_rolls_every_alias_back(lambda_client, lambda_state,
                                                         cloudwatch, make_alarm, unit):
    alarm = make_alarm(f"worker-errors-{uuid.uuid4().hex[:8]}")
    watch = canary.parse_alarms(alarm, alias="main", function=unit["worker"])

    def wait(seconds: float) -> None:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")

    with pytest.raises(canary.CanaryRolledBack, match=f"stopped at 10%: CloudWatch alarm "
                                                       f"{alarm} is in ALARM"):
        run_unit_canary(lambda_client, "main", moves(lambda_client, unit), [10, 50],
                        interval=0, checks=[canary.alarm_check(cloudwatch, watch)],
                        wait=wait, log=quiet)

    assert {k: lambda_state.alias(n, "main") for k, n in unit.items()} == {
        "api": ("1", {}), "worker": ("1", {})}


@pytest.fixture
def unit_with_a_new_function(lambda_client, unit, make_function):
    """The unit's ``api``, and ``fresh``: a function whose ``main`` does not exist yet."""
    fresh = make_function(versions=1, prefix="unit-fresh")
    return {"api": unit["api"], "fresh": fresh}


def exists(lambda_client, function: str, alias: str) -> bool:
    try:
        lambda_client.get_alias(FunctionName=function, Name=alias)
    except lambda_client.exceptions.ResourceNotFoundException:
        return False
    return True


def api_and_fresh(lambda_client, names) -> list[Move]:
    """api from its main (version 1) to 2; fresh, which has no main yet, to 1."""
    return [Move("api", names["api"], "2", aliases.get_alias(lambda_client, names["api"],
                                                             "main")),
            Move("fresh", names["fresh"], "1", None)]


def test_a_unit_canary_onto_an_alias_one_function_lacks_is_refused_before_any_move(
        lambda_client, lambda_state, unit_with_a_new_function):
    names = unit_with_a_new_function
    planned = api_and_fresh(lambda_client, names)

    with pytest.raises(ConfigError, match=re.escape(
            f"alias main does not exist yet on fresh ({names['fresh']}), so a canary has "
            "no old version to keep its traffic on. Promote without --canary first "
            "(`invoke promote`), or pass --create-alias")):
        run_unit_canary(lambda_client, "main", planned, [10], interval=0, log=quiet,
                        wait=lambda seconds: pytest.fail("no step should be taken"))

    assert lambda_state.alias(names["api"], "main") == ("1", {})
    assert not exists(lambda_client, names["fresh"], "main")


def test_with_create_alias_the_new_alias_is_created_whole_after_the_others_canary(
        lambda_client, lambda_state, unit_with_a_new_function):
    names = unit_with_a_new_function
    planned = api_and_fresh(lambda_client, names)
    seen = []

    def wait(seconds: float) -> None:
        seen.append((lambda_state.alias(names["api"], "main"),
                     exists(lambda_client, names["fresh"], "main")))

    changes = run_unit_canary(lambda_client, "main", planned, [10, 50], interval=0,
                              wait=wait, log=quiet, create_alias=True)

    assert seen == [(("1", {"2": 0.1}), False), (("1", {"2": 0.5}), False)]
    assert [(c.before, c.after, c.created) for c in changes] == [
        ("1", "2", False), (None, "1", True)]
    assert lambda_state.alias(names["fresh"], "main") == ("1", {})


def test_with_create_alias_and_only_new_aliases_no_step_is_waited_on(
        lambda_client, lambda_state, make_function):
    fresh = make_function(versions=1, prefix="unit-fresh")

    run_unit_canary(lambda_client, "main", [Move("fresh", fresh, "1", None)], [10, 50],
                    interval=0, log=quiet, create_alias=True,
                    wait=lambda seconds: pytest.fail("there is no traffic to shift"))

    assert lambda_state.alias(fresh, "main") == ("1", {})


def record(deploy_id, key, before, after, outcome="promoted", at=0.0):
    return records.DeployRecord(environment="local", alias="main", function=key,
                                version=after, alias_before=before, alias_after=after,
                                outcome=outcome, deploy_id=deploy_id, function_key=key,
                                started_at=at)


def test_a_unit_rollback_undoes_the_newest_deploy_whose_versions_are_live():
    history = [record("d1", "api", "1", "2", at=1), record("d1", "worker", "1", "2", at=1),
               record("d2", "worker", "2", "3", at=2),
               record("d2", "api", "2", "2", outcome="unchanged", at=2)]

    assert previous_set(history, "main", {"api": "2", "worker": "3"}) == (
        "d2", {"worker": "2"})
    assert previous_set(history, "main", {"api": "2", "worker": "2"}) == (
        "d1", {"api": "1", "worker": "1"})


def test_a_unit_rollback_with_nothing_recorded_says_what_to_do():
    with pytest.raises(ConfigError, match="no deploy record of this environment promoted "
                                          "main to the versions it serves now"):
        previous_set([record("d1", "api", "1", "2")], "main", {"api": "5"})
