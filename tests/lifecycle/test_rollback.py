"""Rollback reads the history the alias carries in its description."""

from __future__ import annotations

import boto3
import pytest

from lambda_gate import aliases
from lambda_gate.errors import AliasConflict, ConfigError


@pytest.fixture
def function(make_function):
    return make_function(versions=6, prefix="rollback")


def promote_through(client, function: str, alias: str, *versions: str) -> None:
    for version in versions:
        aliases.promote(client, function, alias, version)


def test_rollback_goes_to_the_version_before_the_current_one(
        lambda_client, lambda_state, function):
    promote_through(lambda_client, function, "main", "1", "2", "3")

    change = aliases.rollback(lambda_client, function, "main")

    assert (change.before, change.after) == ("3", "2")
    assert lambda_state.alias(function, "main") == ("2", {})


def test_each_alias_rolls_back_along_its_own_history(lambda_client, lambda_state, function):
    promote_through(lambda_client, function, "main", "1", "4", "6")
    promote_through(lambda_client, function, "staging", "2", "5")
    promote_through(lambda_client, function, "feature-x", "3", "6")

    aliases.rollback(lambda_client, function, "main")

    assert lambda_state.alias(function, "main") == ("4", {})
    assert lambda_state.alias(function, "staging") == ("5", {})
    assert lambda_state.alias(function, "feature-x") == ("6", {})


def test_rolling_back_twice_walks_further_back(lambda_client, lambda_state, function):
    promote_through(lambda_client, function, "main", "1", "2", "3")

    aliases.rollback(lambda_client, function, "main")
    aliases.rollback(lambda_client, function, "main")

    assert lambda_state.alias(function, "main") == ("1", {})


def test_rollback_to_a_chosen_version(lambda_client, lambda_state, function):
    promote_through(lambda_client, function, "main", "1", "2", "3")

    aliases.rollback(lambda_client, function, "main", to="1")

    assert lambda_state.alias(function, "main") == ("1", {})


def test_rollback_without_history_is_a_clear_error(lambda_client, lambda_state, function):
    promote_through(lambda_client, function, "main", "2")

    with pytest.raises(ConfigError, match="alias main has no recorded history before version "
                                          "2: nothing to roll back to. Pass --to N"):
        aliases.rollback(lambda_client, function, "main")

    assert lambda_state.alias(function, "main") == ("2", {})


def test_rollback_refuses_a_version_that_no_longer_exists(
        lambda_client, lambda_state, function):
    promote_through(lambda_client, function, "main", "1", "2")
    aliases.promote(lambda_client, function, "main", "3")
    lambda_client.delete_function(FunctionName=function, Qualifier="2")

    with pytest.raises(ConfigError, match="cannot roll main back to version 2: that version "
                                          "no longer exists"):
        aliases.rollback(lambda_client, function, "main")

    assert lambda_state.alias(function, "main") == ("3", {})


def test_rollback_to_a_version_that_never_existed_is_refused(lambda_client, function):
    promote_through(lambda_client, function, "main", "1", "2")

    with pytest.raises(ConfigError, match="back to version 99: that version no longer"):
        aliases.rollback(lambda_client, function, "main", to="99")


def test_rollback_of_a_missing_alias_is_a_clear_error(lambda_client, function):
    with pytest.raises(ConfigError, match="alias gone does not exist on .*: nothing to roll"):
        aliases.rollback(lambda_client, function, "gone")


def test_rollback_during_a_canary_sends_all_traffic_back_to_the_primary(
        lambda_client, lambda_state, function):
    promote_through(lambda_client, function, "main", "1", "2")
    state = aliases.get_alias(lambda_client, function, "main")
    aliases.shift_weight(lambda_client, function, state, "3", 0.5)

    change = aliases.rollback(lambda_client, function, "main")

    assert change.after == "2"
    assert lambda_state.alias(function, "main") == ("2", {})
    assert aliases.get_alias(lambda_client, function, "main").history == ("1",)


def test_a_rollback_racing_a_promotion_fails_and_names_the_live_version(
        local_aws, lambda_state, function):
    client = boto3.client("lambda", endpoint_url=local_aws.url, region_name="us-east-1")
    promote_through(client, function, "main", "1", "2")
    other_deploy = boto3.client("lambda", endpoint_url=local_aws.url, region_name="us-east-1")

    def promote_first(**_):  # runs once, between the rollback's read and its write
        client.meta.events.unregister("before-call.lambda.UpdateAlias", promote_first)
        aliases.promote(other_deploy, function, "main", "5")

    client.meta.events.register("before-call.lambda.UpdateAlias", promote_first)

    with pytest.raises(AliasConflict, match="now points at version 5. Nothing was changed"):
        aliases.rollback(client, function, "main")

    assert lambda_state.alias(function, "main") == ("5", {})


def test_history_is_cut_to_the_description_limit_keeping_the_newest():
    history = [str(n) for n in range(9000, 8900, -1)]

    text = aliases.format_history(history)

    kept = aliases.parse_history(text)
    assert len(text) <= aliases.DESCRIPTION_LIMIT < len(aliases.HISTORY_PREFIX) + 5 * 100
    assert kept == tuple(history[:len(kept)])
