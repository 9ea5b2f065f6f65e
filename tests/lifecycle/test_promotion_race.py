"""Promotion is guarded by the alias's RevisionId: of two racing deploys, one wins.

The local AWS enforces RevisionId as Lambda does (moto alone accepts any), so these
tests fail if the guard is missing from a write.
"""

from __future__ import annotations

import threading

import boto3
import pytest

from lambda_gate import aliases
from lambda_gate.errors import AliasConflict


@pytest.fixture
def function(make_function):
    return make_function(versions=4, prefix="race")


def test_promote_creates_a_missing_alias(lambda_client, lambda_state, function):
    change = aliases.promote(lambda_client, function, "main", "1")

    assert change.created
    assert lambda_state.alias(function, "main") == ("1", {})


def test_promote_moves_the_alias_and_records_the_version_it_left(lambda_client, function):
    aliases.promote(lambda_client, function, "main", "1")
    aliases.promote(lambda_client, function, "main", "2")
    aliases.promote(lambda_client, function, "main", "3")

    assert aliases.get_alias(lambda_client, function, "main").history == ("2", "1")


def test_a_promotion_with_a_stale_revision_fails_and_names_the_live_version(
        lambda_client, lambda_state, function):
    aliases.promote(lambda_client, function, "main", "1")
    seen_by_first = aliases.get_alias(lambda_client, function, "main")
    aliases.promote(lambda_client, function, "main", "3")  # the other deploy

    with pytest.raises(AliasConflict, match="it now points at version 3. Nothing was changed"):
        aliases.promote(lambda_client, function, "main", "2", expected=seen_by_first)

    assert lambda_state.alias(function, "main") == ("3", {})


def test_a_creation_that_lost_the_race_names_the_live_version(lambda_client, function):
    aliases.promote(lambda_client, function, "main", "4")

    with pytest.raises(AliasConflict, match="created by another deploy .* version 4"):
        aliases.promote(lambda_client, function, "main", "2", expected=None)


def test_of_two_concurrent_promotions_exactly_one_wins(local_aws, lambda_state, function):
    clients = [boto3.client("lambda", endpoint_url=local_aws.url, region_name="us-east-1")
               for _ in range(2)]
    aliases.promote(clients[0], function, "main", "1")
    both_read = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def deploy(client, version: str) -> None:
        seen = aliases.get_alias(client, function, "main")
        both_read.wait()
        try:
            outcomes[version] = aliases.promote(client, function, "main", version,
                                                expected=seen)
        except AliasConflict as exc:
            outcomes[version] = exc

    threads = [threading.Thread(target=deploy, args=(client, version))
               for client, version in zip(clients, ("2", "3"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    conflicts = {v: o for v, o in outcomes.items() if isinstance(o, AliasConflict)}
    (winner,) = set(outcomes) - set(conflicts)
    (loser,) = conflicts.values()
    assert lambda_state.alias(function, "main") == (winner, {})
    assert f"it now points at version {winner}" in loser.message
